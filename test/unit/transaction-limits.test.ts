/**
 * The caps on live transactions (TransactionLayerOptions): past
 * maxTransactions a new client request throws and a new request from the
 * network is answered 503 with Retry-After statelessly, with no state kept;
 * requests from the network alone stop at maxServerTransactions (our own
 * requests keep their room), and at maxServerTransactionsPerSource from one
 * address unless trustedSource exempts it.
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

/** Delivers OPTIONS from `host` (new branch each) and returns the statuses the layer sent back at once. */
function flood(h: ReturnType<typeof harness>, host: string, count: number, tag: string): number[] {
  const before = h.transport.sent.length;
  for (let i = 0; i < count; i++) h.transport.deliver(peerRequest('OPTIONS', { branch: `z9hG4bK${tag}${i}`, sentBy: `${host}:5070` }), { ...PEER, host });
  return h.transport.sent.slice(before).map((s) => s.message.status!);
}

test('requests from the network stop at maxServerTransactions (3/4 of maxTransactions by default): our own requests keep their room', () => {
  const h = harness({ maxTransactions: 8 });
  h.tu.onRequestHook = (incoming) => incoming.transaction.reply(200);
  assert.equal(flood(h, '198.51.100.7', 8, 'f'), [200, 200, 200, 200, 200, 200, 503, 503]);
  assert.is(h.layer.stats().transactions, 6);
  const user = { onFinal: () => {} };
  h.layer.sendRequest(requestParts('OPTIONS'), PEER, user);
  h.layer.sendRequest(requestParts('OPTIONS'), PEER, user);
  assert.throws(() => h.layer.sendRequest(requestParts('OPTIONS'), PEER, user), /transaction limit/);
  h.clock.advance(64_000);
  assertClean(h);
});

test('maxServerTransactionsPerSource: one address past it gets 503, another is served, a trusted one is not counted; slots free again when transactions end', () => {
  const h = harness({ maxServerTransactionsPerSource: 3, trustedSource: (host) => host === '198.51.100.1' });
  h.tu.onRequestHook = (incoming) => incoming.transaction.reply(200);
  assert.equal(flood(h, '198.51.100.7', 5, 'a'), [200, 200, 200, 503, 503], 'a flood from one address');
  assert.equal(flood(h, '198.51.100.8', 2, 'b'), [200, 200], 'another address still served');
  assert.equal(flood(h, '198.51.100.1', 6, 'c'), [200, 200, 200, 200, 200, 200], 'a trusted address (our site) is not limited');
  assert.is(h.tu.requests.length, 11, 'the TU never saw the refused ones');
  // Timer J (64*T1 over UDP) ends them: the address has its room back.
  h.clock.advance(32_000);
  assert.equal(flood(h, '198.51.100.7', 3, 'd'), [200, 200, 200]);
  h.clock.advance(32_000);
  assertClean(h);
});

test.run();
