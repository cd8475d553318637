/**
 * The TransactionLayer itself (src/transaction/transaction-layer.ts) and the
 * machinery under the four machines (machine.ts, timers.ts), on a fake
 * transport and a FakeClock.
 *
 * Covers: the Via the layer puts on requests (transport token, sent-by,
 * IPv6 brackets, branch with the magic cookie from the injected random(),
 * rport on or off), a caller's own Via kept; what sendRequest refuses;
 * sendStateless (the ACK for a 2xx); stats() by kind and timers; close();
 * timer values for unreliable and reliable transports, the backoff formula
 * and settings checks; the guarded transition (illegal moves throw), timers
 * tied to states, zero-length timers, events raised while one is handled,
 * a throwing TU leaving no half-done state, and the stateless 400 to a
 * request without To, From, Call-ID or CSeq.
 * Not covered: the RFC rows of each machine (their own test files), matching
 * (transaction-matching.test.ts), real sockets.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Endpoint, TransportKind } from '../../src/transport/types.ts';
import { FakeClock } from '../../src/transaction/clock.ts';
import { isPlainCSeq } from '../../src/transaction/transaction-layer.ts';
import { parseCSeq } from '../../src/parser/index.ts';
import {
  DEFAULT_TIMER_SETTINGS,
  IllegalTransitionError,
  MAGIC_COOKIE,
  TransactionLayer,
  backoff,
  resolveTimerSettings,
  responseParts,
  timerValues,
  type ClientOutcome,
} from '../../src/transaction/index.ts';
import { StateMachine, type MachineTables } from '../../src/transaction/machine.ts';
import {
  ClientRecorder,
  FakeTransport,
  PEER_TCP,
  PEER_UDP,
  assertClean,
  harness,
  peerRequest,
  reply,
  requestParts,
} from './transaction-fakes.ts';

test('sendRequest puts a Via on top: transport, local sent-by, branch z9hG4bK..., rport', () => {
  const h = harness();
  const user = new ClientRecorder(h.clock);
  const udp = h.layer.sendRequest(requestParts('OPTIONS'), PEER_UDP, user);
  const tcp = h.layer.sendRequest(requestParts('OPTIONS'), PEER_TCP, user);
  const tls = h.layer.sendRequest(requestParts('OPTIONS'), { transport: 'tls', host: '203.0.113.5', port: 5061 }, user);
  const via = udp.request.topVia!;
  assert.is(via.transport, 'UDP');
  assert.is(via.host, '192.0.2.10');
  assert.is(via.port, 5060);
  assert.is(via.rport, true);
  assert.ok(via.branch!.startsWith(MAGIC_COOKIE));
  assert.is(udp.request.count('Via'), 1);
  assert.is(tcp.request.topVia!.transport, 'TCP');
  assert.is(tls.request.topVia!.transport, 'TLS');
  assert.is(tls.request.topVia!.port, 5061);
  const branches = new Set([udp.branch, tcp.branch, tls.branch]);
  assert.is(branches.size, 3, 'branches differ');
  assert.equal(
    h.transport.sent.map((s) => s.target),
    [PEER_UDP, PEER_TCP, { transport: 'tls', host: '203.0.113.5', port: 5061 }],
  );
  h.layer.close();
  assertClean(h);
});

test('branches come from the injected random(): same sequence, same branch', () => {
  const random = () => 0.5;
  const a = harness({ random });
  const b = harness({ random });
  assert.is(a.layer.newBranch(), b.layer.newBranch());
  assert.is.not(a.layer.newBranch(), a.layer.newBranch(), 'a counter keeps them apart');
  const c = harness({ random: undefined });
  assert.ok(/^z9hG4bK[0-9A-Za-z]{10}\.0$/.test(c.layer.newBranch()));
});

test('IPv6 local address in brackets; rport can be turned off; a caller Via is kept', () => {
  class V6Transport extends FakeTransport {
    override localEndpoint(transport: TransportKind): Endpoint {
      return { transport, host: '2001:db8::10', port: 5062 };
    }
  }
  const h = harness();
  const v6 = new V6Transport(h.clock);
  const { clock, tu } = h;
  const layer = new TransactionLayer({ transport: v6, clock, user: tu, rport: false });
  v6.onReceive = layer.receive;
  const tx = layer.sendRequest(requestParts('OPTIONS'), { transport: 'udp', host: '2001:db8::1', port: 5060 }, new ClientRecorder(clock));
  assert.is(tx.request.header('Via')!.split(';')[0], 'SIP/2.0/UDP [2001:db8::10]:5062');
  assert.is(tx.request.topVia!.rport, null);
  const own = requestParts('OPTIONS', []);
  own.headers.unshift(['v', 'SIP/2.0/UDP 192.0.2.99:5099;branch=z9hG4bKmine']);
  const mine = layer.sendRequest(own, PEER_UDP, new ClientRecorder(clock));
  assert.is(mine.branch, 'z9hG4bKmine');
  assert.is(mine.request.count('Via'), 1);
  layer.close();
  assert.is(layer.stats().transactions, 0);
  assert.is(clock.pending, 0);
});

test('sendRequest refuses ACK, responses, Via without the cookie, CSeq mismatch, a live branch, a closed layer', () => {
  const h = harness();
  const user = new ClientRecorder(h.clock);
  assert.throws(() => h.layer.sendRequest(requestParts('ACK'), PEER_UDP, user), /ACK/);
  assert.throws(() => h.layer.sendRequest({ status: 200, headers: [] }, PEER_UDP, user), /parts.method/);
  const oldBranch = requestParts('OPTIONS');
  oldBranch.headers.unshift(['Via', 'SIP/2.0/UDP 192.0.2.10;branch=1234']);
  assert.throws(() => h.layer.sendRequest(oldBranch, PEER_UDP, user), /z9hG4bK/);
  const mismatch = requestParts('OPTIONS');
  mismatch.headers = mismatch.headers.map(([n, v]): [string, string] => (n === 'CSeq' ? [n, '1 INFO'] : [n, v]));
  assert.throws(() => h.layer.sendRequest(mismatch, PEER_UDP, user), /CSeq/);
  const first = requestParts('OPTIONS');
  first.headers.unshift(['Via', 'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKsame']);
  h.layer.sendRequest(first, PEER_UDP, user);
  assert.throws(() => h.layer.sendRequest(first, PEER_UDP, user), /already live/);
  assert.is(h.layer.stats().clientNonInvite, 1);
  h.layer.close();
  assert.throws(() => h.layer.sendRequest(requestParts('OPTIONS'), PEER_UDP, user), /closed/);
  assertClean(h);
});

test('sendStateless: the ACK for a 2xx goes straight to the transport, with a new Via or the given one', () => {
  const h = harness();
  const user = new ClientRecorder(h.clock);
  const invite = h.layer.sendRequest(requestParts('INVITE'), PEER_UDP, user);
  h.transport.deliver(reply(invite.request, 200), PEER_UDP);
  const ackParts = requestParts('ACK');
  const errors: string[] = [];
  const ack = h.layer.sendStateless(ackParts, PEER_UDP, { onError: (e) => errors.push(e.code) });
  assert.is(ack.method, 'ACK');
  assert.ok(ack.topVia!.branch!.startsWith(MAGIC_COOKIE));
  assert.is.not(ack.topVia!.branch, invite.branch);
  assert.is(h.transport.of('ACK').length, 1);
  h.transport.fail();
  assert.equal(errors, ['ECONNREFUSED']);
  const again = h.layer.sendStateless({ ...ackParts, headers: [['Via', 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKack'], ...ackParts.headers] }, PEER_UDP);
  assert.is(again.topVia!.branch, 'z9hG4bKack');
  const via = h.layer.sendStatelessVia(ackParts, PEER_UDP);
  assert.is(h.transport.of('ACK').at(-1)!.message.header('via'), via, 'sendStatelessVia: the Via it added, nothing parsed back');
  assert.is(h.layer.sendStatelessVia({ ...ackParts, headers: [['Via', 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKack'], ...ackParts.headers] }, PEER_UDP), undefined);
  assert.is(h.transport.of('ACK').length, 4);
  assert.is(h.layer.stats().transactions, 1, 'no transaction for an ACK');
  h.clock.advance(32_000);
  assertClean(h);
});

test('isPlainCSeq: true only where parseCSeq reads the same method', () => {
  const cases: Array<[string, string, boolean]> = [
    ['1 INVITE', 'INVITE', true],
    ['123456789 BYE', 'BYE', true],
    ['1234567890 BYE', 'BYE', false],
    ['1  BYE', 'BYE', false],
    [' 1 BYE', 'BYE', false],
    ['1 BYE ', 'BYE', false],
    ['x BYE', 'BYE', false],
    ['1 INVITE', 'BYE', false],
    ['1 FOO', 'FOO', false],
    ['BYE', 'BYE', false],
  ];
  for (const [value, method, plain] of cases) {
    assert.is(isPlainCSeq(value, method), plain, value);
    if (plain) assert.is(parseCSeq(value).method, method);
  }
});

test('stats() counts live transactions by kind and their timers; close() ends them all and tells nobody', () => {
  const h = harness();
  const user = new ClientRecorder(h.clock);
  h.layer.sendRequest(requestParts('INVITE'), PEER_UDP, user); // A, B
  h.layer.sendRequest(requestParts('REGISTER'), PEER_TCP, user); // F
  h.transport.deliver(peerRequest('INVITE'), PEER_UDP); // Trying
  h.transport.deliver(peerRequest('OPTIONS'), PEER_UDP); // none
  assert.equal(h.layer.stats(), { clientInvite: 1, clientNonInvite: 1, serverInvite: 1, serverNonInvite: 1, transactions: 4, timers: 4 });
  assert.is(h.clock.pending, 4);
  h.layer.close();
  assertClean(h);
  assert.is(user.finals.length, 0);
  h.transport.deliver(peerRequest('OPTIONS', { branch: 'z9hG4bKlate' }), PEER_UDP);
  assert.is(h.tu.requests.length, 2, 'nothing is received after close()');
});

test('a TU that throws in onFinal: the error reaches the caller, the transaction is still cleaned up', () => {
  const h = harness();
  const throwing = { onFinal: (_: ClientOutcome) => { throw new Error('tu bug'); } };
  const tx = h.layer.sendRequest(requestParts('OPTIONS'), PEER_UDP, throwing);
  assert.throws(() => h.transport.deliver(reply(tx.request, 200), PEER_UDP), /tu bug/);
  assert.is(tx.state, 'completed');
  h.clock.advance(5000);
  assertClean(h);
});

test('a TU answering synchronously inside onRequest is handled after the request is set up', () => {
  const h = harness();
  h.tu.onRequestHook = (incoming) => incoming.transaction.respond(responseParts(incoming.request, 200, { toTag: 'sync' }));
  h.transport.deliver(peerRequest('OPTIONS'), PEER_TCP);
  assert.equal(h.transport.sent.map((s) => s.message.status), [200]);
  assertClean(h);
});

test('a request without To, From, Call-ID or CSeq: a stateless 400 naming the first missing (s8.1.1, RFC 4475 insuf); an ACK without them dropped; the TU sees none, nothing kept', () => {
  const h = harness();
  const full = ['Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKinsuf1', 'To: <sip:bob@example.com>', 'From: <sip:alice@example.com>;tag=a1', 'Call-ID: insuf@198.51.100.7', 'CSeq: 1 INVITE'];
  const request = (method: string, without: string[], branch: string): Uint8Array =>
    new TextEncoder().encode(
      [`${method} sip:bob@192.0.2.10 SIP/2.0`, ...full.filter((line) => !without.some((name) => line.startsWith(`${name}:`))).map((line) => line.replace('z9hG4bKinsuf1', branch).replace('1 INVITE', `1 ${method}`)), 'Content-Length: 0', '', ''].join('\r\n'),
    );
  const cases: Array<[string[], string]> = [
    [['To', 'From', 'Call-ID'], 'Missing to header'],
    [['From'], 'Missing from header'],
    [['Call-ID'], 'Missing call-id header'],
    [['CSeq'], 'Missing cseq header'],
  ];
  cases.forEach(([without, reason], i) => {
    const before = h.transport.sent.length;
    h.transport.deliver(request('INVITE', without, `z9hG4bKinsuf${i}`), PEER_UDP);
    const sent = h.transport.sent.slice(before).map((x) => x.message);
    assert.equal(sent.map((m) => [m.status, m.reasonPhrase, m.topVia?.branch]), [[400, reason, `z9hG4bKinsuf${i}`]], without.join(','));
  });
  const before = h.transport.sent.length;
  h.transport.deliver(request('ACK', ['Call-ID'], 'z9hG4bKinsufack'), PEER_UDP);
  assert.is(h.transport.sent.length, before, 'no response to an ACK');
  assert.is(h.tu.requests.length + h.tu.acks.length, 0, 'the TU sees none of them');
  assert.is(h.layer.stats().transactions, 0, 'no state kept');
  assertClean(h);
});

test('timer values: unreliable vs reliable transports, from T1/T2/T4', () => {
  const udp = timerValues(DEFAULT_TIMER_SETTINGS, false);
  assert.equal(
    { ...udp },
    { reliable: false, T1: 500, T2: 4000, T4: 5000, A: 500, B: 32000, D: 32000, E: 500, F: 32000, G: 500, H: 32000, I: 5000, J: 32000, K: 5000, L: 32000, M: 32000, trying: 200 },
  );
  const tcp = timerValues(DEFAULT_TIMER_SETTINGS, true);
  assert.equal(
    { ...tcp },
    { reliable: true, T1: 500, T2: 4000, T4: 5000, A: null, B: 32000, D: 0, E: null, F: 32000, G: null, H: 32000, I: 0, J: 0, K: 0, L: 32000, M: 32000, trying: 200 },
  );
  const slow = timerValues(resolveTimerSettings({ T1: 1000, T2: 8000 }), false);
  assert.is(slow.B, 64_000);
  assert.is(slow.D, 64_000, 'D is at least 32 s and not below 64*T1');
  assert.is(timerValues(resolveTimerSettings({ T1: 100, T2: 400 }), false).D, 32_000);
  assert.equal([0, 1, 2, 3, 4, 5].map((n) => backoff(500, n, 4000)), [500, 1000, 2000, 4000, 4000, 4000]);
  assert.equal([0, 1, 2, 3, 4, 5].map((n) => backoff(500, n, Infinity)), [500, 1000, 2000, 4000, 8000, 16000]);
  assert.throws(() => resolveTimerSettings({ T1: 0 }), RangeError);
  assert.throws(() => resolveTimerSettings({ T4: Number.NaN }), RangeError);
  assert.throws(() => resolveTimerSettings({ trying: -1 }), RangeError);
  assert.throws(() => resolveTimerSettings({ T1: 5000, T2: 4000 }), RangeError);
  assert.is(resolveTimerSettings({ trying: 0 }).trying, 0);
});

type ToyState = 'a' | 'b' | 'end';
type ToyEvent = { type: 'go'; to: ToyState } | { type: 'arm'; name: 'X' | 'Y'; ms: number } | { type: 'echo' };
const TOY: MachineTables<ToyState, 'X' | 'Y'> = {
  name: 'toy',
  initial: 'a',
  terminal: 'end',
  moves: { a: ['b', 'end'], b: ['end'], end: [] },
  timers: { a: ['X', 'Y'], b: ['Y'], end: [] },
};

class Toy extends StateMachine<ToyState, ToyEvent, 'X' | 'Y'> {
  readonly log: string[] = [];
  terminated = 0;
  constructor(clock: FakeClock, private readonly onEcho?: (toy: Toy) => void) {
    super(clock, TOY);
  }
  protected step(event: ToyEvent | { type: 'timer'; name: 'X' | 'Y' }): void {
    this.log.push(event.type === 'timer' ? `timer ${event.name}` : event.type === 'go' ? `go ${event.to}` : event.type);
    if (event.type === 'go') this.transition(event.to);
    else if (event.type === 'arm') this.startTimer(event.name, event.ms);
    else if (event.type === 'echo') this.onEcho?.(this);
  }
  protected onTerminated(): void {
    this.terminated++;
  }
}

test('machine: illegal moves throw IllegalTransitionError; leaving a state clears the timers the next does not keep', () => {
  const clock = new FakeClock();
  const toy = new Toy(clock);
  toy.handle({ type: 'arm', name: 'X', ms: 100 });
  toy.handle({ type: 'arm', name: 'Y', ms: 100 });
  toy.handle({ type: 'arm', name: 'Y', ms: 300 }); // restart replaces
  assert.is(toy.liveTimers, 2);
  assert.is(clock.pending, 2);
  toy.handle({ type: 'go', to: 'b' });
  assert.ok(toy.hasTimer('Y'));
  assert.not.ok(toy.hasTimer('X'));
  assert.is(clock.pending, 1);
  assert.throws(() => toy.handle({ type: 'arm', name: 'X', ms: 10 }), /does not run in state b/);
  try {
    toy.handle({ type: 'go', to: 'a' });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, IllegalTransitionError);
    assert.equal([(error as IllegalTransitionError).from, (error as IllegalTransitionError).to], ['b', 'a']);
  }
  clock.advance(300);
  assert.equal(toy.log.filter((l) => l.startsWith('timer')), ['timer Y']);
  toy.handle({ type: 'go', to: 'end' });
  assert.is(toy.terminated, 1);
  assert.is(toy.liveTimers, 0);
  assert.is(clock.pending, 0);
});

test('machine: two timers in two slots: the second fires first, the first then fires alone; restarts and stops keep the count', () => {
  const clock = new FakeClock();
  const toy = new Toy(clock);
  toy.handle({ type: 'arm', name: 'X', ms: 100 });
  toy.handle({ type: 'arm', name: 'Y', ms: 50 });
  clock.advance(50);
  assert.equal(toy.log.filter((l) => l.startsWith('timer')), ['timer Y']);
  assert.is(toy.liveTimers, 1);
  assert.ok(toy.hasTimer('X'));
  toy.handle({ type: 'arm', name: 'Y', ms: 10 });
  toy.handle({ type: 'arm', name: 'X', ms: 30 }); // restart: stopped, then started again
  assert.is(toy.liveTimers, 2);
  assert.is(clock.pending, 2);
  clock.advance(30);
  assert.equal(toy.log.filter((l) => l.startsWith('timer')), ['timer Y', 'timer Y', 'timer X']);
  assert.is(toy.liveTimers, 0);
  assert.is(clock.pending, 0);
});

test('machine: a table listing more than two timers for a state is refused when the machine is made', () => {
  const tables: MachineTables<'a' | 'end', 'X' | 'Y' | 'Z'> = { name: 'wide', initial: 'a', terminal: 'end', moves: { a: ['end'], end: [] }, timers: { a: ['X', 'Y', 'Z'], end: [] } };
  class Wide extends StateMachine<'a' | 'end', { type: 'noop' }, 'X' | 'Y' | 'Z'> {
    protected step(): void {}
    protected onTerminated(): void {}
  }
  assert.throws(() => new Wide(new FakeClock(), tables), /state a lists more than 2 timers/);
});

test('machine: a zero-length timer fires after the current event, without the clock; events raised inside one wait their turn', () => {
  const clock = new FakeClock();
  const toy = new Toy(clock, (self) => {
    self.handle({ type: 'go', to: 'b' });
    self.log.push('echo returned');
  });
  toy.handle({ type: 'arm', name: 'X', ms: 0 });
  assert.equal(toy.log, ['arm', 'timer X']);
  assert.is(clock.pending, 0);
  toy.handle({ type: 'echo' });
  assert.equal(toy.log.slice(2), ['echo', 'echo returned', 'go b']);
  assert.is(toy.state, 'b');
});

test.run();
