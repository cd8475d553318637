/**
 * RegistrationManager at scale and at its edges, on a bulk fake sender (no
 * transaction layer) so that 10,000 registrations run in well under a second.
 *
 * Covers: 10,000 registrations started together: first REGISTERs in start
 * order, at most one batch per clock callback, ONE clock timer armed at any
 * time, all registered, refreshes spread over a day, stop of all freeing
 * everything; outcomes reported inside sendRequest() (synchronous transport
 * error, synchronous 200); sendRequest throwing; settings checks; API errors;
 * a throwing listener; the default random.
 * Not covered: message contents and flows (registrar-registration.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage, type MessageParts, type SipMessage } from '../../src/parser/index.ts';
import { TransportError, type Endpoint } from '../../src/transport/types.ts';
import type { ClientTransactionUser } from '../../src/transaction/index.ts';
import {
  DEFAULT_MAX_IN_FLIGHT,
  RegistrationManager,
  resolveSettings,
  type RegisterSender,
  type RegistrationStatusEvent,
} from '../../src/registrar-client/index.ts';
import { CountingClock, LOCAL_HOST, seededRandom } from './registrar-fakes.ts';

type Mode = 'hold' | 'ok' | 'refuse' | 'throw';

/** Records REGISTERs; answers them at once (inside sendRequest), or holds them for flush(). */
class BulkSender implements RegisterSender {
  mode: Mode = 'hold';
  readonly sent: Array<{ at: number; armed: number; parts: MessageParts; target: Endpoint }> = [];
  readonly held: Array<{ parts: MessageParts; user: ClientTransactionUser; target: Endpoint }> = [];

  constructor(readonly clock: CountingClock) {}

  sendRequest(parts: MessageParts, target: Endpoint, user: ClientTransactionUser): unknown {
    if (this.mode === 'throw') throw new Error('transaction layer is closed');
    this.sent.push({ at: this.clock.now(), armed: this.clock.armed, parts, target });
    if (this.mode === 'hold') this.held.push({ parts, user, target });
    else this.answer(parts, user, target, this.mode === 'ok' ? 200 : 503);
    return undefined;
  }

  answer(parts: MessageParts, user: ClientTransactionUser, target: Endpoint, status: number): void {
    const response = ok(parts, status);
    if (status === 503) {
      user.onFinal({ cause: 'transportError', status: 503, response, error: new TransportError('ECONNREFUSED', target, 'refused') });
    } else {
      user.onFinal({ cause: 'response', status, response });
    }
  }

  flush(status = 200): void {
    for (const { parts, user, target } of this.held.splice(0)) this.answer(parts, user, target, status);
  }
}

function value(parts: MessageParts, name: string): string {
  return parts.headers.find(([n]) => n === name)![1];
}

const answers = new Map<string, SipMessage>();

/**
 * A 200 that lists the Contact of the request with the Expires asked (or a
 * 503). Parsed once per registration and status: a registration reads only
 * the status, Contact and Expires of the answer.
 */
function ok(parts: MessageParts, status: number): SipMessage {
  const key = `${status} ${value(parts, 'Call-ID')} ${value(parts, 'Expires')}`;
  let answer = answers.get(key);
  if (answer === undefined) answers.set(key, (answer = build(parts, status)));
  return answer;
}

function build(parts: MessageParts, status: number): SipMessage {
  const headers: Array<[string, string]> = [
    ['Via', 'SIP/2.0/TCP 192.0.2.10;branch=z9hG4bKbulk'],
    ['From', value(parts, 'From')],
    ['To', `${value(parts, 'To')};tag=r`],
    ['Call-ID', value(parts, 'Call-ID')],
    ['CSeq', value(parts, 'CSeq')],
  ];
  if (status === 200) headers.push(['Contact', `${value(parts, 'Contact')};expires=${value(parts, 'Expires')}`]);
  return parseMessage(formatMessage({ status, headers }));
}

function setup(options: { batchSize?: number; maxInFlight?: number } = {}) {
  const clock = new CountingClock();
  const sender = new BulkSender(clock);
  const events: RegistrationStatusEvent[] = [];
  const manager = new RegistrationManager({
    transactionLayer: sender,
    clock,
    localEndpoint: (transport) => ({ transport, host: LOCAL_HOST, port: 5060 }),
    random: seededRandom(42),
    onStatusChanged: (event) => events.push(event),
    ...options,
  });
  return { clock, sender, manager, events };
}

const SITE = { server: { host: '198.51.100.9', port: 5060 }, transport: 'tcp' as const };

test('10,000 registrations: one clock timer, batched first REGISTERs in start order, refreshes spread', () => {
  const { clock, sender, manager, events } = setup({ batchSize: 256 });
  const N = 10_000;
  for (let i = 0; i < N; i++) manager.add(i, { ...SITE, user: `u${String(i).padStart(5, '0')}` });
  for (let i = 0; i < N; i++) manager.start(i);
  assert.equal(manager.stats(), { registrations: N, scheduled: N, clockTimers: 1, inFlight: 0, draining: 0 });
  assert.is(clock.pending, 1);
  sender.mode = 'ok';
  clock.advance(0);
  assert.is(sender.sent.length, N);
  const users = sender.sent.map((s) => value(s.parts, 'To'));
  assert.is(users[0], '<sip:u00000@198.51.100.9>');
  assert.is(users[N - 1], '<sip:u09999@198.51.100.9>');
  assert.ok(users.every((u, i) => u === `<sip:u${String(i).padStart(5, '0')}@198.51.100.9>`), 'start order');
  // REGISTERs sent under one clock callback share the `armed` count.
  const perCallback = new Map<number, number>();
  for (const s of sender.sent) perCallback.set(s.armed, (perCallback.get(s.armed) ?? 0) + 1);
  assert.ok([...perCallback.values()].every((n) => n <= 256), 'at most one batch per tick');
  assert.ok(perCallback.size >= N / 256);
  assert.is(events.filter((e) => e.status === 'registered').length, N);
  assert.equal(manager.stats(), { registrations: N, scheduled: N, clockTimers: 1, inFlight: 0, draining: 0 });
  // Two hours: each refreshes once within the last 10% of the first hour, then one period later.
  clock.advance(7_300_000);
  const refreshes = sender.sent.slice(N);
  assert.is(refreshes.length, 2 * N, 'two refreshes each');
  assert.ok(refreshes.slice(0, N).every((s) => s.at > 3_240_000 && s.at <= 3_600_000));
  const perMs = new Map<number, number>();
  for (const s of refreshes) perMs.set(s.at, (perMs.get(s.at) ?? 0) + 1);
  let herd = 0;
  for (const n of perMs.values()) herd = Math.max(herd, n);
  assert.ok(herd <= 5, `no herd: at most ${herd} refreshes in the same ms`);
  assert.is(clock.maxPending, 1, 'one clock timer at any time');
  assert.is(events.length, 2 * N, 'refreshes are no events');
  for (let i = 0; i < N; i++) manager.stop(i);
  clock.advance(0); // the unregisters go out paced by the flight window, through the heap
  assert.is(sender.sent.length, N + refreshes.length + N, 'one unregister each');
  assert.equal(manager.stats(), { registrations: N, scheduled: 0, clockTimers: 0, inFlight: 0, draining: 0 });
  assert.is(clock.pending, 0);
});

test('the flight window: at most maxInFlight REGISTER exchanges on the wire, the rest go as answers come', () => {
  const { clock, sender, manager, events } = setup({ maxInFlight: 100 });
  const N = 1000;
  for (let i = 0; i < N; i++) {
    manager.add(i, { ...SITE, user: `w${i}` });
    manager.start(i);
  }
  clock.advance(0);
  assert.is(sender.held.length, 100, 'the first 100 only');
  let rounds = 0;
  while (sender.held.length > 0) {
    sender.flush(200);
    clock.advance(0);
    assert.ok(sender.held.length <= 100, `never more than 100 in flight (${sender.held.length})`);
    rounds++;
  }
  assert.is(rounds, 10);
  assert.is(events.filter((e) => e.status === 'registered').length, N, 'every one registered, in the start order');
  assert.is(sender.sent.length, N);
  for (let i = 0; i < N; i++) manager.stop(i);
  clock.advance(0);
  assert.is(sender.held.length, 100, 'unregisters are paced too');
  while (sender.held.length > 0) {
    sender.flush(200);
    clock.advance(0);
  }
  assert.is(sender.sent.length, 2 * N, 'one unregister each');
  assert.equal(manager.stats().inFlight, 0);
});

test('a freed slot goes to the next in line at once, without a timer turn; a stopped waiter passes its slot on', () => {
  const { clock, sender, manager, events } = setup({ maxInFlight: 2 });
  for (let i = 0; i < 5; i++) {
    manager.add(i, { ...SITE, user: `q${i}` });
    manager.start(i);
  }
  clock.advance(0);
  assert.is(sender.held.length, 2, 'two on the wire, three in line');
  manager.stop(2); // waiting in line, never sent: it must not hold a slot when its turn comes
  sender.flush(200);
  assert.is(sender.held.length, 2, 'the two freed slots were handed over during the answers, before any clock turn');
  sender.flush(200);
  assert.is(sender.held.length, 0);
  const registered = events.filter((e) => e.status === 'registered').map((e) => e.id);
  assert.equal(registered, [0, 1, 3, 4], 'in line order, the stopped one skipped');
  assert.equal(manager.stats().inFlight, 0);
});

test('the default flight window is DEFAULT_MAX_IN_FLIGHT; a window that could never send is refused', () => {
  const { clock, sender, manager } = setup();
  for (let i = 0; i < 3 * DEFAULT_MAX_IN_FLIGHT; i++) {
    manager.add(i, { ...SITE, user: `d${i}` });
    manager.start(i);
  }
  clock.advance(0);
  assert.is(sender.held.length, DEFAULT_MAX_IN_FLIGHT);
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => setup({ maxInFlight: bad }), (error: unknown) => error instanceof RangeError && /maxInFlight/.test(String(error)));
  }
});

test('10,000 registrations failing together retry spread out, still one clock timer', () => {
  const { clock, sender, manager } = setup();
  const N = 10_000;
  sender.mode = 'refuse';
  for (let i = 0; i < N; i++) {
    manager.add(i, { ...SITE, user: `u${i}` });
    manager.start(i);
  }
  clock.advance(0);
  assert.is(sender.sent.length, N);
  clock.advance(30_000);
  const retries = sender.sent.slice(N).map((s) => s.at);
  assert.is(retries.length, N, 'each retried once, between the minimum and 1.5 times it');
  assert.ok(retries.every((t) => t >= 20_000 && t <= 30_000));
  const seconds = new Set(retries.map((t) => Math.floor(t / 1000)));
  assert.ok(seconds.size >= 10, 'spread over the window');
  assert.is(clock.maxPending, 1);
  for (let i = 0; i < N; i++) manager.remove(i);
  assert.equal(manager.stats(), { registrations: 0, scheduled: 0, clockTimers: 0, inFlight: 0, draining: 0 });
  assert.is(clock.pending, 0);
});

test('outcome inside sendRequest: synchronous transport error -> unavailable; later 200 -> registered', () => {
  const { clock, sender, manager, events } = setup();
  sender.mode = 'refuse';
  manager.add('x', { ...SITE, user: 'x' });
  manager.start('x');
  clock.advance(0);
  assert.equal(events.map((e) => `${e.status}(${e.code})`), ['registering(undefined)', 'unavailable(503)']);
  sender.mode = 'ok';
  clock.advance(30_000);
  assert.equal(events.map((e) => e.status), ['registering', 'unavailable', 'registered']);
  assert.is(manager.stats().inFlight, 0);
});

test('sendRequest throwing -> unavailable(503) and retried; stop frees it', () => {
  const { clock, sender, manager, events } = setup();
  sender.mode = 'throw';
  manager.add(1, { ...SITE, user: 'y' });
  manager.start(1);
  clock.advance(0);
  assert.is(events.at(-1)!.status, 'unavailable');
  assert.is(events.at(-1)!.code, 503);
  assert.match(events.at(-1)!.reason!, /cannot send: transaction layer is closed/);
  assert.is(manager.stats().scheduled, 1);
  manager.stop(1);
  assert.equal(manager.stats(), { registrations: 1, scheduled: 0, clockTimers: 0, inFlight: 0, draining: 0 });
});

test('remove while a REGISTER is held: drains, then unregisters after the 200', async () => {
  const { clock, sender, manager } = setup();
  manager.add(1, { ...SITE, user: 'z' });
  manager.start(1);
  clock.advance(0);
  manager.remove(1);
  assert.equal(manager.stats(), { registrations: 0, scheduled: 0, clockTimers: 0, inFlight: 1, draining: 1 });
  let closed = false;
  const done = manager.close().then(() => (closed = true));
  sender.flush(200); // the REGISTER registered us: unregister goes out (held)
  assert.is(value(sender.sent.at(-1)!.parts, 'Expires'), '0');
  await Promise.resolve();
  assert.is(closed, false);
  sender.flush(200);
  await done;
  assert.equal(manager.stats(), { registrations: 0, scheduled: 0, clockTimers: 0, inFlight: 0, draining: 0 });
});

test('stop() and remove() resolve once the unregister is answered; a stop overtaken by start() resolves then; an idle one at once', async () => {
  const { clock, sender, manager } = setup();
  const settled: string[] = [];
  manager.add(1, { ...SITE, user: 's' });
  manager.add(2, { ...SITE, user: 'r' });
  manager.add(3, { ...SITE, user: 'i' });
  // Never started: nothing to wait for.
  await manager.stop(3);
  manager.start(1);
  manager.start(2);
  clock.advance(0);
  sender.flush(200);
  const stopped = manager.stop(1).then(() => settled.push('stop 1'));
  const removed = manager.remove(2).then(() => settled.push('remove 2'));
  clock.advance(0); // the unregisters go out (held)
  assert.equal(sender.held.map((h) => value(h.parts, 'Expires')), ['0', '0']);
  await Promise.resolve();
  assert.equal(settled, [], 'both wait for their unregister');
  sender.flush(200);
  await Promise.all([stopped, removed]);
  assert.equal(settled, ['stop 1', 'remove 2']);
  // Stopped again while registered, then started before the unregister is answered: the stop has nothing left to wait for.
  manager.start(1);
  clock.advance(0);
  sender.flush(200);
  let overtaken = false;
  const again = manager.stop(1).then(() => (overtaken = true));
  clock.advance(0);
  manager.start(1);
  await again;
  assert.ok(overtaken);
  sender.flush(200); // the unregister's answer, then the new REGISTER
  clock.advance(0);
  sender.flush(200);
  const closing = manager.close();
  clock.advance(0);
  sender.flush(200);
  await closing;
  assert.equal(manager.stats(), { registrations: 0, scheduled: 0, clockTimers: 0, inFlight: 0, draining: 0 });
});

test('API errors: duplicate id, unknown id, bad settings, bad options', () => {
  const { manager } = setup();
  manager.add(0, { ...SITE, user: 'a' });
  assert.throws(() => manager.add(0, { ...SITE, user: 'a' }), /exists already/);
  assert.throws(() => manager.start(9), /no registration 9/);
  assert.throws(() => manager.stop(9), /no registration 9/);
  assert.is(manager.statusOf(9), undefined);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a b' }), /user/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', transport: 'sctp' as 'udp' }), /transport/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', server: { host: '', port: 5060 } }), /server.host/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', server: { host: 'h', port: 70000 } }), /server.port/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', domain: 'bad domain' }), /domain/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', reregisterInSeconds: 0 }), /reregisterInSeconds/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', minimumRetrySeconds: Number.NaN }), /minimumRetrySeconds/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', minimumRetrySeconds: 60, maximumRetrySeconds: 30 }), /above/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', instanceId: 'not-a-uuid' }), /instanceId/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', regId: 1 }), /needs an instanceId/);
  assert.throws(() => manager.add(1, { ...SITE, user: 'a', instanceId: '2d9b2e4a-0a53-4e0c-9c59-6f1b2c3d4e5f', regId: 0 }), /regId/);
  assert.equal(manager.ids(), [0]);
  const clock = new CountingClock();
  const base = { transactionLayer: new BulkSender(clock), clock, localEndpoint: () => ({ transport: 'udp' as const, host: 'h', port: 1 }) };
  assert.throws(() => new RegistrationManager({ ...base, refreshSpread: 1 }), /refreshSpread/);
  assert.throws(() => new RegistrationManager({ ...base, batchSize: 0 }), /batch/);
});

test('resolveSettings: defaults, IPv6, urn:uuid, the SDK ConnectionSettings shape passes straight in', () => {
  const resolved = resolveSettings({
    user: '1001',
    server: { host: '[2001:db8::5]', port: 5061 },
    transport: 'tls',
    domain: '',
    authUsername: '',
    displayName: '',
    instanceId: 'urn:uuid:2D9B2E4A-0A53-4E0C-9C59-6F1B2C3D4E5F',
  });
  assert.equal(resolved.target, { transport: 'tls', host: '2001:db8::5', port: 5061 });
  assert.is(resolved.domain, '[2001:db8::5]');
  assert.is(resolved.authUsername, '1001');
  assert.is(resolved.displayName, undefined);
  assert.is(resolved.instanceId, 'urn:uuid:2d9b2e4a-0a53-4e0c-9c59-6f1b2c3d4e5f');
  assert.is(resolved.regId, 1);
  assert.is(resolved.reregisterInSeconds, 3600);
  assert.is(resolved.minimumRetrySeconds, 20);
  assert.is(resolved.maximumRetrySeconds, 1800);
  // What src/sdk/config produces (every field filled, extra fields included).
  const connection = {
    user: '1001',
    server: { host: '127.0.0.1', port: 5070 },
    transport: 'udp' as const,
    domain: '127.0.0.1',
    password: 'secret',
    authUsername: '1001',
    reregisterInSeconds: 60,
    minimumRetrySeconds: 20,
    maximumRetrySeconds: 1800,
    sendKeepAlive: false,
    useRport: true,
    extra: { foo: 'bar' },
  };
  const { manager } = setup();
  manager.add(0, connection);
  assert.is(manager.statusOf(0), 'disabled');
});

test('a throwing listener is reported outside the state machine, which carries on', () => {
  const { clock, sender, manager } = setup();
  const thrown: unknown[] = [];
  const original = globalThis.queueMicrotask;
  globalThis.queueMicrotask = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      thrown.push(error);
    }
  };
  try {
    manager.onStatusChanged = () => {
      throw new Error('listener bug');
    };
    sender.mode = 'ok';
    manager.add(0, { ...SITE, user: 'a' });
    manager.start(0);
    clock.advance(0);
  } finally {
    globalThis.queueMicrotask = original;
  }
  assert.is(thrown.length, 2);
  assert.is(manager.statusOf(0), 'registered');
  assert.is(manager.stats().scheduled, 1);
});

test('default random: Call-ID and tags from the platform CSPRNG', () => {
  const clock = new CountingClock();
  const sender = new BulkSender(clock);
  const manager = new RegistrationManager({ transactionLayer: sender, clock, localEndpoint: (transport) => ({ transport, host: LOCAL_HOST, port: 5060 }) });
  manager.add(0, { ...SITE, user: 'a' });
  manager.add(1, { ...SITE, user: 'a' });
  assert.match(manager.info(0)!.callId, /^[0-9a-f]{24}$/);
  assert.is.not(manager.info(0)!.callId, manager.info(1)!.callId);
  manager.start(0);
  manager.start(0); // twice: one start
  clock.advance(0);
  assert.is(sender.sent.length, 1);
});

test.run();
