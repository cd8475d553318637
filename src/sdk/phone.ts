/**
 * Phone: the entry point of the SDK. Built from a config object or a
 * SipEndpoint.config file, it owns the transports, the transaction layer and
 * the managers. `start()` registers every configured connection at once, with
 * equal priority; `close()` unregisters and frees every socket and timer.
 */
import { HostResolver, isIP, isIPv6, isLoopback, SipTransportLayer, type ListenerOptions, type TlsOptions } from '../transport/index.ts';
import type { Endpoint, TransportKind } from '../transport/types.ts';
import { SystemClock, TransactionLayer, cryptoRandom, type Clock, type TimerSettings } from '../transaction/index.ts';
import { RegistrationManager } from '../registrar-client/index.ts';
import { loadEndpointConfig, type ConnectionSettings, type EndpointConfig } from './config/index.ts';
import { ConnectionError, ConnectionManager, type ConnectionInfo } from './connection-manager.ts';
import { completeSettings, ConnectionSettingsError, type ConnectionInput } from './connection-settings.ts';
import { DialogLayer } from '../dialog/index.ts';
import { CallControl } from './call-control.ts';
import { MediaPorts } from './media-ports.ts';
import { SessionManager } from './session-manager.ts';
import { TypedEvents } from './typed-events.ts';

export interface PhoneOptions {
  /**
   * Local address to bind (IPv4 or IPv6); default 127.0.0.1 when every server
   * is on loopback, else 0.0.0.0, and for IPv6 ::1 or :: likewise. A Phone
   * that listens on loopback only refuses a connection added later to a
   * server elsewhere (its sockets could not reach it): give '0.0.0.0' then.
   */
  readonly localHost?: string;
  /**
   * Listen on IPv6 too (UDP, TCP and TLS when configured). Default: when a
   * configured connection's server is IPv6. A connection added later with an
   * IPv6 server needs it.
   */
  readonly ipv6?: boolean;
  /** Local port for UDP and TCP (0, the default, lets the system choose). */
  readonly localPort?: number;
  /** TLS: trusted CAs, and our certificate/key if we should also accept TLS. */
  readonly tls?: TlsOptions;
  /** Transaction timers (T1, T2, T4 ...), e.g. shorter ones in labs. */
  readonly timers?: Partial<TimerSettings>;
  /** Injected for tests. */
  readonly clock?: Clock;
  /**
   * Uniform in [0, 1) for every identifier (branches, tags, Call-IDs,
   * cnonces) and jitter. Default: crypto.getRandomValues (cryptoRandom).
   * Anything injected here must be cryptographically secure outside tests.
   */
  readonly random?: () => number;
  /** How long close() waits for unregistrations to finish (default 4000 ms). */
  readonly closeTimeoutMs?: number;
  readonly userAgent?: string;
  /** Most REGISTER exchanges on the wire at once over all connections (default DEFAULT_MAX_IN_FLIGHT, 50). */
  readonly maxRegistrationsInFlight?: number;
  /**
   * Most requests in progress (live server transactions) from one address
   * that is not the server of a connection (default
   * DEFAULT_MAX_TRANSACTIONS_PER_PEER, 1,000); past it that address gets 503
   * with Retry-After. Our sites are not limited: one other peer cannot take
   * the room of the sites that carry our calls.
   */
  readonly maxTransactionsPerPeer?: number;
}

/**
 * 1,000 live server transactions: over UDP a request's transaction lives 32 s
 * after its answer (Timer J), so about 30 requests a second sustained from
 * one address that is not one of our sites; a softphone called directly gets
 * a few a minute.
 */
export const DEFAULT_MAX_TRANSACTIONS_PER_PEER = 1000;

export type PhoneConfig = Pick<EndpointConfig, 'connections'> | { connections: Array<ConnectionInput | ConnectionSettings> };

/** One SIP message sent or received (keep-alives excluded), for traces and captures. */
export interface SipMessageTrace {
  /** Date.now() when it went out or came in. */
  readonly time: number;
  readonly direction: 'in' | 'out';
  readonly transport: TransportKind;
  readonly source: Endpoint;
  readonly destination: Endpoint;
  readonly bytes: Uint8Array;
}

export interface PhoneEvents {
  /** Every SIP message in and out; listened to, it costs a copy per message. */
  sipMessage: SipMessageTrace;
}

export class Phone {
  readonly connections: ConnectionManager;
  /** Phone-wide events: `sipMessage` (the SIP trace). */
  readonly events = new TypedEvents<PhoneEvents>();
  /** Warnings of the SipEndpoint.config it was made from (unknown settings and elements), `file:line: ...`. */
  readonly configWarnings: readonly string[];
  /** ICallControl: dial, answer, reject, hold, retrieve, hangup, sendDtmf. */
  readonly calls: CallControl;
  /** The session manager: live calls and `sessionStatusChanged`. */
  readonly sessions: SessionManager;
  readonly #dialogs: DialogLayer;
  readonly #mediaPorts: MediaPorts;
  /** @internal The sockets (tests and diagnostics; not part of the public API). */
  readonly transport: SipTransportLayer;
  /** @internal The transaction layer (tests and diagnostics; not part of the public API). */
  readonly transactions: TransactionLayer;
  readonly #registrations: RegistrationManager;
  readonly #configured: number[];
  readonly #closeTimeoutMs: number;
  #closed = false;

  private constructor(parts: {
    transport: SipTransportLayer;
    transactions: TransactionLayer;
    registrations: RegistrationManager;
    connections: ConnectionManager;
    dialogs: DialogLayer;
    calls: CallControl;
    sessions: SessionManager;
    mediaPorts: MediaPorts;
    configured: number[];
    closeTimeoutMs: number;
    warnings: readonly string[];
  }) {
    this.configWarnings = parts.warnings;
    this.transport = parts.transport;
    this.transactions = parts.transactions;
    this.#registrations = parts.registrations;
    this.connections = parts.connections;
    this.#dialogs = parts.dialogs;
    this.calls = parts.calls;
    this.sessions = parts.sessions;
    this.#mediaPorts = parts.mediaPorts;
    this.#configured = parts.configured;
    this.#closeTimeoutMs = parts.closeTimeoutMs;
  }

  /** A Phone from a SipEndpoint.config file (connection ids 0..N-1 in file order). */
  static async fromConfigFile(path: string, options: PhoneOptions = {}): Promise<Phone> {
    return Phone.create(loadEndpointConfig(path), options);
  }

  #traceHooked = false;
  readonly #startWaiters = new Set<() => void>();

  /** Starts feeding `events.sipMessage` from the transport's trace hook (done on the first listener). */
  #hookTrace(): void {
    if (this.#traceHooked) return;
    this.#traceHooked = true;
    this.transport.onTrace = (direction, transport, source, destination, bytes) => {
      if (this.events.listenerCount('sipMessage') === 0) return;
      this.events.emit('sipMessage', { time: Date.now(), direction, transport, source, destination, bytes: bytes.slice() });
    };
  }

  /** Diagnostics: what the phone holds now (all zero after close()). */
  stats(): { dialogs: ReturnType<DialogLayer['stats']>; transactions: ReturnType<TransactionLayer['stats']>; registrations: ReturnType<RegistrationManager['stats']>; mediaPorts: number } {
    return {
      dialogs: this.#dialogs.stats(),
      transactions: this.transactions.stats(),
      registrations: this.#registrations.stats(),
      mediaPorts: this.#mediaPorts.held,
    };
  }

  /** Listens to the SIP trace: every message sent and received. Returns the unsubscribe function. */
  onSipMessage(handler: (trace: SipMessageTrace) => void): () => void {
    this.#hookTrace();
    return this.events.on('sipMessage', handler);
  }

  static async create(config: PhoneConfig & { warnings?: readonly string[] }, options: PhoneOptions = {}): Promise<Phone> {
    for (const name of ['maxRegistrationsInFlight', 'maxTransactionsPerPeer'] as const) {
      const value = options[name];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new RangeError(`PhoneOptions.${name} must be a positive integer, got ${value}`);
    }
    if (!Array.isArray(config?.connections)) throw new TypeError('Phone.create: config.connections must be an array of connection settings');
    const settings = config.connections.map((connection) => completeSettings(connection));
    // Sites named by host name are looked up first: their addresses decide which sockets to bind.
    const resolver = new HostResolver();
    await Promise.all(settings.filter(({ server }) => !isIP(server.host)).map(({ server }) => resolver.resolve(server.host).catch(() => undefined)));
    const listeners = listenerPlan(settings, options, (host) => addressesOf(host, resolver.addresses(host)));
    const transport = await SipTransportLayer.create({ listeners, resolver, ...(options.tls ? { tls: options.tls } : {}) });
    try {
      return Phone.#assemble(transport, settings, options, config.warnings ?? []);
    } catch (error) {
      // Nothing may stay open behind a failed create().
      await transport.close();
      throw error;
    }
  }

  static #assemble(transport: SipTransportLayer, settings: ConnectionSettings[], options: PhoneOptions, warnings: readonly string[]): Phone {
    const clock = options.clock ?? new SystemClock();
    const random = options.random ?? cryptoRandom();
    let dialogs: DialogLayer | undefined;
    let connections: ConnectionManager | undefined;
    const transactions = new TransactionLayer({
      transport,
      clock,
      random,
      maxServerTransactionsPerSource: options.maxTransactionsPerPeer ?? DEFAULT_MAX_TRANSACTIONS_PER_PEER,
      trustedSource: (source, request) => connections?.isTrustedSource(source.host, request) === true,
      // Registrations receive no requests: the dialog layer is the TU of every request.
      user: {
        onRequest: (incoming) => dialogs?.onRequest(incoming),
        onAck: (ack) => dialogs?.onAck(ack),
        onStrayResponse: (response) => dialogs?.onStrayResponse(response),
      },
      ...(options.timers ? { timers: options.timers } : {}),
    });
    transport.onReceive = transactions.receive;
    // Per registrar: its address family, and for TLS without a TLS listener our
    // TCP address (the registrar reaches us over the flow we open).
    const localEndpoint = (kind: TransportKind, target: Endpoint): Endpoint => transport.localEndpoint(kind, target);
    const registrations = new RegistrationManager({
      transactionLayer: transactions,
      clock,
      random,
      localEndpoint,
      probeFlow: (target, timeoutMs, done) => transport.probeFlow(target, timeoutMs, done),
      retainFlow: (target, retain) => transport.retainFlow(target, retain),
      onStatusChanged: (event) => connections?.onRegistrationStatus(event),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      ...(options.maxRegistrationsInFlight !== undefined ? { maxInFlight: options.maxRegistrationsInFlight } : {}),
    });
    const wallOffset = Date.now() - clock.now();
    const hasV6 = transport.listeners.some((l) => l.family === 6);
    // A socket bound to loopback cannot reach another host: the send fails and the connection would stay unavailable.
    const loopbackOnly = transport.listeners.every((l) => isLoopback(l.host));
    const checkSettings = (s: ConnectionSettings): void => {
      const addresses = addressesOf(s.server.host, transport.addressesOf(s.server.host));
      if (!hasV6 && ipv6Only(addresses)) {
        throw new ConnectionSettingsError(`server ${s.server.host} is IPv6 but this Phone has no IPv6 listener: create it with ipv6: true`);
      }
      if (loopbackOnly && !onLoopback(s.server.host, addresses)) {
        const where = addresses.length === 0 ? 'is a host name this Phone has not looked up (it may be elsewhere)' : 'is not on this host';
        throw new ConnectionSettingsError(`server ${s.server.host} ${where} but this Phone listens on loopback only (its localHost, or every configured server on loopback): create it with localHost: '0.0.0.0' (or '::')`);
      }
    };
    connections = new ConnectionManager(registrations, (ms) => Math.round(ms + wallOffset), checkSettings, random, (host) => transport.addressesOf(host));
    const configured = settings.map((s, id) => {
      connections!.addConnection(id, s);
      return id;
    });
    const sessions = new SessionManager();
    const mediaPorts = new MediaPorts();
    let calls: CallControl | undefined;
    dialogs = new DialogLayer({
      transactions,
      clock,
      random,
      ...(options.timers?.T1 !== undefined || options.timers?.T2 !== undefined ? { timers: { ...(options.timers.T1 !== undefined ? { T1: options.timers.T1 } : {}), ...(options.timers.T2 !== undefined ? { T2: options.timers.T2 } : {}) } } : {}),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      mediaFor: (request, received) => calls?.mediaFor(request, received),
    });
    calls = new CallControl({
      dialogs,
      connections,
      registrations,
      sessions,
      mediaPorts,
      clock,
      random,
      localEndpoint: (kind, target) => transport.localEndpoint(kind, target),
    });
    // Incoming calls need an RTP port at once: bind a few ahead on every listener address.
    for (const listener of transport.listeners) if (listener.transport === 'udp') void mediaPorts.prepare(listener.advertisedHost);
    return new Phone({ transport, transactions, registrations, connections, dialogs, calls, sessions, mediaPorts, configured, closeTimeoutMs: options.closeTimeoutMs ?? 4000, warnings });
  }

  /**
   * Registers every configured connection, all at once. The promise settles
   * when each of them has its first outcome (`registered`, `unavailable` or
   * `failed`), with the collection then; with `{ until: 'any' }` as soon as
   * one is registered (a silent UDP site's first outcome takes 64*T1, 32 s).
   * A site that is down is an outcome, and its retries go on: the promise
   * rejects only on a closed phone (ConnectionError).
   */
  start(options: StartOptions = {}): Promise<ConnectionInfo[]> {
    if (this.#closed) return Promise.reject(new ConnectionError('the phone is closed'));
    const untilAny = options.until === 'any';
    const started = this.#configured.filter((id) => this.connections.has(id));
    const pending = new Set(started);
    let finish = (): void => {};
    const settled = new Promise<ConnectionInfo[]>((resolve) => {
      let off = (): void => {};
      finish = (): void => {
        off();
        this.#startWaiters.delete(finish);
        resolve(this.connections.connections);
      };
      // close() before every outcome came settles it too.
      this.#startWaiters.add(finish);
      off = this.connections.on('connectionStatusChanged', (event) => {
        if (!pending.has(event.connectionId) || event.status === 'registering') return;
        // An outcome, or disabled or removed before one: nothing more to wait for.
        pending.delete(event.connectionId);
        if (pending.size === 0 || (untilAny && event.status === 'registered')) finish();
      });
    });
    for (const id of started) this.connections.enableConnection(id);
    // Enabled already (registered, or between attempts) before start(): no event will come for those.
    for (const id of started) if (this.connections.connection(id)?.status !== 'registering') pending.delete(id);
    const anyRegistered = started.some((id) => this.connections.connection(id)?.status === 'registered');
    if (pending.size === 0 || (untilAny && anyRegistered)) finish();
    return settled;
  }

  /** Unregisters every connection (waiting at most closeTimeoutMs) and frees every socket and timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Calls first: their BYEs and CANCELs go out while the transports are open.
    this.calls.close();
    this.#dialogs.close();
    this.connections.markClosed();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#registrations.close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    for (const finish of [...this.#startWaiters]) finish();
    this.transactions.close();
    // No answer can come any more: what still waits for one is let go.
    this.#dialogs.destroy();
    this.#registrations.destroy();
    await Promise.all([this.#mediaPorts.closeAll(), this.transport.close()]);
  }
}

export interface StartOptions {
  /** `all` (default): every connection's first outcome; `any`: the first connection registered, or every outcome. */
  readonly until?: 'all' | 'any';
}

/** A server's addresses: itself when it is one, else what its name resolved to (`resolved`; none yet: unknown). */
function addressesOf(host: string, resolved: readonly string[]): readonly string[] {
  return isIP(host) ? [host] : resolved;
}

/** On this machine: a loopback address or `localhost`, or a name all of whose addresses are (a name not looked up counts as remote). */
function onLoopback(host: string, addresses: readonly string[]): boolean {
  return isLoopback(host) || (addresses.length > 0 && addresses.every((a) => isLoopback(a)));
}

/** Reachable over IPv6 alone (a name with both families is reached over IPv4). */
function ipv6Only(addresses: readonly string[]): boolean {
  return addresses.length > 0 && addresses.every((a) => isIPv6(a));
}

/**
 * The sockets a Phone binds: UDP and TCP always (a connection added later may
 * use either), TLS when we hold a certificate; IPv4, and IPv6 as well when a
 * configured server is IPv6 (or `ipv6: true`). The Via and Contact of each
 * request name the listener of the target's family (Transport.localEndpoint).
 */
function listenerPlan(settings: readonly ConnectionSettings[], options: PhoneOptions, siteAddresses: (host: string) => readonly string[]): ListenerOptions[] {
  const port = options.localPort ?? 0;
  const loopbackOnly = settings.length > 0 && settings.every((s) => onLoopback(s.server.host, siteAddresses(s.server.host)));
  const wantsV6 = options.ipv6 ?? settings.some((s) => ipv6Only(siteAddresses(s.server.host)));
  const hosts: string[] = [];
  if (options.localHost !== undefined) hosts.push(options.localHost);
  else {
    hosts.push(loopbackOnly ? '127.0.0.1' : '0.0.0.0');
    if (wantsV6) hosts.push(loopbackOnly ? '::1' : '::');
  }
  const tls = options.tls?.cert !== undefined && options.tls.key !== undefined;
  const listeners: ListenerOptions[] = [];
  for (const host of hosts) {
    listeners.push({ transport: 'udp', host, port }, { transport: 'tcp', host, port });
    if (tls) listeners.push({ transport: 'tls', host, port: 0 });
  }
  return listeners;
}
