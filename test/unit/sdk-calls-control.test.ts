/**
 * phone.calls actions and the session events they cause (src/sdk/call-control.ts,
 * session-manager.ts) on the fake-clock rig of sdk-calls-fakes.ts: two
 * scripted sites, the far party 1002 behind them, 10 ms per hop.
 *
 * Covers: a whole outbound call (dialing at dial(), ringing when the 180
 * arrives, connected when the 200 arrives; the INVITE's Request-URI, From
 * and Contact with the connection's line= token; hold and retrieve as
 * re-INVITEs a=sendonly / a=sendrecv; the far end holding us sets remoteHold
 * and emits remoteHoldChanged once per change, no sessionStatusChanged; hangup -> BYE, Normal); hangup while dialing (Cancelled at
 * once, the CANCEL with the first provisional) and while ringing (CANCEL at
 * once); the far end's BYE (Normal); 408 after ringing (NoAnswer); an
 * incoming call answered, rejected (603 by default, or the status given ->
 * Rejected), cancelled by the caller (Cancelled); DTMF: one INFO
 * application/dtmf-relay per digit, each after the previous one's answer, and
 * dtmfReceived for the far end's; typed CallError rejections (no-such-session
 * from every action, wrong-state, no-connection, invalid-argument for a
 * destination with CR/LF and for bad DTMF digits, closed) with no event and
 * nothing sent; close() with a held, an outbound ringing and an inbound
 * ringing call: one disconnected event each, BYE, CANCEL and 480 sent, and
 * afterwards no session, dialog, transaction, registration, port or timer
 * of the phone.
 * Not covered: failover (sdk-calls-failover.test.ts), line matching and the
 * one-active-call rule (sdk-calls-lines.test.ts), real sockets
 * (test/integration/sdk-calls.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CallError } from '../../src/sdk/index.ts';
import { directionOf } from './dialog-fakes.ts';
import { CallRig, PHONE_HOST } from './sdk-calls-fakes.ts';

const HOP = 10;
/** The far party answers this long after ringing. */
const ANSWER_MS = 100;

async function connectedRig(): Promise<{ rig: CallRig; id: string }> {
  const rig = new CallRig();
  rig.far.answerAfterMs = ANSWER_MS;
  await rig.start();
  const session = await rig.calls.dial(0, '1002');
  await rig.until(() => rig.phone.sessions.session(session.id)?.status === 'connected', 5000);
  // s13.3.1.4 / s14.1: the far end sends nothing in the dialog before our ACK reaches it.
  await rig.advance(2 * HOP);
  return { rig, id: session.id };
}

async function expectCallError(promise: Promise<unknown>, code: string): Promise<CallError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, CallError, String(error));
    assert.is((error as CallError).name, 'CallError');
    assert.is((error as CallError).code, code, (error as Error).message);
    return error as CallError;
  }
  assert.unreachable(`expected a CallError ${code}`);
  throw new Error('unreachable');
}

/** Re-INVITEs the far party got (INVITEs with a To tag), their SDP directions. */
function reinviteDirections(rig: CallRig): Array<string | undefined> {
  return rig.far.got('INVITE').filter((r) => r.message.to?.tag != null).map((r) => directionOf(r.message.body));
}

// ------------------------------------------------------------- outbound

test('a whole call: dialing, ringing at the 180, connected at the 200; hold a=sendonly, retrieve a=sendrecv; hangup BYE -> Normal', async () => {
  const rig = new CallRig();
  rig.far.answerAfterMs = ANSWER_MS;
  await rig.start();
  const t0 = rig.clock.now();
  const dialled = await rig.calls.dial(0, '1002');
  const { direction, connectionID, remote, status, reason, code, triedConnections, remoteHold } = dialled;
  assert.equal(
    { direction, connectionID, remote, status, reason, code, triedConnections, remoteHold },
    { direction: 'outbound', connectionID: 0, remote: 'sip:1002@198.51.100.1:5060', status: 'dialing', reason: undefined, code: undefined, triedConnections: [0], remoteHold: false },
  );
  await rig.until(() => rig.phone.sessions.session(dialled.id)?.status === 'connected', 5000);
  // 180 at once from the far party: 4 hops; its 200 ANSWER_MS later.
  assert.equal(rig.sessionEvents.map((e) => e.at), [t0, t0 + 4 * HOP, t0 + 4 * HOP + ANSWER_MS]);
  const [invite] = rig.sent('INVITE');
  assert.is(invite!.message.uri?.toString(), 'sip:1002@198.51.100.1:5060');
  assert.is(invite!.message.from?.uri.toString(), 'sip:1001@198.51.100.1:5060');
  const contact = invite!.message.contact[0] as { uri: { host: string; params: Map<string, string | null> } };
  assert.is(contact.uri.host, PHONE_HOST);
  assert.is(contact.uri.params.get('line'), rig.phone.connections.lineOf(0), "the Contact carries connection 0's line token");

  const held = await rig.settle(rig.calls.hold(dialled.id));
  assert.is(held.status, 'held');
  const retrieved = await rig.settle(rig.calls.retrieve(dialled.id));
  assert.is(retrieved.status, 'connected');
  assert.equal(reinviteDirections(rig), ['sendonly', 'sendrecv']);

  const hangupAt = rig.clock.now();
  const ended = await rig.settle(rig.calls.hangup(dialled.id));
  assert.is(ended.status, 'disconnected');
  assert.equal(rig.sent('BYE').map((s) => [s.at, s.target.host]), [[hangupAt, '192.0.2.20']], 'BYE at once, to the far Contact');
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 held @0', 's1 connected @0', 's1 disconnected:Normal @0']);
  assert.is(rig.when('s1', 'disconnected'), hangupAt);
  rig.assertChains();
  assert.equal(rig.phone.sessions.sessions, [], 'a disconnected session is forgotten');
  await rig.advance(100);
  assert.is(rig.far.sessions[0]!.state, 'terminated');
  await rig.close();
  rig.assertIdle();
});

test('the far end holding us: remoteHold and one remoteHoldChanged per change; our status stays connected', async () => {
  const { rig, id } = await connectedRig();
  const before = rig.sessionEvents.length;
  const changes: unknown[] = [];
  rig.phone.sessions.on('remoteHoldChanged', (event) => changes.push({ ...event }));
  const result = await rig.settle(rig.far.sessions[0]!.reinvite(true));
  assert.ok(result.ok);
  assert.is(rig.phone.sessions.session(id)?.remoteHold, true);
  assert.is(rig.phone.sessions.session(id)?.status, 'connected');
  // Held again (a new offer, same direction): no change, no event.
  await rig.settle(rig.far.sessions[0]!.reinvite(true));
  await rig.settle(rig.far.sessions[0]!.reinvite(false));
  assert.is(rig.phone.sessions.session(id)?.remoteHold, false);
  assert.equal(changes, [
    { sessionId: id, connectionId: 0, remoteHold: true },
    { sessionId: id, connectionId: 0, remoteHold: false },
  ]);
  assert.is(rig.sessionEvents.length, before, 'no sessionStatusChanged');
  await rig.close();
  rig.assertIdle();
});

test('hangup while dialing: Cancelled at once; the CANCEL leaves with the first provisional (the far 100 Trying)', async () => {
  const rig = new CallRig();
  await rig.start();
  rig.far.policy = () => {}; // its INVITE server transaction answers 100 Trying after 200 ms (s17.2.1)
  const t0 = rig.clock.now();
  const session = await rig.calls.dial(0, '1002');
  await rig.advance(0);
  assert.equal(rig.sent('INVITE').map((s) => s.at), [t0]);
  const ended = await rig.calls.hangup(session.id);
  assert.is(ended.reason, 'Cancelled');
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 disconnected:Cancelled @0']);
  assert.is(rig.when('s1', 'disconnected'), t0);
  assert.equal(rig.sent('CANCEL'), [], 's9.1: no CANCEL before a provisional');
  await rig.advance(1000);
  const trying = rig.phone.received.find((r) => r.message.status === 100);
  assert.ok(trying);
  assert.equal(rig.sent('CANCEL').map((s) => s.at), [trying!.at]);
  assert.is(rig.far.invites[0]!.end, 'cancelled');
  await rig.advance(40_000);
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 disconnected:Cancelled @0'], 'the 487 adds no event');
  await rig.close();
  rig.assertIdle();
});

test('hangup while ringing: CANCEL at once, Cancelled; the 487 adds nothing', async () => {
  const rig = new CallRig();
  await rig.start();
  rig.far.policy = (invite, far) => far.ring(invite);
  const session = await rig.calls.dial(0, '1002');
  await rig.until(() => rig.phone.sessions.session(session.id)?.status === 'ringing', 5000);
  const t1 = rig.clock.now();
  await rig.calls.hangup(session.id);
  assert.equal(rig.sent('CANCEL').map((s) => s.at), [t1]);
  await rig.advance(40_000);
  assert.is(rig.far.invites[0]!.end, 'cancelled');
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 disconnected:Cancelled @0']);
  await rig.close();
  rig.assertIdle();
});

test("the far end's BYE: Normal, when it arrives", async () => {
  const { rig, id } = await connectedRig();
  const t1 = rig.clock.now();
  void rig.far.sessions[0]!.bye();
  await rig.advance(100);
  assert.equal(rig.sessionSeq(id).slice(-1), ['s1 disconnected:Normal @0']);
  assert.is(rig.when(id, 'disconnected'), t1 + HOP);
  assert.equal(rig.sent('BYE'), [], 'the phone sends no BYE of its own');
  await rig.close();
  rig.assertIdle();
});

test('408 after ringing: NoAnswer(408)', async () => {
  const rig = new CallRig();
  await rig.start();
  rig.far.policy = (invite, far) => {
    far.ring(invite);
    far.clock.setTimer(3000, () => invite.reject(408));
  };
  await rig.calls.dial(0, '1002');
  await rig.until(() => rig.sessionEvents.some((e) => e.event.status === 'disconnected'), 10_000);
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 disconnected:NoAnswer(408) @0']);
  assert.equal(rig.sent('INVITE').length, 1, 'ringing committed the call: no failover');
  await rig.close();
  rig.assertIdle();
});

// -------------------------------------------------------------- inbound

test('an incoming call: ringing on its connection (180 to the caller), answered -> connected, hangup -> BYE', async () => {
  const rig = new CallRig();
  await rig.start();
  const t0 = rig.clock.now();
  const call = rig.far.call(rig.sites[0]!);
  await rig.until(() => rig.sessionEvents.length === 1, 5000);
  assert.is(rig.sessionEvents[0]!.at, t0 + 2 * HOP);
  const ringing = rig.sessionEvents[0]!.event;
  assert.equal({ ...ringing }, {
    sessionId: 's1',
    connectionId: 0,
    direction: 'inbound',
    remote: 'sip:1002@198.51.100.1:5060',
    status: 'ringing',
    previousStatus: null,
  });
  await rig.advance(2 * HOP);
  assert.equal(call.provisionals.map((p) => p.status), [180]);
  const answered = await rig.settle(rig.calls.answer('s1'));
  assert.is(answered.status, 'connected');
  await rig.advance(2 * HOP);
  assert.ok(call.answered, 'the caller got the 200');
  assert.is(call.answered!.state, 'confirmed');
  await rig.settle(rig.calls.hangup('s1'));
  await rig.advance(100);
  assert.is(call.answered!.state, 'terminated');
  assert.equal(rig.sessionSeq(), ['s1 ringing @0', 's1 connected @0', 's1 disconnected:Normal @0']);
  rig.assertChains();
  await rig.close();
  rig.assertIdle();
});

for (const [given, expected] of [
  [undefined, 603],
  [486, 486],
] as const) {
  test(`reject(${given ?? ''}): the caller gets ${expected}; Rejected(${expected})`, async () => {
    const rig = new CallRig();
    await rig.start();
    const call = rig.far.call(rig.sites[1]!);
    await rig.until(() => rig.sessionEvents.length === 1, 5000);
    const done = await rig.settle(given === undefined ? rig.calls.reject('s1') : rig.calls.reject('s1', given));
    assert.is(done.reason, 'Rejected');
    await rig.advance(100);
    assert.equal(call.failures.map((f) => f.status), [expected]);
    assert.equal(rig.sessionSeq(), ['s1 ringing @1', `s1 disconnected:Rejected(${expected}) @1`]);
    await rig.close();
    rig.assertIdle();
  });
}

test('the caller cancels a ringing incoming call: Cancelled', async () => {
  const rig = new CallRig();
  await rig.start();
  const call = rig.far.call(rig.sites[0]!);
  await rig.until(() => call.provisionals.length > 0, 5000);
  call.call.cancel();
  await rig.advance(100);
  assert.equal(rig.sessionSeq(), ['s1 ringing @0', 's1 disconnected:Cancelled @0']);
  assert.equal(call.failures.map((f) => f.status), [487]);
  await rig.close();
  rig.assertIdle();
});

// ------------------------------------------------------------------ DTMF

test('sendDtmf: one INFO application/dtmf-relay per digit, in order, each after the previous one was answered', async () => {
  const { rig, id } = await connectedRig();
  const t1 = rig.clock.now();
  const result = await rig.settle(rig.calls.sendDtmf(id, '1*#a'));
  assert.is(result.status, 'connected');
  const infos = rig.far.got('INFO');
  assert.equal(infos.map((r) => new TextDecoder().decode(r.message.body)), ['Signal=1\r\nDuration=160\r\n', 'Signal=*\r\nDuration=160\r\n', 'Signal=#\r\nDuration=160\r\n', 'Signal=A\r\nDuration=160\r\n']);
  assert.ok(infos.every((r) => r.message.header('content-type') === 'application/dtmf-relay'));
  // One round trip (2 hops, UA to UA) per digit: the next INFO waits for the 200 of the one before.
  assert.equal(infos.map((r) => r.at), [t1 + HOP, t1 + 3 * HOP, t1 + 5 * HOP, t1 + 7 * HOP]);
  assert.equal(rig.sentCount('INFO'), 4);
  await rig.close();
  rig.assertIdle();
});

test("the far end's DTMF INFO: dtmfReceived with the session and digit", async () => {
  const { rig, id } = await connectedRig();
  const got: Array<{ sessionId: string; digit: string }> = [];
  rig.phone.sessions.on('dtmfReceived', (event) => got.push({ ...event }));
  await rig.settle(rig.far.sessions[0]!.sendDtmf('7'));
  assert.equal(got, [{ sessionId: id, digit: '7' }]);
  await rig.close();
  rig.assertIdle();
});

// ---------------------------------------------------------------- errors

test('no-such-session: every action on an unknown id rejects (a Promise, never a throw)', async () => {
  const { rig } = await connectedRig();
  const actions: Array<[string, () => Promise<unknown>]> = [
    ['answer', () => rig.calls.answer('s99')],
    ['reject', () => rig.calls.reject('s99')],
    ['hold', () => rig.calls.hold('s99')],
    ['retrieve', () => rig.calls.retrieve('s99')],
    ['hangup', () => rig.calls.hangup('s99')],
    ['sendDtmf', () => rig.calls.sendDtmf('s99', '1')],
  ];
  for (const [name, action] of actions) {
    let promise: Promise<unknown> | undefined;
    try {
      promise = action();
    } catch (error) {
      assert.unreachable(`${name} threw instead of rejecting: ${String(error)}`);
    }
    await expectCallError(promise!, 'no-such-session');
  }
  await rig.close();
  rig.assertIdle();
});

test('wrong-state: answer or reject an outbound call, hold a dialing one, retrieve a connected one, DTMF on a ringing one', async () => {
  const rig = new CallRig();
  await rig.start();
  rig.far.policy = (invite, far) => far.ring(invite);
  const out = await rig.calls.dial(0, '1002');
  await expectCallError(rig.calls.hold(out.id), 'wrong-state');
  await rig.until(() => rig.phone.sessions.session(out.id)?.status === 'ringing', 5000);
  await expectCallError(rig.calls.answer(out.id), 'wrong-state');
  await expectCallError(rig.calls.reject(out.id), 'wrong-state');
  await expectCallError(rig.calls.sendDtmf(out.id, '1'), 'wrong-state');
  rig.far.accept(rig.far.invites[0]!);
  await rig.until(() => rig.phone.sessions.session(out.id)?.status === 'connected', 5000);
  await expectCallError(rig.calls.retrieve(out.id), 'wrong-state');
  await expectCallError(rig.calls.answer(out.id), 'wrong-state');
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0'], 'refused actions make no event');
  await rig.close();
  rig.assertIdle();
});

test('no-connection: an unknown connection id; no registered connection at all', async () => {
  const rig = new CallRig();
  await expectCallError(rig.calls.dial(7, '1002'), 'no-connection');
  await expectCallError(rig.calls.dial(0, '1002'), 'no-connection');
  assert.equal(rig.sessionEvents, []);
  assert.equal(rig.phone.transport.sent, [], 'nothing sent');
  await rig.close();
  rig.assertIdle();
});

test('invalid-argument: a destination with CR, LF or NUL, or empty; DTMF digits outside 0-9 * # A-D; nothing sent, no event', async () => {
  const { rig, id } = await connectedRig();
  const events = rig.sessionEvents.length;
  const invites = rig.sentCount('INVITE');
  for (const bad of ['1002\r\nX-Injected: 1', '1002\n', '10\u000002', '', '<>']) await expectCallError(rig.calls.dial(0, bad), 'invalid-argument');
  for (const bad of ['12x', '', '1 2', 'E']) await expectCallError(rig.calls.sendDtmf(id, bad), 'invalid-argument');
  await rig.advance(100);
  assert.is(rig.sessionEvents.length, events);
  assert.is(rig.sentCount('INVITE'), invites);
  assert.is(rig.sentCount('INFO'), 0);
  await rig.close();
  rig.assertIdle();
});

// ----------------------------------------------------------------- close

test('close() with a held call, an outbound ringing call and an inbound ringing call: one disconnected each, BYE + CANCEL + 480; nothing left; actions then rejected closed', async () => {
  const rig = new CallRig();
  await rig.start();
  let n = 0;
  rig.far.policy = (invite, far) => {
    far.ring(invite);
    if (++n === 1) far.clock.setTimer(ANSWER_MS, () => far.accept(invite));
  };
  const first = await rig.calls.dial(0, '1002');
  await rig.until(() => rig.phone.sessions.session(first.id)?.status === 'connected', 5000);
  const second = await rig.settle(rig.calls.dial(1, '1002'));
  await rig.until(() => rig.phone.sessions.session(second.id)?.status === 'ringing', 5000);
  const incoming = rig.far.call(rig.sites[1]!);
  await rig.until(() => rig.phone.sessions.sessions.length === 3, 5000);
  assert.equal(rig.phone.sessions.sessions.map((s) => [s.id, s.direction, s.status]), [
    ['s1', 'outbound', 'held'],
    ['s2', 'outbound', 'ringing'],
    ['s3', 'inbound', 'ringing'],
  ]);
  const mark = rig.sessionEvents.length;
  const closedAt = rig.clock.now();
  await rig.close();
  assert.equal(rig.sessionSeq().slice(mark), ['s1 disconnected:Normal @0', 's2 disconnected:Normal @1', 's3 disconnected:Normal @1']);
  assert.ok(rig.sessionEvents.slice(mark).every((e) => e.at === closedAt), 'all at close()');
  assert.equal(rig.sent('BYE', closedAt).map((s) => s.callId), [rig.far.sessions[0]!.dialog.callId]);
  const secondInvite = rig.sent('INVITE').filter((s) => s.message.to?.tag == null)[1]!;
  assert.equal(rig.sent('CANCEL', closedAt).map((s) => s.callId), [secondInvite.callId]);
  assert.ok(rig.phone.transport.sent.some((s) => s.at === closedAt && s.message.status === 480 && s.message.callId === incoming.call.callId), '480 to the incoming call');
  rig.assertReleased();
  // The cancelled INVITE stays counted (with its 64*T1 CancelGiveUp timer) after close: see the report of this change.
  await rig.advance(64_000);
  rig.assertIdle();
  assert.equal(incoming.failures.map((f) => f.status), [480]);
  assert.is(rig.sessionEvents.length, mark + 3, 'nothing more after close');
  await expectCallError(rig.calls.dial(0, '1002'), 'closed');
  await expectCallError(rig.calls.hold('s1'), 'closed');
  assert.equal(rig.sent('INVITE', closedAt), []);
});

test('a hold that gets no answer rejects no-response(408) after 64*T1, naming it, and the call ends SipError(408); a hold pending at close() rejects closed', async () => {
  const rig = new CallRig();
  await rig.start();
  const call = await rig.connectedCall(0);
  rig.loseReinvitesOf(call.id);
  const sentAt = rig.clock.now();
  const unanswered = rig.calls.hold(call.id).then(() => undefined, (e: unknown) => e);
  await rig.until(() => rig.sessionSeq(call.id).length === 4, 40_000, 'the call ending');
  const error = (await unanswered) as CallError;
  assert.instance(error, CallError);
  assert.is(error.code, 'no-response');
  assert.is(error.status, 408);
  assert.match(error.message, /^the re-INVITE to hold got no answer \(408 /);
  assert.is(rig.when(call.id, 'disconnected') - sentAt, 32_000);
  assert.equal(rig.sessionSeq(call.id).at(-1), 's1 disconnected:SipError(408) @0');

  rig.net.drop = undefined;
  const second = await rig.connectedCall(1);
  rig.loseReinvitesOf(second.id);
  const pending = rig.calls.hold(second.id).then(() => undefined, (e: unknown) => e);
  await rig.advance(100);
  await rig.close();
  const closed = (await pending) as CallError;
  assert.instance(closed, CallError);
  assert.is(closed.code, 'closed');
  assert.match(closed.message, /the phone closed before the re-INVITE to hold was answered/);
  rig.net.drop = undefined;
  await rig.advance(64_000);
  rig.assertIdle();
});

test('hangup while a hold goes unanswered: the BYE leaves at once (not after 64*T1), the call ends Normal, the hold rejects wrong-state', async () => {
  const rig = new CallRig();
  await rig.start();
  const call = await rig.connectedCall(0);
  rig.loseReinvitesOf(call.id);
  const hold = rig.calls.hold(call.id).then(() => undefined, (e: unknown) => e);
  await rig.advance(1000);
  const hungUpAt = rig.clock.now();
  const ended = await rig.settle(rig.calls.hangup(call.id), 1000);
  assert.is(ended.status, 'disconnected');
  assert.equal(rig.sent('BYE').map((s) => s.at), [hungUpAt], 'the BYE at once');
  assert.equal(rig.sessionSeq(call.id).at(-1), 's1 disconnected:Normal @0');
  assert.is(rig.when(call.id, 'disconnected'), hungUpAt);
  const error = (await hold) as CallError;
  assert.instance(error, CallError);
  assert.is(error.code, 'wrong-state');
  assert.match(error.message, /the call ended/);
  assert.equal(rig.connectionSeq(0).slice(-1), ['registered(200)'], 'the site is not marked down');
  rig.net.drop = undefined;
  await rig.advance(64_000);
  await rig.closeIdle();
});

test.run();
