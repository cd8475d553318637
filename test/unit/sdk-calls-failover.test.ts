/**
 * Dial failover across sites (issue 12; DESIGN.md "SDK", src/sdk/dial-attempts.ts)
 * on the fake-clock rig of sdk-calls-fakes.ts: the SDK's CallControl wired as
 * Phone wires it, two or three scripted sites (registrar + stateless proxy),
 * the far party 1002 behind them, 10 ms per hop.
 *
 * Covers, with the clock times the issue gives:
 * (a) the chosen connection known down (`unavailable` after a refused
 *     refresh): the INVITE leaves at once, at the dial's clock time, through
 *     the lowest registered other connection (1, not 2), and the session's
 *     first event already names it;
 * (b) an INVITE failing before any provisional with a 503 or 408 response or
 *     a transport error: the connection becomes `unavailable` with that code
 *     when the failure arrives, and the call is re-sent through the next
 *     connection at that same time with a new Call-ID and From tag;
 * (c) a silent site: the next INVITE leaves exactly dialFailoverTimeoutMs
 *     after the first (default 2000, and a configured 500), the connection
 *     becomes `unavailable`(408), no CANCEL goes to a site that sent no
 *     provisional; a slow site whose late 180 gets the CANCEL the moment it
 *     arrives; a slow site whose late 2xx gets ACK then BYE the moment it
 *     arrives; neither late answer changes the session;
 * any provisional commits (100 Trying then 503 after the failover time, 180
 * then 503: no second INVITE, connection untouched); 486, 603 and 404 never
 * fail over; every connection failing -> SipError with the last code (503
 * refused, 408 silent), and the next dial rejected with `no-connection`;
 * the session events of each case exactly, in order; one sessionFailedOver
 * per re-sent INVITE (none for (a), none when no connection is left);
 * nothing left after close.
 * Not covered: real sockets and measured latencies (test/integration/sdk-calls.test.ts),
 * the call actions themselves (sdk-calls-control.test.ts), inbound calls
 * (sdk-calls-lines.test.ts), digest on INVITE (dialog-uac-invite.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IncomingInvite } from '../../src/dialog/index.ts';
import { CallRig, type CallSite } from './sdk-calls-fakes.ts';

/** One hop of the rig's network (ms). */
const HOP = 10;
/** DESIGN.md: dial_failover_timeout_in_milliseconds defaults to 2000. */
const DEFAULT_FAILOVER_MS = 2000;

function from(site: CallSite, invite: IncomingInvite): boolean {
  return invite.received.source.host === site.endpoint.host;
}

/** INVITEs the phone sent, as "site-host callId" (TCP: no retransmissions). */
function invites(rig: CallRig, since = 0): Array<{ at: number; host: string; callId: string; fromTag: string }> {
  return rig.sent('INVITE', since).map((s) => ({ at: s.at, host: s.target.host, callId: s.callId, fromTag: s.message.from?.tag ?? '' }));
}

/**
 * Brings every site back, lets every attempt finish (Timer B of an abandoned
 * INVITE is 32 s) and the connections register again, then closes the phone
 * and checks that nothing of it is left. (Closing while an INVITE without a
 * provisional or a REGISTER to a silent site is in flight leaves it counted
 * after close: see the report of this change.)
 */
async function closeIdle(rig: CallRig): Promise<void> {
  for (const site of rig.sites) {
    site.state = 'up';
    site.responseDelayMs = 0;
    site.answerInvites = undefined;
  }
  await rig.advance(64_000);
  await rig.until(() => rig.phone.connections.ids().every((id) => rig.phone.connections.isUsable(id)), 120_000, 'every connection registered again');
  await rig.closeIdle();
}

// ------------------------------------------------------------------ (a)

test('(a) known down: the INVITE leaves at once through the lowest registered other connection', async () => {
  const rig = new CallRig({ sites: 3, connection: { reregisterInSeconds: 60 } });
  await rig.start();
  const [site0, site1, site2] = rig.sites as [CallSite, CallSite, CallSite];
  site0.state = 'refusing';
  const mark = rig.connectionEvents.length;
  await rig.until(() => rig.connectionSeq(0, mark).length > 0, 120_000, 'connection 0 noticing its site is down');
  assert.equal(rig.connectionSeq(0, mark), ['unavailable(503)']);
  const marked = rig.connectionEvents.length;

  const t0 = rig.clock.now();
  const session = await rig.calls.dial(0, '1002');
  assert.is(session.status, 'dialing');
  assert.is(session.connectionID, 1, 'the lowest registered connection other than 0');
  assert.equal(session.triedConnections, [1]);
  assert.is(session.remote, `sip:1002@${site1.endpoint.host}:5060`, 'a bare user takes the domain of the connection used');
  const sent = invites(rig, t0);
  assert.equal(sent.map((s) => [s.at, s.host]), [[t0, site1.endpoint.host]], 'one INVITE, at the clock time of dial(), to site 1');

  await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'connected'), 5000);
  assert.equal(rig.sessionSeq(), ['s1 dialing @1', 's1 ringing @1', 's1 connected @1']);
  assert.is(rig.sessionEvents[0]!.at, t0);
  assert.equal(invites(rig, t0).map((s) => s.host), [site1.endpoint.host], 'nothing went to site 0 or site 2');
  assert.is(site0.got('INVITE').length + site2.got('INVITE').length, 0);
  assert.equal(rig.connectionEvents.slice(marked), [], 'dialling around a known-down connection changes no connection');
  assert.equal(rig.failovers, [], 'no sessionFailedOver: no INVITE was re-sent');

  await rig.settle(rig.calls.hangup(session.id));
  await closeIdle(rig);
});

test('(a) the chosen connection is used when registered, even if a lower one is too', async () => {
  const rig = new CallRig({ sites: 3 });
  await rig.start();
  const t0 = rig.clock.now();
  const session = await rig.calls.dial(2, '1002');
  assert.equal(session.triedConnections, [2]);
  assert.equal(invites(rig, t0).map((s) => s.host), [rig.sites[2]!.endpoint.host]);
  await closeIdle(rig);
});

// ------------------------------------------------------------------ (b)

// The failure reaches the phone one round trip after the INVITE (the site's own answer), or one hop (the refusal).
for (const [name, breakSite, code, failsAfter] of [
  ['a 503 response', (site: CallSite) => void (site.answerInvites = 503), 503, 2 * HOP],
  ['a 408 response', (site: CallSite) => void (site.answerInvites = 408), 408, 2 * HOP],
  ['a transport error (site refusing, not yet noticed)', (site: CallSite) => void (site.state = 'refusing'), 503, HOP],
] as const) {
  test(`(b) fast failure by ${name}: connection 0 unavailable(${code}), the call re-sent through connection 1 at once`, async () => {
    const rig = new CallRig();
    await rig.start();
    const [site0, site1] = rig.sites as [CallSite, CallSite];
    breakSite(site0);
    const mark = rig.connectionEvents.length;
    const seen: unknown[] = [];
    rig.phone.sessions.on('sessionFailedOver', (e) => {
      const now = rig.phone.sessions.session(e.sessionId)!;
      seen.push([now.connectionID, now.triedConnections, rig.sent('INVITE').at(-1)?.target.host]);
    });
    const t0 = rig.clock.now();
    const session = await rig.calls.dial(0, '1002');
    assert.is(session.connectionID, 0, 'connection 0 is registered: the call starts there');
    await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'connected'), 5000);

    const failedAt = t0 + failsAfter;
    const sent = invites(rig, t0);
    assert.equal(sent.map((s) => [s.at, s.host]), [
      [t0, site0.endpoint.host],
      [failedAt, site1.endpoint.host],
    ]);
    assert.is.not(sent[1]!.callId, sent[0]!.callId, 'a new Call-ID');
    assert.is.not(sent[1]!.fromTag, sent[0]!.fromTag, 'a new From tag');
    const second = rig.sent('INVITE', t0)[1]!.message;
    assert.is(second.uri?.user, '1002', 'the same destination');
    assert.is(second.uri?.host, site1.endpoint.host);

    assert.equal(rig.connectionSeq(0, mark), [`unavailable(${code})`]);
    const down = rig.connectionEvents.slice(mark).find((e) => e.event.connectionId === 0)!;
    assert.is(down.at, failedAt, 'reported to the registration scheduler when the failure came');
    assert.equal(rig.connectionSeq(1, mark), [], 'connection 1 untouched');
    assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @1', 's1 connected @1']);
    assert.equal(rig.phone.sessions.session('s1')?.triedConnections, [0, 1]);
    assert.equal(rig.failovers, [`s1 0->1 ${code} @${failedAt}`], 'one sessionFailedOver, as the INVITE is re-sent');
    assert.equal(seen, [[1, [0, 1], site1.endpoint.host]], 'at the event, the session names connection 1 and its INVITE is out');

    await rig.settle(rig.calls.hangup(session.id));
    await closeIdle(rig);
  });
}

// ------------------------------------------------------------------ (c)

test('(c) silent site: the next INVITE leaves dialFailoverTimeoutMs (2000) after the first; unavailable(408); no CANCEL without a provisional', async () => {
  const rig = new CallRig();
  await rig.start();
  const [site0, site1] = rig.sites as [CallSite, CallSite];
  site0.state = 'silent';
  const mark = rig.connectionEvents.length;
  const t0 = rig.clock.now();
  await rig.calls.dial(0, '1002');
  await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'connected'), 10_000);
  assert.equal(invites(rig, t0).map((s) => [s.at, s.host]), [
    [t0, site0.endpoint.host],
    [t0 + DEFAULT_FAILOVER_MS, site1.endpoint.host],
  ]);
  assert.equal(rig.connectionSeq(0, mark), ['unavailable(408)']);
  assert.is(rig.connectionEvents.slice(mark).find((e) => e.event.connectionId === 0)!.at, t0 + DEFAULT_FAILOVER_MS);
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @1', 's1 connected @1']);
  assert.equal(rig.failovers, [`s1 0->1 408 @${t0 + DEFAULT_FAILOVER_MS}`]);
  // s9.1: a CANCEL only after a provisional; the silent site never sent one.
  await rig.advance(40_000);
  assert.equal(rig.sent('CANCEL'), []);
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @1', 's1 connected @1'], 'the abandoned INVITE timing out adds no event');
  await closeIdle(rig);
});

test('(c) a configured dialFailoverTimeoutMs of 500 on connection 0: the next INVITE 500 ms after the first', async () => {
  const rig = new CallRig({ connection: (id) => (id === 0 ? { dialFailoverTimeoutMs: 500 } : {}) });
  await rig.start();
  rig.sites[0]!.state = 'silent';
  const t0 = rig.clock.now();
  await rig.calls.dial(0, '1002');
  await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'connected'), 10_000);
  assert.equal(invites(rig, t0).map((s) => s.at), [t0, t0 + 500]);
  await closeIdle(rig);
});

test('(c) slow site, late 180: CANCEL leaves the moment the 180 arrives; the session stays on connection 1', async () => {
  const rig = new CallRig();
  await rig.start();
  const [site0, site1] = rig.sites as [CallSite, CallSite];
  site0.responseDelayMs = 2500;
  const base = rig.far.policy;
  rig.far.policy = (invite, far) => (from(site0, invite) ? far.ring(invite) : base(invite, far));
  const mark = rig.connectionEvents.length;
  const t0 = rig.clock.now();
  await rig.calls.dial(0, '1002');
  await rig.until(() => rig.sent('CANCEL').length > 0, 10_000, 'a CANCEL');

  const [first, second] = invites(rig, t0);
  assert.equal([first!.at, second!.at], [t0, t0 + DEFAULT_FAILOVER_MS]);
  assert.is(second!.host, site1.endpoint.host);
  const late180 = rig.phone.received.find((r) => r.message.status === 180 && r.message.callId === first!.callId);
  assert.ok(late180, 'the late 180 arrived');
  assert.ok(late180!.at > t0 + DEFAULT_FAILOVER_MS, 'it came after the failover');
  const [cancel] = rig.sent('CANCEL');
  assert.is(cancel!.at, late180!.at, 'the CANCEL left when the 180 arrived');
  assert.is(cancel!.callId, first!.callId, 'it cancels the abandoned INVITE');
  assert.is(cancel!.target.host, site0.endpoint.host, 'through the site the INVITE went to');
  assert.is(cancel!.message.topVia?.branch, rig.sent('INVITE', t0)[0]!.message.topVia?.branch, 's9.1: the CANCEL has the branch of the INVITE');

  await rig.advance(10_000);
  assert.is(rig.far.invites[0]!.end, 'cancelled', 'the far party saw the first call cancelled (487)');
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @1', 's1 connected @1'], 'the late 180 made no ringing event');
  assert.equal(rig.connectionSeq(0, mark).slice(0, 1), ['unavailable(408)']);
  await closeIdle(rig);
});

test('(c) slow site, late 2xx: ACK then BYE the moment it arrives; the session stays on connection 1', async () => {
  const rig = new CallRig();
  await rig.start();
  const [site0] = rig.sites as [CallSite, CallSite];
  site0.responseDelayMs = 2500;
  const base = rig.far.policy;
  rig.far.policy = (invite, far) => (from(site0, invite) ? void far.accept(invite) : base(invite, far));
  const t0 = rig.clock.now();
  await rig.calls.dial(0, '1002');
  await rig.until(() => rig.sent('BYE').length > 0, 10_000, 'a BYE');

  const [first, second] = invites(rig, t0);
  assert.equal([first!.at, second!.at], [t0, t0 + DEFAULT_FAILOVER_MS]);
  const late200 = rig.phone.received.find((r) => r.message.status === 200 && r.message.callId === first!.callId && r.message.cseq?.method === 'INVITE');
  assert.ok(late200 && late200.at > t0 + DEFAULT_FAILOVER_MS, 'the 2xx came after the failover');
  const ends = rig.phone.transport.sent.filter((s) => s.message.callId === first!.callId && (s.message.method === 'ACK' || s.message.method === 'BYE'));
  assert.equal(ends.map((s) => [s.message.method, s.at]), [
    ['ACK', late200!.at],
    ['BYE', late200!.at],
  ], 'ACK, then BYE, when the 2xx arrived');
  assert.equal(rig.sent('CANCEL'), [], 'no provisional came: no CANCEL');

  await rig.advance(5000);
  const firstFar = rig.far.sessions.find((s) => s.dialog.callId === first!.callId)!;
  assert.is(firstFar.state, 'terminated', 'the far party saw the first call ACKed and ended');
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @1', 's1 connected @1'], 'the late 2xx changed nothing');
  assert.is(rig.phone.sessions.session('s1')?.connectionID, 1);
  await closeIdle(rig);
});

// ------------------------------------------------------- what commits

test('a 100 Trying commits: the far end rejecting with 503 after the failover time is the call\'s end, not a failover', async () => {
  const rig = new CallRig();
  await rig.start();
  // Silent callee: its INVITE server transaction sends 100 Trying after 200 ms (s17.2.1); 503 at 2500 ms.
  rig.far.policy = (invite, far) => void far.clock.setTimer(2500, () => invite.reject(503));
  const mark = rig.connectionEvents.length;
  const t0 = rig.clock.now();
  await rig.calls.dial(0, '1002');
  await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'disconnected'), 10_000);
  assert.equal(invites(rig, t0).length, 1, 'one INVITE only');
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 disconnected:SipError(503) @0'], 'a 100 is no ringing');
  assert.equal(rig.connectionEvents.slice(mark), [], 'connection 0 not reported down');
  await closeIdle(rig);
});

test('a 180 commits: 503 after ringing ends the call there', async () => {
  const rig = new CallRig();
  await rig.start();
  rig.far.policy = (invite, far) => {
    far.ring(invite);
    far.clock.setTimer(50, () => invite.reject(503));
  };
  const mark = rig.connectionEvents.length;
  await rig.calls.dial(0, '1002');
  await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'disconnected'), 10_000);
  assert.equal(rig.sent('INVITE').length, 1);
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 disconnected:SipError(503) @0']);
  assert.equal(rig.connectionEvents.slice(mark), []);
  await closeIdle(rig);
});

for (const [status, expected] of [
  [486, 's1 disconnected:Busy(486) @0'],
  [603, 's1 disconnected:Rejected(603) @0'],
] as const) {
  test(`no failover on ${status}: one INVITE, the call ends, the connection stays registered`, async () => {
    const rig = new CallRig();
    await rig.start();
    rig.far.policy = (invite) => invite.reject(status);
    const mark = rig.connectionEvents.length;
    await rig.calls.dial(0, '1002');
    await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'disconnected'), 10_000);
    assert.equal(rig.sent('INVITE').length, 1);
    assert.equal(rig.sessionSeq(), ['s1 dialing @0', expected]);
    assert.equal(rig.connectionEvents.slice(mark), []);
    assert.ok(rig.phone.connections.isUsable(0));
    await closeIdle(rig);
  });
}

test('no failover on 404 (the site knows no such user)', async () => {
  const rig = new CallRig();
  await rig.start();
  const mark = rig.connectionEvents.length;
  await rig.calls.dial(0, '9999');
  await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'disconnected'), 10_000);
  assert.equal(rig.sent('INVITE').length, 1);
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 disconnected:SipError(404) @0']);
  assert.equal(rig.connectionEvents.slice(mark), []);
  await closeIdle(rig);
});

// -------------------------------------------------------- nothing left

test('every connection refusing: SipError(503) after the last one, both connections unavailable(503); the next dial is refused', async () => {
  const rig = new CallRig();
  await rig.start();
  for (const site of rig.sites) site.state = 'refusing';
  const mark = rig.connectionEvents.length;
  const t0 = rig.clock.now();
  await rig.calls.dial(0, '1002');
  await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'disconnected'), 10_000);
  assert.equal(invites(rig, t0).map((s) => [s.at, s.host]), [
    [t0, rig.sites[0]!.endpoint.host],
    [t0 + HOP, rig.sites[1]!.endpoint.host],
  ]);
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 disconnected:SipError(503) @1']);
  assert.equal(rig.failovers, [`s1 0->1 503 @${t0 + HOP}`], 'no event when no connection is left');
  assert.is(rig.when('s1', 'disconnected'), t0 + 2 * HOP);
  assert.equal(rig.connectionSeq(0, mark), ['unavailable(503)']);
  assert.equal(rig.connectionSeq(1, mark), ['unavailable(503)']);
  try {
    await rig.calls.dial(0, '1002');
    assert.unreachable('dial with no registered connection');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'no-connection');
  }
  assert.is(rig.sessionEvents.length, 2, 'a refused dial makes no event');
  await closeIdle(rig);
});

test('every site silent: SipError(408) after two failover timeouts', async () => {
  const rig = new CallRig();
  await rig.start();
  for (const site of rig.sites) site.state = 'silent';
  const t0 = rig.clock.now();
  await rig.calls.dial(1, '1002');
  await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'disconnected'), 10_000);
  assert.equal(invites(rig, t0).map((s) => [s.at, s.host]), [
    [t0, rig.sites[1]!.endpoint.host],
    [t0 + DEFAULT_FAILOVER_MS, rig.sites[0]!.endpoint.host],
  ]);
  assert.equal(rig.sessionSeq(), ['s1 dialing @1', 's1 disconnected:SipError(408) @0']);
  assert.equal(rig.failovers, [`s1 1->0 408 @${t0 + DEFAULT_FAILOVER_MS}`]);
  assert.is(rig.when('s1', 'disconnected'), t0 + 2 * DEFAULT_FAILOVER_MS);
  await closeIdle(rig);
});

test.run();
