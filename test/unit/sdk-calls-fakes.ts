/**
 * Test doubles for the CallControl tests (not a test file itself): the SDK's
 * call stack wired as Phone wires it (src/sdk/phone.ts #assemble), with no
 * socket, on one FakeClock:
 *
 *   phone:  ScriptTransport -> TransactionLayer -> DialogLayer + RegistrationManager
 *           -> ConnectionManager, SessionManager, CallControl, FakeMediaPorts
 *   sites:  each answers REGISTER (registrar-fakes' FakeSite) and forwards
 *           calls (the lab sites' own stateless proxy, src/lab/lab-proxy.ts);
 *           it can be `refusing` (a send to it fails: ECONNREFUSED),
 *           `silent` (drops everything), slow (relays responses late), or
 *           answer INVITEs itself with a status;
 *   far:    the remote party, DN 1002: a DialogLayer UA (dialog-fakes' makeUa)
 *           reachable through every site, with a policy for incoming calls
 *           (ring, answer, reject, after delays) and able to call the phone.
 *
 * The network carries each message after `latency` ms of fake time. The
 * phone's components run on an OwnedClock (over the shared clock) so a test
 * can tell that the phone, and not the fakes, holds no timer any more.
 */
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage, type SipMessage } from '../../src/parser/index.ts';
import { FakeClock, type Clock, type TimerHandle } from '../../src/transaction/clock.ts';
import { TransactionLayer, responseParts } from '../../src/transaction/index.ts';
import { TransportError, type Endpoint, type Received, type SendOptions } from '../../src/transport/types.ts';
import { DialogLayer, type IncomingInvite, type InviteFailure, type OutgoingInvite, type ProvisionalInfo, type SessionDialog } from '../../src/dialog/index.ts';
import { RegistrationManager } from '../../src/registrar-client/index.ts';
import { LabProxy, type LabRoute } from '../../src/lab/lab-proxy.ts';
import {
  CallControl,
  ConnectionManager,
  SessionManager,
  type ConnectionInput,
  type ConnectionStatusChanged,
  type SessionProperties,
  type SessionStatusChanged,
} from '../../src/sdk/index.ts';
import type { MediaPort, MediaPortSource } from '../../src/sdk/media-ports.ts';
import { FakeSite, seededRandom } from './registrar-fakes.ts';
import { directionOf, label, makeUa, ScriptTransport, type Ua } from './dialog-fakes.ts';

// ---------------------------------------------------------------- clocks

/** A FakeClock that knows when its next timer is due, so a test can step from timer to timer. */
export class StepClock extends FakeClock {
  readonly #due = new Map<number, number>();

  override setTimer(ms: number, callback: () => void): TimerHandle {
    let id = 0;
    const handle = super.setTimer(ms, () => {
      this.#due.delete(id);
      callback();
    });
    id = handle.id;
    this.#due.set(id, this.now() + Math.max(0, ms));
    return handle;
  }

  override clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#due.delete(handle.id);
    super.clearTimer(handle);
  }

  /** When the earliest pending timer fires, or undefined. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const at of this.#due.values()) if (next === undefined || at < next) next = at;
    return next;
  }
}

/** The phone's view of the shared clock: counts the timers the phone's own layers hold. */
export class OwnedClock implements Clock {
  readonly #live = new Set<number>();
  readonly shared: StepClock;

  constructor(shared: StepClock) {
    this.shared = shared;
  }

  now(): number {
    return this.shared.now();
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    let id = 0;
    const handle = this.shared.setTimer(ms, () => {
      this.#live.delete(id);
      callback();
    });
    id = handle.id;
    this.#live.add(id);
    return handle;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#live.delete(handle.id);
    this.shared.clearTimer(handle);
  }

  /** Timers of the phone not yet fired or cleared. */
  get pending(): number {
    return this.#live.size;
  }
}

/** Lets every queued promise continuation run (a macrotask turn drains the microtask queue). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// --------------------------------------------------------------- network

export type NodeState = 'up' | 'silent' | 'refusing';

export interface NetNode {
  state: NodeState;
  receive(message: SipMessage, source: Endpoint): void;
}

export interface Carried {
  readonly at: number;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly message: SipMessage;
}

const keyOf = (e: { host: string; port: number }): string => `${e.host}:${e.port}`;

/**
 * Carries bytes between ScriptTransports after `latency` ms. A send to an
 * address with no node, or to a `refusing` node, fails after `latency` with
 * ECONNREFUSED (ICMP port unreachable or a TCP reset); a `silent` node
 * drops what it gets.
 */
export class CallNet {
  latency = 10;
  readonly nodes = new Map<string, NetNode>();
  /** Every message handed to the network, with its send time. */
  readonly log: Carried[] = [];
  /** Messages it loses on the way (logged, never delivered, no error): one call's requests, say. */
  drop: ((carried: Carried) => boolean) | undefined;
  /** Extra ms on the way for some messages (one answer made slow, say). */
  delay: ((carried: Carried) => number) | undefined;
  /** Requests the network answers itself with this status (never delivered), as their far end would: a re-INVITE refused 488, say. */
  refuse: ((carried: Carried) => number | undefined) | undefined;

  readonly clock: StepClock;

  constructor(clock: StepClock) {
    this.clock = clock;
  }

  attach(transport: ScriptTransport, node: NetNode): void {
    this.nodes.set(keyOf(transport.local), node);
    const original = transport.send.bind(transport);
    const from: Endpoint = { transport: 'udp', host: transport.local.host, port: transport.local.port };
    transport.send = (bytes: Uint8Array, target: Endpoint, options: SendOptions = {}) => {
      original(bytes, target, options);
      this.#carry(bytes, from, target, options);
    };
  }

  #carry(bytes: Uint8Array, from: Endpoint, target: Endpoint, options: SendOptions): void {
    const carried: Carried = { at: this.clock.now(), from, to: target, message: parseMessage(bytes) };
    this.log.push(carried);
    if (this.drop?.(carried) === true) return;
    const refusal = carried.message.kind === 'request' ? this.refuse?.(carried) : undefined;
    if (refusal !== undefined) {
      const answer = parseMessage(formatMessage(responseParts(carried.message, refusal)));
      const sender = this.nodes.get(keyOf(from));
      this.clock.setTimer(2 * this.latency, () => sender?.receive(answer, { transport: target.transport, host: target.host, port: target.port }));
      return;
    }
    const node = this.nodes.get(keyOf(target));
    if (node === undefined || node.state === 'refusing') {
      this.clock.setTimer(this.latency, () => options.onError?.(new TransportError('ECONNREFUSED', target, `${keyOf(target)} refused`)));
      return;
    }
    if (node.state === 'silent') return;
    this.clock.setTimer(this.latency + (this.delay?.(carried) ?? 0), () => {
      if (node.state === 'up') node.receive(parseMessage(bytes), { transport: target.transport, host: from.host, port: from.port });
    });
  }
}

// ------------------------------------------------------------------ sites

interface Binding {
  readonly contact: string;
  readonly source: Endpoint;
  readonly at: number;
}

/** A SIP site: registrar (FakeSite) and stateless proxy (LabProxy) on one address. */
export class CallSite implements NetNode {
  state: NodeState = 'up';
  readonly endpoint: Endpoint;
  readonly transport: ScriptTransport;
  readonly registrar: FakeSite;
  readonly proxy: LabProxy;
  /** Responses the proxy relays leave this much later: a slow site (late 100/180/200). */
  responseDelayMs = 0;
  /** When set, the site answers every new INVITE itself with this status (503, 408 ...) instead of forwarding it. */
  answerInvites: number | undefined;
  /** Rewrites the Contact of a binding into the Request-URI of a forwarded call (default: as registered). */
  requestUri: (contact: string) => string = (contact) => contact;
  /** Picks among a user's bindings (default: the most recent). */
  pick: (bindings: readonly Binding[]) => Binding | undefined = (bindings) => bindings[bindings.length - 1];
  /** Live bindings per user (REGISTERed ones, and the far party's, set by the rig). */
  readonly bindings = new Map<string, Binding[]>();
  /** Users the site knows (others get 404). */
  readonly users = new Set(['1001', '1002']);
  /** Every message it got, with the clock time. */
  readonly received: Array<{ readonly at: number; readonly message: SipMessage }> = [];

  readonly clock: StepClock;
  readonly name: string;

  constructor(clock: StepClock, name: string, host: string, port: number) {
    this.clock = clock;
    this.name = name;
    this.endpoint = { transport: 'tcp', host, port };
    this.transport = new ScriptTransport(clock, { host, port });
    this.registrar = new FakeSite(clock, this.endpoint);
    const send = (bytes: Uint8Array, target: Endpoint, options?: SendOptions): void => {
      const isResponse = bytes[0] === 0x53 && new TextDecoder().decode(bytes.subarray(0, 8)) === 'SIP/2.0 ';
      if (isResponse && this.responseDelayMs > 0) this.clock.setTimer(this.responseDelayMs, () => this.transport.send(bytes, target, options));
      else this.transport.send(bytes, target, options);
    };
    this.proxy = new LabProxy({
      transport: { send, isReliable: (kind) => kind !== 'udp', localEndpoint: (kind) => ({ transport: kind, host, port }), onReceive: undefined },
      local: (kind) => ({ transport: kind, host, port }),
      route: (user) => this.#route(user),
    });
  }

  receive(message: SipMessage, source: Endpoint): void {
    this.received.push({ at: this.clock.now(), message });
    if (message.kind === 'request' && message.method === 'REGISTER') return this.#register(message, source);
    const ownAnswer = this.answerInvites;
    if (ownAnswer !== undefined && message.kind === 'request' && (message.method === 'INVITE' || message.method === 'ACK') && message.uri?.user != null) {
      if (message.method === 'INVITE') this.transport.send(formatMessage(responseParts(message, ownAnswer, { toTag: `${this.name}-own` })), source);
      return;
    }
    const received: Received = { message, source, local: this.endpoint, flowId: undefined };
    this.proxy.handle(received);
  }

  /** Requests of one method the site got (retransmissions included). */
  got(method: string): Array<{ readonly at: number; readonly message: SipMessage }> {
    return this.received.filter((r) => r.message.method === method);
  }

  #register(request: SipMessage, source: Endpoint): void {
    const reply = this.registrar.handle(request);
    if (reply === undefined) return;
    if (reply.status === 200) {
      const user = request.to?.uri.user ?? '';
      const asked = request.expires ?? 3600;
      let list = this.bindings.get(user) ?? [];
      for (const contact of request.contact) {
        if ('wildcard' in contact) continue;
        const uri = contact.uri.toString();
        const expires = Number(contact.params.get('expires') ?? asked);
        list = list.filter((b) => b.contact !== uri);
        if (expires > 0) list.push({ contact: uri, source, at: this.clock.now() });
      }
      this.bindings.set(user, list);
    }
    const parts = responseParts(request, reply.status, { toTag: `${this.name}-reg`, headers: reply.headers ?? [] });
    this.transport.send(formatMessage(parts), source);
  }

  #route(user: string): LabRoute | 'unknown' | 'unregistered' {
    if (!this.users.has(user)) return 'unknown';
    const binding = this.pick(this.bindings.get(user) ?? []);
    if (binding === undefined) return 'unregistered';
    return { contact: this.requestUri(binding.contact), source: binding.source, flowId: undefined };
  }
}

// -------------------------------------------------------------- far party

export const FAR_HOST = '192.0.2.20';
export const FAR_CONTACT = `<sip:1002@${FAR_HOST}:5060;transport=tcp>`;

/** What the far party does with an incoming INVITE. */
export type FarPolicy = (invite: IncomingInvite, far: FarParty) => void;

/** The far party's own outgoing call. */
export interface FarCall {
  readonly call: OutgoingInvite;
  readonly provisionals: ProvisionalInfo[];
  readonly failures: InviteFailure[];
  answered: SessionDialog | undefined;
}

/** DN 1002: a DialogLayer UA behind every site. */
export class FarParty implements NetNode {
  state: NodeState = 'up';
  readonly ua: Ua;
  /** Sessions it answered (or that answered its calls), oldest first. */
  readonly sessions: SessionDialog[] = [];
  /** Default: 180 at once, 200 after `answerAfterMs`. */
  policy: FarPolicy;
  answerAfterMs = 100;
  /** Every message it got, with the clock time. */
  readonly received: Array<{ readonly at: number; readonly message: SipMessage }> = [];

  readonly clock: StepClock;

  constructor(clock: StepClock) {
    this.clock = clock;
    this.ua = makeUa(clock, FAR_HOST, 5060, 77);
    this.policy = (invite) => {
      this.ring(invite);
      this.clock.setTimer(this.answerAfterMs, () => this.accept(invite));
    };
    this.ua.dialogs.onInvite = (invite) => {
      this.ua.invites.push(invite);
      this.policy(invite, this);
    };
  }

  get invites(): IncomingInvite[] {
    return this.ua.invites;
  }

  receive(message: SipMessage, source: Endpoint): void {
    this.received.push({ at: this.clock.now(), message });
    this.ua.transport.deliver(message, source);
  }

  ring(invite: IncomingInvite): void {
    invite.ring({ contact: FAR_CONTACT });
  }

  accept(invite: IncomingInvite): SessionDialog | undefined {
    if (invite.state !== 'proceeding') return undefined;
    const session = invite.accept({ contact: FAR_CONTACT });
    this.sessions.push(session);
    return session;
  }

  /** Calls `user` through `site` (the site forwards it to the user's binding). */
  call(site: CallSite, user = '1001'): FarCall {
    const domain = `${site.endpoint.host}:${site.endpoint.port}`;
    return this.callUri(`sip:${user}@${domain}`, site.endpoint, domain);
  }

  /** Sends an INVITE for `requestUri` straight to `nextHop` (no site in between unless it is one). */
  callUri(requestUri: string, nextHop: Endpoint, domain = FAR_HOST): FarCall {
    const dialled: FarCall = { call: undefined as unknown as OutgoingInvite, provisionals: [], failures: [], answered: undefined };
    (dialled as { call: OutgoingInvite }).call = this.ua.dialogs.invite(
      {
        requestUri,
        from: `<sip:1002@${domain}>`,
        to: `<${requestUri}>`,
        contact: FAR_CONTACT,
        nextHop,
        media: this.ua.media(),
      },
      {
        onProvisional: (info) => dialled.provisionals.push(info),
        onAnswered: (session) => {
          dialled.answered = session;
          this.sessions.push(session);
        },
        onFailed: (failure) => dialled.failures.push(failure),
      },
    );
    return dialled;
  }

  /** Requests of one method the far party got (retransmissions included), with their clock times. */
  got(method: string): Array<{ readonly at: number; readonly message: SipMessage }> {
    return this.received.filter((r) => r.message.method === method);
  }

}

// ------------------------------------------------------------ media ports

/** MediaPortSource without sockets: ports numbered from 20000, counted while held. */
export class FakeMediaPorts implements MediaPortSource {
  #next = 20_000;
  readonly #held = new Set<number>();
  /** take() answers undefined (no port bound ahead): incoming calls get 503. */
  exhausted = false;
  /** allocate() rejects. */
  failAllocate = false;
  closed = false;

  allocate(address: string): Promise<MediaPort> {
    if (this.failAllocate || this.closed) return Promise.reject(new Error('no port'));
    return Promise.resolve(this.#port(address));
  }

  take(address: string): MediaPort | undefined {
    return this.exhausted || this.closed ? undefined : this.#port(address);
  }

  /** Ports handed out and not released. */
  get held(): number {
    return this.#held.size;
  }

  closeAll(): void {
    this.closed = true;
    this.#held.clear();
  }

  #port(address: string): MediaPort {
    const port = this.#next;
    this.#next += 2;
    this.#held.add(port);
    return { address, port, release: () => void this.#held.delete(port) };
  }
}

// --------------------------------------------------------------------- rig

export const PHONE_HOST = '192.0.2.10';
export const EPOCH = 1_700_000_000_000;

export interface Timed<T> {
  readonly at: number;
  readonly event: T;
}

export interface PhoneParts {
  readonly clock: OwnedClock;
  readonly transport: ScriptTransport;
  readonly transactions: TransactionLayer;
  readonly dialogs: DialogLayer;
  readonly registrations: RegistrationManager;
  readonly connections: ConnectionManager;
  readonly sessions: SessionManager;
  readonly calls: CallControl;
  readonly media: FakeMediaPorts;
  /** Everything the phone received, with the clock time. */
  readonly received: Array<{ readonly at: number; readonly message: SipMessage }>;
}

export interface CallRigOptions {
  /** Number of sites (default 2): site i on 198.51.100.(i+1):5060, connection i to site i. */
  readonly sites?: number;
  /** Extra settings for every connection (or per connection id). */
  readonly connection?: Partial<ConnectionInput> | ((id: number) => Partial<ConnectionInput>);
  readonly latency?: number;
}

export class CallRig {
  readonly clock = new StepClock();
  readonly net = new CallNet(this.clock);
  readonly sites: CallSite[] = [];
  readonly far: FarParty;
  readonly phone: PhoneParts;
  readonly sessionEvents: Array<Timed<SessionStatusChanged>> = [];
  /** sessionFailedOver events, as "SID from->to CODE @ms". */
  readonly failovers: string[] = [];
  readonly connectionEvents: Array<Timed<ConnectionStatusChanged>> = [];
  #closed = false;

  constructor(options: CallRigOptions = {}) {
    this.net.latency = options.latency ?? 10;
    this.far = new FarParty(this.clock);
    this.net.attach(this.far.ua.transport, this.far);
    for (let i = 0; i < (options.sites ?? 2); i++) {
      const site = new CallSite(this.clock, `site${i}`, `198.51.100.${i + 1}`, 5060);
      site.bindings.set('1002', [{ contact: FAR_CONTACT.slice(1, -1), source: { transport: 'tcp', host: FAR_HOST, port: 5060 }, at: 0 }]);
      this.net.attach(site.transport, site);
      this.sites.push(site);
    }
    this.phone = this.#assemble();
    for (const site of this.sites) {
      const id = this.sites.indexOf(site);
      const extra = typeof options.connection === 'function' ? options.connection(id) : (options.connection ?? {});
      this.phone.connections.addConnection(id, {
        user: '1001',
        server: { host: site.endpoint.host, port: site.endpoint.port },
        transport: 'tcp',
        ...extra,
      });
    }
  }

  /** The wiring of Phone.#assemble, on fakes. */
  #assemble(): PhoneParts {
    const clock = new OwnedClock(this.clock);
    const random = seededRandom(4242);
    const transport = new ScriptTransport(this.clock, { host: PHONE_HOST, port: 5060 });
    const received: Array<{ at: number; message: SipMessage }> = [];
    this.net.attach(transport, {
      state: 'up',
      receive: (message, source) => {
        received.push({ at: this.clock.now(), message });
        transport.deliver(message, source);
      },
    });
    let dialogs: DialogLayer | undefined;
    const transactions = new TransactionLayer({
      transport,
      clock,
      random,
      user: {
        onRequest: (incoming) => dialogs?.onRequest(incoming),
        onAck: (ack) => dialogs?.onAck(ack),
        onStrayResponse: (response) => dialogs?.onStrayResponse(response),
      },
    });
    transport.onReceive = transactions.receive;
    let connections: ConnectionManager | undefined;
    const registrations = new RegistrationManager({
      transactionLayer: transactions,
      clock,
      random,
      localEndpoint: (kind) => transport.localEndpoint(kind),
      onStatusChanged: (event) => connections?.onRegistrationStatus(event),
    });
    connections = new ConnectionManager(registrations, (ms) => ms + EPOCH, () => {}, random);
    const sessions = new SessionManager();
    const media = new FakeMediaPorts();
    let calls: CallControl | undefined;
    dialogs = new DialogLayer({ transactions, clock, random, mediaFor: (request, r) => calls?.mediaFor(request, r) });
    calls = new CallControl({
      dialogs,
      connections,
      registrations,
      sessions,
      mediaPorts: media,
      clock,
      random,
      localEndpoint: (kind) => transport.localEndpoint(kind),
    });
    sessions.on('sessionStatusChanged', (event) => this.sessionEvents.push({ at: this.clock.now(), event }));
    sessions.on('sessionFailedOver', (e) => this.failovers.push(`${e.sessionId} ${e.fromConnectionId}->${e.toConnectionId} ${e.code} @${this.clock.now()}`));
    connections.on('connectionStatusChanged', (event) => this.connectionEvents.push({ at: this.clock.now(), event }));
    return { clock, transport, transactions, dialogs, registrations, connections, sessions, calls, media, received };
  }

  get calls(): CallControl {
    return this.phone.calls;
  }

  // ------------------------------------------------------------ time

  /** Moves the clock `ms` forward, timer by timer, letting promises run after each. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    await flush();
    for (;;) {
      const next = this.clock.nextDue();
      if (next === undefined || next > end) break;
      this.clock.advance(next - this.clock.now());
      await flush();
    }
    this.clock.advance(end - this.clock.now());
    await flush();
  }

  /** Steps timer by timer until `condition` holds (checked after each step); fails after `maxMs`. */
  async until(condition: () => boolean, maxMs = 60_000, what = 'the condition'): Promise<void> {
    const end = this.clock.now() + maxMs;
    await flush();
    while (!condition()) {
      const next = this.clock.nextDue();
      if (next === undefined || next > end) assert.unreachable(`${what} did not happen within ${maxMs} ms (now ${this.clock.now()})`);
      this.clock.advance(next! - this.clock.now());
      await flush();
    }
  }

  /** Runs the clock until `promise` settles; returns its value or throws its error. */
  async settle<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    await this.until(() => done, maxMs, 'the promise settling');
    return promise;
  }

  /** Enables every connection and waits until all are registered. */
  async start(): Promise<void> {
    for (const id of this.phone.connections.ids()) this.phone.connections.enableConnection(id);
    await this.until(() => this.phone.connections.ids().every((id) => this.phone.connections.isUsable(id)), 10_000, 'every connection registered');
  }

  // ------------------------------------------------------------ reading

  /** Dials 1002 on connection `id` and waits until the call is connected. */
  async connectedCall(id = 0): Promise<SessionProperties> {
    const call = await this.calls.dial(id, '1002');
    await this.until(() => this.phone.sessions.session(call.id)?.status === 'connected', 5000, `${call.id} connected`);
    return call;
  }

  /** From now on the network loses our re-INVITEs in the dialog of `sessionId` (its holds go unanswered); its Call-ID. */
  loseReinvitesOf(sessionId: string): string {
    const callId = this.phone.sessions.session(sessionId)!.callId!;
    this.net.drop = (carried) => carried.message.method === 'INVITE' && carried.message.callId === callId && carried.message.to?.tag != null;
    return callId;
  }

  /** Requests of one method the phone sent (retransmissions included), with time, target and Call-ID. */
  sent(method: string, since = 0): Array<{ readonly at: number; readonly target: Endpoint; readonly message: SipMessage; readonly callId: string }> {
    return this.phone.transport.sent
      .filter((s) => s.at >= since && label(s.message) === method)
      .map((s) => ({ at: s.at, target: s.target, message: s.message, callId: s.message.callId ?? '' }));
  }

  /** How many requests of one method the phone sent. */
  sentCount(method: string): number {
    return this.sent(method).length;
  }

  /** Session events as "sessionId status[:reason][(code)] @connectionId", in order. */
  sessionSeq(sessionId?: string): string[] {
    return this.sessionEvents
      .filter((e) => sessionId === undefined || e.event.sessionId === sessionId)
      .map(({ event: e }) => `${e.sessionId} ${e.status}${e.reason === undefined ? '' : `:${e.reason}`}${e.code === undefined ? '' : `(${e.code})`} @${e.connectionId}`);
  }

  /** Connection events of one connection as "status(code)", from index `since`. */
  connectionSeq(id: number, since = 0): string[] {
    return this.connectionEvents
      .slice(since)
      .filter((e) => e.event.connectionId === id)
      .map(({ event: e }) => `${e.status}${e.code === undefined ? '' : `(${e.code})`}`);
  }

  /**
   * Every session's events form one chain: the first has previousStatus
   * null, each next one the status before it, no status twice in a row,
   * nothing after `disconnected`.
   */
  assertChains(): void {
    const last = new Map<string, string>();
    for (const { event } of this.sessionEvents) {
      const before = last.get(event.sessionId) ?? null;
      assert.is(event.previousStatus, before, `${event.sessionId}: previousStatus of ${event.status}`);
      assert.is.not(event.status, before, `${event.sessionId}: ${event.status} twice in a row`);
      assert.is.not(before, 'disconnected', `${event.sessionId}: an event after disconnected`);
      last.set(event.sessionId, event.status);
    }
  }

  /** The clock time of a session's event with that status. */
  when(sessionId: string, status: string): number {
    const found = this.sessionEvents.find((e) => e.event.sessionId === sessionId && e.event.status === status);
    assert.ok(found, `session ${sessionId} never became ${status}; saw ${this.sessionSeq().join(', ')}`);
    return found!.at;
  }

  // ------------------------------------------------------------- close

  /** Phone.close() on the fakes: calls, dialogs, registrations (at most 4000 ms), transactions, ports. */
  async close(closeTimeoutMs = 4000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const { calls, dialogs, registrations, connections, transactions, media } = this.phone;
    calls.close();
    dialogs.close();
    let unregistered = false;
    void registrations.close().then(() => (unregistered = true));
    const end = this.clock.now() + closeTimeoutMs;
    await flush();
    while (!unregistered && this.clock.now() < end) {
      const next = this.clock.nextDue();
      this.clock.advance(Math.min(next ?? end, end) - this.clock.now());
      await flush();
    }
    connections.markClosed();
    transactions.close();
    media.closeAll();
  }

  /** close(), then past every RFC wait (64*T1), then assertIdle(): how a test that made calls ends. */
  async closeIdle(): Promise<void> {
    await this.close();
    await this.advance(64_000);
    this.assertIdle();
  }

  /** Nothing of the phone is left: no session, dialog, INVITE, transaction, registration, port or timer. */
  assertIdle(): void {
    this.assertReleased();
    assert.equal(this.phone.dialogs.stats(), { dialogs: 0, incomingInvites: 0, outgoingInvites: 0, timers: 0 }, 'no dialog or INVITE left');
    assert.is(this.phone.clock.pending, 0, 'no timer of the phone left');
  }

  /** No session, transaction, registration or port of the phone is left (dialogs and timers not checked). */
  assertReleased(): void {
    const { sessions, transactions, registrations, media } = this.phone;
    assert.equal(sessions.sessions, [], 'no session left');
    assert.is(transactions.stats().transactions, 0, 'no transaction left');
    assert.equal(registrations.stats(), { registrations: 0, scheduled: 0, clockTimers: 0, inFlight: 0, draining: 0 }, 'no registration left');
    assert.is(media.held, 0, 'no RTP port held');
  }
}

// ------------------------------------------------------------ call helpers

/** A started rig with one outbound call connected on connection 0, 50 ms after it connected. */
export async function rigWithCall(options: CallRigOptions = {}): Promise<{ rig: CallRig; first: SessionProperties }> {
  const rig = new CallRig(options);
  await rig.start();
  const first = await rig.connectedCall(0);
  await rig.advance(50);
  return { rig, first };
}

/** Makes the far party's call `call` and waits for its `ringing` event: the inbound session. */
export async function ringsOn(rig: CallRig, call: () => FarCall): Promise<{ call: FarCall; sessionId: string; connectionId: number }> {
  const before = rig.sessionEvents.length;
  const made = call();
  await rig.until(() => rig.sessionEvents.length > before, 5000, 'the call ringing');
  const event = rig.sessionEvents[before]!.event;
  assert.is(event.status, 'ringing');
  assert.is(event.direction, 'inbound');
  return { call: made, sessionId: event.sessionId, connectionId: event.connectionId };
}

/** From now on the far party's answers to our `method` requests in the dialog of `sessionId` take `ms` longer to come; its Call-ID. */
export function slowAnswers(rig: CallRig, sessionId: string, method: string, ms: number): string {
  const callId = rig.phone.sessions.session(sessionId)!.callId!;
  rig.net.delay = (carried) => (carried.message.status !== undefined && carried.message.callId === callId && carried.message.cseq?.method === method ? ms : 0);
  return callId;
}

/** Direction of each re-INVITE (INVITE with a To tag) we sent in the dialog `callId`, from `since`. */
export function reinvitesIn(rig: CallRig, callId: string, since = 0): Array<string | undefined> {
  return rig.sent('INVITE', since).filter((s) => s.callId === callId && s.message.to?.tag != null).map((s) => directionOf(s.message.body));
}

/** What `promise` rejects with (undefined if it resolves): for `rig.settle(rejection(...))`. */
export function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}
