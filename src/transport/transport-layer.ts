/**
 * SipTransportLayer: the Transport of types.ts over node sockets (UDP, TCP,
 * TLS; IPv4 and IPv6). It binds the configured listeners, hands every
 * received message up parsed (RFC 3261 s18.3, s18.1.2), answers malformed
 * requests statelessly, and reports transport errors to the sender that
 * caused them, at once.
 *
 * Inbound: bytes -> trace -> parseMessage -> (malformed request: stateless
 * 400/505/413 back; malformed response: dropped) -> no top Via: dropped ->
 * response whose sent-by is not ours: dropped (s18.1.2) -> onReceive.
 *
 * Outbound: send(bytes, target, {flowId, onError}) picks the UDP socket of the
 * target's address family, or a TCP/TLS flow (the given flowId, else a
 * connection to that address and port, else a new one). Errors reach onError
 * and never throw: ECONNREFUSED (TCP refused, ICMP port unreachable),
 * ECONNRESET, ETIMEDOUT (connect timeout, keep-alive pong timeout), ETLS,
 * ECLOSED, ELIMIT, EUNREACHABLE, ETOOBIG.
 *
 * RFC 3261 s18.1.1 (requests over 1300 bytes bound for UDP) is decided by the
 * caller with planRequest() + rewriteTopVia() before it creates the
 * transaction; send() reports ETOOBIG instead of switching silently (see
 * size-policy.ts). Responses go to responseTarget() with the Via fields of
 * responseViaFields() (RFC 3261 s18.2.2, RFC 3581).
 */
import { StateError } from '../errors/sip-endpoint-error.ts';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { ownedString, parseMessage, SipParseError, type ParseLimits } from '../parser/index.ts';
import { defaultPort, familyOf, isIP, isLoopback, isWildcard, normalizeHost } from './addresses.ts';
import { ConnectionPool, type PoolStats } from './connection-pool.ts';
import { HostResolver, isHostName } from './host-resolver.ts';
import { NamePins } from './name-pins.ts';
import { transportError } from './errors.ts';
import { resolveOptions, type FlowInfo, type ResolvedOptions, type TraceHook, type TransportDiagnostic, type TransportLayerOptions } from './options.ts';
import { callSafely, type ErrorCallback } from './pending-senders.ts';
import { responseTarget, responseViaFields } from './response-target.ts';
import { decideRequestTransport, MAX_UDP_PAYLOAD, type TransportDecision } from './size-policy.ts';
import { statelessReply } from './stateless-reply.ts';
import type { StreamConnection } from './stream.ts';
import { PortHostTable } from './port-host-table.ts';
import { UdpTransport, type UdpListener } from './udp.ts';
import { TransportError, type Endpoint, type Received, type SendOptions, type Transport, type TransportKind } from './types.ts';

/** A bound listener as the layer sees it. */
export interface ListenerInfo {
  readonly transport: TransportKind;
  /** Bound address (may be a wildcard). */
  readonly host: string;
  readonly port: number;
  /** Address put in Via sent-by and Contact. */
  readonly advertisedHost: string;
  readonly family: 4 | 6;
}

export interface TransportStats extends PoolStats {
  /** UDP sockets open: listeners + connected per-target sockets. */
  readonly udpSockets: number;
  readonly udpPeers: number;
  readonly closed: boolean;
}

const RESPONSE_PREFIX = [83, 73, 80, 47, 50, 46, 48, 32]; // "SIP/2.0 "

const NO_OPTIONS: SendOptions = Object.freeze({});
const MAX_CACHED_ROUTES = 4096;

/** Where datagrams to one destination go: checked and chosen once per address and port (PortHostTable). */
interface UdpRoute {
  readonly to: Endpoint;
  readonly listener: UdpListener;
  readonly peerKey: string;
}

function isResponseBytes(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 13 || bytes[i] === 10)) i++;
  for (let k = 0; k < RESPONSE_PREFIX.length; k++) if (bytes[i + k] !== RESPONSE_PREFIX[k]) return false;
  return true;
}

export class SipTransportLayer implements Transport {
  onReceive: ((received: Received) => void) | undefined;
  /** Raw trace of every SIP message in and out (keep-alives excluded). */
  onTrace: TraceHook | undefined;
  onDiagnostic: ((diagnostic: TransportDiagnostic) => void) | undefined;
  onFlowClosed: ((flow: FlowInfo, error: TransportError | undefined) => void) | undefined;

  readonly #options: ResolvedOptions;
  readonly #udp: UdpTransport;
  readonly #pool: ConnectionPool;
  readonly #listeners: ListenerInfo[] = [];
  /** The address families of #listeners (NamePins reads it on every send to a name). */
  readonly #families = new Set<4 | 6>();
  readonly #udpByListener = new Map<ListenerInfo, UdpListener>();
  readonly #ourHosts = new Set<string>();
  readonly #ourPorts = new Set<number>();
  readonly #udpRoutes = new PortHostTable<UdpRoute>(MAX_CACHED_ROUTES);
  /** localEndpointFor() answers by transport, then host (bounded like the route cache); no key string built per request. */
  readonly #localByTarget: Readonly<Record<TransportKind, Map<string, Endpoint>>> = { udp: new Map(), tcp: new Map(), tls: new Map() };
  readonly #datagramParse: { framing: 'datagram'; limits?: Partial<ParseLimits> };
  readonly #streamParse: { framing: 'stream'; limits?: Partial<ParseLimits> };
  #closing: Promise<void> | undefined;
  readonly #resolver: HostResolver;
  /** Which address of a name each (transport, name, port) sends to. */
  readonly #pins = new NamePins(this.#families, MAX_CACHED_ROUTES);
  /** TlsOptions.servername: when set, it names every TLS site's certificate. */
  readonly #tlsServername: string | undefined;

  private constructor(options: TransportLayerOptions) {
    this.#options = resolveOptions(options);
    this.#resolver = options.resolver ?? new HostResolver();
    this.#tlsServername = options.tls?.servername;
    this.#datagramParse = options.limits === undefined ? { framing: 'datagram' } : { framing: 'datagram', limits: options.limits };
    this.#streamParse = options.limits === undefined ? { framing: 'stream' } : { framing: 'stream', limits: options.limits };
    this.onTrace = options.onTrace;
    this.onDiagnostic = options.onDiagnostic;
    this.onFlowClosed = options.onFlowClosed;
    for (const alias of options.sentByAliases ?? []) this.#ourHosts.add(normalizeHost(alias));
    const o = this.#options;
    this.#udp = new UdpTransport(o, {
      datagram: (bytes, source, listener) => this.#inbound(bytes, source, listener.local, undefined, listener),
      diagnostic: (d) => this.#diagnostic(d),
      callbackError: (error) => this.#diagnostic({ type: 'handler-error', error }),
    });
    this.#pool = new ConnectionPool(
      { ...o, random: options.random ?? Math.random }, // jitter of keep-alive ping intervals only, never an identifier on the wire
      options.tls,
      {
        message: (connection, bytes) => this.#inbound(bytes, connection.remote, connection.local ?? this.#fallbackLocal(connection.transport), connection, undefined),
        framingReply: (connection, error, head) => this.#framingReply(connection, error, head),
        diagnostic: (d) => this.#diagnostic(d),
        callbackError: (error) => this.#diagnostic({ type: 'handler-error', error }),
        flowClosed: (flow, error) => {
          try {
            this.onFlowClosed?.(flow, error);
          } catch (thrown) {
            this.#diagnostic({ type: 'handler-error', error: thrown });
          }
        },
        localAddressFor: (target) => this.#pickListener(target.transport, target.host, true)?.host,
      },
    );
  }

  /** Binds every configured listener; on any failure closes what was bound and rejects. */
  static async create(options: TransportLayerOptions): Promise<SipTransportLayer> {
    const layer = new SipTransportLayer(options);
    for (const listener of options.listeners) {
      try {
        await layer.#listen(listener);
      } catch (error) {
        await layer.close();
        throw bindError(listener, error);
      }
    }
    return layer;
  }

  get listeners(): readonly ListenerInfo[] {
    return this.#listeners;
  }

  isReliable(transport: TransportKind): boolean {
    return transport !== 'udp';
  }

  /**
   * The first listener of that transport, as Via sent-by / Contact. Throws when none is configured.
   * TLS without a TLS listener (a client without a certificate of its own) uses the TCP listener's
   * address: responses and requests back come over the TLS connection we opened (RFC 3261 s18.2.2).
   */
  localEndpoint(transport: TransportKind, target?: Endpoint): Endpoint {
    if (target !== undefined) return this.localEndpointFor({ transport, host: target.host, port: target.port });
    let listener = this.#listeners.find((l) => l.transport === transport);
    if (listener === undefined && transport === 'tls') listener = this.#listeners.find((l) => l.transport === 'tcp');
    if (listener === undefined) throw new StateError('ERR_STATE', `no ${transport} listener configured`);
    return { transport, host: listener.advertisedHost, port: listener.port };
  }

  /**
   * The listener a message to `target` leaves from: same transport and
   * address family, loopback matching loopback (TLS without a TLS listener:
   * the TCP one of that family). Remembered per address: Via and Contact ask
   * for it on every request.
   */
  localEndpointFor(target: Endpoint): Endpoint {
    const byHost = this.#localByTarget[target.transport];
    const known = byHost.get(target.host);
    if (known !== undefined) return known;
    if (!isIP(normalizeHost(target.host))) {
      // The address its sends go to, even from a stale answer (a REGISTER refresh must keep its Contact);
      // never looked up: the transport's first listener (the name's family is not known before).
      const address = this.#addressOf(target);
      return isIP(address) ? this.localEndpointFor({ ...target, host: address }) : this.localEndpoint(target.transport);
    }
    let listener = this.#pickListener(target.transport, target.host, true);
    if (listener === undefined && target.transport === 'tls') listener = this.#pickListener('tcp', target.host, true);
    const local = listener === undefined
      ? this.localEndpoint(target.transport)
      : { transport: target.transport, host: listener.advertisedHost, port: listener.port };
    if (byHost.size >= MAX_CACHED_ROUTES) byHost.clear();
    // A copy: a host sliced from a received message would keep its whole text alive in the cache.
    byHost.set(ownedString(target.host), local);
    return local;
  }

  send(bytes: Uint8Array, target: Endpoint, options: SendOptions = NO_OPTIONS): void {
    const onError = options.onError;
    try {
      // A UDP route is checked and chosen once per destination; a target's host is normalized already, nearly always.
      const cached = target.transport === 'udp' && this.#closing === undefined ? this.#udpRoutes.find(target.host, target.port) : undefined;
      if (cached !== undefined) return this.#sendUdp(bytes, cached, onError, target.explicitTransport === true);
      const to: Endpoint = { transport: target.transport, host: normalizeHost(target.host), port: target.port };
      if (this.#closing !== undefined) return this.#failLater(onError, transportError('ECLOSED', to, 'transport closed'));
      if (!Number.isInteger(to.port) || to.port < 1 || to.port > 65535) {
        return this.#failLater(onError, transportError('EUNREACHABLE', to, 'target port must be in 1..65535'));
      }
      if (!isIP(to.host)) return this.#sendToName(bytes, target, to, options);
      if (to.transport !== 'udp') {
        return this.#pool.send(bytes, to, options.flowId, onError, (connection) => this.#trace('out', connection.local ?? this.#fallbackLocal(connection.transport), connection.remote, bytes));
      }
      const route = this.#udpRoute(to);
      if (route === undefined) return this.#failLater(onError, transportError('EUNREACHABLE', to, `no UDP listener for IPv${familyOf(to.host)}`));
      this.#sendUdp(bytes, route, onError, target.explicitTransport === true);
    } catch (error) {
      // Nothing throws out of send(): a bug here still reaches the sender.
      const to: Endpoint = { transport: target.transport, host: target.host, port: target.port };
      this.#failLater(onError, transportError('EUNREACHABLE', to, (error as Error)?.message ?? String(error)));
    }
  }

  /**
   * A send to a host name: on its remembered address, else after one lookup
   * (sends to the name meanwhile wait for the same one, in order). TLS checks
   * the certificate against the name, not the address, unless told otherwise.
   */
  #sendToName(bytes: Uint8Array, target: Endpoint, to: Endpoint, options: SendOptions): void {
    if (!isHostName(to.host)) return this.#failLater(options.onError, transportError('EUNREACHABLE', to, 'target must be an IP address or a host name'));
    const sendTo = (addresses: readonly string[]): void => {
      try {
        const address = this.#pins.pin(to, addresses);
        const resolved: Endpoint = { ...target, host: address };
        // The certificate is checked against the name, unless the TLS options name one for every site.
        if (to.transport === 'tls' && this.#tlsServername === undefined) this.#pool.setServerName(resolved, to.host);
        const onError = options.onError === undefined ? undefined : this.#pins.wrap(to, options.onError, address, () => this.#resolver.addresses(to.host));
        this.send(bytes, resolved, onError === undefined ? options : { ...options, onError });
      } catch (error) {
        this.#failLater(options.onError, transportError('EUNREACHABLE', to, (error as Error)?.message ?? String(error)));
      }
    };
    const fresh = this.#resolver.cached(to.host);
    if (fresh !== undefined) return sendTo(fresh);
    this.#resolver.resolve(to.host).then(sendTo, (error: Error) => this.#failLater(options.onError, transportError('EUNREACHABLE', to, error.message)));
  }

  /** `target`'s host normalized; for a name, the address its sends go to (the name itself when never looked up). */
  #addressOf(target: Endpoint): string {
    const normalized = normalizeHost(target.host);
    if (isIP(normalized)) return normalized;
    const name: Endpoint = { transport: target.transport, host: normalized, port: target.port };
    const pinned = this.#pins.pinned(name);
    if (pinned !== undefined) return pinned;
    const known = this.#resolver.addresses(normalized);
    return known.length > 0 ? this.#pins.pin(name, known) : normalized;
  }

  /** The addresses host name `host` had at its last lookup (none for an address or a name never looked up). */
  addressesOf(host: string): readonly string[] {
    return this.#resolver.addresses(host);
  }

  /** See Transport.release: the flow a send to `target` used forgets `options.onError`. */
  release(target: Endpoint, options: SendOptions): void {
    const onError = options.onError;
    if (onError === undefined) return;
    const normalized = normalizeHost(target.host);
    // The common case first, as before names: a UDP route is known by address (a name never has one).
    const cached = target.transport === 'udp' ? this.#udpRoutes.find(normalized, target.port) : undefined;
    if (cached !== undefined) return this.#udp.release(cached.peerKey, onError);
    if (!isIP(normalized)) {
      // Sends to a name went out with a wrapper of the callback (NamePins), maybe to several of its addresses.
      const sender = this.#pins.unwrap({ transport: target.transport, host: normalized, port: target.port }, onError);
      for (const address of sender?.addresses ?? []) this.release({ ...target, host: address }, { ...options, onError: sender!.onError });
      return;
    }
    if (target.transport === 'udp') {
      // A route the bounded cache let go of is chosen again: the same listener and peer key as when sent.
      const route = this.#udpRoute({ transport: 'udp', host: normalized, port: target.port });
      if (route !== undefined) this.#udp.release(route.peerKey, onError);
      return;
    }
    this.#pool.release({ transport: target.transport, host: normalized, port: target.port }, options.flowId, onError);
  }

  /** See Transport.noResponse: a name whose address was silent moves to its next address. */
  noResponse(target: Endpoint, options: SendOptions): void {
    const normalized = normalizeHost(target.host);
    if (options.onError === undefined || isIP(normalized)) return;
    this.#pins.silent({ transport: target.transport, host: normalized, port: target.port }, options.onError, this.#resolver.addresses(normalized));
  }

  /** See Transport.planRequest: RFC 3261 s18.1.1 (the move to TCP only when a TCP listener exists). */
  planRequest(byteLength: number, target: Endpoint): TransportDecision {
    return decideRequestTransport(byteLength, target, {
      udpMaxBytes: this.#options.udpMaxBytes,
      allowTcpFallback: this.#options.allowTcpFallback && this.#listeners.some((l) => l.transport === 'tcp'),
    });
  }

  /** Where the response to a received request goes (RFC 3261 s18.2.2, RFC 3581); send it with flowId = received.flowId. */
  responseTarget(received: Received): Endpoint {
    return responseTarget(received);
  }

  /** The request's Via fields for the response, the top one with received/rport (RFC 3581 s4). */
  responseViaFields(received: Received): string[] {
    return responseViaFields(received);
  }

  /** Names the certificate a TLS target must present (SNI + verification); undefined: the layer default or the IP. */
  setTlsServerName(target: Endpoint, servername: string | undefined): void {
    this.#pool.setServerName(target, servername);
  }

  /** See Transport.retainFlow: the outgoing TCP/TLS flow to `target` stays open past the idle timeout while retained. */
  retainFlow(target: Endpoint, retain: boolean): void {
    if (target.transport === 'udp') return;
    this.#pool.retain({ transport: target.transport, host: this.#addressOf(target), port: target.port }, retain);
  }

  /** Sends an RFC 5626 CRLFCRLF ping on a TCP/TLS flow now; a missing pong kills the flow (ETIMEDOUT). */
  ping(flowId: string): boolean {
    return this.#pool.ping(flowId);
  }

  /** See Transport.probeFlow. */
  probeFlow(target: Endpoint, timeoutMs: number, done: (alive: boolean, reason: string) => void): void {
    const to: Endpoint = { transport: target.transport, host: this.#addressOf(target), port: target.port };
    if (to.transport === 'udp' || this.#closing !== undefined) {
      queueMicrotask(() => done(false, to.transport === 'udp' ? 'UDP has no flow to ping' : 'transport closed'));
      return;
    }
    this.#pool.probe(to, timeoutMs, done);
  }

  stats(): TransportStats {
    const udp = this.#udp.stats();
    const pool = this.#pool.stats();
    return {
      ...pool,
      pendingSenders: pool.pendingSenders + udp.pendingSenders,
      listening: pool.listening + this.#udp.listeners.length,
      udpSockets: udp.sockets,
      udpPeers: udp.peers,
      closed: this.#closing !== undefined,
    };
  }

  /** Frees every socket and timer; resolves when all are closed. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([this.#udp.close(), this.#pool.close()]);
      // 'close' events come before libuv releases the handles (its close
      // phase follows the check phase): after two check phases they are gone.
      for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    })();
    return this.#closing;
  }

  async #listen(options: TransportLayerOptions['listeners'][number]): Promise<void> {
    const host = normalizeHost(options.host);
    if (!isIP(host)) throw new Error(`${JSON.stringify(options.host)} is not an IP address`);
    const family = familyOf(host);
    let port: number;
    let udpListener: UdpListener | undefined;
    const bind = async (wanted: number): Promise<number> => {
      if (options.transport !== 'udp') return this.#pool.listen(options.transport, host, wanted);
      udpListener = await this.#udp.listen(host, wanted);
      return udpListener.local.port;
    };
    // UDP and TCP on one address share a port number when the system picks
    // it, as SIP servers expect (RFC 3263 gives one port per host).
    const sibling = (options.port ?? 0) === 0 && options.transport !== 'tls'
      ? this.#listeners.find((l) => l.host === host && l.transport !== 'tls' && l.transport !== options.transport)
      : undefined;
    if (sibling !== undefined) {
      try {
        port = await bind(sibling.port);
      } catch {
        port = await bind(0);
      }
    } else {
      port = await bind(options.port ?? 0);
    }
    const advertisedHost = normalizeHost(options.advertisedHost ?? (isWildcard(host) ? interfaceAddress(family) : host));
    const info: ListenerInfo = { transport: options.transport, host, port, advertisedHost, family };
    this.#listeners.push(info);
    this.#families.add(family);
    if (udpListener !== undefined) this.#udpByListener.set(info, udpListener);
    this.#ourPorts.add(port);
    this.#ourHosts.add(advertisedHost);
    if (isWildcard(host)) for (const address of allInterfaceAddresses()) this.#ourHosts.add(address);
    else this.#ourHosts.add(host);
  }

  /**
   * The listener and peer key for a validated UDP target; undefined when no
   * listener has its family. Kept per address (PortHostTable): ten thousand
   * connections to one site are ten thousand target objects but one route.
   */
  #udpRoute(to: Endpoint): UdpRoute | undefined {
    const known = this.#udpRoutes.find(to.host, to.port);
    if (known !== undefined) return known;
    const info = this.#pickListener('udp', to.host, true);
    const listener = info === undefined ? undefined : this.#udpByListener.get(info);
    if (listener === undefined) return undefined;
    // The host a copy: one sliced from a received message would keep its whole text alive in the cache.
    const owned: Endpoint = { transport: 'udp', host: ownedString(to.host), port: to.port };
    const route: UdpRoute = { to: owned, listener, peerKey: this.#udp.peerKey(listener, owned) };
    // Bounded (PortHostTable): routes are cheap to choose again.
    this.#udpRoutes.add(owned.host, owned.port, route);
    return route;
  }

  #sendUdp(bytes: Uint8Array, route: UdpRoute, onError: ErrorCallback | undefined, explicitTransport: boolean): void {
    const target = route.to;
    const request = !isResponseBytes(bytes);
    if (bytes.length > MAX_UDP_PAYLOAD) return this.#failLater(onError, transportError('ETOOBIG', target, `${bytes.length} bytes do not fit a datagram`));
    if (request && bytes.length > this.#options.udpMaxBytes) {
      // The transaction layer moves such requests to TCP before sending; one still here was refused or bypassed it.
      const plan = this.planRequest(bytes.length, explicitTransport ? { ...target, explicitTransport } : target);
      if (plan.action === 'too-big') return this.#failLater(onError, transportError('ETOOBIG', target, plan.reason));
      if (plan.action === 'tcp') {
        return this.#failLater(onError, transportError('ETOOBIG', target, `request of ${bytes.length} bytes is over the UDP limit of ${this.#options.udpMaxBytes} bytes: it goes over TCP (RFC 3261 s18.1.1)`));
      }
    }
    if (this.onTrace !== undefined) this.#trace('out', route.listener.local, target, bytes);
    this.#udp.send(route.listener, bytes, target, onError, request, route.peerKey);
  }

  /** Listener for a transport and destination: same family, loopback matching loopback, else the first of that family. */
  #pickListener(transport: TransportKind, host: string, sameTransportOnly: boolean): ListenerInfo | undefined {
    const family = familyOf(host);
    const loop = isLoopback(host);
    const pick = (list: ListenerInfo[]): ListenerInfo | undefined => {
      const ofFamily = list.filter((l) => l.family === family);
      return ofFamily.find((l) => isWildcard(l.host) || isLoopback(l.host) === loop) ?? ofFamily[0];
    };
    const same = pick(this.#listeners.filter((l) => l.transport === transport));
    if (same !== undefined || sameTransportOnly) return same;
    return pick(this.#listeners);
  }

  #fallbackLocal(transport: TransportKind): Endpoint {
    const listener = this.#listeners.find((l) => l.transport === transport);
    return { transport, host: listener?.host ?? '', port: listener?.port ?? 0 };
  }

  #inbound(bytes: Uint8Array, source: Endpoint, local: Endpoint, connection: StreamConnection | undefined, udp: UdpListener | undefined): void {
    try {
      if (this.onTrace !== undefined) this.#trace('in', source, local, bytes);
      let message;
      try {
        message = parseMessage(bytes, connection === undefined ? this.#datagramParse : this.#streamParse);
      } catch (error) {
        this.#malformed(bytes, source, local, connection, udp, error);
        return;
      }
      this.#pins.heard(source.host);
      const top = message.topVia;
      if (top === undefined) {
        this.#diagnostic({ type: 'dropped', source, why: 'no-via' });
        return;
      }
      if (message.kind === 'response' && this.#options.checkResponseSentBy && !this.#isOurSentBy(top.host, top.port, top.transport)) {
        // RFC 3261 s18.1.2: a response whose sent-by we would not insert is discarded.
        this.#diagnostic({ type: 'dropped', source, why: 'sent-by-mismatch' });
        return;
      }
      this.onReceive?.({ message, source, local, flowId: connection?.flowId });
    } catch (error) {
      // Nothing throws out of a socket handler, the upper layer's bugs included.
      this.#diagnostic({ type: 'handler-error', error });
    }
  }

  #malformed(bytes: Uint8Array, source: Endpoint, local: Endpoint, connection: StreamConnection | undefined, udp: UdpListener | undefined, error: unknown): void {
    const status = error instanceof SipParseError ? error.status : 400;
    const reason = error instanceof SipParseError ? error.reason : String(error);
    const decision = statelessReply(bytes, source, status, randomBytes(6).toString('hex'));
    if (decision.action === 'drop') {
      this.#diagnostic({ type: 'malformed', source, status, reason, action: 'dropped', why: decision.why });
      return;
    }
    const { bytes: reply, target } = decision.reply;
    this.#trace('out', local, connection?.remote ?? target, reply);
    if (connection !== undefined) connection.write(reply, undefined);
    else if (udp !== undefined) this.#udp.send(udp, reply, target, undefined, false);
    this.#diagnostic({ type: 'malformed', source, status, reason, action: 'replied' });
  }

  /** RFC 3261 s18.3: the 400/413 for a request whose framing failed, sent on its connection before it closes. */
  #framingReply(connection: StreamConnection, error: SipParseError, head: Uint8Array): Uint8Array | undefined {
    const decision = statelessReply(head, connection.remote, error.status, randomBytes(6).toString('hex'));
    if (decision.action === 'drop') return undefined;
    this.#trace('out', connection.local ?? this.#fallbackLocal(connection.transport), connection.remote, decision.reply.bytes);
    return decision.reply.bytes;
  }

  #isOurSentBy(host: string, port: number | null, viaTransport: string): boolean {
    const transport: TransportKind = viaTransport === 'TLS' ? 'tls' : viaTransport === 'TCP' ? 'tcp' : 'udp';
    return this.#ourHosts.has(normalizeHost(host)) && this.#ourPorts.has(port ?? defaultPort(transport));
  }

  #trace(direction: 'in' | 'out', source: Endpoint, destination: Endpoint, bytes: Uint8Array): void {
    if (this.onTrace === undefined) return;
    try {
      this.onTrace(direction, direction === 'in' ? source.transport : destination.transport, source, destination, bytes);
    } catch (error) {
      this.#diagnostic({ type: 'handler-error', error });
    }
  }

  #diagnostic(diagnostic: TransportDiagnostic): void {
    try {
      this.onDiagnostic?.(diagnostic);
    } catch {
      // A diagnostics hook that throws is ignored.
    }
  }

  #failLater(onError: ErrorCallback | undefined, error: TransportError): void {
    if (onError === undefined) return;
    queueMicrotask(() => callSafely(onError, error, (e) => this.#diagnostic({ type: 'handler-error', error: e })));
  }
}

/** First non-internal address of a family, else the loopback address. */
function interfaceAddress(family: 4 | 6): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) {
      if (!address.internal && (address.family === 'IPv4' ? 4 : 6) === family && !address.address.startsWith('fe80')) return address.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}

function allInterfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const address of list ?? []) out.push(normalizeHost(address.address));
  return out;
}

/** A listener that could not bind, as a TransportError (EBIND) naming it, the system's error as its cause. */
function bindError(listener: TransportLayerOptions['listeners'][number], error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const where: Endpoint = { transport: listener.transport, host: listener.host, port: listener.port ?? 0 };
  const system = (error as { code?: unknown })?.code;
  const why = !isIP(normalizeHost(listener.host)) ? 'the local host must be an IP address (or 0.0.0.0, ::)'
    : system === 'EADDRINUSE' ? 'the port is in use'
    : system === 'EADDRNOTAVAIL' ? "the address is not one of this host's"
    : system === 'EACCES' ? 'no permission for that port'
    : 'the system refused it';
  const detail = error instanceof Error ? error.message : String(error);
  return new TransportError('EBIND', where, `cannot listen on ${listener.transport} ${listener.host}:${listener.port ?? 0}: ${why} (${detail})`, { cause: error });
}
