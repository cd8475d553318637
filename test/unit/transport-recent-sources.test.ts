/**
 * RecentSources (src/transport/recent-sources.ts) and its use as a response
 * target: one Endpoint object per recent UDP source, returned again for the
 * next datagram from it, and returned by responseTargetFor when the source
 * is where the response goes.
 *
 * Covers: same object for the same address and port; many addresses on
 * one port (a server's peers on 5060) each keeping theirs; normalization
 * (IPv4-mapped, case); the bound (the table starts over); responseTargetFor returning the source for
 * rport and for a sent-by port equal to the source port, and a new object
 * otherwise. Not covered: the socket wiring (integration transport-udp).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecentSources } from '../../src/transport/recent-sources.ts';
import { responseTargetFor, type ViaFacts } from '../../src/transport/response-target.ts';

const via = (host: string, port: number | null, rport: number | true | null): ViaFacts => ({ host, port, rport, received: null });

test('the same source gives the same Endpoint object; another address on the port a new one', () => {
  const sources = new RecentSources();
  const first = sources.of('127.0.0.1', 5060);
  assert.equal(first, { transport: 'udp', host: '127.0.0.1', port: 5060 });
  assert.ok(sources.of('127.0.0.1', 5060) === first);
  const other = sources.of('127.0.0.2', 5060);
  assert.ok(other !== first);
  assert.is(other.host, '127.0.0.2');
  assert.ok(sources.of('127.0.0.2', 5060) === other);
  assert.ok(sources.of('127.0.0.1', 5060) === first, 'peers alternating on one port keep their objects');
  assert.is(sources.size, 2);
});

test('addresses are normalized as the transport reports them (IPv4-mapped, case)', () => {
  const sources = new RecentSources();
  assert.is(sources.of('::ffff:127.0.0.1', 5062).host, '127.0.0.1');
  assert.is(sources.of('FE80::1', 5064).host, 'fe80::1');
});

test('bounded: past the limit the table starts over', () => {
  const sources = new RecentSources(3);
  const a = sources.of('127.0.0.1', 1);
  sources.of('127.0.0.1', 2);
  sources.of('127.0.0.1', 3);
  assert.is(sources.size, 3);
  sources.of('127.0.0.1', 4);
  assert.is(sources.size, 1);
  assert.ok(sources.of('127.0.0.1', 1) !== a, 'forgotten, made anew');
});

test('responseTargetFor returns the source object itself when it is the target', () => {
  const source = new RecentSources().of('192.0.2.7', 5070);
  assert.ok(responseTargetFor(via('client.example.com', 5080, true), source) === source, 'rport: source address and port');
  assert.ok(responseTargetFor(via('192.0.2.7', 5070, null), source) === source, 'sent-by port = source port');
  const elsewhere = responseTargetFor(via('192.0.2.7', 5080, null), source);
  assert.equal(elsewhere, { transport: 'udp', host: '192.0.2.7', port: 5080 });
  const upper = { transport: 'udp' as const, host: 'FE80::2', port: 5070 };
  const normalized = responseTargetFor(via('x.example', null, true), upper);
  assert.ok(normalized !== upper);
  assert.equal(normalized, { transport: 'udp', host: 'fe80::2', port: 5070 });
});

test.run();
