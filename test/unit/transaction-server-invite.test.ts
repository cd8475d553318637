/**
 * INVITE server transaction (src/transaction/server-invite.ts), through the
 * TransactionLayer on a fake transport and a FakeClock.
 *
 * Covers every row of RFC 3261 Figure 7 as updated by RFC 6026 (Proceeding,
 * Completed, Confirmed, Accepted, Terminated): the 100 Trying sent at 200 ms
 * only when the TU is silent (at once, before the TU, with `trying` 0), its
 * Via annotated like the TU's responses; request retransmissions absorbed or answered
 * with the last provisional/final; 1xx, 2xx and 300-699 from the TU; Timer G
 * schedule over UDP (500, 1500, 3500, 7500, 11500 ... ms after the final:
 * 11 copies of the final for an INVITE never ACKed) and none over TCP; the
 * error callback released at the final over TCP, at the end over UDP; Timer H at 32 s -> TU told; ACK -> Confirmed with Timer
 * I = T4 over UDP and 0 over TCP; Accepted with Timer L, INVITEs absorbed,
 * the TU's 2xx resends passed on, ACK to the TU; transport errors reported
 * to the TU without ending the transaction; no live transaction or timer at
 * the end of each test.
 * Not covered: matching rules themselves (transaction-matching.test.ts), the
 * 2xx retransmission schedule (dialog layer), real sockets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SipMessage } from '../../src/parser/index.ts';
import { responseParts, ServerInviteTransaction, type IncomingRequest } from '../../src/transaction/index.ts';
import { PEER_TCP, PEER_UDP, assertClean, harness, headerOf, peerAck, peerRequest, type Harness } from './transaction-fakes.ts';

/** The request as the TU holds it: the transaction lets it go after its final response. */
const heldRequests = new WeakMap<ServerInviteTransaction, SipMessage>();
const requestOf = (tx: ServerInviteTransaction): SipMessage => {
  let request = heldRequests.get(tx);
  if (request === undefined) heldRequests.set(tx, (request = tx.request));
  return request;
};

function receiveInvite(h: Harness, source = PEER_UDP, extra: Array<[string, string]> = []) {
  const parts = peerRequest('INVITE', { transport: source.transport.toUpperCase() });
  parts.headers.push(...extra);
  h.transport.deliver(parts, source);
  const incoming = h.tu.requests.at(-1) as IncomingRequest;
  assert.instance(incoming.transaction, ServerInviteTransaction);
  const tx = incoming.transaction as ServerInviteTransaction;
  requestOf(tx);
  return { parts, incoming, tx };
}

function answer(tx: ServerInviteTransaction, status: number, toTag = 'uas-tag'): void {
  tx.respond(responseParts(requestOf(tx), status, status === 100 ? {} : { toTag }));
}

test('INVITE received: server transaction in Proceeding, request passed to the TU; 100 Trying at 200 ms when the TU is silent', () => {
  const h = harness();
  const { tx } = receiveInvite(h, PEER_UDP, [['Timestamp', '54']]);
  assert.is(h.tu.requests.length, 1);
  assert.is(tx.state, 'proceeding');
  assert.equal(h.layer.stats().serverInvite, 1);
  h.clock.advance(199);
  assert.is(h.transport.sent.length, 0);
  h.clock.advance(1);
  assert.equal(h.transport.times(100), [200]);
  const trying = h.transport.of(100)[0]!;
  assert.equal(trying.target, PEER_UDP);
  assert.is(headerOf(trying, 'Via'), headerOf(tx.request, 'Via'));
  assert.is(headerOf(trying, 'From'), headerOf(tx.request, 'From'));
  assert.is(headerOf(trying, 'To'), headerOf(tx.request, 'To'), 'no To tag on the 100');
  assert.is(headerOf(trying, 'Call-ID'), headerOf(tx.request, 'Call-ID'));
  assert.is(headerOf(trying, 'CSeq'), '1 INVITE');
  assert.is(headerOf(trying, 'Timestamp'), '54');
  h.clock.advance(10_000);
  assert.is(h.transport.sent.length, 1, 'one 100 only');
  answer(tx, 486);
  h.clock.advance(32_000);
  assertClean(h);
});

test('no 100 Trying when the TU answers within 200 ms (provisional or final)', () => {
  const h = harness();
  const a = receiveInvite(h).tx;
  h.clock.advance(150);
  answer(a, 180);
  h.clock.advance(1000);
  assert.equal(h.transport.sent.map((s) => s.message.status), [180]);
  assert.not.ok(a.hasTimer('Trying'));
  answer(a, 603);
  h.clock.advance(40_000);
  assertClean(h);

  const b = harness();
  const tx = receiveInvite(b).tx;
  answer(tx, 404);
  b.clock.advance(1000);
  assert.is(b.transport.of(100).length, 0);
  b.clock.advance(40_000);
  assertClean(b);
});

test('trying 0: the 100 goes out before the TU sees the INVITE, and an answer in onRequest follows it in order', () => {
  const h = harness({ timers: { trying: 0 } });
  const sentWhenTuCalled: number[] = [];
  h.tu.onRequestHook = (incoming) => {
    sentWhenTuCalled.push(h.transport.sent.length);
    answer(incoming.transaction as ServerInviteTransaction, 180);
  };
  const { tx } = receiveInvite(h);
  assert.equal(sentWhenTuCalled, [1], 'the 100 was sent when the TU got the INVITE');
  assert.equal(h.transport.sent.map((s) => s.message.status), [100, 180]);
  assert.not.ok(tx.hasTimer('Trying'));
  answer(tx, 486);
  h.clock.advance(40_000);
  assertClean(h);
});

test("the 100 Trying carries received and rport like the TU's responses (RFC 3581 s4)", () => {
  const h = harness();
  const parts = peerRequest('INVITE', { sentBy: 'client.example.com' });
  parts.headers[0] = ['Via', `${parts.headers[0]![1]};rport`];
  h.transport.deliver(parts, PEER_UDP);
  const tx = (h.tu.requests.at(-1) as IncomingRequest).transaction as ServerInviteTransaction;
  h.clock.advance(200);
  const via = headerOf(h.transport.of(100)[0]!, 'Via');
  assert.is(via, `SIP/2.0/UDP client.example.com;branch=z9hG4bKpeer1;rport=${PEER_UDP.port};received=${PEER_UDP.host}`);
  answer(tx, 486);
  assert.is(headerOf(h.transport.of(486)[0]!, 'Via'), via, 'the same Via as the final');
  h.clock.advance(40_000);
  assertClean(h);
});

test('Proceeding: a retransmitted INVITE is absorbed before any provisional, answered with the last provisional after', () => {
  const h = harness();
  const { parts, tx } = receiveInvite(h);
  h.transport.deliver(parts, PEER_UDP); // at 0: nothing to resend yet
  assert.is(h.transport.sent.length, 0);
  h.clock.advance(500);
  assert.equal(h.transport.times(100), [200]);
  h.transport.deliver(parts, PEER_UDP);
  assert.equal(h.transport.times(100), [200, 500]);
  answer(tx, 180);
  answer(tx, 183);
  h.transport.deliver(parts, PEER_UDP);
  assert.equal(h.transport.sent.map((s) => s.message.status), [100, 100, 180, 183, 183]);
  assert.is(h.tu.requests.length, 1, 'retransmissions are not passed to the TU');
  assert.is(tx.state, 'proceeding');
  answer(tx, 486);
  h.clock.advance(32_000);
  assertClean(h);
});

test('Proceeding: the last provisional is kept as sent until the end of the turn, then as a copy of its own (same bytes)', async () => {
  const h = harness();
  const { parts, tx } = receiveInvite(h);
  answer(tx, 180);
  const sent = h.transport.sent.at(-1)!.bytes;
  const sharesChunk = sent.byteLength < sent.buffer.byteLength;
  h.transport.deliver(parts, PEER_UDP);
  assert.ok(h.transport.sent.at(-1)!.bytes === sent, 'same turn: the bytes sent');
  await Promise.resolve();
  h.transport.deliver(parts, PEER_UDP);
  const kept = h.transport.sent.at(-1)!.bytes;
  assert.equal(Array.from(kept), Array.from(sent));
  if (sharesChunk) assert.ok(kept !== sent && kept.byteLength === kept.buffer.byteLength, 'a later turn: a copy that owns its memory');
  assert.ok(sharesChunk, 'a 180 is written into a shared chunk');
  answer(tx, 486);
  h.clock.advance(32_000);
  assertClean(h);
});

test('Proceeding --300-699--> Completed: Timer G resends at 500, 1500, 3500, 7500, 11500 ... ms; Timer H at 32 s ends it and tells the TU', () => {
  const h = harness();
  const { tx } = receiveInvite(h);
  h.clock.advance(1000); // 100 at 200
  answer(tx, 486);
  assert.is(tx.state, 'completed');
  assert.ok(tx.hasTimer('G') && tx.hasTimer('H'));
  h.clock.advance(31_999);
  const offsets = h.transport.times(486).map((t) => t - 1000);
  assert.equal(offsets, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.is(h.layer.counters().retransmissions, 10, 'Timer G resends, not the first 486 nor the 100');
  assert.is(tx.state, 'completed');
  assert.is(h.tu.ackTimeouts, 0);
  h.clock.advance(1);
  assert.is(tx.state, 'terminated');
  assert.is(h.tu.ackTimeouts, 1);
  // The amplification an INVITE never ACKed (e.g. from a forged UDP source) buys: 11 finals within Timer H, none after.
  h.clock.advance(64_000);
  assert.is(h.transport.of(486).length, 11);
  assertClean(h);
});

test('the error callback: one per transaction; released once its final is sent over TCP, at its end over UDP', () => {
  const h = harness();
  const tcp = receiveInvite(h, PEER_TCP);
  answer(tcp.tx, 180);
  answer(tcp.tx, 486);
  const tcpSends = h.transport.sent.filter((s) => s.target.transport === 'tcp');
  assert.is(tcpSends[0]!.options.onError, tcpSends[1]!.options.onError, 'the same callback for each send');
  assert.is(h.transport.released.length, 1, 'released as the final went out');
  assert.is(h.transport.released[0]!.options.onError, tcpSends[1]!.options.onError);
  h.transport.deliver(peerAck(tcp.parts, 'uas-tag'), PEER_TCP);
  assertClean(h);
  const u = harness();
  const udp = receiveInvite(u, PEER_UDP);
  answer(udp.tx, 486);
  assert.is(u.transport.released.length, 0, 'over UDP the transaction still wants to hear of errors (Timer G resends)');
  u.transport.deliver(peerAck(udp.parts, 'uas-tag'), PEER_UDP);
  u.clock.advance(5000); // Timer I
  assert.is(udp.tx.state, 'terminated');
  assert.is(u.transport.released.length, 1, 'released at its end');
  assertClean(u);
});

test('Completed: a retransmitted INVITE gets the final again; ACK -> Confirmed, G stops, Timer I = T4 over UDP', () => {
  const h = harness();
  const { parts, tx } = receiveInvite(h);
  answer(tx, 603);
  h.clock.advance(100);
  h.transport.deliver(parts, PEER_UDP);
  assert.equal(h.transport.times(603), [0, 100]);
  assert.is(h.tu.requests.length, 1);
  h.clock.advance(500); // G at 500
  assert.equal(h.transport.times(603), [0, 100, 500]);
  h.transport.deliver(peerAck(parts, 'uas-tag'), PEER_UDP);
  assert.is(tx.state, 'confirmed');
  assert.not.ok(tx.hasTimer('G'));
  assert.not.ok(tx.hasTimer('H'));
  assert.ok(tx.hasTimer('I'));
  assert.is(h.tu.acks.length, 0, 'the ACK for a non-2xx stays in the transaction');
  // Confirmed absorbs ACK and INVITE retransmissions.
  h.transport.deliver(peerAck(parts, 'uas-tag'), PEER_UDP);
  h.transport.deliver(parts, PEER_UDP);
  assert.is(h.transport.sent.length, 3);
  assert.is(h.tu.acks.length, 0);
  h.clock.advance(4999);
  assert.is(tx.state, 'confirmed');
  h.clock.advance(1);
  assert.is(tx.state, 'terminated');
  assertClean(h);
});

test('Completed over TCP: no Timer G; ACK -> Confirmed -> Terminated at once (Timer I = 0)', () => {
  const h = harness();
  const { parts, tx } = receiveInvite(h, PEER_TCP);
  answer(tx, 486);
  assert.not.ok(tx.hasTimer('G'));
  assert.ok(tx.hasTimer('H'));
  h.clock.advance(20_000);
  assert.equal(h.transport.times(486), [0]);
  h.transport.deliver(peerAck(parts, 'uas-tag'), PEER_TCP);
  assert.is(tx.state, 'terminated');
  assertClean(h);
});

test('Completed over TCP: Timer H still 64*T1', () => {
  const h = harness();
  const { tx } = receiveInvite(h, PEER_TCP);
  answer(tx, 500);
  h.clock.advance(31_999);
  assert.is(tx.state, 'completed');
  h.clock.advance(1);
  assert.is(h.tu.ackTimeouts, 1);
  assertClean(h);
});

test('Proceeding --2xx--> Accepted (RFC 6026): no 2xx retransmission of its own, INVITEs absorbed, TU 2xx passed on, ACK to TU, Timer L', () => {
  const h = harness();
  const { parts, tx } = receiveInvite(h);
  h.clock.advance(300);
  answer(tx, 200);
  assert.is(tx.state, 'accepted');
  assert.throws(() => tx.request, /let go after the final response/, 'the request is let go: the TU holds its own');
  assert.ok(tx.hasTimer('L'));
  assert.not.ok(tx.hasTimer('Trying'));
  h.clock.advance(10_000);
  assert.equal(h.transport.times(200), [300], 'the transaction does not retransmit a 2xx');
  h.transport.deliver(parts, PEER_UDP);
  assert.equal(h.transport.times(200), [300], 'INVITE absorbed');
  assert.is(h.tu.requests.length, 1);
  answer(tx, 200); // the dialog layer's retransmission
  assert.equal(h.transport.times(200), [300, 10_300]);
  answer(tx, 486); // discarded in Accepted
  answer(tx, 180);
  assert.is(h.transport.sent.length, 3);
  // An ACK matching the transaction in Accepted goes to the TU.
  h.transport.deliver(peerAck(parts, 'uas-tag'), PEER_UDP);
  assert.is(h.tu.acks.length, 1);
  assert.is(tx.state, 'accepted');
  h.clock.advance(21_999); // t = 32299
  assert.is(tx.state, 'accepted');
  h.clock.advance(1); // L = 32 s after the 2xx
  assert.is(tx.state, 'terminated');
  assertClean(h);
});

test('Accepted: a 2xx sent again carries the Via annotated as the first (received, rport) though the request is let go', () => {
  const h = harness();
  const parts = peerRequest('INVITE', { sentBy: 'client.example.com' });
  parts.headers[0] = ['Via', `${parts.headers[0]![1]};rport`];
  h.transport.deliver(parts, PEER_UDP);
  const tx = h.tu.requests.at(-1)!.transaction as ServerInviteTransaction;
  const request = tx.request;
  const ok = responseParts(request, 200, { toTag: 'uas-tag' });
  tx.respond(ok);
  assert.throws(() => tx.request, /let go after the final response/);
  tx.respond(ok);
  const [first, again] = h.transport.of(200);
  const annotated = `SIP/2.0/UDP client.example.com;branch=z9hG4bKpeer1;rport=${PEER_UDP.port};received=${PEER_UDP.host}`;
  assert.is(headerOf(first!, 'Via'), annotated);
  assert.is(headerOf(again!, 'Via'), annotated);
  h.clock.advance(32_000);
  assertClean(h);
});

test('Accepted over TCP: Timer L is 64*T1 too; the ACK for the 2xx (new branch) reaches the TU', () => {
  const h = harness();
  const { parts, tx } = receiveInvite(h, PEER_TCP);
  answer(tx, 200);
  const ack = peerAck(parts, 'uas-tag');
  ack.headers[0] = ['Via', 'SIP/2.0/TCP 198.51.100.7:5070;branch=z9hG4bKack2xx'];
  h.transport.deliver(ack, PEER_TCP);
  assert.is(h.tu.acks.length, 1);
  assert.is(tx.state, 'accepted');
  h.clock.advance(32_000);
  assertClean(h);
});

test('transport errors: Proceeding, Completed and Accepted tell the TU and keep their state (RFC 6026); Confirmed ignores', () => {
  const h = harness();
  const first = receiveInvite(h);
  h.clock.advance(200); // 100 Trying
  h.transport.fail(0, 'ECONNREFUSED');
  assert.is(first.tx.state, 'proceeding');
  answer(first.tx, 486);
  h.transport.fail(1, 'ECONNREFUSED');
  assert.is(first.tx.state, 'completed');
  assert.equal(h.tu.serverErrors.map((e) => e.code), ['ECONNREFUSED', 'ECONNREFUSED']);
  h.transport.deliver(peerAck(first.parts, 'uas-tag'), PEER_UDP);
  assert.is(first.tx.state, 'confirmed');
  h.transport.fail(1, 'ECONNRESET');
  assert.is(h.tu.serverErrors.length, 2);
  h.clock.advance(5000);
  assertClean(h);

  const k = harness();
  const second = receiveInvite(k, PEER_TCP);
  k.transport.failInside = 'ECONNRESET';
  answer(second.tx, 200);
  assert.is(second.tx.state, 'accepted');
  assert.equal(k.tu.serverErrors.map((e) => e.code), ['ECONNRESET']);
  k.clock.advance(32_000);
  assertClean(k);
});

test('TU responses after the final are discarded; a bad status throws', () => {
  const h = harness();
  const { parts, tx } = receiveInvite(h);
  answer(tx, 404);
  answer(tx, 200);
  answer(tx, 180);
  assert.equal(h.transport.sent.map((s) => s.message.status), [404]);
  assert.throws(() => tx.respond({ status: 99, headers: [] }), RangeError);
  assert.throws(() => tx.respond({ status: 700, headers: [] }), RangeError);
  assert.throws(() => tx.respond({ headers: [] }), RangeError);
  assert.throws(() => tx.respond({ method: 'INVITE', status: 200, headers: [] }), RangeError);
  h.transport.deliver(peerAck(parts, 'uas-tag'), PEER_UDP);
  answer(tx, 500);
  assert.is(h.transport.sent.length, 1);
  h.clock.advance(5000);
  assertClean(h);
});

test('stray timer events and an ACK before any final are ignored', () => {
  const h = harness();
  const { parts, tx } = receiveInvite(h);
  h.transport.deliver(peerAck(parts, undefined), PEER_UDP);
  for (const name of ['G', 'H', 'I', 'L'] as const) tx.handle({ type: 'timer', name });
  tx.handle({ type: 'start' });
  assert.is(tx.state, 'proceeding');
  assert.is(h.tu.acks.length, 0);
  answer(tx, 180);
  tx.handle({ type: 'timer', name: 'Trying' });
  assert.equal(h.transport.sent.map((s) => s.message.status), [180], 'no 100 after a provisional');
  h.layer.close();
  assert.is(tx.state, 'terminated');
  assertClean(h);
});

test.run();
