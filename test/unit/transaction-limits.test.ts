/**
 * The cap on live transactions (TransactionLayerOptions.maxTransactions):
 * past it a new client request throws and a new request from the network is
 * answered 503 with Retry-After statelessly, with no state kept.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness, peerRequest, requestParts, assertClean } from './transaction-fakes.ts';

const PEER = { transport: 'udp' as const, host: '198.51.100.7', port: 5070 };

test('past maxTransactions: sendRequest throws, a new peer request gets a stateless 503', () => {
  const h = harness({ maxTransactions: 2 });
  const user = { onFinal: () => {} };
  h.layer.sendRequest(requestParts('OPTIONS'), PEER, user);
  h.layer.sendRequest(requestParts('OPTIONS'), PEER, user);
  assert.is(h.layer.stats().transactions, 2);
  assert.throws(() => h.layer.sendRequest(requestParts('OPTIONS'), PEER, user), /transaction limit/);
  const before = h.transport.sent.length;
  h.transport.deliver(peerRequest('OPTIONS', { branch: 'z9hG4bKover1' }), PEER);
  assert.is(h.tu.requests.length, 0, 'the TU never sees it');
  const answer = h.transport.sent.slice(before).map((s) => s.message);
  assert.is(answer.length, 1);
  assert.is(answer[0]!.status, 503);
  assert.is(answer[0]!.header('Retry-After'), '5');
  assert.is(h.layer.stats().transactions, 2, 'no state kept for it');
  h.clock.advance(64_000);
  assertClean(h);
});

test.run();
