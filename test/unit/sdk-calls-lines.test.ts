/**
 * Incoming calls and their lines (src/sdk/incoming-line.ts), and the one
 * active call rule of CallControl, on the fake-clock rig of
 * sdk-calls-fakes.ts (scripted sites, the far party 1002, 10 ms per hop).
 *
 * Covers: two connections of the same DN (1001) on two sites: a call through
 * each site rings on that site's connection, its Request-URI carrying that
 * connection's `line=` token; the same DN twice on ONE site, registered from
 * the same local port: only the token tells them apart, and it does; no
 * `line=` parameter: the site's source address decides; an INVITE from no
 * site without a token, with an unknown token, or with the token of a
 * disabled connection -> 404 and no session; no RTP port ready -> 503 and no
 * session; a second call ringing while the first is connected (no hold yet),
 * answer() holding the first (its re-INVITE a=sendonly answered before our
 * 200 for the second), retrieve() swapping them (second held, first
 * re-INVITEd a=sendrecv); dial() while a call is connected holding it before
 * the new INVITE leaves; a hold that goes unanswered keeping the new INVITE
 * at most dial_failover_timeout (not the hold's 64*T1), and answer() not
 * waiting at all for the hold of a call whose site is known down; in both,
 * that call `held` on our side before the new one goes on, `dialing` only
 * once the hold is done; a hold blocked by the far end's re-INVITE in
 * progress (s14.1) sent once that exchange is over; a call that connects
 * later (outbound answered, two dials at once, a retrieve in flight)
 * holding the one connected meanwhile, one hold re-INVITE each; close()
 * during dial's wait; the call held for an answer whose caller hung up, or
 * for a dial aborted by its signal, given back (not when a dial took its
 * place); dial()'s signal before, during and after its INVITE; a hold the
 * far end refuses (488): hold() rejects, dial() holds on our side at once;
 * a hold queued behind a DTMF INFO waiting for its answer; that call's hold timing
 * out -> SipError(408), its connection untouched (the
 * dialog does not pass through the rig's sites: a site timing out under a
 * call is test/interop/calls-failover.test.ts); every session's events exactly once and in order
 * (whole sequences, previousStatus chains); nothing left after close.
 * Not covered: outbound failover (sdk-calls-failover.test.ts), single-call
 * actions and errors (sdk-calls-control.test.ts), real sockets
 * (test/integration/sdk-calls.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SipMessage } from '../../src/parser/index.ts';
import { CallError } from '../../src/sdk/index.ts';
import { directionOf } from './dialog-fakes.ts';
import { CallRig, PHONE_HOST, reinvitesIn, rejection, rigWithCall, ringsOn, slowAnswers, type CallSite, type FarCall } from './sdk-calls-fakes.ts';

const PHONE = { transport: 'tcp' as const, host: PHONE_HOST, port: 5060 };

/** The INVITEs (initial ones: no To tag) the phone received, newest last. */
function invitesIn(rig: CallRig): SipMessage[] {
  return rig.phone.received.filter((r) => r.message.method === 'INVITE' && r.message.to?.tag == null).map((r) => r.message);
}

async function refused(rig: CallRig, call: () => FarCall, status: number): Promise<void> {
  const before = rig.sessionEvents.length;
  const made = call();
  await rig.advance(200);
  assert.equal(made.failures.map((f) => f.status), [status]);
  assert.is(rig.sessionEvents.length, before, 'no session event');
}

// ---------------------------------------------------------------- lines

test('same DN on two sites: a call through each site rings on its connection; the Request-URI carries its line token', async () => {
  const rig = new CallRig();
  await rig.start();
  const [site0, site1] = rig.sites as [CallSite, CallSite];
  const lines = [rig.phone.connections.lineOf(0), rig.phone.connections.lineOf(1)];
  assert.ok(lines[0] && lines[1] && lines[0] !== lines[1], 'each connection has its own token');
  const first = await ringsOn(rig, () => rig.far.call(site1));
  assert.is(first.connectionId, 1);
  assert.is(invitesIn(rig)[0]!.uri?.params.get('line'), lines[1]);
  const second = await ringsOn(rig, () => rig.far.call(site0));
  assert.is(second.connectionId, 0);
  assert.is(invitesIn(rig)[1]!.uri?.params.get('line'), lines[0]);
  assert.equal(rig.sessionSeq(), ['s1 ringing @1', 's2 ringing @0']);
  await rig.close();
  await rig.advance(1000);
  assert.equal(rig.sessionSeq().slice(2), ['s1 disconnected:Normal @1', 's2 disconnected:Normal @0']);
  rig.assertIdle();
});

test('same DN twice on one site from the same local port: the line token alone picks the connection', async () => {
  const rig = new CallRig({ sites: 1 });
  const site = rig.sites[0]!;
  rig.phone.connections.addConnection(1, { user: '1001', server: { host: site.endpoint.host, port: 5060 }, transport: 'tcp' });
  await rig.start();
  const bindings = site.bindings.get('1001')!;
  assert.is(bindings.length, 2, 'two bindings at the site');
  assert.equal(
    bindings.map((b) => b.contact.replace(/;line=[^;>]*/, '')),
    [bindings[0]!.contact.replace(/;line=[^;>]*/, ''), bindings[0]!.contact.replace(/;line=[^;>]*/, '')],
    'identical but for the line token',
  );
  for (const id of [1, 0, 1]) {
    site.pick = (list) => list.find((b) => b.contact.includes(`;line=${rig.phone.connections.lineOf(id)}`));
    const rung = await ringsOn(rig, () => rig.far.call(site));
    assert.is(rung.connectionId, id);
  }
  assert.equal(rig.sessionSeq(), ['s1 ringing @1', 's2 ringing @0', 's3 ringing @1']);
  await rig.close();
  rig.assertIdle();
});

test("no line= parameter: the site's address decides (the lowest enabled connection to it)", async () => {
  const rig = new CallRig();
  await rig.start();
  const site1 = rig.sites[1]!;
  site1.requestUri = (contact) => contact.replace(/;line=[^;>]*/, '');
  const rung = await ringsOn(rig, () => rig.far.call(site1));
  assert.is(invitesIn(rig)[0]!.uri?.params.has('line'), false);
  assert.is(rung.connectionId, 1);
  await rig.close();
  rig.assertIdle();
});

test('404 and no session: no token from no site, an unknown token, a disabled connection\'s token', async () => {
  const rig = new CallRig();
  await rig.start();
  // From the far party's own address, not a site's.
  await refused(rig, () => rig.far.callUri(`sip:1001@${PHONE_HOST}:5060;transport=tcp`, PHONE), 404);
  await refused(rig, () => rig.far.callUri(`sip:1001@${PHONE_HOST}:5060;transport=tcp;line=nosuchline`, PHONE), 404);
  const line1 = rig.phone.connections.lineOf(1)!;
  rig.phone.connections.disableConnection(1);
  await rig.advance(100);
  await refused(rig, () => rig.far.callUri(`sip:1001@${PHONE_HOST}:5060;transport=tcp;line=${line1}`, PHONE), 404);
  // The same token on an enabled connection rings: the refusal above was the disabling.
  rig.phone.connections.enableConnection(1);
  await rig.advance(100);
  const rung = await ringsOn(rig, () => rig.far.callUri(`sip:1001@${PHONE_HOST}:5060;transport=tcp;line=${line1}`, PHONE));
  assert.is(rung.connectionId, 1);
  assert.equal(rig.sessionSeq(), ['s1 ringing @1']);
  await rig.close();
  rig.assertIdle();
});

test('no RTP port ready for an incoming call: 503, no session', async () => {
  const rig = new CallRig();
  await rig.start();
  rig.phone.media.exhausted = true;
  await refused(rig, () => rig.far.call(rig.sites[0]!), 503);
  assert.equal(rig.sessionEvents, []);
  await rig.close();
  rig.assertIdle();
});

// ------------------------------------------------------ one active call

test('a second call rings while the first is connected; answer holds the first, then connects the second; retrieve swaps them', async () => {
  const rig = new CallRig();
  await rig.start();
  const first = await rig.calls.dial(0, '1002');
  await rig.until(() => rig.phone.sessions.session(first.id)?.status === 'connected', 5000);
  await rig.advance(50);
  const second = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  assert.is(rig.phone.sessions.session(first.id)?.status, 'connected', 'ringing holds nothing');
  assert.equal(rig.sent('INVITE').length, 1, 'no re-INVITE for a call that only rings');

  const answered = await rig.settle(rig.calls.answer(second.sessionId));
  assert.is(answered.status, 'connected');
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held');
  const farFirst = rig.far.sessions[0]!;
  const farSecondCallId = second.call.call.callId;
  // Our re-INVITE holding the first (a=sendonly) went, and was answered, before our 200 for the second.
  const holdFirst = rig.sent('INVITE').find((s) => s.callId === farFirst.dialog.callId && s.message.to?.tag != null)!;
  assert.is(directionOf(holdFirst.message.body), 'sendonly');
  const okSecond = rig.phone.transport.sent.find((s) => s.message.status === 200 && s.message.callId === farSecondCallId)!;
  const holdAnswered = rig.phone.received.find((r) => r.message.status === 200 && r.message.callId === farFirst.dialog.callId && r.message.cseq?.method === 'INVITE' && r.at > holdFirst.at)!;
  assert.ok(holdAnswered.at <= okSecond.at, 'the hold completed before the answer went');

  await rig.advance(50);
  const retrieved = await rig.settle(rig.calls.retrieve(first.id));
  assert.is(retrieved.status, 'connected');
  assert.is(rig.phone.sessions.session(second.sessionId)?.status, 'held');
  const reinvites = rig.sent('INVITE').filter((s) => s.message.to?.tag != null).map((s) => [s.callId === farFirst.dialog.callId ? 'first' : 'second', directionOf(s.message.body)]);
  assert.equal(reinvites, [
    ['first', 'sendonly'],
    ['second', 'sendonly'],
    ['first', 'sendrecv'],
  ]);
  assert.equal(rig.sessionSeq(), [
    's1 dialing @0',
    's1 ringing @0',
    's1 connected @0',
    's2 ringing @1',
    's1 held @0',
    's2 connected @1',
    's2 held @1',
    's1 connected @0',
  ]);
  await rig.settle(rig.calls.hangup(first.id));
  await rig.settle(rig.calls.hangup(second.sessionId));
  assert.equal(rig.sessionSeq().slice(8), ['s1 disconnected:Normal @0', 's2 disconnected:Normal @1']);
  rig.assertChains();
  await rig.advance(1000);
  await rig.close();
  rig.assertIdle();
});

test('dial() while a call is connected holds it before the new INVITE leaves', async () => {
  const rig = new CallRig();
  await rig.start();
  const first = await rig.calls.dial(0, '1002');
  await rig.until(() => rig.phone.sessions.session(first.id)?.status === 'connected', 5000);
  await rig.advance(50);
  const second = await rig.settle(rig.calls.dial(1, '1002'));
  assert.is(second.status, 'dialing');
  await rig.until(() => rig.phone.sessions.session(second.id)?.status === 'connected', 5000);
  const invites = rig.sent('INVITE');
  assert.equal(invites.map((s) => (s.message.to?.tag != null ? `re-INVITE ${directionOf(s.message.body)}` : `INVITE ${s.target.host}`)), [
    'INVITE 198.51.100.1',
    're-INVITE sendonly',
    'INVITE 198.51.100.2',
  ]);
  const holdAnswered = rig.phone.received.find((r) => r.message.status === 200 && r.message.callId === invites[1]!.callId && r.message.cseq?.method === 'INVITE' && r.at > invites[1]!.at)!;
  assert.ok(holdAnswered.at <= invites[2]!.at, 'the new INVITE waited for the hold');
  // `dialing` once the INVITE leaves: after the hold.
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 held @0', 's2 dialing @1', 's2 ringing @1', 's2 connected @1']);
  rig.assertChains();
  await rig.close();
  await rig.advance(1000);
  assert.equal(rig.sessionSeq().slice(7), ['s1 disconnected:Normal @0', 's2 disconnected:Normal @1']);
  rig.assertIdle();
});

test("dial() while the connected call's hold goes unanswered: the INVITE waits dial_failover_timeout, not 64*T1; the hold's timeout ends that call SipError(408); its site, which the dialog does not pass through, stays up", async () => {
  const rig = new CallRig({ connection: { dialFailoverTimeoutMs: 1500 } });
  await rig.start();
  const first = await rig.calls.dial(0, '1002');
  await rig.until(() => rig.phone.sessions.session(first.id)?.status === 'connected', 5000);
  await rig.advance(50);
  const firstCallId = rig.loseReinvitesOf(first.id);
  const marks = rig.connectionEvents.length;

  const t0 = rig.clock.now();
  const second = await rig.settle(rig.calls.dial(1, '1002'));
  assert.is(second.status, 'dialing');
  const hold = rig.sent('INVITE', t0).find((s) => s.callId === firstCallId)!;
  assert.is(hold.at, t0, 'the hold left at once');
  const invite = rig.sent('INVITE', t0).find((s) => s.message.to?.tag == null)!;
  assert.is(invite.at - t0, 1500, "the new INVITE waited for the hold exactly connection 0's dialFailoverTimeoutMs");
  assert.is(invite.target.host, rig.sites[1]!.endpoint.host);
  assert.is(rig.when(first.id, 'held'), invite.at, 'the first call is held on our side when the wait ends, its hold in flight');
  await rig.until(() => rig.phone.sessions.session(second.id)?.status === 'connected', 5000);
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held', 'one active call: the first is held');

  // Timer B of the hold (64*T1 = 32 s): s14.1 ends the dialog. The rig's sites do not Record-Route: the
  // re-INVITE went to the far party, so its silence says nothing of the site (interop: calls-failover).
  await rig.until(() => rig.sessionSeq(first.id).length === 5, 40_000, 'the first call ending');
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 held @0', 's2 dialing @1', 's2 ringing @1', 's2 connected @1', 's1 disconnected:SipError(408) @0']);
  assert.is(rig.when(first.id, 'disconnected') - hold.at, 32_000);
  assert.equal(rig.connectionSeq(0, marks), [], 'the site is not marked down by a far party that does not answer');
  assert.equal(rig.connectionSeq(1, marks), [], 'the other connection is untouched');
  rig.assertChains();
  rig.net.drop = undefined;
  await rig.settle(rig.calls.hangup(second.id));
  await rig.until(() => rig.phone.connections.isUsable(0), 120_000, 'connection 0 registered again');
  await rig.closeIdle();
});

test("answer() while the connected call's site is known down: answered at once, the hold of that call not waited for", async () => {
  const rig = new CallRig({ connection: { reregisterInSeconds: 60 } });
  await rig.start();
  const first = await rig.calls.dial(0, '1002');
  await rig.until(() => rig.phone.sessions.session(first.id)?.status === 'connected', 5000);
  const firstCallId = rig.loseReinvitesOf(first.id);
  const [site0, site1] = rig.sites as [CallSite, CallSite];
  site0.state = 'refusing';
  const marks = rig.connectionEvents.length;
  await rig.until(() => rig.connectionSeq(0, marks).length > 0, 120_000, 'connection 0 noticing its site is down');
  assert.equal(rig.connectionSeq(0, marks), ['unavailable(503)']);

  const second = await ringsOn(rig, () => rig.far.call(site1));
  assert.is(second.connectionId, 1);
  const t0 = rig.clock.now();
  const answered = await rig.settle(rig.calls.answer(second.sessionId));
  assert.is(answered.status, 'connected');
  const ok = rig.phone.transport.sent.find((s) => s.message.status === 200 && s.message.callId === second.call.call.callId)!;
  assert.is(ok.at, t0, 'the 200 left at the clock time of answer()');
  assert.ok(rig.sent('INVITE', t0).some((s) => s.callId === firstCallId), 'the hold was sent all the same');
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held', 'held on our side: one active call');
  assert.equal(rig.sessionSeq().slice(-2), ['s1 held @0', 's2 connected @1'], 'the first call held before the second connected');

  await rig.until(() => rig.sessionSeq(first.id).length === 5, 40_000, 'the first call ending');
  assert.equal(rig.sessionSeq(first.id).at(-1), 's1 disconnected:SipError(408) @0');
  assert.equal(rig.connectionSeq(0, marks), ['unavailable(503)'], 'already down: no second event');
  rig.assertChains();
  rig.net.drop = undefined;
  site0.state = 'up';
  await rig.settle(rig.calls.hangup(second.sessionId));
  await rig.until(() => rig.phone.connections.isUsable(0), 120_000, 'connection 0 registered again');
  await rig.closeIdle();
});

test("dial() while the far end's re-INVITE is in progress in the connected call: our hold cannot leave yet (s14.1), so it leaves once that exchange is over; the call is held meanwhile", async () => {
  const { rig, first } = await rigWithCall();
  const farHold = rig.far.sessions[0]!.reinvite(true);
  await rig.advance(15); // its re-INVITE reached us and our 200 is out; its ACK is not in yet
  const t0 = rig.clock.now();
  const second = await rig.settle(rig.calls.dial(1, '1002'));
  assert.ok((await rig.settle(farHold)).ok);
  await rig.until(() => rig.phone.sessions.session(second.id)?.status === 'connected', 10_000);
  await rig.advance(1000);
  const ours = rig.sent('INVITE', t0).filter((s) => s.callId === rig.far.sessions[0]!.dialog.callId);
  assert.equal(ours.map((s) => directionOf(s.message.body)), ['inactive'], 'our hold left, once (inactive: the far end holds us too)');
  assert.ok(ours[0]!.at > t0, 'after the exchange in progress, not at dial()');
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held');
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 held @0', 's2 dialing @1', 's2 ringing @1', 's2 connected @1']);
  rig.assertChains();
  await rig.close();
  await rig.advance(1000);
  rig.assertIdle();
});

test('close() while dial() waits for the hold: dial rejects closed, no event for the new call, nothing left', async () => {
  const rig = new CallRig({ connection: { dialFailoverTimeoutMs: 1500 } });
  await rig.start();
  const first = await rig.connectedCall(0);
  await rig.advance(50);
  rig.loseReinvitesOf(first.id);
  const dialled = rig.calls.dial(1, '1002').then(
    () => undefined,
    (error: unknown) => error,
  );
  await rig.advance(100);
  await rig.close();
  await rig.advance(2000);
  const error = await dialled;
  assert.instance(error, CallError);
  assert.is((error as CallError).code, 'closed');
  assert.equal(rig.sessionSeq().filter((e) => e.startsWith('s2')), [], 'no session for the dial');
  await rig.advance(64_000);
  rig.assertIdle();
});

test('two dial()s at once while a call is connected: one hold re-INVITE of it (the second finds it held on the wire); the call answered last is the one connected, the other held before its event', async () => {
  const { rig, first } = await rigWithCall();
  const t0 = rig.clock.now();
  const [a, b] = await Promise.all([rig.settle(rig.calls.dial(1, '1002')), rig.settle(rig.calls.dial(0, '1002'))]);
  const settled = (id: string): boolean => ['connected', 'held'].includes(rig.phone.sessions.session(id)?.status ?? '');
  await rig.until(() => settled(a.id) && settled(b.id) && rig.sessionSeq().filter((e) => e.includes('connected')).length === 3, 5000);
  await rig.advance(500);
  const holds = rig.sent('INVITE', t0).filter((s) => s.callId === rig.phone.sessions.session(first.id)!.callId);
  assert.equal(holds.map((s) => directionOf(s.message.body)), ['sendonly'], 'one hold re-INVITE');
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held');
  assert.is(rig.phone.sessions.sessions.filter((s) => s.status === 'connected').length, 1, 'one active call');
  const seq = rig.sessionSeq();
  const lastConnected = seq.map((e) => e.includes(' connected')).lastIndexOf(true);
  const earlier = seq[lastConnected]!.startsWith(a.id) ? b.id : a.id;
  assert.ok(seq.indexOf(`${earlier} held @${rig.phone.sessions.session(earlier)!.connectionID}`) === lastConnected - 1, 'the earlier call held just before the later one connected');
  rig.assertChains();
  await rig.closeIdle();
});

test('an outbound call answered while an incoming one was answered meanwhile: the incoming one is held before the outbound one connects', async () => {
  const rig = new CallRig();
  await rig.start();
  rig.far.answerAfterMs = 3000;
  const out = await rig.settle(rig.calls.dial(0, '1002'));
  await rig.until(() => rig.phone.sessions.session(out.id)?.status === 'ringing', 5000);
  rig.far.answerAfterMs = 100;
  const incoming = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  await rig.settle(rig.calls.answer(incoming.sessionId));
  assert.is(rig.phone.sessions.session(incoming.sessionId)?.status, 'connected');
  await rig.until(() => rig.phone.sessions.session(out.id)?.status === 'connected', 10_000);
  await rig.advance(500);
  assert.is(rig.phone.sessions.session(incoming.sessionId)?.status, 'held');
  assert.equal(rig.sessionSeq().slice(-2), [`${incoming.sessionId} held @1`, `${out.id} connected @0`]);
  const hold = rig.sent('INVITE').filter((s) => s.callId === incoming.call.call.callId && s.message.to?.tag != null);
  assert.equal(hold.map((s) => directionOf(s.message.body)), ['sendonly'], 'its hold re-INVITE went');
  rig.assertChains();
  await rig.closeIdle();
});

test('retrieve() in flight while dial() goes out: the retrieved call connects, then the new call, answered, holds it first', async () => {
  const { rig, first } = await rigWithCall();
  await rig.settle(rig.calls.hold(first.id));
  const retrieved = rig.calls.retrieve(first.id);
  const second = await rig.settle(rig.calls.dial(1, '1002'));
  await rig.settle(retrieved);
  await rig.until(() => rig.phone.sessions.session(second.id)?.status !== 'dialing' && rig.phone.sessions.session(second.id)?.status !== 'ringing', 10_000);
  await rig.advance(500);
  assert.is(rig.phone.sessions.sessions.filter((s) => s.status === 'connected').length, 1, 'one active call');
  // The dial found nothing connected (s1 was held, its retrieve in flight); s2's 200 holds s1 again.
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 held @0', 's2 dialing @1', 's1 connected @0', 's2 ringing @1', 's1 held @0', 's2 connected @1']);
  rig.assertChains();
  await rig.closeIdle();
});

test("the far end refuses the connected call's hold (488): hold() rejects refused and the call stays connected; dial() then goes on at once, that call held on our side; retrieve() takes it back", async () => {
  const { rig, first } = await rigWithCall();
  const firstCallId = rig.phone.sessions.session(first.id)!.callId!;
  rig.net.refuse = (carried) => (carried.message.method === 'INVITE' && carried.message.callId === firstCallId && directionOf(carried.message.body) === 'sendonly' ? 488 : undefined);
  const error = await rig.settle(rejection(rig.calls.hold(first.id)));
  assert.is((error as CallError).code, 'refused');
  assert.is((error as CallError).status, 488);
  assert.is(rig.phone.sessions.session(first.id)?.status, 'connected');

  const t0 = rig.clock.now();
  const second = await rig.settle(rig.calls.dial(1, '1002'));
  const invite = rig.sent('INVITE', t0).find((s) => s.message.to?.tag == null)!;
  assert.is(invite.at - t0, 2 * rig.net.latency, 'the INVITE left as the refusal came, not after dial_failover_timeout');
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held', 'held on our side');
  await rig.until(() => rig.phone.sessions.session(second.id)?.status === 'connected', 5000);

  const retrieved = await rig.settle(rig.calls.retrieve(first.id));
  assert.is(retrieved.status, 'connected');
  assert.is(rig.phone.sessions.session(second.id)?.status, 'held');
  assert.equal(reinvitesIn(rig, firstCallId), ['sendonly', 'sendonly', 'sendrecv']);
  assert.equal(rig.sessionSeq().slice(3), ['s1 held @0', 's2 dialing @1', 's2 ringing @1', 's2 connected @1', 's2 held @1', 's1 connected @0']);
  rig.assertChains();
  rig.net.refuse = undefined;
  await rig.closeIdle();
});

test("dial() while the connected call's DTMF INFO waits for its answer: the hold queues behind it; the INVITE leaves after dial_failover_timeout, the call held on our side, and its re-INVITE follows the INFO's answer", async () => {
  const { rig, first } = await rigWithCall();
  const firstCallId = slowAnswers(rig, first.id, 'INFO', 3000);
  const t0 = rig.clock.now();
  const dtmf = rig.calls.sendDtmf(first.id, '5');
  await rig.advance(5);
  const second = await rig.settle(rig.calls.dial(1, '1002'));
  const invite = rig.sent('INVITE', t0).find((s) => s.message.to?.tag == null)!;
  assert.is(invite.at - t0, 5 + 2000, 'the INVITE waited dial_failover_timeout (default 2000 ms)');
  assert.is(rig.when(first.id, 'held'), invite.at);
  assert.equal(reinvitesIn(rig, firstCallId, t0), [], 'no hold yet: the INFO is unanswered');
  await rig.settle(dtmf);
  const info = rig.sent('INFO', t0)[0]!;
  await rig.until(() => reinvitesIn(rig, firstCallId, t0).length === 1, 5000, 'the hold re-INVITE');
  const hold = rig.sent('INVITE', t0).find((s) => s.callId === firstCallId)!;
  assert.ok(hold.at >= info.at + 3000, 'the hold left once the INFO was answered');
  assert.is(directionOf(hold.message.body), 'sendonly');
  await rig.until(() => rig.phone.sessions.session(second.id)?.status === 'connected', 5000);
  await rig.advance(500);
  assert.equal(rig.sessionSeq().slice(3), ['s1 held @0', 's2 dialing @1', 's2 ringing @1', 's2 connected @1']);
  rig.assertChains();
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test.run();
