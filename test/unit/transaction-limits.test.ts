/**
 * The caps on live transactions (TransactionLayerOptions): past
 * maxTransactions a new client request throws and a new request from the
 * network is answered 503 with Retry-After statelessly, with no state kept;
 * requests from untrusted sources stop at maxServerTransactions (our own
 * requests and trusted sources keep their room), and at
 * maxServerTransactionsPerSource from one address (an IPv6 /64); a stateless
 * answer carries a To tag, the same for the same request; bad caps are
 * refused.
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
  const sentBy = host.includes(':') ? `[${host}]:5070` : `${host}:5070`;
  for (let i = 0; i < count; i++) h.transport.deliver(peerRequest('OPTIONS', { branch: `z9hG4bK${tag}${i}`, sentBy }), { ...PEER, host });
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
  const h = harness({ maxServerTransactionsPerSource: 3, trustedSource: (source) => source.host === '198.51.100.1' });
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

test('trusted sources do not count against maxServerTransactions: an untrusted flood stops there, a trusted source is served up to maxTransactions', () => {
  const h = harness({ maxTransactions: 8, trustedSource: (source) => source.host === '198.51.100.1' });
  h.tu.onRequestHook = (incoming) => incoming.transaction.reply(200);
  assert.equal(flood(h, '198.51.100.7', 8, 'u'), [200, 200, 200, 200, 200, 200, 503, 503], 'untrusted: 3/4 of 8');
  assert.equal(flood(h, '198.51.100.1', 3, 't'), [200, 200, 503], 'trusted: up to maxTransactions in all');
  h.clock.advance(64_000);
  assertClean(h);
});

test('one IPv6 source is its /64: two addresses of one prefix share the per-source quota, another prefix does not', () => {
  const h = harness({ maxServerTransactionsPerSource: 2 });
  h.tu.onRequestHook = (incoming) => incoming.transaction.reply(200);
  assert.equal(flood(h, '2001:db8:0:1::5', 1, 'p'), [200]);
  assert.equal(flood(h, '2001:db8:0:1:ffff::9', 2, 'q'), [200, 503], 'the same /64');
  assert.equal(flood(h, '2001:db8:0:2::5', 1, 'r'), [200], 'another /64');
  h.clock.advance(64_000);
  assertClean(h);
});

test('a stateless 503 carries a To tag, the same one for a retransmission of the request (s8.2.6.2, s8.2.7)', () => {
  const h = harness({ maxServerTransactionsPerSource: 1 });
  h.tu.onRequestHook = (incoming) => incoming.transaction.reply(200);
  flood(h, '198.51.100.7', 1, 's');
  const before = h.transport.sent.length;
  for (let i = 0; i < 2; i++) h.transport.deliver(peerRequest('OPTIONS', { branch: 'z9hG4bKsame', sentBy: '198.51.100.7:5070' }), PEER);
  h.transport.deliver(peerRequest('OPTIONS', { branch: 'z9hG4bKother', sentBy: '198.51.100.7:5070' }), PEER);
  const tags = h.transport.sent.slice(before).map((s) => s.message.to?.tag);
  assert.equal(tags.map((tag) => /^sl[0-9a-f]{8}$/.test(tag ?? '')), [true, true, true]);
  assert.is(tags[0], tags[1], 'the same request, the same tag');
  assert.is.not(tags[0], tags[2], 'another request, another tag');
  h.clock.advance(64_000);
  assertClean(h);
});

test('the caps are checked when the layer is made; a trustedSource that throws leaves nothing half-built', () => {
  for (const [name, value] of [['maxTransactions', 0], ['maxServerTransactions', -1], ['maxServerTransactionsPerSource', 1.5]] as const) {
    assert.throws(() => harness({ [name]: value }), (error: Error) => error instanceof RangeError && error.message.includes(name));
  }
  assert.is(harness({ maxTransactions: 1 }).layer.stats().transactions, 0, 'a cap of 1 leaves room for one server transaction');
  const h = harness({ trustedSource: () => {
    throw new Error('predicate bug');
  } });
  assert.throws(() => h.transport.deliver(peerRequest('OPTIONS', { branch: 'z9hG4bKthrow' }), PEER), /predicate bug/);
  assert.is(h.tu.requests.length, 0);
  assertClean(h);
});

test.run();
