/**
 * Non-INVITE server transaction (src/transaction/server-non-invite.ts),
 * through the TransactionLayer on a fake transport and a FakeClock.
 *
 * Covers every row of RFC 3261 Figure 8 (Trying, Proceeding, Completed,
 * Terminated): retransmissions discarded in Trying, answered with the last
 * provisional in Proceeding and the final in Completed; 1xx and 200-699 from
 * the TU; later finals discarded; Timer J = 64*T1 over UDP and 0 over TCP;
 * transport errors in Proceeding and Completed -> TU told, Terminated; no
 * 100 Trying of its own; where responses go (rport / sent-by port / flow);
 * no live transaction or timer at the end of each test.
 * Not covered: matching rules (transaction-matching.test.ts), real sockets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SipMessage } from '../../src/parser/index.ts';
import { responseParts, ServerNonInviteTransaction } from '../../src/transaction/index.ts';
import { TransportError } from '../../src/transport/types.ts';
import { PEER_TCP, PEER_UDP, assertClean, harness, peerRequest, type Harness } from './transaction-fakes.ts';

/** The request as the TU holds it: the transaction lets it go after its final response. */
const heldRequests = new WeakMap<ServerNonInviteTransaction, SipMessage>();
const requestOf = (tx: ServerNonInviteTransaction): SipMessage => {
  let request = heldRequests.get(tx);
  if (request === undefined) heldRequests.set(tx, (request = tx.request));
  return request;
};

function receive(h: Harness, method = 'OPTIONS', source = PEER_UDP, flowId?: string) {
  const parts = peerRequest(method, { transport: source.transport.toUpperCase() });
  h.transport.deliver(parts, source, flowId);
  const tx = h.tu.requests.at(-1)!.transaction;
  assert.instance(tx, ServerNonInviteTransaction);
  requestOf(tx as ServerNonInviteTransaction);
  return { parts, tx: tx as ServerNonInviteTransaction };
}

function answer(tx: ServerNonInviteTransaction, status: number): void {
  tx.respond(responseParts(requestOf(tx), status, { toTag: 'uas' }));
}

test('Trying: request to TU, retransmissions discarded, no 100 Trying of its own', () => {
  const h = harness();
  const { parts, tx } = receive(h);
  assert.is(tx.state, 'trying');
  h.transport.deliver(parts, PEER_UDP);
  h.clock.advance(10_000);
  assert.is(h.transport.sent.length, 0);
  assert.is(h.tu.requests.length, 1);
  assert.equal(h.layer.stats().serverNonInvite, 1);
  assert.is(h.layer.stats().timers, 0);
  answer(tx, 200);
  h.clock.advance(32_000);
  assertClean(h);
});

test('Trying --1xx--> Proceeding: retransmission gets the last provisional; --200-699--> Completed: retransmission gets the final', () => {
  const h = harness();
  const { parts, tx } = receive(h, 'REGISTER');
  answer(tx, 100);
  assert.is(tx.state, 'proceeding');
  answer(tx, 180);
  h.transport.deliver(parts, PEER_UDP);
  assert.equal(h.transport.sent.map((s) => s.message.status), [100, 180, 180]);
  answer(tx, 200);
  assert.is(tx.state, 'completed');
  assert.ok(tx.hasTimer('J'));
  h.transport.deliver(parts, PEER_UDP);
  h.transport.deliver(parts, PEER_UDP);
  assert.equal(h.transport.sent.map((s) => s.message.status), [100, 180, 180, 200, 200, 200]);
  assert.equal(h.layer.counters(), { clientTransactions: 0, serverTransactions: 1, retransmissions: 3 }, 'the repeated 180 and the two repeated 200s');
  // "Any other final responses passed by the TU ... MUST be discarded while in the Completed state."
  answer(tx, 500);
  answer(tx, 183);
  assert.is(h.transport.sent.length, 6);
  assert.is(tx.responseToTag, 'uas');
  assert.is(h.tu.requests.length, 1);
  h.clock.advance(31_999);
  assert.is(tx.state, 'completed');
  h.clock.advance(1); // Timer J = 64*T1
  assert.is(tx.state, 'terminated');
  assertClean(h);
});

test('Trying --200-699--> Completed over TCP: Timer J is zero', () => {
  const h = harness();
  const { tx } = receive(h, 'BYE', PEER_TCP, 'flow-1');
  answer(tx, 200);
  assert.is(tx.state, 'terminated');
  const sent = h.transport.sent[0]!;
  assert.is(sent.options.flowId, 'flow-1');
  assertClean(h);
});

test('after Timer J a retransmission is a new request for the TU', () => {
  const h = harness();
  const { parts, tx } = receive(h);
  answer(tx, 200);
  h.clock.advance(32_000);
  assertClean(h);
  h.transport.deliver(parts, PEER_UDP);
  assert.is(h.tu.requests.length, 2);
  h.layer.close();
  assertClean(h);
});

test('transport error in Proceeding: TU told, Terminated', () => {
  const h = harness();
  const { tx } = receive(h);
  answer(tx, 180);
  h.transport.fail(0, 'ECONNRESET');
  assert.is(tx.state, 'terminated');
  assert.equal(h.tu.serverErrors.map((e) => e.code), ['ECONNRESET']);
  assertClean(h);
});

test('transport error in Completed (inside send over TCP): TU told before the zero Timer J, Terminated', () => {
  const h = harness();
  const { tx } = receive(h, 'MESSAGE', PEER_TCP);
  h.transport.failInside = 'ECONNRESET';
  answer(tx, 200);
  assert.is(tx.state, 'terminated');
  assert.equal(h.tu.serverErrors.map((e) => e.code), ['ECONNRESET']);
  assertClean(h);
});

test('transport error in Completed over UDP: TU told, Terminated; later errors ignored', () => {
  const h = harness();
  const { tx } = receive(h);
  answer(tx, 404);
  h.transport.fail(0);
  h.transport.fail(0);
  assert.is(tx.state, 'terminated');
  assert.is(h.tu.serverErrors.length, 1);
  assertClean(h);
});

test('a transport error with nothing sent (Trying) and a stray Timer J are ignored', () => {
  const h = harness();
  const { tx } = receive(h);
  tx.handle({ type: 'transportError', error: new TransportError('ECONNRESET', PEER_UDP, 'no send') });
  tx.handle({ type: 'timer', name: 'J' });
  assert.is(tx.state, 'trying');
  assert.is(h.tu.serverErrors.length, 0);
  h.layer.close();
  assertClean(h);
});

test('responses go where the transport\'s responseTarget says (s18.2.2 + RFC 3581): rport, received + sent-by port, defaults, flows, maddr', () => {
  const h = harness();
  const withRport = peerRequest('OPTIONS', { branch: 'z9hG4bKr1', sentBy: '10.0.0.5:5080' });
  withRport.headers[0] = ['Via', 'SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bKr1;rport'];
  h.transport.deliver(withRport, PEER_UDP);
  const noRport = peerRequest('OPTIONS', { branch: 'z9hG4bKr2', sentBy: '10.0.0.5:5080' });
  h.transport.deliver(noRport, PEER_UDP);
  const noPort = peerRequest('OPTIONS', { branch: 'z9hG4bKr3', sentBy: '10.0.0.5' });
  h.transport.deliver(noPort, PEER_UDP);
  const tls = peerRequest('OPTIONS', { branch: 'z9hG4bKr4', sentBy: 'client.example.com', transport: 'TLS' });
  h.transport.deliver(tls, { transport: 'tls', host: '198.51.100.9', port: 40000 }, 'tls-flow');
  // Over TCP, rport does not apply: the flow first, else the source address at the sent-by port.
  const tcp = peerRequest('OPTIONS', { branch: 'z9hG4bKr5', transport: 'TCP' });
  tcp.headers[0] = ['Via', 'SIP/2.0/TCP 10.0.0.5:5090;branch=z9hG4bKr5;rport'];
  h.transport.deliver(tcp, { transport: 'tcp', host: '198.51.100.9', port: 40001 }, 'tcp-flow');
  // UDP with maddr: to maddr at the sent-by port, rport or not.
  const maddr = peerRequest('OPTIONS', { branch: 'z9hG4bKr6' });
  maddr.headers[0] = ['Via', 'SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKr6;maddr=239.255.255.1;ttl=1;rport'];
  h.transport.deliver(maddr, PEER_UDP);
  for (const incoming of h.tu.requests) answer(incoming.transaction as ServerNonInviteTransaction, 200);
  assert.equal(
    h.transport.sent.map((s) => [s.target, s.options.flowId]),
    [
      [PEER_UDP, undefined],
      [{ transport: 'udp', host: PEER_UDP.host, port: 5080 }, undefined],
      [{ transport: 'udp', host: PEER_UDP.host, port: 5060 }, undefined],
      [{ transport: 'tls', host: '198.51.100.9', port: 5061 }, 'tls-flow'],
      [{ transport: 'tcp', host: '198.51.100.9', port: 5090 }, 'tcp-flow'],
      [{ transport: 'udp', host: '239.255.255.1', port: 5070 }, undefined],
    ],
  );
  h.clock.advance(32_000);
  assertClean(h);
});

test.run();
