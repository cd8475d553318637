/**
 * SDK building blocks without any network: `completeSettings` (connection
 * settings given in code: defaults, the server forms "host", "host:port",
 * "[v6]:port" and { host, port }, the TLS default port, bad values ->
 * ConnectionSettingsError) and `TypedEvents` (on / once / off, unsubscribe
 * functions, a throwing handler neither stops the others nor escapes emit:
 * it goes to the sink, console.error by default).
 * Not covered: the SipEndpoint.config file reader (endpoint-config.test.ts),
 * connections and registrations (sdk-connection-manager.test.ts,
 * test/integration/sdk-phone.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CONNECTION_DEFAULTS,
  ConnectionSettingsError,
  TypedEvents,
  completeSettings,
  configFromXml,
  type ConnectionInput,
  type ConnectionSettings,
} from '../../src/sdk/index.ts';

// ------------------------------------------------------------ completeSettings

test('completeSettings: every default, as a SipEndpoint.config file gives them', () => {
  const settings = completeSettings({ user: '1001', server: 'sip.example.com' });
  assert.equal(settings, {
    user: '1001',
    server: { host: 'sip.example.com', port: 5060 },
    transport: 'udp',
    domain: 'sip.example.com',
    authUsername: '1001',
    reregisterInSeconds: 3600,
    minimumRetrySeconds: 20,
    maximumRetrySeconds: 1800,
    sendKeepAlive: false,
    keepAliveIntervalSeconds: 30,
    dialFailoverTimeoutMs: 2000,
    useRport: true,
    extra: {},
  });
  assert.not.ok('password' in settings, 'no password key when none is given');
  assert.not.ok('displayName' in settings);
  assert.is(CONNECTION_DEFAULTS.reregisterInSeconds, settings.reregisterInSeconds);
  // The same connection written in a file completes to the same object.
  const fromFile = configFromXml(
    '<Cfg><Container name="Basic"><Connectivity user="1001" server="sip.example.com"/></Container></Cfg>',
    'x.config',
    {},
  ).connections[0]!;
  assert.equal(settings, fromFile);
});

test('completeSettings: server forms and default ports', () => {
  const server = (input: Partial<ConnectionInput> & Pick<ConnectionInput, 'server'>) => {
    const s = completeSettings({ user: 'u', ...input });
    return [s.server.host, s.server.port, s.domain];
  };
  // Issue 10: the default domain is the server as written, the port only when one is written.
  assert.equal(server({ server: 'host.example' }), ['host.example', 5060, 'host.example']);
  assert.equal(server({ server: 'host.example:5070' }), ['host.example', 5070, 'host.example:5070']);
  assert.equal(server({ server: '10.0.0.1:5080' }), ['10.0.0.1', 5080, '10.0.0.1:5080']);
  assert.equal(server({ server: '[::1]:5070' }), ['::1', 5070, '[::1]:5070'], 'IPv6: bare for sockets, bracketed in the domain');
  assert.equal(server({ server: '[2001:db8::1]' }), ['2001:db8::1', 5060, '[2001:db8::1]']);
  assert.equal(server({ server: { host: 'h.example', port: 5090 } }), ['h.example', 5090, 'h.example:5090']);
  assert.equal(server({ server: { host: 'h.example' } }), ['h.example', 5060, 'h.example']);
  assert.equal(server({ server: { host: '::1', port: 5070 } }), ['::1', 5070, '[::1]:5070']);
  assert.equal(server({ server: { host: '[::1]', port: 5070 } }), ['::1', 5070, '[::1]:5070'], 'brackets in the object form are dropped');
  // TLS: 5061 by default, whatever form; an explicit port wins.
  assert.equal(server({ server: 'host.example', transport: 'tls' }), ['host.example', 5061, 'host.example']);
  assert.equal(server({ server: '[::1]', transport: 'tls' }), ['::1', 5061, '[::1]']);
  assert.equal(server({ server: { host: 'h.example' }, transport: 'TLS' }), ['h.example', 5061, 'h.example']);
  assert.equal(server({ server: 'host.example:5071', transport: 'tls' }), ['host.example', 5071, 'host.example:5071']);
  assert.equal(server({ server: 'host.example', transport: 'tcp' }), ['host.example', 5060, 'host.example']);
});

test('completeSettings: transports in either case, every optional field kept', () => {
  assert.is(completeSettings({ user: 'u', server: 'h', transport: 'TCP' }).transport, 'tcp');
  assert.is(completeSettings({ user: 'u', server: 'h', transport: 'UDP' }).transport, 'udp');
  const extra = { custom_thing: '1' };
  const s = completeSettings({
    user: '1001',
    server: 'h.example:5062',
    transport: 'tcp',
    displayName: 'Alice',
    domain: 'corp.example',
    password: 'secret',
    authUsername: 'alice',
    reregisterInSeconds: 60,
    minimumRetrySeconds: 5,
    maximumRetrySeconds: 5,
    sendKeepAlive: true,
    keepAliveIntervalSeconds: 7,
    dialFailoverTimeoutMs: 700,
    useRport: false,
    extra,
  });
  assert.equal(s, {
    user: '1001',
    server: { host: 'h.example', port: 5062 },
    transport: 'tcp',
    domain: 'corp.example',
    authUsername: 'alice',
    reregisterInSeconds: 60,
    minimumRetrySeconds: 5,
    maximumRetrySeconds: 5,
    sendKeepAlive: true,
    keepAliveIntervalSeconds: 7,
    dialFailoverTimeoutMs: 700,
    useRport: false,
    extra: { custom_thing: '1' },
    displayName: 'Alice',
    password: 'secret',
  });
  assert.is.not(s.extra, extra, 'extra is copied, not shared');
});

test('completeSettings: a complete ConnectionSettings passes through unchanged (idempotent)', () => {
  const once = completeSettings({ user: '1001', server: '[::1]:5070', transport: 'tls', password: 'p', displayName: 'D', reregisterInSeconds: 90 });
  const twice = completeSettings(once as ConnectionSettings);
  assert.equal(twice, once);
  assert.is.not(twice, once);
});

function rejects(input: unknown, pattern: RegExp): void {
  try {
    completeSettings(input as ConnectionInput);
  } catch (error) {
    assert.instance(error, ConnectionSettingsError, `${JSON.stringify(input)}: ${String(error)}`);
    assert.is((error as Error).name, 'ConnectionSettingsError');
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ConnectionSettingsError for ${JSON.stringify(input)}`);
}

test('completeSettings: bad values -> ConnectionSettingsError naming the value', () => {
  rejects({ server: 'h' }, /user/);
  rejects({ user: '', server: 'h' }, /user/);
  rejects({ user: 42, server: 'h' }, /user/);
  rejects({ user: 'u', server: 'h', transport: 'sctp' }, /transport/);
  rejects({ user: 'u', server: 'h', transport: 'ws' }, /transport/);
  rejects({ user: 'u', server: '' }, /server/);
  rejects({ user: 'u', server: '::1' }, /brackets/);
  rejects({ user: 'u', server: '[::1' }, /server/);
  rejects({ user: 'u', server: '[::1]5060' }, /server/);
  rejects({ user: 'u', server: '[example.com]:5060' }, /server/);
  rejects({ user: 'u', server: 'h:port' }, /server/);
  rejects({ user: 'u', server: 'h:0' }, /server|port/);
  rejects({ user: 'u', server: 'h:65536' }, /server|port/);
  rejects({ user: 'u', server: { host: 'h', port: 0 } }, /port 0/);
  rejects({ user: 'u', server: { host: 'h', port: 70000 } }, /port 70000/);
  rejects({ user: 'u', server: { host: 'h', port: 50.5 } }, /port/);
  rejects({ user: 'u', server: 'h', reregisterInSeconds: 0 }, /reregisterInSeconds/);
  rejects({ user: 'u', server: 'h', reregisterInSeconds: 1.5 }, /reregisterInSeconds/);
  rejects({ user: 'u', server: 'h', reregisterInSeconds: Number.NaN }, /reregisterInSeconds/);
  rejects({ user: 'u', server: 'h', minimumRetrySeconds: -1 }, /minimumRetrySeconds/);
  rejects({ user: 'u', server: 'h', maximumRetrySeconds: 0 }, /maximumRetrySeconds/);
  rejects({ user: 'u', server: 'h', minimumRetrySeconds: 30, maximumRetrySeconds: 10 }, /must not exceed/);
  // The minimum against the default maximum (1800) and the reverse.
  rejects({ user: 'u', server: 'h', minimumRetrySeconds: 1801 }, /must not exceed/);
  rejects({ user: 'u', server: 'h', maximumRetrySeconds: 19 }, /must not exceed/);
});

// ------------------------------------------------------------------ TypedEvents

interface TestEvents extends Record<string, unknown> {
  ping: number;
  pong: { text: string };
}

function quiet<T>(fn: (errors: Array<[unknown, string]>) => T, events: TypedEvents<TestEvents>): T {
  const errors: Array<[unknown, string]> = [];
  events.handlerErrorSink = (error, event) => errors.push([error, String(event)]);
  return fn(errors);
}

test('TypedEvents: on delivers each payload to every handler, in subscription order, per event name', () => {
  const events = new TypedEvents<TestEvents>();
  const seen: string[] = [];
  events.on('ping', (n) => seen.push(`a${n}`));
  events.on('ping', (n) => seen.push(`b${n}`));
  events.on('pong', (p) => seen.push(`pong:${p.text}`));
  events.emit('ping', 1);
  events.emit('pong', { text: 'x' });
  events.emit('ping', 2);
  assert.equal(seen, ['a1', 'b1', 'pong:x', 'a2', 'b2']);
  assert.is(events.listenerCount('ping'), 2);
  assert.is(events.listenerCount('pong'), 1);
});

test('TypedEvents: emit with no handler is a no-op; the same handler twice counts once', () => {
  const events = new TypedEvents<TestEvents>();
  events.emit('ping', 1);
  assert.is(events.listenerCount('ping'), 0);
  let calls = 0;
  const handler = () => calls++;
  events.on('ping', handler);
  events.on('ping', handler);
  events.emit('ping', 1);
  assert.is(calls, 1);
  assert.is(events.listenerCount('ping'), 1);
});

test('TypedEvents: off and the unsubscribe function remove a handler; removing twice is harmless', () => {
  const events = new TypedEvents<TestEvents>();
  const seen: number[] = [];
  const a = (n: number) => seen.push(n);
  const b = (n: number) => seen.push(n * 10);
  events.on('ping', a);
  const offB = events.on('ping', b);
  events.emit('ping', 1);
  events.off('ping', a);
  events.emit('ping', 2);
  offB();
  offB();
  events.off('ping', a);
  events.off('pong', () => {});
  events.emit('ping', 3);
  assert.equal(seen, [1, 10, 20]);
  assert.is(events.listenerCount('ping'), 0);
});

test('TypedEvents: once fires exactly once, even when emitted again from inside the handler; its off cancels it', () => {
  const events = new TypedEvents<TestEvents>();
  const seen: number[] = [];
  events.once('ping', (n) => {
    seen.push(n);
    events.emit('ping', n + 100); // re-entrant emit must not reach this handler again
  });
  events.emit('ping', 1);
  events.emit('ping', 2);
  assert.equal(seen, [1]);
  assert.is(events.listenerCount('ping'), 0);

  let cancelled = 0;
  const off = events.once('ping', () => cancelled++);
  assert.is(events.listenerCount('ping'), 1);
  off();
  events.emit('ping', 3);
  assert.is(cancelled, 0);
  assert.is(events.listenerCount('ping'), 0);
});

test('TypedEvents: a handler added during emit waits for the next emit', () => {
  const events = new TypedEvents<TestEvents>();
  const seen: string[] = [];
  events.on('ping', (n) => {
    seen.push(`first${n}`);
    if (n === 1) events.on('ping', (m) => seen.push(`late${m}`));
  });
  events.emit('ping', 1);
  events.emit('ping', 2);
  assert.equal(seen, ['first1', 'first2', 'late2']);
});

test('TypedEvents: a throwing handler does not stop the others; its error goes to the sink with the event name', () => {
  const events = new TypedEvents<TestEvents>();
  const seen: number[] = [];
  const boom = new Error('handler bug');
  quiet((errors) => {
    events.on('ping', (n) => seen.push(n));
    events.on('ping', () => {
      throw boom;
    });
    events.on('ping', (n) => seen.push(n * 10));
    events.once('ping', () => {
      throw 'not even an Error';
    });
    events.emit('ping', 1); // must not throw
    events.emit('ping', 2);
    assert.equal(seen, [1, 10, 2, 20]);
    assert.equal(errors, [
      [boom, 'ping'],
      ['not even an Error', 'ping'],
      [boom, 'ping'],
    ]);
  }, events);
});

test('TypedEvents: the default sink is console.error, naming the event', () => {
  const events = new TypedEvents<TestEvents>();
  const original = console.error;
  const logged: unknown[][] = [];
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    events.on('pong', () => {
      throw new Error('oops');
    });
    let after = false;
    events.on('pong', () => (after = true));
    events.emit('pong', { text: 't' });
    assert.ok(after, 'the next handler still ran');
  } finally {
    console.error = original;
  }
  assert.is(logged.length, 1);
  assert.match(String(logged[0]![0]), /pong handler threw/);
  assert.is((logged[0]![1] as Error).message, 'oops');
});

test.run();
