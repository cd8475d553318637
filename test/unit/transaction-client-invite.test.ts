/**
 * INVITE client transaction (src/transaction/client-invite.ts), through the
 * TransactionLayer on a fake transport and a FakeClock.
 *
 * Covers every row of RFC 3261 Figure 5 as updated by RFC 6026 (Calling,
 * Proceeding, Accepted, Completed, Terminated): Timer A schedule over UDP
 * (500, 1500, 3500, 7500, 15500, 31500 ms) and none over TCP; Timer B at
 * 32 s -> 408 once; 1xx/2xx/3xx-6xx in Calling and Proceeding; the ACK for
 * 3xx-6xx (its headers, target, flow) and its resending on a retransmitted
 * final; Timer D = 32 s over UDP and 0 over TCP; Accepted with Timer M and
 * further 2xx to the TU; transport errors (inside send, later, on a
 * retransmission, in Proceeding, for the ACK, late in Accepted) -> 503 at
 * once; no live transaction or timer at the end of each test.
 * Not covered: matching of responses (transaction-matching.test.ts), the
 * ACK for 2xx and CANCEL policy (dialog layer), real sockets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from '../../src/parser/index.ts';
import { ClientInviteTransaction } from '../../src/transaction/index.ts';
import {
  ClientRecorder,
  PEER_TCP,
  PEER_UDP,
  assertClean,
  harness,
  headerOf,
  reply,
  requestParts,
  type Harness,
} from './transaction-fakes.ts';

function invite(h: Harness, target = PEER_UDP, extra: Array<[string, string]> = [], flowId?: string) {
  const user = new ClientRecorder(h.clock);
  const tx = h.layer.sendRequest(requestParts('INVITE', extra), target, user, flowId === undefined ? {} : { flowId });
  assert.instance(tx, ClientInviteTransaction);
  return { tx: tx as ClientInviteTransaction, user, request: tx.request };
}

test('Calling: INVITE sent at once, Timer A and B running (UDP)', () => {
  const h = harness();
  const { tx } = invite(h);
  assert.is(tx.state, 'calling');
  assert.is(h.transport.sent.length, 1);
  assert.is(h.transport.sent[0]!.at, 0);
  assert.ok(tx.hasTimer('A'));
  assert.ok(tx.hasTimer('B'));
  assert.equal(h.layer.stats().clientInvite, 1);
  assert.is(h.layer.stats().timers, 2);
  assert.is(h.clock.pending, 2);
  h.layer.close();
  assertClean(h);
});

test('Calling: Timer A retransmits at 500, 1500, 3500, 7500, 15500, 31500 ms; Timer B at 32 s -> 408 once', () => {
  const h = harness();
  const { tx, user } = invite(h);
  h.clock.advance(31_999);
  assert.equal(h.transport.times('INVITE'), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.equal(h.layer.counters(), { clientTransactions: 1, serverTransactions: 0, retransmissions: 6 });
  assert.is(user.finals.length, 0);
  h.clock.advance(1);
  assert.is(user.finals.length, 1);
  const final = user.finals[0]!;
  assert.is(final.cause, 'timeout');
  assert.is(final.status, 408);
  assert.is(final.at, 32_000);
  assert.is(final.response.status, 408);
  assert.is(final.response.callId, tx.request.callId);
  assert.is(final.response.cseq?.method, 'INVITE');
  assert.is(tx.state, 'terminated');
  h.clock.advance(100_000);
  assert.is(user.finals.length, 1, 'reported exactly once');
  assert.is(h.transport.sent.length, 7, 'nothing sent after Timer B');
  // No response at all: the transport hears it (a name's address was silent), before the release.
  assert.equal(h.transport.silences.map((s) => [s.at, s.target, s.options, s.releasedBefore]), [[32_000, PEER_UDP, h.transport.sent[0]!.options, 0]]);
  assertClean(h);
});

test('Calling over TCP: no retransmission (no Timer A), Timer B at 32 s -> 408', () => {
  const h = harness();
  const { tx, user } = invite(h, PEER_TCP);
  assert.not.ok(tx.hasTimer('A'));
  assert.ok(tx.hasTimer('B'));
  h.clock.advance(31_999);
  assert.equal(h.transport.times('INVITE'), [0]);
  h.clock.advance(1);
  assert.equal(user.finals.map((f) => [f.status, f.at]), [[408, 32_000]]);
  assertClean(h);
});

test('Calling --1xx--> Proceeding: 1xx to the TU, retransmissions stop, Timer B no longer runs', () => {
  const h = harness();
  const { tx, user, request } = invite(h);
  h.clock.advance(600); // one retransmission at 500
  h.transport.deliver(reply(request, 180), PEER_UDP);
  assert.is(tx.state, 'proceeding');
  assert.equal(user.provisional.map((r) => r.status), [180]);
  assert.not.ok(tx.hasTimer('A'));
  assert.not.ok(tx.hasTimer('B'));
  h.clock.advance(60_000);
  assert.equal(h.transport.times('INVITE'), [0, 500]);
  assert.is(user.finals.length, 0, 'no Timer B in Proceeding');
  // Proceeding --1xx--> Proceeding, 1xx to TU.
  h.transport.deliver(reply(request, 183), PEER_UDP);
  assert.equal(user.provisional.map((r) => r.status), [180, 183]);
  assert.is(tx.state, 'proceeding');
  // Proceeding --300-699--> Completed, ACK sent, response to TU.
  h.transport.deliver(reply(request, 486), PEER_UDP);
  assert.is(tx.state, 'completed');
  assert.equal(user.finals.map((f) => f.status), [486]);
  assert.is(h.transport.of('ACK').length, 1);
  h.clock.advance(32_000);
  assert.equal(h.transport.silences, [], 'a target that answered is not silent');
  assertClean(h);
});

test('Calling --300-699--> Completed: ACK built per s17.1.1.3 and sent to the INVITE target and flow', () => {
  const h = harness();
  const routes: Array<[string, string]> = [
    ['Route', '<sip:p1.example.com;lr>'],
    ['Route', '<sip:p2.example.com;lr>'],
  ];
  const { tx, user, request } = invite(h, PEER_UDP, routes, 'flow-7');
  h.transport.deliver(reply(request, 404, 'nf-tag'), PEER_UDP);
  assert.is(tx.state, 'completed');
  assert.is(user.finals[0]!.cause, 'response');
  assert.is(user.finals[0]!.status, 404);
  const acks = h.transport.of('ACK');
  assert.is(acks.length, 1);
  const ack = acks[0]!;
  assert.equal(ack.target, PEER_UDP);
  assert.is(ack.options.flowId, 'flow-7');
  const m = ack.message;
  assert.is(m.uri!.toString(), request.uri!.toString(), 'Request-URI of the INVITE');
  assert.is(m.count('Via'), 1, 'one Via');
  assert.is(m.topVia!.branch, request.topVia!.branch, 'same branch');
  assert.is(headerOf(m, 'Via'), headerOf(request, 'Via'), 'Via = top Via of the INVITE');
  assert.is(headerOf(m, 'From'), headerOf(request, 'From'));
  assert.is(headerOf(m, 'Call-ID'), headerOf(request, 'Call-ID'));
  assert.is(m.to!.tag, 'nf-tag', 'To from the response');
  assert.is(headerOf(m, 'To'), 'Bob <sip:bob@example.com>;tag=nf-tag');
  assert.equal(m.cseq, { seq: request.cseq!.seq, method: 'ACK' });
  assert.equal(m.headerFields('Route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  assert.is(headerOf(m, 'Max-Forwards'), '70');
  assert.is(m.body.length, 0);
  // Completed keeps the ACK, not the INVITE: a retransmitted 404 gets the same ACK; the request is no longer readable.
  assert.throws(() => tx.request, /INVITE request was released when its transaction completed/);
  h.transport.deliver(reply(request, 404, 'nf-tag'), PEER_UDP);
  assert.is(h.transport.of('ACK').length, 2);
  assert.equal([...h.transport.of('ACK')[1]!.bytes], [...ack.bytes]);
  h.clock.advance(32_000);
  assertClean(h);
});

test('error callbacks: kept through Completed (an ACK that fails still ends it), released once at Timer D; released at a 2xx', () => {
  const h = harness();
  const { request } = invite(h);
  h.clock.advance(100);
  const busy = reply(request, 486);
  h.transport.deliver(busy, PEER_UDP);
  assert.equal(h.transport.released, [], 'Completed still hears transport errors (Figure 5)');
  h.clock.advance(1000);
  h.transport.deliver(busy, PEER_UDP);
  h.clock.advance(32_000);
  const given = new Set(h.transport.sent.map((s) => s.options));
  const released = h.transport.released.map((r) => r.options);
  assert.equal(new Set(released), given, 'every callback given is released');
  assert.is(released.length, given.size, 'each exactly once');
  assert.ok(h.transport.released.every((r) => r.at === 32_100), 'at the end (Timer D)');

  const accepted = invite(h);
  h.clock.advance(100);
  h.transport.deliver(reply(accepted.request, 200), PEER_UDP);
  assert.equal(h.transport.released.slice(-1).map((r) => [r.at, r.options]), [[33_200, h.transport.of('INVITE').at(-1)!.options]]);
  h.clock.advance(32_000); // Timer M
  assert.is(h.transport.released.length, released.length + 1, 'nothing more to release at the end');
  assertClean(h);
});

test('Completed: the first ACK failing after the final still reaches the TU and ends the transaction', () => {
  const h = harness();
  const { tx, user, request } = invite(h);
  h.transport.deliver(reply(request, 486), PEER_UDP);
  assert.is(tx.state, 'completed');
  const ack = h.transport.sent.findIndex((s) => s.message.method === 'ACK');
  h.transport.fail(ack);
  assert.equal(user.errors.map((e) => e.code), ['ECONNREFUSED']);
  assert.is(tx.state, 'terminated');
  assertClean(h);
});

test('Completed: a retransmitted final resends the ACK and is not passed to the TU; Timer D = 32 s over UDP', () => {
  const h = harness();
  const { tx, user, request } = invite(h);
  const busy = reply(request, 486);
  h.transport.deliver(busy, PEER_UDP);
  assert.ok(tx.hasTimer('D'));
  h.clock.advance(1000);
  h.transport.deliver(busy, PEER_UDP);
  h.transport.deliver(busy, PEER_UDP);
  assert.equal(h.transport.times('ACK'), [0, 1000, 1000]);
  assert.is(h.layer.counters().retransmissions, 2, 'the ACK repeated for each repeated 486');
  assert.is(new TextDecoder().decode(h.transport.of('ACK')[1]!.bytes), new TextDecoder().decode(h.transport.of('ACK')[0]!.bytes));
  assert.is(user.finals.length, 1);
  // 1xx and 2xx in Completed change nothing.
  h.transport.deliver(reply(request, 180), PEER_UDP);
  h.transport.deliver(reply(request, 200), PEER_UDP);
  assert.is(user.provisional.length, 0);
  assert.is(user.finals.length, 1);
  assert.is(h.transport.of('ACK').length, 3);
  h.clock.advance(30_999); // t = 31999
  assert.is(tx.state, 'completed');
  h.clock.advance(1); // Timer D at 32 s after entering Completed
  assert.is(tx.state, 'terminated');
  assert.is(h.transport.of('INVITE').length, 1, 'no retransmission after the final');
  assertClean(h);
});

test('Completed over TCP: Timer D is zero, the transaction ends at once', () => {
  const h = harness();
  const { tx, user, request } = invite(h, PEER_TCP);
  h.transport.deliver(reply(request, 603), PEER_TCP);
  assert.is(tx.state, 'terminated');
  assert.equal(user.finals.map((f) => f.status), [603]);
  assert.is(h.transport.of('ACK').length, 1);
  assertClean(h);
});

test('Calling --2xx--> Accepted (RFC 6026): 2xx to the TU, Timer M 64*T1, further 2xx to the TU, no ACK sent', () => {
  const h = harness();
  const { tx, user, request } = invite(h);
  h.clock.advance(700);
  h.transport.deliver(reply(request, 200, 'a'), PEER_UDP);
  assert.is(tx.state, 'accepted');
  assert.equal(user.finals.map((f) => [f.cause, f.status, f.at]), [['response', 200, 700]]);
  assert.ok(tx.hasTimer('M'));
  assert.not.ok(tx.hasTimer('A'));
  assert.not.ok(tx.hasTimer('B'));
  // A retransmission and a 2xx from another fork go to the TU, not as a second final.
  h.transport.deliver(reply(request, 200, 'a'), PEER_UDP);
  h.transport.deliver(reply(request, 200, 'b'), PEER_UDP);
  assert.equal(user.additional.map((r) => r.to!.tag), ['a', 'b']);
  assert.is(user.finals.length, 1);
  // 1xx and 3xx-6xx in Accepted are dropped.
  h.transport.deliver(reply(request, 180), PEER_UDP);
  h.transport.deliver(reply(request, 486), PEER_UDP);
  assert.is(user.provisional.length, 0);
  assert.is(user.finals.length, 1);
  assert.is(h.transport.of('ACK').length, 0, 'the ACK for a 2xx belongs to the dialog layer');
  assert.equal(h.transport.times('INVITE'), [0, 500]);
  h.clock.advance(31_999);
  assert.is(tx.state, 'accepted');
  h.clock.advance(1); // Timer M = 32 s after the 2xx
  assert.is(tx.state, 'terminated');
  assertClean(h);
  // After Timer M a 2xx matches nothing: the stray hook gets it.
  h.transport.deliver(reply(request, 200, 'a'), PEER_UDP);
  assert.is(h.tu.strays.length, 1);
  assert.is(user.additional.length, 2);
});

test('Proceeding --2xx--> Accepted; Timer M runs over TCP too', () => {
  const h = harness();
  const { tx, user, request } = invite(h, PEER_TCP);
  h.transport.deliver(reply(request, 100), PEER_TCP);
  assert.is(tx.state, 'proceeding');
  h.transport.deliver(reply(request, 200), PEER_TCP);
  assert.is(tx.state, 'accepted');
  assert.equal(user.finals.map((f) => f.status), [200]);
  h.clock.advance(32_000);
  assert.is(tx.state, 'terminated');
  assertClean(h);
});

test('transport error reported later in Calling: 503 to the TU at once (clock not advanced), exactly once', () => {
  const h = harness();
  const { tx, user } = invite(h);
  const error = h.transport.fail(0, 'ECONNREFUSED');
  assert.is(h.clock.now(), 0);
  assert.is(tx.state, 'terminated');
  assert.is(user.finals.length, 1);
  const final = user.finals[0]!;
  assert.is(final.cause, 'transportError');
  assert.is(final.status, 503);
  assert.is(final.at, 0);
  assert.is(final.response.status, 503);
  assert.ok(final.cause === 'transportError' && final.error === error);
  assertClean(h);
  h.transport.fail(0, 'ECONNRESET');
  assert.is(user.finals.length, 1);
});

test('a transport that timed out (ETIMEDOUT) in Calling stands for 408, not 503: the site is silent, not refusing', () => {
  const h = harness();
  const { tx, user } = invite(h, PEER_TCP);
  h.transport.fail(0, 'ETIMEDOUT');
  assert.is(tx.state, 'terminated');
  assert.equal(user.finals.map((f) => [f.cause, f.status, f.response.status]), [['transportError', 408, 408]]);
  assertClean(h);
});

test('transport error inside send(): 503 before sendRequest returns, nothing left running', () => {
  const h = harness();
  h.transport.failInside = 'ECONNREFUSED';
  const { tx, user } = invite(h, PEER_TCP);
  assert.is(tx.state, 'terminated');
  assert.equal(user.finals.map((f) => [f.cause, f.status]), [['transportError', 503]]);
  assertClean(h);
});

test('transport error on a retransmission (ICMP after the Timer A resend at 500 ms): 503 at 500 ms', () => {
  const h = harness();
  const { user } = invite(h);
  h.clock.advance(500);
  assert.is(h.transport.sent.length, 2);
  h.transport.fail(1, 'ECONNREFUSED');
  assert.equal(user.finals.map((f) => [f.status, f.at]), [[503, 500]]);
  h.clock.advance(100_000);
  assert.is(h.transport.sent.length, 2);
  assertClean(h);
});

test('transport error in Proceeding (s17.1.4): 503 to the TU and Terminated', () => {
  const h = harness();
  const { tx, user, request } = invite(h, PEER_TCP);
  h.transport.deliver(reply(request, 180), PEER_TCP);
  h.clock.advance(5000);
  h.transport.fail(0, 'ECONNRESET');
  assert.is(tx.state, 'terminated');
  assert.equal(user.finals.map((f) => [f.status, f.at]), [[503, 5000]]);
  assertClean(h);
});

test('Completed --transport error (the ACK failed)--> Terminated, TU told, final still reported once', () => {
  const h = harness();
  const { tx, user, request } = invite(h);
  h.transport.deliver(reply(request, 480), PEER_UDP);
  assert.is(tx.state, 'completed');
  h.transport.fail(h.transport.sent.length - 1, 'EUNREACHABLE');
  assert.is(tx.state, 'terminated');
  assert.equal(user.finals.map((f) => f.status), [480]);
  assert.equal(user.errors.map((e) => e.code), ['EUNREACHABLE']);
  assertClean(h);
});

test('Completed over TCP with the ACK failing inside send(): the error is handled before the zero Timer D', () => {
  const h = harness();
  const { tx, user, request } = invite(h, PEER_TCP);
  h.transport.failInside = 'ECONNRESET';
  h.transport.deliver(reply(request, 500), PEER_TCP);
  assert.is(tx.state, 'terminated');
  assert.equal(user.finals.map((f) => f.status), [500]);
  assert.equal(user.errors.map((e) => e.code), ['ECONNRESET']);
  assertClean(h);
});

test('Accepted: a late transport error for the INVITE is ignored', () => {
  const h = harness();
  const { tx, user, request } = invite(h);
  h.transport.deliver(reply(request, 200), PEER_UDP);
  h.transport.fail(0);
  assert.is(tx.state, 'accepted');
  assert.is(user.finals.length, 1);
  assert.is(user.errors.length, 0);
  h.clock.advance(32_000);
  assertClean(h);
});

test('nothing happens after Terminated: responses, timers and start are ignored', () => {
  const h = harness();
  const { tx, user, request } = invite(h);
  h.layer.close();
  assert.is(tx.state, 'terminated');
  tx.handle({ type: 'response', message: parseMessage(reply(request, 200)) });
  tx.handle({ type: 'timer', name: 'A' });
  tx.handle({ type: 'timer', name: 'B' });
  tx.handle({ type: 'timer', name: 'D' });
  tx.handle({ type: 'timer', name: 'M' });
  tx.handle({ type: 'start' });
  tx.handle({ type: 'terminate' });
  assert.is(user.finals.length, 0, 'close() tells no TU');
  assert.is(h.transport.sent.length, 1);
  assertClean(h);
});

test('custom T1: the schedule and Timer B scale with it (T1 = 100 ms, T2 = 400 ms)', () => {
  const h = harness({ timers: { T1: 100, T2: 400 } });
  const { user } = invite(h);
  h.clock.advance(6400);
  assert.equal(h.transport.times('INVITE'), [0, 100, 300, 700, 1500, 3100, 6300]);
  assert.equal(user.finals.map((f) => [f.status, f.at]), [[408, 6400]]);
  assertClean(h);
});

test.run();
