/**
 * ConnectionManager (src/sdk/connection-manager.ts) over a real
 * RegistrationManager and TransactionLayer, driven by a FakeClock and the
 * scripted registrar sites of registrar-fakes.ts (no sockets).
 *
 * Covers: addConnection / enableConnection / disableConnection /
 * removeConnection and their errors (duplicate id, unknown id, bad id, bad
 * settings -> ConnectionError / ConnectionSettingsError, nothing half-added);
 * the `connections` collection (id, user, server, transport, status, enabled,
 * registrationExpires(At), lastCode, lastReason) through every status;
 * `connectionStatusChanged` fired exactly once per change with connectionId,
 * status, previousStatus, code and reason (registering, registered,
 * unavailable 503/408, recovery, failed 401/403, disabled), a chain of
 * previous statuses without gaps, no events for refreshes or no-op calls;
 * handlers that throw; two connections refreshing every 60 s and 120 s over
 * a simulated day; a granted expiry shorter than the setting; the same user
 * (DN) on two sites as two registrations started together; disable and
 * remove stopping every timer (no REGISTER afterwards, nothing scheduled).
 * Not covered: Phone, sockets and the lab site (test/integration/sdk-phone.test.ts),
 * REGISTER contents and digest details (registrar-*.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConnectionError,
  ConnectionManager,
  ConnectionSettingsError,
  type ConnectionInput,
  type ConnectionStatusChanged,
} from '../../src/sdk/index.ts';
import { parseMessage } from '../../src/parser/index.ts';
import { rig, type FakeSite, type Rig } from './registrar-fakes.ts';

const DAY = 86_400;
/**
 * The Expires a REGISTER asks for with reregisterInSeconds 60 and 120,
 * worked out from ARCHITECTURE.md "Refresh": the period plus 32 s (Timer F).
 */
const ASKED_FOR_60 = 92;
const ASKED_FOR_120 = 152;
/** Clock -> wall time offset used by every rig here. */
const EPOCH = 1_700_000_000_000;

interface SdkRig extends Rig {
  readonly connections: ConnectionManager;
  /** Every connectionStatusChanged, with the clock time. */
  readonly changes: Array<ConnectionStatusChanged & { at: number }>;
  /** Changes of one connection as "status(code)". */
  seq(id: number): string[];
}

function sdkRig(options: Parameters<typeof rig>[0] = {}): SdkRig {
  const r = rig(options);
  const connections = new ConnectionManager(r.manager, (ms) => ms + EPOCH);
  const previous = r.manager.onStatusChanged!;
  r.manager.onStatusChanged = (event) => {
    previous(event);
    connections.onRegistrationStatus(event);
  };
  const changes: Array<ConnectionStatusChanged & { at: number }> = [];
  connections.on('connectionStatusChanged', (e) => changes.push({ ...e, at: r.clock.now() }));
  return {
    ...r,
    connections,
    changes,
    seq: (id) => changes.filter((e) => e.connectionId === id).map((e) => `${e.status}${e.code === undefined ? '' : `(${e.code})`}`),
  };
}

function input(site: FakeSite, extra: Partial<ConnectionInput> = {}): ConnectionInput {
  return { user: '1001', server: { host: site.endpoint.host, port: site.endpoint.port }, transport: 'tcp', ...extra };
}

/** Each event's previousStatus is the status of the event before it (first: disabled). */
function assertChain(r: SdkRig, id: number): void {
  let status = 'disabled';
  for (const e of r.changes.filter((c) => c.connectionId === id)) {
    assert.is(e.previousStatus, status, `connection ${id}: ${e.previousStatus} -> ${e.status}`);
    assert.is.not(e.status, e.previousStatus, 'a change is a change');
    status = e.status;
  }
}

function assertIdle(r: SdkRig, registrations: number): void {
  assert.equal(r.manager.stats(), { registrations, scheduled: 0, clockTimers: 0, inFlight: 0, draining: 0 });
  assert.is(r.layer.stats().transactions, 0, 'no transaction left');
  assert.is(r.clock.pending, 0, 'no clock timer left');
}

function throwsConnectionError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, ConnectionError, String(error));
    assert.is((error as Error).name, 'ConnectionError');
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable('expected a ConnectionError');
}

// ------------------------------------------------------------ the collection

test('addConnection: disabled, no event, no REGISTER; the collection lists every field, sorted by id', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1', 5070, 'udp');
  const info = r.connections.addConnection(3, { user: '1001', server: '198.51.100.1:5070', password: 'pw' });
  r.connections.addConnection(1, { user: '2002', server: '[2001:db8::7]:5090', transport: 'TCP', reregisterInSeconds: 120 });
  r.connections.addConnection(0, { user: '3003', server: { host: 'h.example' }, transport: 'tls' });
  assert.equal(
    { ...info, settings: undefined },
    {
      id: 3,
      user: '1001',
      server: '198.51.100.1:5070',
      transport: 'udp',
      status: 'disabled',
      enabled: false,
      registrationExpires: undefined,
      registrationExpiresAt: undefined,
      lastCode: undefined,
      lastReason: undefined,
      hasPassword: true,
      settings: undefined,
    },
  );
  // The password is never handed out (lists and events get logged); the stack reads it through settingsOf().
  assert.is(info.hasPassword, true);
  assert.is('password' in info.settings, false);
  assert.not.match(JSON.stringify(r.connections.connections), '"pw"');
  assert.is(r.connections.settingsOf(3)?.password, 'pw');
  assert.is(info.settings.reregisterInSeconds, 3600);
  const list = r.connections.connections;
  assert.equal(list.map((c) => c.id), [0, 1, 3]);
  assert.equal(list.map((c) => c.server), ['h.example:5061', '[2001:db8::7]:5090', '198.51.100.1:5070']);
  assert.equal(list.map((c) => c.transport), ['tls', 'tcp', 'udp']);
  assert.equal(list.map((c) => c.user), ['3003', '2002', '1001']);
  assert.is(list[1]!.settings.reregisterInSeconds, 120);
  assert.equal(r.connections.connection(1), list[1]);
  assert.is(r.connections.connection(2), undefined);
  assert.equal([0, 1, 2, 3].map((id) => r.connections.has(id)), [true, true, false, true]);
  assert.equal(r.connections.registeredIds(), []);
  r.advance(3600);
  assert.is(a.requests.length, 0, 'nothing sent before enable');
  assert.equal(r.changes, []);
  assertIdle(r, 3);
});

test('errors: duplicate id, unknown id, bad ids -> ConnectionError; bad settings -> ConnectionSettingsError; nothing half-added', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  r.connections.addConnection(0, input(a));
  throwsConnectionError(() => r.connections.addConnection(0, input(a, { user: '9999' })), /connection 0 exists already/);
  assert.is(r.connections.connection(0)!.user, '1001', 'the first one is kept');
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    throwsConnectionError(() => r.connections.addConnection(bad, input(a)), /whole number/);
  }
  throwsConnectionError(() => r.connections.enableConnection(7), /no connection 7/);
  throwsConnectionError(() => r.connections.disableConnection(7), /no connection 7/);
  throwsConnectionError(() => r.connections.removeConnection(7), /no connection 7/);
  try {
    r.connections.addConnection(1, input(a, { reregisterInSeconds: 0 }));
    assert.unreachable('bad settings');
  } catch (error) {
    assert.instance(error, ConnectionSettingsError);
  }
  try {
    r.connections.addConnection(1, { user: '1001', server: 'a:b:c' });
    assert.unreachable('bad server');
  } catch (error) {
    assert.instance(error, ConnectionSettingsError);
  }
  assert.equal(r.connections.connections.map((c) => c.id), [0]);
  assert.equal(r.manager.ids(), [0], 'the registration layer did not get the rejected ones');
  // The id is still free after a rejection.
  r.connections.addConnection(1, input(a, { user: '1002' }));
  assert.equal(r.connections.connections.map((c) => c.id), [0, 1]);
  assert.equal(r.changes, []);
});

// ------------------------------------------------------------- the events

test('enable: registering then registered(200 OK), one event each; the collection follows; refreshes are silent', () => {
  const r = sdkRig({ refreshSpread: 0 });
  const a = r.network.site('198.51.100.1');
  a.digest = { realm: 'lab', passwords: { '1001': 'pw' } };
  r.connections.addConnection(0, input(a, { password: 'pw', reregisterInSeconds: 60 }));
  r.clock.advance(5_000);
  r.connections.enableConnection(0);
  // The status changes at once, the REGISTER goes at the next turn of the timer heap.
  assert.equal(r.changes, [{ connectionId: 0, status: 'registering', previousStatus: 'disabled', code: undefined, reason: undefined, at: 5_000 }]);
  const registering = r.connections.connection(0)!;
  assert.is(registering.status, 'registering');
  assert.is(registering.enabled, true);
  assert.is(registering.registrationExpires, undefined);
  r.clock.advance(100);
  assert.is(a.registers.length, 2, '401, then with credentials');
  assert.equal(r.changes[1], { connectionId: 0, status: 'registered', previousStatus: 'registering', code: 200, reason: 'OK', at: 5_020 });
  const info = r.connections.connection(0)!;
  assert.is(info.status, 'registered');
  assert.is(info.registrationExpires, ASKED_FOR_60, 'granted what we asked');
  assert.is(info.registrationExpiresAt, EPOCH + 5_000 + 92_000, 'counted from the first REGISTER (sent at 5 s), in wall time');
  assert.is(info.lastCode, 200);
  assert.is(info.lastReason, 'OK');
  assert.equal(r.connections.registeredIds(), [0]);
  r.advance(3600);
  assert.is(r.changes.length, 2, 'an hour of refreshes: no event');
  assert.is(a.registers.length, 2 + 60, 'pre-emptive credentials on each refresh');
  assert.is(r.connections.connection(0)!.registrationExpiresAt, EPOCH + 5_000 + 3600_000 + 92_000, 'from the 60th refresh, sent at 5 s + 3600 s');
  // Enabling an enabled connection changes nothing.
  r.connections.enableConnection(0);
  r.advance(1);
  assert.is(r.changes.length, 2);
  assertChain(r, 0);
});

test('site down and back: unavailable(503) once while it refuses, registered once when it answers; the other connection hears nothing', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  const b = r.network.site('198.51.100.2');
  r.connections.addConnection(0, input(a, { reregisterInSeconds: 60, minimumRetrySeconds: 5, maximumRetrySeconds: 40 }));
  r.connections.addConnection(1, input(b, { reregisterInSeconds: 60 }));
  r.connections.enableConnection(0);
  r.connections.enableConnection(1);
  r.advance(1);
  assert.equal(r.seq(0), ['registering', 'registered(200)']);
  assert.equal(r.seq(1), ['registering', 'registered(200)']);
  const before = r.changes.length;

  a.state = 'refusing';
  r.advance(61); // the next refresh (at most 60 s away) is refused
  const down = r.changes.slice(before);
  assert.is(down.length, 1);
  assert.is(down[0]!.connectionId, 0);
  assert.is(down[0]!.status, 'unavailable');
  assert.is(down[0]!.previousStatus, 'registered');
  assert.is(down[0]!.code, 503);
  assert.match(down[0]!.reason!, /ECONNREFUSED/);
  const info = r.connections.connection(0)!;
  assert.equal([info.status, info.lastCode, info.registrationExpires, info.registrationExpiresAt], ['unavailable', 503, undefined, undefined]);
  assert.equal(r.connections.registeredIds(), [1]);

  const attempts = a.registers.length;
  r.advance(600); // retried, in [5, 40] s steps, all refused: no new event
  assert.ok(a.registers.length - attempts >= 600 / 40, `retried ${a.registers.length - attempts} times`);
  assert.ok(a.registers.length - attempts <= 600 / 5, 'never faster than the minimum');
  assert.is(r.changes.length, before + 1, 'staying unavailable is no event');

  a.state = 'up';
  r.advance(41); // within the retry cap
  assert.equal(r.seq(0), ['registering', 'registered(200)', 'unavailable(503)', 'registered(200)']);
  assert.equal(r.seq(1), ['registering', 'registered(200)'], 'connection 1 untouched throughout');
  assert.equal(r.connections.registeredIds(), [0, 1]);
  assertChain(r, 0);
  assertChain(r, 1);
});

test('a silent site: unavailable(408) after Timer F (64*T1 = 32 s), once', () => {
  const r = sdkRig({ refreshSpread: 0 });
  const a = r.network.site('198.51.100.1');
  r.connections.addConnection(0, input(a, { reregisterInSeconds: 60, minimumRetrySeconds: 20, maximumRetrySeconds: 60 }));
  r.connections.enableConnection(0);
  r.advance(1);
  a.state = 'silent';
  r.clock.advance(59_000 + 32_000 - 1);
  assert.equal(r.seq(0), ['registering', 'registered(200)'], 'not before Timer F');
  r.clock.advance(1);
  assert.equal(r.seq(0), ['registering', 'registered(200)', 'unavailable(408)']);
  assert.is(r.changes.at(-1)!.at, 60_000 + 32_000, 'refresh at 60 s + Timer F');
  assert.match(r.connections.connection(0)!.lastReason!, /timeout/);
  r.advance(3600);
  assert.is(r.seq(0).length, 3);
});

test('wrong password: failed(401) once, no loop; enable again retries once from scratch', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  a.digest = { realm: 'lab', passwords: { '1001': 'right' } };
  r.connections.addConnection(0, input(a, { password: 'wrong', reregisterInSeconds: 60, minimumRetrySeconds: 1, maximumRetrySeconds: 2 }));
  r.connections.enableConnection(0);
  r.advance(DAY);
  assert.is(a.registers.length, 2, 'one challenge answered, then stop');
  assert.equal(r.seq(0), ['registering', 'failed(401)']);
  const info = r.connections.connection(0)!;
  assert.equal([info.status, info.enabled, info.lastCode], ['failed', true, 401]);
  assert.ok(info.lastReason !== undefined && info.lastReason.length > 0);
  assertIdle(r, 1);
  r.connections.enableConnection(0); // restarts a failed connection
  r.advance(DAY);
  assert.is(a.registers.length, 4);
  assert.equal(r.seq(0), ['registering', 'failed(401)', 'registering', 'failed(401)']);
  assertChain(r, 0);
  assertIdle(r, 1);
});

test('403 (rejected): failed(403) with the reason phrase; disable from failed -> disabled, no unregister', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  a.script = () => ({ status: 403, reason: 'Not Here' });
  r.connections.addConnection(0, input(a));
  r.connections.enableConnection(0);
  r.advance(1);
  assert.equal(r.changes.at(-1), { connectionId: 0, status: 'failed', previousStatus: 'registering', code: 403, reason: 'Not Here', at: 10 });
  r.connections.disableConnection(0);
  r.advance(60);
  assert.is(a.registers.length, 1, 'nothing to unregister');
  assert.equal(r.seq(0), ['registering', 'failed(403)', 'disabled']);
  assertIdle(r, 1);
});

test('disable: disabled at once (one event), unregisters, then no REGISTER and no timer; enable registers again', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  const b = r.network.site('198.51.100.2');
  r.connections.addConnection(0, input(a, { reregisterInSeconds: 60 }));
  r.connections.addConnection(1, input(b, { reregisterInSeconds: 60 }));
  r.connections.enableConnection(0);
  r.connections.enableConnection(1);
  r.advance(1);
  const aor = 'sip:1001@198.51.100.1:5060';
  assert.is(a.bindings.get(aor)!.size, 1);
  r.connections.disableConnection(0);
  assert.equal(r.changes.at(-1), { connectionId: 0, status: 'disabled', previousStatus: 'registered', code: undefined, reason: undefined, at: 1000 });
  const info = r.connections.connection(0)!;
  // The last SIP code stays (the "last error" of DESIGN.md); disabling carries none.
  assert.equal([info.status, info.enabled, info.registrationExpires, info.lastCode], ['disabled', false, undefined, 200]);
  r.advance(1);
  assert.is(a.registers.at(-1)!.message.expires, 0, 'unregister');
  assert.is(a.bindings.get(aor)!.size, 0, 'binding removed at the site');
  const sent = a.registers.length;
  r.advance(DAY);
  assert.is(a.registers.length, sent, 'no REGISTER after disable');
  assert.equal(r.seq(0), ['registering', 'registered(200)', 'disabled']);
  assert.ok(b.registers.length >= DAY / 60, 'the other connection keeps refreshing');
  assert.is(r.manager.stats().scheduled, 1, 'only connection 1 has a wake-up');
  r.connections.disableConnection(0); // again: nothing
  assert.is(r.seq(0).length, 3);
  r.connections.disableConnection(1);
  r.advance(1);
  assertIdle(r, 2);

  r.connections.enableConnection(0);
  r.advance(1);
  assert.equal(r.seq(0), ['registering', 'registered(200)', 'disabled', 'registering', 'registered(200)']);
  assert.is(a.bindings.get(aor)!.size, 1);
  assertChain(r, 0);
});

test('disable while unavailable: no unregister, the retries stop', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  a.state = 'refusing';
  r.connections.addConnection(0, input(a, { minimumRetrySeconds: 1, maximumRetrySeconds: 4 }));
  r.connections.enableConnection(0);
  r.advance(30);
  assert.equal(r.seq(0), ['registering', 'unavailable(503)']);
  const sent = a.requests.length;
  assert.ok(sent >= 30 / 4);
  r.connections.disableConnection(0);
  r.advance(DAY);
  assert.is(a.requests.length, sent);
  assert.equal(r.seq(0), ['registering', 'unavailable(503)', 'disabled']);
  assertIdle(r, 1);
});

test('remove: one disabled event, unregister, forgotten (ConnectionError afterwards), every timer gone; the id can be reused', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  r.connections.addConnection(0, input(a, { reregisterInSeconds: 60 }));
  r.connections.addConnection(1, input(a, { user: '1002', reregisterInSeconds: 60 }));
  r.connections.enableConnection(0);
  r.connections.enableConnection(1);
  r.advance(1);
  r.connections.removeConnection(0);
  assert.equal(r.changes.at(-1), { connectionId: 0, status: 'disabled', previousStatus: 'registered', code: undefined, reason: undefined, at: 1000 });
  assert.is(r.connections.connection(0), undefined);
  assert.equal(r.connections.connections.map((c) => c.id), [1]);
  throwsConnectionError(() => r.connections.enableConnection(0), /no connection 0/);
  throwsConnectionError(() => r.connections.removeConnection(0), /no connection 0/);
  assert.is(r.manager.stats().draining, 1, 'the unregister is in flight');
  r.advance(1);
  assert.is(a.bindings.get('sip:1001@198.51.100.1:5060')!.size, 0, 'unregistered');
  assert.is(a.bindings.get('sip:1002@198.51.100.1:5060')!.size, 1);
  const sent = a.registers.filter((q) => q.message.to!.uri.user === '1001').length;
  r.advance(DAY);
  assert.is(a.registers.filter((q) => q.message.to!.uri.user === '1001').length, sent, 'no REGISTER for the removed one');
  assert.equal(r.seq(0), ['registering', 'registered(200)', 'disabled']);
  // No late event for the removed id, even from the registration layer.
  r.connections.onRegistrationStatus({ id: 0, status: 'registered', previous: 'disabled', code: 200, reason: 'OK' });
  r.connections.onRegistrationStatus({ id: 'x', status: 'registered', previous: 'disabled', code: 200, reason: 'OK' });
  assert.is(r.seq(0).length, 3);
  r.connections.removeConnection(1);
  r.advance(1);
  assertIdle(r, 0);
  // A new connection may take a removed id; it starts from scratch.
  r.connections.addConnection(0, input(a, { user: '1003' }));
  assert.is(r.connections.connection(0)!.status, 'disabled');
  r.connections.enableConnection(0);
  r.advance(1);
  assert.equal(r.seq(0), ['registering', 'registered(200)', 'disabled', 'registering', 'registered(200)']);
});

test('remove of a disabled connection: no event; removing while a REGISTER is in flight unregisters after its 200', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  r.connections.addConnection(0, input(a));
  r.connections.removeConnection(0);
  assert.equal(r.changes, []);
  assertIdle(r, 0);
  r.connections.addConnection(1, input(a));
  r.connections.enableConnection(1);
  r.clock.advance(0); // REGISTER sent, answer 10 ms away
  assert.is(a.registers.length, 1);
  r.connections.removeConnection(1);
  assert.equal(r.seq(1), ['registering', 'disabled']);
  r.advance(1);
  assert.is(a.registers.length, 2);
  assert.is(a.registers[1]!.message.expires, 0, 'the binding made by the REGISTER in flight is removed');
  assert.is(a.bindings.get('sip:1001@198.51.100.1:5060')!.size, 0);
  assert.equal(r.seq(1), ['registering', 'disabled'], 'its 200 is no event after removal');
  assertIdle(r, 0);
});

// ------------------------------------------------------------ scheduling

test('action promises: enable resolves with the first outcome (read before handlers act on it), undefined once removed; disable and remove once unregistered', async () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  a.digest = { realm: 'lab', passwords: { '1001': 'right', '1002': 'right' } };
  r.connections.addConnection(0, input(a, { password: 'wrong', reregisterInSeconds: 60 }));
  r.connections.addConnection(1, input(a, { user: '1002', password: 'right', reregisterInSeconds: 60 }));
  r.connections.addConnection(2, input(a, { user: '1003', reregisterInSeconds: 60 }));
  // A handler that tries again at once after `failed`: the first promise still reports `failed`.
  let retried = false;
  r.connections.on('connectionStatusChanged', (e) => {
    if (e.connectionId === 0 && e.status === 'failed' && !retried) {
      retried = true;
      void r.connections.enableConnection(0);
    }
  });
  const first = r.connections.enableConnection(0);
  const second = r.connections.enableConnection(1);
  r.advance(1);
  assert.equal([(await first)?.status, (await first)?.lastCode], ['failed', 401]);
  assert.ok(retried);
  assert.equal([(await second)?.status, (await second)?.lastCode], ['registered', 200]);
  assert.is((await r.connections.enableConnection(1))?.status, 'registered', 'already registered: at once');
  // Removed while its first REGISTER is out: the promise hears it is gone.
  const gone = r.connections.enableConnection(2);
  r.connections.removeConnection(2);
  assert.is(await gone, undefined);
  // disable waits for the unregister's answer.
  let disabled = false;
  const disabling = r.connections.disableConnection(1).then(() => (disabled = true));
  await Promise.resolve();
  assert.is(disabled, false, 'the unregister is not answered yet');
  r.advance(1);
  await disabling;
  assert.is(a.bindings.get('sip:1002@198.51.100.1:5060')!.size, 0);
  r.connections.removeConnection(0);
  r.advance(DAY);
  assertIdle(r, 1);
});

test('disable, enable and disable again in one turn: the binding made before is still removed', async () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  r.connections.addConnection(0, input(a, { reregisterInSeconds: 60 }));
  void r.connections.enableConnection(0);
  r.advance(1);
  assert.is(a.bindings.get('sip:1001@198.51.100.1:5060')!.size, 1);
  void r.connections.disableConnection(0);
  void r.connections.enableConnection(0);
  const last = r.connections.disableConnection(0);
  r.advance(1);
  await last;
  assert.is(a.bindings.get('sip:1001@198.51.100.1:5060')!.size, 0, 'unregistered');
  assert.equal(r.seq(0), ['registering', 'registered(200)', 'disabled', 'registering', 'disabled']);
  r.advance(DAY);
  assertIdle(r, 1);
});

test('two connections with reregisterInSeconds 60 and 120 refresh at exactly those periods over a simulated day', () => {
  const r = sdkRig({ refreshSpread: 0 });
  const a = r.network.site('198.51.100.1');
  const b = r.network.site('198.51.100.2');
  r.connections.addConnection(0, input(a, { reregisterInSeconds: 60 }));
  r.connections.addConnection(1, input(b, { reregisterInSeconds: 120 }));
  r.connections.enableConnection(0);
  r.connections.enableConnection(1);
  r.advance(DAY);
  assert.equal(a.times(), Array.from({ length: DAY / 60 + 1 }, (_, k) => k * 60_000));
  assert.equal(b.times(), Array.from({ length: DAY / 120 + 1 }, (_, k) => k * 120_000));
  assert.equal(r.seq(0), ['registering', 'registered(200)']);
  assert.equal(r.seq(1), ['registering', 'registered(200)']);
  assert.equal(r.connections.connections.map((c) => c.registrationExpires), [ASKED_FOR_60, ASKED_FOR_120]);
  assert.is(r.manager.stats().inFlight, 2, 'the refreshes at 24:00 are in flight');
  r.advance(1);
  assert.equal(r.manager.stats(), { registrations: 2, scheduled: 2, clockTimers: 1, inFlight: 0, draining: 0 }, 'one clock timer for both');
});

test('default spread: only the first refresh comes earlier (by at most 10%), then the period is exact', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  const b = r.network.site('198.51.100.2');
  r.connections.addConnection(0, input(a, { reregisterInSeconds: 60 }));
  r.connections.addConnection(1, input(b, { reregisterInSeconds: 120 }));
  r.connections.enableConnection(0);
  r.connections.enableConnection(1);
  r.advance(DAY);
  for (const [site, period] of [
    [a, 60_000],
    [b, 120_000],
  ] as const) {
    const t = site.times();
    const d = t.slice(1).map((x, i) => x - t[i]!);
    assert.ok(d[0]! >= 0.9 * period && d[0]! <= period, `first refresh after ${d[0]} ms`);
    assert.ok(
      d.slice(1).every((x) => x === period),
      'then exactly the period',
    );
    assert.ok(t.length >= DAY / (period / 1000));
  }
  assert.is(r.changes.length, 4);
});

test('a granted expiry shorter than the setting wins, and is what the collection reports', () => {
  const r = sdkRig({ refreshSpread: 0 });
  const a = r.network.site('198.51.100.1');
  a.maxExpires = 100;
  r.connections.addConnection(0, input(a, { reregisterInSeconds: 3600 }));
  r.connections.enableConnection(0);
  r.advance(3600);
  const t = a.times();
  assert.ok(t.slice(1).every((x, i) => x - t[i]! === 68_000), 'refreshed 32 s before the 100 s grant runs out');
  assert.is(r.connections.connection(0)!.registrationExpires, 100);
});

test('same user (DN) on two sites: two registrations, first REGISTERs at the same instant, one binding on each site', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  const b = r.network.site('198.51.100.2', 5080);
  r.connections.addConnection(0, { user: '1001', server: '198.51.100.1', transport: 'tcp' });
  r.connections.addConnection(1, { user: '1001', server: '198.51.100.2:5080', transport: 'tcp' });
  r.clock.advance(777);
  r.connections.enableConnection(0);
  r.connections.enableConnection(1);
  r.advance(1);
  assert.equal(a.times(), [777]);
  assert.equal(b.times(), [777]);
  assert.is(a.registers[0]!.message.to!.uri.user, '1001');
  assert.is(b.registers[0]!.message.to!.uri.user, '1001');
  assert.is.not(a.registers[0]!.message.callId, b.registers[0]!.message.callId, 'separate registrations');
  assert.is(a.bindings.get('sip:1001@198.51.100.1')!.size, 1);
  assert.is(b.bindings.get('sip:1001@198.51.100.2:5080')!.size, 1);
  assert.equal(r.connections.registeredIds(), [0, 1]);
  assert.equal(r.seq(0), ['registering', 'registered(200)']);
  assert.equal(r.seq(1), ['registering', 'registered(200)']);
});

// ------------------------------------------------------------ handlers

test('a throwing connectionStatusChanged handler: the others still get every event, the error goes to the sink, registration carries on', () => {
  const r = sdkRig();
  const a = r.network.site('198.51.100.1');
  const errors: unknown[] = [];
  r.connections.handlerErrorSink = (error) => errors.push(error);
  r.connections.on('connectionStatusChanged', () => {
    throw new Error('application bug');
  });
  const later: string[] = [];
  r.connections.on('connectionStatusChanged', (e) => later.push(e.status));
  let once = 0;
  r.connections.once('connectionStatusChanged', () => once++);
  r.connections.addConnection(0, input(a, { reregisterInSeconds: 60 }));
  r.connections.enableConnection(0);
  r.advance(1);
  assert.equal(later, ['registering', 'registered']);
  assert.equal(r.seq(0), ['registering', 'registered(200)']);
  assert.is(errors.length, 2);
  assert.is(once, 1);
  assert.is(r.connections.connection(0)!.status, 'registered');
  r.advance(600);
  assert.ok(a.registers.length >= 10, 'refreshing as usual');
});

test('a server named by a host name is recognised by the addresses its name resolved to (trust, incoming lines); others are not', () => {
  const r = rig();
  const resolved: Record<string, readonly string[]> = { 'pbx.example.com': ['192.0.2.50', '2001:db8::50'] };
  const connections = new ConnectionManager(r.manager, (ms) => ms, () => {}, Math.random, (host) => resolved[host] ?? []);
  connections.addConnection(0, { user: '1001', server: 'pbx.example.com:5060', transport: 'udp' });
  connections.addConnection(1, { user: '1001', server: '192.0.2.60:5060', transport: 'udp' });
  const options = parseMessage(new TextEncoder().encode('OPTIONS sip:1001@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.50;branch=z9hG4bK-1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:1001@192.0.2.10>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
  assert.ok(connections.isServerAddress(0, '192.0.2.50'));
  assert.ok(connections.isServerAddress(0, '[2001:DB8::50]'), 'IPv6 compared normalized');
  assert.not.ok(connections.isServerAddress(0, '192.0.2.60'));
  assert.ok(connections.isServerAddress(1, '192.0.2.60'));
  assert.ok(connections.isTrustedSource('192.0.2.50', options), 'a request from the named site is from one of our sites');
  assert.not.ok(connections.isTrustedSource('192.0.2.99', options), 'another address is not');
  assert.not.ok(connections.isServerAddress(7, '192.0.2.50'), 'no such connection');
});

test.run();
