/**
 * HostResolver (src/transport/host-resolver.ts): host names to addresses for
 * the transport, with a scripted lookup and clock (no DNS query leaves).
 *
 * Covers: lookups of one name sharing one query; an answer used for ttlMs,
 * then asked again; a failure remembered failureTtlMs (no query per
 * retransmission), the addresses known before kept for addresses(); a lookup
 * never answered failing after timeoutMs; answers that are not addresses
 * dropped, none left -> an error; names compared without case; the oldest
 * name forgotten past maxNames; at most maxPending lookups at once; isHostName's RFC 1123 shape.
 * Not covered: the system resolver itself, and sends to names through
 * SipTransportLayer (test/integration/transport-host-names.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HostLookupError, HostResolver, isHostName, type LookupAll } from '../../src/transport/host-resolver.ts';

/** A lookup answered by the test: each query waits in `queries` until answered. */
function scripted(): { lookup: LookupAll; queries: Array<{ host: string; answer: (error: Error | null, addresses: readonly string[]) => void }> } {
  const queries: Array<{ host: string; answer: (error: Error | null, addresses: readonly string[]) => void }> = [];
  return { lookup: (host, done) => void queries.push({ host, answer: done }), queries };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('lookups of one name share one query; the answer is then used at once for ttlMs, and asked again after', async () => {
  let now = 0;
  const { lookup, queries } = scripted();
  const resolver = new HostResolver({ lookup, ttlMs: 1000, now: () => now });
  assert.is(resolver.cached('pbx.example.com'), undefined);
  const first = resolver.resolve('pbx.example.com');
  const second = resolver.resolve('PBX.Example.com');
  assert.equal(queries.map((q) => q.host), ['pbx.example.com'], 'one query, the name in lower case');
  queries[0]!.answer(null, ['192.0.2.10', '2001:db8::10']);
  assert.equal(await Promise.all([first, second]), [['192.0.2.10', '2001:db8::10'], ['192.0.2.10', '2001:db8::10']]);
  assert.equal(resolver.cached('pbx.example.com'), ['192.0.2.10', '2001:db8::10']);
  assert.equal(resolver.addresses('pbx.example.com'), ['192.0.2.10', '2001:db8::10']);
  now = 999;
  assert.equal(await resolver.resolve('pbx.example.com'), ['192.0.2.10', '2001:db8::10']);
  assert.is(queries.length, 1, 'fresh: no new query');
  now = 1000;
  assert.is(resolver.cached('pbx.example.com'), undefined, 'stale at ttlMs');
  const again = resolver.resolve('pbx.example.com');
  assert.is(queries.length, 2);
  queries[1]!.answer(null, ['192.0.2.11']);
  assert.equal(await again, ['192.0.2.11'], 'a site that moved is followed');
});

test('a failure is remembered failureTtlMs, then asked again; the addresses known before stay for addresses()', async () => {
  let now = 0;
  const { lookup, queries } = scripted();
  const resolver = new HostResolver({ lookup, ttlMs: 100, failureTtlMs: 500, now: () => now });
  const known = resolver.resolve('site.example');
  queries[0]!.answer(null, ['192.0.2.20']);
  await known;
  now = 200;
  const failing = resolver.resolve('site.example');
  queries[1]!.answer(Object.assign(new Error('queryA ENOTFOUND site.example'), { code: 'ENOTFOUND' }), []);
  const error = await failing.then(() => undefined, (e: unknown) => e);
  assert.instance(error, HostLookupError);
  assert.is((error as Error).message, 'cannot resolve site.example: ENOTFOUND');
  assert.equal(resolver.addresses('site.example'), ['192.0.2.20'], 'still recognised by its last addresses');
  assert.is(resolver.cached('site.example'), undefined);
  now = 699;
  await resolver.resolve('site.example').then(() => assert.unreachable('remembered as failed'), (e: unknown) => assert.instance(e, HostLookupError));
  assert.is(queries.length, 2, 'no query while the failure is remembered');
  now = 700;
  const retried = resolver.resolve('site.example');
  assert.is(queries.length, 3);
  queries[2]!.answer(null, ['192.0.2.21']);
  assert.equal(await retried, ['192.0.2.21']);
});

test('a lookup the system never answers fails after timeoutMs; a late answer changes nothing', async () => {
  const { lookup, queries } = scripted();
  const resolver = new HostResolver({ lookup, timeoutMs: 20 });
  const started = performance.now();
  // The resolver's timer does not keep the process alive (unref): this one does, for the test.
  const alive = setTimeout(() => {}, 1000);
  const error = await resolver.resolve('slow.example').then(() => undefined, (e: unknown) => e);
  clearTimeout(alive);
  assert.instance(error, HostLookupError);
  assert.match((error as Error).message, /cannot resolve slow\.example: no answer within 20 ms/);
  assert.ok(performance.now() - started >= 15);
  queries[0]!.answer(null, ['192.0.2.30']);
  await tick();
  assert.is(resolver.cached('slow.example'), undefined);
});

test('answers that are not addresses are dropped; none left is an error; a lookup that throws is an error', async () => {
  const { lookup, queries } = scripted();
  const resolver = new HostResolver({ lookup });
  const mixed = resolver.resolve('mixed.example');
  queries[0]!.answer(null, ['not-an-address', '192.0.2.40']);
  assert.equal(await mixed, ['192.0.2.40']);
  assert.equal(resolver.addresses('mixed.example'), ['192.0.2.40']);
  const empty = resolver.resolve('empty.example');
  queries[1]!.answer(null, ['junk']);
  await empty.then(() => assert.unreachable(), (e: unknown) => assert.match(String(e), /cannot resolve empty\.example: no address/));
  const throwing = new HostResolver({
    lookup: () => {
      throw new Error('boom');
    },
  });
  await throwing.resolve('x.example').then(() => assert.unreachable(), (e: unknown) => assert.match(String(e), /cannot resolve x\.example: boom/));
});

test('at most maxNames names are remembered: the oldest goes first', async () => {
  const { lookup, queries } = scripted();
  const resolver = new HostResolver({ lookup, maxNames: 2 });
  for (const [i, name] of ['a.example', 'b.example', 'c.example'].entries()) {
    const pending = resolver.resolve(name);
    queries[i]!.answer(null, [`192.0.2.${i + 1}`]);
    await pending;
  }
  assert.equal(['a.example', 'b.example', 'c.example'].map((n) => resolver.cached(n)?.[0]), [undefined, '192.0.2.2', '192.0.2.3']);
});

test('at most maxPending lookups at once: a new name past it fails at once, one already asked for still waits on its query', async () => {
  const { lookup, queries } = scripted();
  const resolver = new HostResolver({ lookup, maxPending: 2 });
  const a = resolver.resolve('a.example');
  const b = resolver.resolve('b.example');
  const refused = await resolver.resolve('c.example').then(() => undefined, (e: unknown) => e);
  assert.instance(refused, HostLookupError);
  assert.match(String(refused), /2 lookups in progress already/);
  const aAgain = resolver.resolve('A.example');
  assert.equal(queries.map((q) => q.host), ['a.example', 'b.example'], 'no query for c, none more for a');
  queries[0]!.answer(null, ['192.0.2.1']);
  queries[1]!.answer(null, ['192.0.2.2']);
  assert.equal(await Promise.all([a, b, aAgain]), [['192.0.2.1'], ['192.0.2.2'], ['192.0.2.1']]);
  const c = resolver.resolve('c.example');
  assert.is(queries.length, 3, 'room again once they are answered');
  queries[2]!.answer(null, ['192.0.2.3']);
  assert.equal(await c, ['192.0.2.3']);
});

test('isHostName: RFC 1123 names, not addresses or anything else', () => {
  for (const name of ['localhost', 'pbx.example.com', 'a-b.c', 'x1.example.', 'PBX.EXAMPLE.COM', '1.example']) assert.ok(isHostName(name), name);
  for (const bad of ['', '127.0.0.1', '::1', '127.1', '2130706433', 'pbx.123', '-pbx.example', 'pbx-.example', 'pb x', 'a..b', 'a_b.example', `${'a'.repeat(64)}.example`, 'pbx.example/x', 'p\r\nb']) {
    assert.not.ok(isHostName(bad), bad);
  }
});

test.run();
