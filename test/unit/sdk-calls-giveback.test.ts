/**
 * The one-active-call rule when the new call never happens, on the
 * fake-clock rig of sdk-calls-fakes.ts (scripted sites, the far party 1002,
 * 10 ms per hop): CallControl's give-back and dial()'s AbortSignal.
 *
 * Covers: answer() whose caller hangs up while the connected call's hold is
 * in flight (answer rejects wrong-state, the held call given back with a
 * re-INVITE a=sendrecv); the same while a dial() also waits (not given
 * back: the dial takes its place); dial() aborted by its signal during the
 * hold wait (rejects aborted at once, nothing sent, the call given back
 * once its hold is done); an abort, or a caller hanging up, before the
 * hold left (no hold sent at all, the call stays connected, no event); the user acting while the
 * give-back's re-INVITE is out (answer, dial, retrieve of another call: the
 * user's action wins, the call held again); dial()'s signal before, right
 * at `dialing`, after the INVITE left (the call cancelled; the call held
 * for it stays held, as after a busy answer) and its listener dropped in
 * every way a call ends, the hold wait's own listener too; close() during
 * answer()'s hold wait (rejects closed); one hold shared by the new calls
 * that wait on it (two aborted dials: one hold, one give-back, or none at
 * all when it had not left; a dial that goes on keeps it even when an
 * answer on it fails); an aborted dial's unsent hold not sent while
 * another call rings out; an answer() refused at once not counted as the
 * user's next action.
 * Not covered: the rule itself when calls do connect (sdk-calls-lines.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CallError } from '../../src/sdk/index.ts';
import { CallRig, reinvitesIn, rejection, rigWithCall, ringsOn, slowAnswers } from './sdk-calls-fakes.ts';

/** `signal` with its abort listeners counted (added minus removed; a fired once-listener is counted until removed). */
function counted(signal: AbortSignal): { readonly n: number } {
  const count = { n: 0 };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    count.n++;
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    count.n--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  return count;
}

/** A dial() from connection `connectionId` whose signal aborts `afterMs` into its wait for the connected call's hold: it rejects `aborted`. */
async function abortedDial(rig: CallRig, connectionId: number, afterMs: number): Promise<CallError> {
  const controller = new AbortController();
  const dialled = rejection(rig.calls.dial(connectionId, '1002', { signal: controller.signal }));
  await rig.advance(afterMs);
  controller.abort();
  const error = (await rig.settle(dialled, 200)) as CallError;
  assert.is(error.code, 'aborted');
  return error;
}

const connectedIds = (rig: CallRig): string[] => rig.phone.sessions.sessions.filter((s) => s.status === 'connected').map((s) => s.id);

test('answer() whose caller hangs up while the connected call is being held: answer rejects wrong-state and the held call is given back (re-INVITE sendrecv, connected again)', async () => {
  const { rig, first } = await rigWithCall();
  const firstCallId = slowAnswers(rig, first.id, 'INVITE', 500);
  const second = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  const t0 = rig.clock.now();
  const answering = rejection(rig.calls.answer(second.sessionId));
  await rig.advance(5);
  second.call.call.cancel();
  await rig.until(() => rig.sessionSeq(first.id).length === 5, 5000, 'the first call connected again');
  const error = await answering;
  assert.instance(error, CallError);
  assert.is((error as CallError).code, 'wrong-state');
  assert.equal(reinvitesIn(rig, firstCallId, t0), ['sendonly', 'sendrecv'], 'held, then given back');
  assert.equal(rig.sessionSeq(), [
    's1 dialing @0',
    's1 ringing @0',
    's1 connected @0',
    's2 ringing @1',
    's2 disconnected:Cancelled @1',
    's1 held @0',
    's1 connected @0',
  ]);
  assert.equal(second.call.failures.map((f) => f.status), [487]);
  assert.equal(rig.phone.transport.sent.filter((s) => s.message.callId === second.call.call.callId && s.message.status === 200 && s.message.cseq?.method === 'INVITE'), [], 'no 200 for the cancelled call');
  rig.assertChains();
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test('answer() whose caller hangs up during the hold while a dial() also waits for it: the held call is not given back; the dialled call connects', async () => {
  const { rig, first } = await rigWithCall();
  const firstCallId = slowAnswers(rig, first.id, 'INVITE', 500);
  const second = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  const t0 = rig.clock.now();
  const answering = rejection(rig.calls.answer(second.sessionId));
  const dialling = rig.calls.dial(0, '1002');
  await rig.advance(5);
  second.call.call.cancel();
  const third = await rig.settle(dialling);
  assert.is((await answering as CallError).code, 'wrong-state');
  await rig.until(() => rig.phone.sessions.session(third.id)?.status === 'connected', 5000);
  await rig.advance(1000);
  assert.equal(reinvitesIn(rig, firstCallId, t0), ['sendonly'], 'held once, not given back');
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held');
  assert.equal(rig.sessionSeq().slice(3), ['s2 ringing @1', 's2 disconnected:Cancelled @1', 's1 held @0', 's3 dialing @0', 's3 ringing @0', 's3 connected @0']);
  rig.assertChains();
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test("dial() aborted by its signal while the connected call's hold is in flight: rejects aborted at once, no INVITE and no session for it, the held call given back", async () => {
  const { rig, first } = await rigWithCall();
  const firstCallId = slowAnswers(rig, first.id, 'INVITE', 500);
  const t0 = rig.clock.now();
  const error = await abortedDial(rig, 1, 5);
  assert.instance(error, CallError);
  assert.is((error as CallError).code, 'aborted');
  assert.ok(rig.clock.now() - t0 < 100, 'rejected when aborted, not when the hold was answered');
  await rig.until(() => rig.sessionSeq(first.id).length === 5, 5000, 'the first call connected again');
  assert.equal(reinvitesIn(rig, firstCallId, t0), ['sendonly', 'sendrecv']);
  assert.equal(rig.sent('INVITE', t0).filter((s) => s.message.to?.tag == null), [], 'no new INVITE');
  assert.equal(rig.sessionSeq().slice(3), ['s1 held @0', 's1 connected @0'], 'no event for the aborted dial');
  rig.assertChains();
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test('dial() with a signal: aborted before, it rejects and sends nothing; aborted once its INVITE is out, the call is cancelled; the listener is dropped when the call ends', async () => {
  const rig = new CallRig();
  await rig.start();
  const error = await rejection(rig.calls.dial(0, '1002', { signal: AbortSignal.abort() }));
  assert.is((error as CallError).code, 'aborted');
  assert.is(rig.sentCount('INVITE'), 0);

  rig.far.answerAfterMs = 3000;
  const controller = new AbortController();
  const listeners = counted(controller.signal);
  const call = await rig.settle(rig.calls.dial(0, '1002', { signal: controller.signal }));
  await rig.until(() => rig.phone.sessions.session(call.id)?.status === 'ringing', 5000);
  assert.is(listeners.n, 1);
  controller.abort();
  assert.is(listeners.n, 0, 'dropped when the call ended');
  await rig.advance(100);
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 ringing @0', 's1 disconnected:Cancelled @0']);
  assert.is(rig.sentCount('CANCEL'), 1);

  const other = new AbortController();
  const kept = await rig.settle(rig.calls.dial(0, '1002', { signal: other.signal }));
  await rig.settle(rig.calls.hangup(kept.id));
  other.abort();
  await rig.advance(100);
  assert.equal(rig.sessionSeq(kept.id).slice(-1), [`${kept.id} disconnected:Cancelled @0`], 'one end, by hangup');
  rig.assertChains();
  await rig.closeIdle();
});

test("dial() aborted before the connected call's hold could leave (it waits behind a DTMF INFO): no hold is ever sent, the call stays connected, no event", async () => {
  const { rig, first } = await rigWithCall();
  const callId = slowAnswers(rig, first.id, 'INFO', 20_000);
  const t0 = rig.clock.now();
  const dtmf = rig.calls.sendDtmf(first.id, '5');
  await rig.advance(5);
  await abortedDial(rig, 1, 100);
  assert.is(rig.phone.sessions.session(first.id)?.status, 'connected', 'not held: no hold was sent');
  await rig.settle(dtmf);
  await rig.advance(1000);
  assert.equal(reinvitesIn(rig, callId, t0), [], 'no hold and no give-back re-INVITE');
  assert.equal(rig.sessionSeq().slice(3), [], 'no event at all');
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test("answer() whose caller hangs up while the connected call's hold still waits behind a DTMF INFO: no hold is ever sent, the call stays connected, no event for it", async () => {
  const { rig, first } = await rigWithCall();
  const callId = slowAnswers(rig, first.id, 'INFO', 20_000);
  const t0 = rig.clock.now();
  const dtmf = rig.calls.sendDtmf(first.id, '5');
  const incoming = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  const answering = rejection(rig.calls.answer(incoming.sessionId));
  await rig.advance(100);
  incoming.call.call.cancel();
  assert.is(((await rig.settle(answering)) as CallError).code, 'wrong-state');
  assert.ok(rig.clock.now() - t0 >= 2000, 'answer waited dial_failover_timeout for the hold');
  await rig.settle(dtmf);
  await rig.advance(1000);
  assert.equal(reinvitesIn(rig, callId, t0), [], 'no hold, no give-back');
  assert.is(rig.phone.sessions.session(first.id)?.status, 'connected');
  assert.equal(rig.sessionSeq().slice(3), [`${incoming.sessionId} ringing @1`, `${incoming.sessionId} disconnected:Cancelled @1`]);
  rig.net.delay = undefined;
  await rig.closeIdle();
});

/** The user's action while a give-back's re-INVITE (a=sendrecv) waits for its answer (500 ms): after an aborted dial, s1's give-back is out. */
async function givingBack(): Promise<{ rig: CallRig; first: string; callId: string }> {
  const { rig, first } = await rigWithCall();
  const callId = slowAnswers(rig, first.id, 'INVITE', 500);
  await abortedDial(rig, 1, 5);
  await rig.until(() => reinvitesIn(rig, callId).length === 2, 5000, 'the give-back re-INVITE out');
  assert.equal(reinvitesIn(rig, callId), ['sendonly', 'sendrecv']);
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held');
  return { rig, first: first.id, callId };
}

test("answer() while a give-back's re-INVITE is out: the answered call stays connected; the given-back call stays held, held again on the wire", async () => {
  const { rig, first, callId } = await givingBack();
  const incoming = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  const answered = await rig.settle(rig.calls.answer(incoming.sessionId));
  assert.is(answered.status, 'connected');
  await rig.advance(2000);
  assert.equal(connectedIds(rig), [incoming.sessionId]);
  assert.is(rig.phone.sessions.session(first)?.status, 'held');
  assert.equal(reinvitesIn(rig, callId), ['sendonly', 'sendrecv', 'sendonly']);
  rig.assertChains();
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test("dial() while a give-back's re-INVITE is out: the given-back call stays held while the new call rings", async () => {
  const { rig, first, callId } = await givingBack();
  rig.far.answerAfterMs = 3000;
  const dialled = await rig.settle(rig.calls.dial(1, '1002'));
  await rig.advance(1000);
  assert.is(rig.phone.sessions.session(dialled.id)?.status, 'ringing');
  assert.is(rig.phone.sessions.session(first)?.status, 'held');
  assert.equal(reinvitesIn(rig, callId), ['sendonly', 'sendrecv', 'sendonly']);
  assert.equal(rig.sessionSeq().slice(3), ['s1 held @0', 's3 dialing @1', 's3 ringing @1']);
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test("retrieve() of the given-back call itself while its give-back is out: connected once, by the retrieve", async () => {
  const { rig, first, callId } = await givingBack();
  const retrieved = await rig.settle(rig.calls.retrieve(first));
  assert.is(retrieved.status, 'connected');
  await rig.advance(2000);
  assert.equal(connectedIds(rig), [first]);
  assert.equal(reinvitesIn(rig, callId).at(-1), 'sendrecv', 'the last word on the wire is the retrieve');
  assert.equal(rig.sessionSeq().slice(3), ['s1 held @0', 's1 connected @0']);
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test("retrieve() of another held call while a give-back's re-INVITE is out: the retrieved call stays connected", async () => {
  const { rig, first } = await rigWithCall();
  const second = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  await rig.settle(rig.calls.answer(second.sessionId));
  await rig.settle(rig.calls.retrieve(first.id));
  assert.equal(connectedIds(rig), [first.id]);
  const callId = slowAnswers(rig, first.id, 'INVITE', 500);
  await abortedDial(rig, 1, 5);
  await rig.until(() => reinvitesIn(rig, callId).at(-1) === 'sendrecv' && reinvitesIn(rig, callId).length === 4, 5000, 'the give-back re-INVITE out');
  const retrieved = await rig.settle(rig.calls.retrieve(second.sessionId));
  assert.is(retrieved.status, 'connected');
  await rig.advance(2000);
  assert.equal(connectedIds(rig), [second.sessionId]);
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held');
  rig.assertChains();
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test('dial() aborted from its own `dialing` event: the call is cancelled before it rings', async () => {
  const rig = new CallRig();
  await rig.start();
  rig.far.answerAfterMs = 3000;
  const controller = new AbortController();
  const listeners = counted(controller.signal);
  const off = rig.phone.sessions.on('sessionStatusChanged', (e) => {
    if (e.status === 'dialing') controller.abort();
  });
  await rig.settle(rig.calls.dial(0, '1002', { signal: controller.signal }));
  off();
  await rig.advance(500);
  assert.equal(rig.sessionSeq(), ['s1 dialing @0', 's1 disconnected:Cancelled @0']);
  assert.is(listeners.n, 0);
  await rig.closeIdle();
});

test("dial() whose every connection went down during the hold wait: the call ends SipError(503) at once and its signal keeps no listener (the hold wait's included)", async () => {
  const { rig, first } = await rigWithCall();
  slowAnswers(rig, first.id, 'INVITE', 500);
  const controller = new AbortController();
  const listeners = counted(controller.signal);
  const dialling = rig.calls.dial(1, '1002', { signal: controller.signal });
  await rig.advance(5);
  assert.is(listeners.n, 1, "the hold wait's listener");
  rig.phone.registrations.siteDown(0, 503, 'test');
  rig.phone.registrations.siteDown(1, 503, 'test');
  const call = await rig.settle(dialling);
  assert.is(call.status, 'disconnected');
  assert.is(listeners.n, 0);
  assert.equal(rig.sessionSeq(call.id), [`${call.id} dialing @1`, `${call.id} disconnected:SipError(503) @1`]);
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test("dial() aborted once its INVITE is out, and a dial answered busy: the call held for it stays held (as when a consultation call fails)", async () => {
  const { rig, first } = await rigWithCall();
  rig.far.answerAfterMs = 3000;
  const controller = new AbortController();
  const call = await rig.settle(rig.calls.dial(1, '1002', { signal: controller.signal }));
  await rig.advance(100);
  controller.abort();
  await rig.advance(2000);
  assert.equal(rig.sessionSeq(call.id).at(-1), `${call.id} disconnected:Cancelled @1`);
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held');
  rig.far.policy = (invite) => invite.reject(486);
  const busy = await rig.settle(rig.calls.dial(1, '1002'));
  await rig.advance(2000);
  assert.equal(rig.sessionSeq(busy.id).at(-1), `${busy.id} disconnected:Busy(486) @1`);
  assert.is(rig.phone.sessions.session(first.id)?.status, 'held');
  await rig.closeIdle();
});

test("close() while answer() waits for the connected call's hold: answer rejects closed", async () => {
  const { rig, first } = await rigWithCall();
  rig.loseReinvitesOf(first.id);
  const incoming = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  const answering = rejection(rig.calls.answer(incoming.sessionId));
  await rig.advance(100);
  await rig.close();
  assert.is(((await rig.settle(answering)) as CallError).code, 'closed');
  await rig.advance(64_000);
  rig.assertIdle();
});

const statusOf = (rig: CallRig, id: string): string | undefined => rig.phone.sessions.session(id)?.status;

/** Two dials with signals at once while s1 is connected; both aborted during the hold wait, 5 ms apart. */
async function twoDialsAborted(rig: CallRig, after: number): Promise<void> {
  const [c1, c2] = [new AbortController(), new AbortController()];
  const d1 = rejection(rig.calls.dial(1, '1002', { signal: c1.signal }));
  const d2 = rejection(rig.calls.dial(1, '1002', { signal: c2.signal }));
  await rig.advance(after);
  c1.abort();
  await rig.advance(5);
  c2.abort();
  assert.is(((await rig.settle(d1, 200)) as CallError).code, 'aborted');
  assert.is(((await rig.settle(d2, 200)) as CallError).code, 'aborted');
}

test('two dials at once, both aborted while the one hold they share is in flight: the call is given back once both are gone', async () => {
  const { rig, first } = await rigWithCall();
  const callId = slowAnswers(rig, first.id, 'INVITE', 500);
  await twoDialsAborted(rig, 5);
  await rig.advance(3000);
  assert.equal(reinvitesIn(rig, callId), ['sendonly', 'sendrecv'], 'one hold for both, one give-back');
  assert.is(statusOf(rig, first.id), 'connected');
  rig.assertChains();
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test('two dials at once, both aborted while their hold still waits behind a DTMF INFO: no hold ever leaves, no event', async () => {
  const { rig, first } = await rigWithCall();
  const callId = slowAnswers(rig, first.id, 'INFO', 20_000);
  const dtmf = rig.calls.sendDtmf(first.id, '5');
  await rig.advance(5);
  await twoDialsAborted(rig, 100);
  await rig.settle(dtmf);
  await rig.advance(2000);
  assert.equal(reinvitesIn(rig, callId), []);
  assert.equal(rig.sessionSeq().slice(3), []);
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test('a dial that goes on and an answer whose caller hangs up share one hold: the call stays held (never connected while its hold is out), the answer rejects', async () => {
  const { rig, first } = await rigWithCall();
  const incoming = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  const callId = slowAnswers(rig, first.id, 'INVITE', 3000);
  rig.far.policy = (invite) => invite.reject(486);
  const t0 = rig.clock.now();
  const dialled = rig.calls.dial(1, '1002');
  await rig.advance(100);
  const answering = rejection(rig.calls.answer(incoming.sessionId));
  await rig.advance(50);
  incoming.call.call.cancel();
  await rig.settle(dialled);
  assert.is(((await rig.settle(answering)) as CallError).code, 'wrong-state');
  await rig.advance(4000);
  assert.is(statusOf(rig, first.id), 'held', 'the dial went on: its hold stays');
  assert.equal(reinvitesIn(rig, callId, t0), ['sendonly']);
  assert.not.ok(rig.sessionEvents.some((e) => e.event.sessionId === first.id && e.event.status === 'connected' && e.at > t0));
  rig.assertChains();
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test('an aborted dial while another outbound call rings: its hold, not sent yet, is not sent (the ringing call holds it itself if it connects)', async () => {
  const { rig, first } = await rigWithCall();
  rig.far.answerAfterMs = 30_000;
  const out = await rig.settle(rig.calls.dial(1, '1002'));
  await rig.until(() => statusOf(rig, out.id) === 'ringing', 5000);
  await rig.settle(rig.calls.retrieve(first.id));
  const callId = slowAnswers(rig, first.id, 'INFO', 20_000);
  const dtmf = rig.calls.sendDtmf(first.id, '5');
  await rig.advance(5);
  const t0 = rig.clock.now();
  await abortedDial(rig, 0, 100);
  await rig.settle(dtmf);
  await rig.advance(1000);
  assert.equal(reinvitesIn(rig, callId, t0), []);
  assert.is(statusOf(rig, first.id), 'connected');
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test('an answer() that fails at once (its caller already gone) does not stop a give-back in progress', async () => {
  const { rig, first } = await rigWithCall();
  slowAnswers(rig, first.id, 'INVITE', 500);
  const incoming = await ringsOn(rig, () => rig.far.call(rig.sites[1]!));
  await abortedDial(rig, 1, 5);
  incoming.call.call.cancel();
  await rig.until(() => statusOf(rig, incoming.sessionId) === undefined, 400, 'the caller gone');
  assert.is(((await rig.settle(rejection(rig.calls.answer(incoming.sessionId)))) as CallError).code, 'no-such-session');
  await rig.advance(3000);
  assert.is(statusOf(rig, first.id), 'connected');
  rig.assertChains();
  rig.net.delay = undefined;
  await rig.closeIdle();
});

test.run();
