/**
 * PortHostTable (src/transport/port-host-table.ts): the transport layer's
 * UDP routes (and RecentSources' Endpoints) found by port and host.
 *
 * Covers: found by host and port whatever the target object; hosts sharing
 * a port kept apart, many of them (a server's peers all on 5060) found
 * alike; adding a known route again counts once; the overall bound (the
 * table starts over). Not covered: sending (integration transport-udp).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PortHostTable } from '../../src/transport/port-host-table.ts';
import type { Endpoint } from '../../src/transport/types.ts';

interface CachedRoute {
  readonly to: Endpoint;
}

/** Added as the transport layer adds its routes: by their destination's host and port. */
const addRoute = (routes: PortHostTable<CachedRoute>, route: CachedRoute): void => routes.add(route.to.host, route.to.port, route);

const route = (host: string, port: number): CachedRoute => ({ to: { transport: 'udp', host, port } });

test('found by host and port, not by object; hosts on one port kept apart', () => {
  const routes = new PortHostTable<CachedRoute>(100);
  const a = route('127.0.0.1', 5060);
  const b = route('127.0.0.2', 5060);
  addRoute(routes, a);
  addRoute(routes, b);
  assert.ok(routes.find('127.0.0.1', 5060) === a);
  assert.ok(routes.find('127.0.0.2', 5060) === b);
  assert.is(routes.find('127.0.0.3', 5060), undefined);
  assert.is(routes.find('127.0.0.1', 5061), undefined);
  assert.is(routes.size, 2);
});

test('many hosts on one port are all found, whatever the order they are used in', () => {
  const routes = new PortHostTable<CachedRoute>(4096);
  const added: CachedRoute[] = [];
  for (let i = 1; i <= 200; i++) {
    const r = route(`10.0.${i >> 8}.${i & 255}`, 5060);
    added.push(r);
    addRoute(routes, r);
  }
  for (let i = 199; i >= 0; i--) assert.ok(routes.find(added[i]!.to.host, 5060) === added[i]);
  addRoute(routes, added[0]!);
  assert.is(routes.size, 200, 'a route added again counts once');
});

test('in all: past the bound the table starts over', () => {
  const routes = new PortHostTable<CachedRoute>(3);
  for (let port = 1; port <= 3; port++) addRoute(routes, route('127.0.0.1', port));
  assert.is(routes.size, 3);
  addRoute(routes, route('127.0.0.1', 4));
  assert.is(routes.size, 1);
  assert.is(routes.find('127.0.0.1', 1), undefined);
  assert.ok(routes.find('127.0.0.1', 4) !== undefined);
});

test.run();
