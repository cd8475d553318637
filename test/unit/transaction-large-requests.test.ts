/**
 * RFC 3261 s18.1.1 in the transaction layer: a request over the UDP limit
 * moves to TCP before its transaction is made, on a fake transport with the
 * real size policy (decideRequestTransport) and a FakeClock.
 *
 * Covers: a large request to a UDP target leaves for the same address over
 * TCP with a TCP Via (same branch) and reliable timers (no retransmission,
 * Timer F still 64*T1); a small one stays on UDP with Timer E; a target that
 * names transport=udp is not moved (the transport then refuses it, ETOOBIG
 * naming size and limit); a CANCEL follows its INVITE to TCP; a large ACK
 * for a 2xx (sendStateless) moves too; a transport without planRequest
 * sends as addressed.
 * Not covered: real sockets (test/integration/sdk-large-requests).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cancelParts, type ClientTransactionUser } from '../../src/transaction/index.ts';
import { decideRequestTransport } from '../../src/transport/size-policy.ts';
import type { Endpoint } from '../../src/transport/types.ts';
import { assertClean, harness, requestParts } from './transaction-fakes.ts';

const SITE: Endpoint = { transport: 'udp', host: '198.51.100.7', port: 5070 };
const QUIET: ClientTransactionUser = { onFinal() {} };

function withPolicy(h: ReturnType<typeof harness>): void {
  (h.transport as { planRequest?: unknown }).planRequest = (length: number, target: Endpoint) => decideRequestTransport(length, target);
}

const big = (method: string) => ({ ...requestParts(method, [['Content-Type', 'text/plain']]), body: 'x'.repeat(1400) });

test('a request over 1300 bytes bound for UDP leaves over TCP to the same address, with a TCP Via and reliable timers', () => {
  const h = harness();
  withPolicy(h);
  const tx = h.layer.sendRequest(big('MESSAGE'), SITE, QUIET);
  const sent = h.transport.sent[0]!;
  assert.equal(sent.target, { transport: 'tcp', host: '198.51.100.7', port: 5070 });
  assert.is(sent.message.topVia!.transport, 'TCP');
  assert.is(sent.message.topVia!.branch, tx.branch);
  assert.is(sent.message.topVia!.port, 5060, 'our TCP listener');
  assert.equal(tx.target, sent.target);
  h.clock.advance(31_999);
  assert.is(h.transport.sent.length, 1, 'no retransmission over TCP');
  h.clock.advance(1);
  assert.is(tx.state, 'terminated', 'Timer F');
  assertClean(h);
});

test('a small request stays on UDP (Timer E retransmits); a target naming transport=udp is not moved', () => {
  const h = harness();
  withPolicy(h);
  h.layer.sendRequest(requestParts('OPTIONS'), SITE, QUIET);
  assert.is(h.transport.sent[0]!.target.transport, 'udp');
  h.clock.advance(500);
  assert.is(h.transport.sent.length, 2, 'Timer E');
  const explicit: Endpoint = { ...SITE, explicitTransport: true };
  h.layer.sendRequest(big('MESSAGE'), explicit, QUIET);
  const last = h.transport.sent.at(-1)!;
  assert.is(last.target, explicit);
  assert.is(last.message.topVia!.transport, 'UDP');
  assert.equal(decideRequestTransport(last.bytes.length, explicit), {
    action: 'too-big',
    reason: `request of ${last.bytes.length} bytes is over the UDP limit of 1300 bytes (RFC 3261 s18.1.1) and its target names transport=udp`,
  });
  h.layer.close();
});

test('a CANCEL follows its INVITE to TCP (its Via says TCP); a large ACK for a 2xx moves too', () => {
  const h = harness();
  withPolicy(h);
  const invite = h.layer.sendRequest(big('INVITE'), SITE, QUIET);
  const cancel = h.layer.sendRequest(cancelParts(invite.request), SITE, QUIET);
  assert.is(h.transport.sent[1]!.target.transport, 'tcp');
  assert.is(cancel.target.transport, 'tcp');
  assert.is(h.transport.sent[1]!.message.topVia!.branch, invite.branch);
  const ack = h.layer.sendStateless({ ...requestParts('ACK'), body: 'y'.repeat(1400) }, SITE);
  assert.is(ack.topVia!.transport, 'TCP');
  assert.is(h.transport.sent[2]!.target.transport, 'tcp');
  h.layer.close();
});

test('sendStatelessVia: a large ACK moves to TCP, and the Via it returns is the one sent', () => {
  const h = harness();
  withPolicy(h);
  const via = h.layer.sendStatelessVia({ ...requestParts('ACK'), body: 'y'.repeat(1400) }, SITE);
  assert.is(h.transport.sent[0]!.target.transport, 'tcp');
  assert.is(h.transport.sent[0]!.message.header('via'), via);
  assert.ok(via!.startsWith('SIP/2.0/TCP'));
  h.layer.close();
});

test('a transport without planRequest: every request goes as addressed', () => {
  const h = harness();
  h.layer.sendRequest(big('MESSAGE'), SITE, QUIET);
  assert.is(h.transport.sent[0]!.target, SITE);
  h.layer.close();
});

test.run();
