/**
 * Non-INVITE client transaction (src/transaction/client-non-invite.ts),
 * through the TransactionLayer on a fake transport and a FakeClock.
 *
 * Covers every row of RFC 3261 Figure 6 (Trying, Proceeding, Completed,
 * Terminated): the Timer E schedule over UDP (500, 1500, 3500, 7500, 11500,
 * ... ms, capped at T2) and T2 spacing in Proceeding, none over TCP; Timer F
 * at 32 s -> 408 once, from Trying and from Proceeding; 1xx and 200-699 in
 * Trying and Proceeding; retransmitted finals absorbed in Completed; Timer K =
 * T4 over UDP and 0 over TCP; transport errors -> 503 at once; no live
 * transaction or timer at the end of each test.
 * Not covered: response matching (transaction-matching.test.ts), real sockets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientNonInviteTransaction } from '../../src/transaction/index.ts';
import { ClientRecorder, PEER_TCP, PEER_UDP, assertClean, harness, reply, requestParts, type Harness } from './transaction-fakes.ts';

function options(h: Harness, target = PEER_UDP, method = 'OPTIONS') {
  const user = new ClientRecorder(h.clock);
  const tx = h.layer.sendRequest(requestParts(method), target, user);
  assert.instance(tx, ClientNonInviteTransaction);
  return { tx: tx as ClientNonInviteTransaction, user, request: tx.request };
}

test('Trying: request sent, Timer E retransmits at 500, 1500, 3500, 7500, 11500 ... ms (capped at T2), Timer F at 32 s -> 408 once', () => {
  const h = harness();
  const { tx, user } = options(h);
  assert.is(tx.state, 'trying');
  assert.ok(tx.hasTimer('E'));
  assert.ok(tx.hasTimer('F'));
  h.clock.advance(31_999);
  assert.equal(h.transport.times('OPTIONS'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(h.layer.counters(), { clientTransactions: 1, serverTransactions: 0, retransmissions: 10 });
  assert.is(user.finals.length, 0);
  h.clock.advance(1);
  assert.equal(user.finals.map((f) => [f.cause, f.status, f.at]), [['timeout', 408, 32_000]]);
  assert.is(user.finals[0]!.response.cseq?.method, 'OPTIONS');
  assert.is(tx.state, 'terminated');
  h.clock.advance(60_000);
  assert.is(user.finals.length, 1);
  assertClean(h);
});

test('Trying over TCP: no Timer E, Timer F at 32 s -> 408', () => {
  const h = harness();
  const { tx, user } = options(h, PEER_TCP, 'REGISTER');
  assert.not.ok(tx.hasTimer('E'));
  h.clock.advance(32_000);
  assert.equal(h.transport.times('REGISTER'), [0]);
  assert.equal(user.finals.map((f) => [f.status, f.at]), [[408, 32_000]]);
  assertClean(h);
});

test('Trying --1xx--> Proceeding: 1xx to TU; Timer E keeps running, reset to T2 in Proceeding; Timer F -> 408', () => {
  const h = harness();
  const { tx, user, request } = options(h);
  h.clock.advance(1600); // sends at 0, 500, 1500; next E due at 3500
  h.transport.deliver(reply(request, 100), PEER_UDP);
  assert.is(tx.state, 'proceeding');
  assert.equal(user.provisional.map((r) => r.status), [100]);
  h.transport.deliver(reply(request, 180), PEER_UDP);
  assert.equal(user.provisional.map((r) => r.status), [100, 180]);
  assert.is(tx.state, 'proceeding');
  h.clock.advance(30_400); // t = 32000
  assert.equal(h.transport.times('OPTIONS'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(user.finals.map((f) => [f.status, f.at]), [[408, 32_000]]);
  assertClean(h);
});

test('Proceeding: Timer E fires every T2 from the first retransmission in Proceeding', () => {
  const h = harness();
  const { user, request } = options(h);
  h.transport.deliver(reply(request, 100), PEER_UDP); // at 0, still Timer E at 500
  h.clock.advance(10_000);
  // 500 (E fired in Proceeding: reset with T2), then every 4000.
  assert.equal(h.transport.times('OPTIONS'), [0, 500, 4500, 8500]);
  h.transport.deliver(reply(request, 200), PEER_UDP);
  assert.equal(user.finals.map((f) => f.status), [200]);
  h.clock.advance(5000);
  assertClean(h);
});

test('Trying --200-699--> Completed: final to TU, retransmissions stop, retransmitted finals absorbed, Timer K = T4 over UDP', () => {
  const h = harness();
  const { tx, user, request } = options(h);
  h.clock.advance(600);
  h.transport.deliver(reply(request, 200), PEER_UDP);
  assert.is(tx.state, 'completed');
  assert.equal(user.finals.map((f) => [f.cause, f.status, f.at]), [['response', 200, 600]]);
  assert.not.ok(tx.hasTimer('E'));
  assert.not.ok(tx.hasTimer('F'));
  assert.ok(tx.hasTimer('K'));
  h.transport.deliver(reply(request, 200), PEER_UDP);
  h.transport.deliver(reply(request, 180), PEER_UDP);
  assert.is(user.finals.length, 1);
  assert.is(user.provisional.length, 0);
  h.clock.advance(4999);
  assert.is(tx.state, 'completed');
  h.clock.advance(1);
  assert.is(tx.state, 'terminated');
  assert.equal(h.transport.times('OPTIONS'), [0, 500]);
  assertClean(h);
});

test('the error callback given to the transport is released once, at the final response or at Timer F, not at Timer K', () => {
  const h = harness();
  const { request } = options(h);
  h.clock.advance(600);
  const [first, retransmitted] = h.transport.of('OPTIONS');
  assert.ok(first!.options.onError !== undefined);
  assert.is(retransmitted!.options, first!.options, 'a retransmission passes the same callback');
  assert.equal(h.transport.released, []);
  h.transport.deliver(reply(request, 200), PEER_UDP);
  assert.equal(h.transport.released.map((r) => [r.at, r.target, r.options]), [[600, PEER_UDP, first!.options]]);
  h.clock.advance(5000);
  assert.is(h.transport.released.length, 1);
  const timedOut = options(h);
  h.clock.advance(32_000);
  assert.is(timedOut.tx.state, 'terminated');
  assert.equal(h.transport.released.slice(1).map((r) => [r.at, r.options]), [[37_600, h.transport.of('OPTIONS').at(-1)!.options]]);
  assertClean(h);
});

test('Proceeding --200-699--> Completed; Timer K is zero over TCP', () => {
  const h = harness();
  const { tx, user, request } = options(h, PEER_TCP);
  h.transport.deliver(reply(request, 100), PEER_TCP);
  h.transport.deliver(reply(request, 404), PEER_TCP);
  assert.is(tx.state, 'terminated');
  assert.equal(user.finals.map((f) => f.status), [404]);
  assertClean(h);
});

test('transport error in Trying: 503 to the TU at once, exactly once', () => {
  const h = harness();
  const { tx, user } = options(h);
  h.clock.advance(200);
  h.transport.fail(0, 'ECONNREFUSED');
  assert.is(tx.state, 'terminated');
  assert.equal(user.finals.map((f) => [f.cause, f.status, f.at]), [['transportError', 503, 200]]);
  h.transport.fail(0, 'ECONNREFUSED');
  assert.is(user.finals.length, 1);
  assertClean(h);
});

test('a transport that timed out (ETIMEDOUT: connect or keep-alive pong) stands for 408, not 503', () => {
  const h = harness();
  const { tx, user } = options(h, { transport: 'tcp', host: '192.0.2.9', port: 5060 });
  h.clock.advance(300);
  h.transport.fail(0, 'ETIMEDOUT');
  assert.is(tx.state, 'terminated');
  const final = user.finals[0]!;
  assert.equal([final.cause, final.status, final.response.status, final.at], ['transportError', 408, 408, 300]);
  assertClean(h);
});

test('transport error inside send(): 503 before sendRequest returns', () => {
  const h = harness();
  h.transport.failInside = 'ETLS';
  const { tx, user } = options(h, { transport: 'tls', host: 'sip.example.com', port: 5061 });
  assert.is(tx.state, 'terminated');
  const final = user.finals[0]!;
  assert.ok(final.cause === 'transportError' && final.error.code === 'ETLS');
  assertClean(h);
});

test('transport error in Proceeding: 503 at once', () => {
  const h = harness();
  const { user, request } = options(h);
  h.transport.deliver(reply(request, 100), PEER_UDP);
  h.clock.advance(4500); // resends at 500 and 4500
  h.transport.fail(2);
  assert.equal(user.finals.map((f) => [f.status, f.at]), [[503, 4500]]);
  assertClean(h);
});

test('Completed ignores a late transport error', () => {
  const h = harness();
  const { tx, user, request } = options(h);
  h.transport.deliver(reply(request, 200), PEER_UDP);
  h.transport.fail(0);
  assert.is(tx.state, 'completed');
  assert.equal(user.finals.map((f) => f.status), [200]);
  h.clock.advance(5000);
  assertClean(h);
});

test('timer events of other states are ignored', () => {
  const h = harness();
  const { tx, user, request } = options(h);
  tx.handle({ type: 'timer', name: 'K' });
  tx.handle({ type: 'start' });
  assert.is(tx.state, 'trying');
  assert.is(h.transport.sent.length, 1);
  h.transport.deliver(reply(request, 200), PEER_UDP);
  tx.handle({ type: 'timer', name: 'E' });
  tx.handle({ type: 'timer', name: 'F' });
  assert.is(tx.state, 'completed');
  assert.is(user.finals.length, 1);
  h.layer.close();
  assertClean(h);
});

test('Completed keeps no copy of the request: readable in onFinal, a clear error after; nothing is sent again', () => {
  const h = harness();
  const seen: string[] = [];
  const tx = h.layer.sendRequest(requestParts('OPTIONS'), PEER_UDP, {
    onFinal: (outcome) => seen.push(`${outcome.status} ${tx.request.cseq?.method}`),
  });
  const request = tx.request;
  h.transport.deliver(reply(request, 200), PEER_UDP);
  assert.equal(seen, ['200 OPTIONS'], 'the TU reads the request while it hears the final response');
  assert.is(tx.state, 'completed');
  assert.throws(() => tx.request, /OPTIONS request was released when its transaction completed/);
  h.transport.deliver(reply(request, 200), PEER_UDP); // a retransmitted final: absorbed
  h.clock.advance(5_000);
  assert.equal(h.transport.times('OPTIONS'), [0], 'sent once, never again');
  assertClean(h);
});

test('no response at all by Timer F (Trying): the transport hears noResponse with the send options, before the release; not after a 1xx or a final', () => {
  const h = harness();
  const silent = options(h);
  h.clock.advance(32_000);
  assert.is(silent.tx.state, 'terminated');
  const sent = h.transport.of('OPTIONS').at(-1)!;
  assert.equal(h.transport.silences.map((s) => [s.at, s.target, s.options, s.releasedBefore]), [[32_000, PEER_UDP, sent.options, 0]], 'once, before the release');
  assert.is(h.transport.released.length, 1);

  const ringing = options(h);
  h.transport.deliver(reply(ringing.request, 100), PEER_UDP);
  h.clock.advance(32_000);
  assert.is(ringing.tx.state, 'terminated');
  const answered = options(h);
  h.transport.deliver(reply(answered.request, 200), PEER_UDP);
  h.clock.advance(32_000);
  assert.is(h.transport.silences.length, 1, 'a target that answered (1xx or final) is not silent');
  assertClean(h);
});

test.run();
