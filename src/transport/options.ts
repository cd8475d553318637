/**
 * Options of SipTransportLayer, with every limit explicit. Defaults (all
 * overridable):
 *
 * | option                 | default  | why                                                  |
 * |------------------------|----------|------------------------------------------------------|
 * | maxIncomingConnections | 1024     | TCP+TLS accepted (handshaking included); when full a |
 * |                        |          | new one evicts the incoming flow idle the longest    |
 * | maxOutgoingConnections | 1024     | TCP+TLS we open (connecting included): a separate cap,|
 * |                        |          | so incoming floods never take our sites' slots       |
 * | maxIncomingPerAddress  | 0 (off)  | incoming connections from one IP address              |
 * | maxBufferedBytes       | 65535    | per connection read buffer = largest message (parser) |
 * | maxWriteBufferBytes    | 256 KiB  | unsent bytes queued per connection; more -> ELIMIT   |
 * | writeHighWaterBytes    | 64 KiB   | unsent bytes above which we stop reading the peer    |
 * | writeStallMs           | 10000    | still above the high water this long -> closed       |
 * | connectTimeoutMs       | 5000     | TCP connect + TLS handshake of outgoing connections  |
 * | handshakeTimeoutMs     | 5000     | incoming TLS handshake; not done -> socket destroyed |
 * | messageDeadlineMs      | 10000    | first byte of a message to its end; an incoming      |
 * |                        |          | connection's first message counts from the accept    |
 * | minMessageBytesPerSec  | 200      | a message arriving slower (after 2 s) -> closed      |
 * | idleTimeoutMs          | 180000   | no byte either way -> closed (not outgoing flows a   |
 * |                        |          | registration retains: keep-alive checks those)       |
 * | keepAlive.intervalMs   | 0 (off)  | RFC 5626 s4.4.1 CRLFCRLF ping on outgoing flows      |
 * | keepAlive.pongTimeoutMs| 10000    | RFC 5626 s4.4.1: no pong in 10 s -> flow failed      |
 * | pendingSenderMs        | 32000    | 64*T1: how long a sender hears of a flow failure     |
 * | maxPendingSenders      | 4096     | per flow                                             |
 * | udpConnectedPeers      | true     | per-target connected UDP sockets (ICMP detection)    |
 * | maxUdpPeers            | 256      | connected UDP sockets at once; beyond, plain sends   |
 * | udpPeerIdleMs          | 64000    | an unused connected UDP socket is closed             |
 * | udpMaxBytes            | 1300     | RFC 3261 s18.1.1 threshold (pathMtu - 200 if given)  |
 * | pathMtu                | unknown  | the path MTU, when known: sets udpMaxBytes           |
 * | allowTcpFallback       | true     | s18.1.1 move to TCP (see size-policy.ts)             |
 * | checkResponseSentBy    | true     | RFC 3261 s18.1.2 drop responses not sent-by us       |
 */
import type { ParseLimits } from '../parser/index.ts';
import type { Endpoint, TransportError, TransportKind } from './types.ts';
import type { HostResolver } from './host-resolver.ts';

export interface ListenerOptions {
  readonly transport: TransportKind;
  /** Local IP address to bind (IPv4 or IPv6, "0.0.0.0"/"::" allowed). */
  readonly host: string;
  /** 0 (default) lets the system choose. */
  readonly port?: number;
  /** Address to advertise in Via/Contact when host is a wildcard (default: the first interface address of that family). */
  readonly advertisedHost?: string;
}

export interface TlsOptions {
  /** Trusted CA certificates (PEM); default: Node's bundled roots. */
  readonly ca?: string | Buffer | Array<string | Buffer>;
  /** Our certificate chain and key (PEM): required for a TLS listener, optional client certificate. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Name every server certificate must match (and SNI); default: the site's host name when it is configured by name, else the target IP (matched against IP SANs). */
  readonly servername?: string;
  /** true (default) verifies the peer certificate and host name; false only for labs, and must be explicit. */
  readonly rejectUnauthorized?: boolean;
  /** TLS listener: ask clients for a certificate (mutual TLS). Default false. */
  readonly requestCert?: boolean;
}

export interface KeepAliveOptions {
  /** RFC 5626 s4.4.1 ping period on outgoing TCP/TLS flows, jittered to 80-100 %; 0 disables. */
  readonly intervalMs: number;
  /** Time to wait for the CRLF pong before the flow is declared dead (ETIMEDOUT). */
  readonly pongTimeoutMs: number;
}

export type TraceDirection = 'in' | 'out';
export type TraceHook = (direction: TraceDirection, transport: TransportKind, source: Endpoint, destination: Endpoint, bytes: Uint8Array) => void;

/** What the layer saw and did on its own (drops, stateless replies, closed flows); for logs and tests. */
export type TransportDiagnostic =
  | { readonly type: 'malformed'; readonly source: Endpoint; readonly status: number; readonly reason: string; readonly action: 'replied' | 'dropped'; readonly why?: string }
  | { readonly type: 'dropped'; readonly source: Endpoint; readonly why: 'no-via' | 'sent-by-mismatch' }
  | { readonly type: 'framing-error'; readonly flowId: string; readonly source: Endpoint; readonly status: number; readonly reason: string }
  | { readonly type: 'connection-rejected'; readonly source: Endpoint; readonly why: 'limit' | 'address-limit' | 'closing' }
  /** An incoming connection closed to make room for a new one (the incoming cap was full). */
  | { readonly type: 'connection-evicted'; readonly source: Endpoint }
  /** A connection closed by a deadline: TLS handshake, a message's deadline or rate, a peer that does not read. */
  /** `afterMs`: how long the condition had lasted (since the accept, the message's first byte, or reading stopped). */
  | { readonly type: 'connection-expired'; readonly source: Endpoint; readonly why: 'handshake' | 'message-deadline' | 'message-rate' | 'write-stall'; readonly afterMs: number }
  | { readonly type: 'tls-client-error'; readonly source: Endpoint; readonly message: string }
  | { readonly type: 'handler-error'; readonly error: unknown }
  | { readonly type: 'socket-error'; readonly local: Endpoint; readonly message: string };

export interface FlowInfo {
  readonly flowId: string;
  readonly transport: 'tcp' | 'tls';
  readonly direction: 'incoming' | 'outgoing';
  readonly remote: Endpoint;
}

export interface TransportLayerOptions {
  readonly listeners: readonly ListenerOptions[];
  /** Host names to addresses (default: the system resolver, answers kept 60 s). */
  readonly resolver?: HostResolver;
  readonly tls?: TlsOptions;
  readonly limits?: Partial<ParseLimits>;
  readonly maxIncomingConnections?: number;
  readonly maxOutgoingConnections?: number;
  readonly maxIncomingPerAddress?: number;
  readonly maxBufferedBytes?: number;
  readonly maxWriteBufferBytes?: number;
  readonly writeHighWaterBytes?: number;
  readonly writeStallMs?: number;
  readonly connectTimeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
  readonly messageDeadlineMs?: number;
  readonly minMessageBytesPerSec?: number;
  readonly idleTimeoutMs?: number;
  readonly keepAlive?: Partial<KeepAliveOptions>;
  readonly pendingSenderMs?: number;
  readonly maxPendingSenders?: number;
  readonly udpConnectedPeers?: boolean;
  readonly maxUdpPeers?: number;
  readonly udpPeerIdleMs?: number;
  readonly udpMaxBytes?: number;
  /** The path MTU when known: requests within 200 bytes of it move to TCP (RFC 3261 s18.1.1); overrides udpMaxBytes. */
  readonly pathMtu?: number;
  readonly allowTcpFallback?: boolean;
  readonly checkResponseSentBy?: boolean;
  /** More host names/addresses a response's top Via sent-by may carry. */
  readonly sentByAliases?: readonly string[];
  /** Keep-alive jitter source; default Math.random. */
  readonly random?: () => number;
  readonly onTrace?: TraceHook;
  readonly onDiagnostic?: (diagnostic: TransportDiagnostic) => void;
  /** A TCP/TLS flow ended; `error` unless it was closed by us or for idleness. */
  readonly onFlowClosed?: (flow: FlowInfo, error: TransportError | undefined) => void;
}

export interface ResolvedOptions {
  readonly maxIncomingConnections: number;
  readonly maxOutgoingConnections: number;
  readonly maxIncomingPerAddress: number;
  readonly maxBufferedBytes: number;
  readonly maxWriteBufferBytes: number;
  readonly writeHighWaterBytes: number;
  readonly writeStallMs: number;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly messageDeadlineMs: number;
  readonly minMessageBytesPerSec: number;
  readonly idleTimeoutMs: number;
  readonly keepAlive: KeepAliveOptions;
  readonly pendingSenderMs: number;
  readonly maxPendingSenders: number;
  readonly udpConnectedPeers: boolean;
  readonly maxUdpPeers: number;
  readonly udpPeerIdleMs: number;
  readonly udpMaxBytes: number;
  readonly allowTcpFallback: boolean;
  readonly checkResponseSentBy: boolean;
}

export const DEFAULTS: ResolvedOptions = Object.freeze({
  maxIncomingConnections: 1024,
  maxOutgoingConnections: 1024,
  maxIncomingPerAddress: 0,
  maxBufferedBytes: 65535,
  maxWriteBufferBytes: 256 * 1024,
  writeHighWaterBytes: 64 * 1024,
  writeStallMs: 10_000,
  connectTimeoutMs: 5000,
  handshakeTimeoutMs: 5000,
  messageDeadlineMs: 10_000,
  minMessageBytesPerSec: 200,
  idleTimeoutMs: 180_000,
  keepAlive: Object.freeze({ intervalMs: 0, pongTimeoutMs: 10_000 }),
  pendingSenderMs: 32_000,
  maxPendingSenders: 4096,
  udpConnectedPeers: true,
  maxUdpPeers: 256,
  udpPeerIdleMs: 64_000,
  udpMaxBytes: 1300,
  allowTcpFallback: true,
  checkResponseSentBy: true,
});

export function resolveOptions(options: TransportLayerOptions): ResolvedOptions {
  const positive = (name: string, value: number | undefined, fallback: number, allowZero = false): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new RangeError(`transport option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
    return value;
  };
  return {
    maxIncomingConnections: positive('maxIncomingConnections', options.maxIncomingConnections, DEFAULTS.maxIncomingConnections),
    maxOutgoingConnections: positive('maxOutgoingConnections', options.maxOutgoingConnections, DEFAULTS.maxOutgoingConnections),
    maxIncomingPerAddress: positive('maxIncomingPerAddress', options.maxIncomingPerAddress, DEFAULTS.maxIncomingPerAddress, true),
    maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes ?? options.limits?.maxMessageBytes, DEFAULTS.maxBufferedBytes),
    maxWriteBufferBytes: positive('maxWriteBufferBytes', options.maxWriteBufferBytes, DEFAULTS.maxWriteBufferBytes),
    writeHighWaterBytes: positive('writeHighWaterBytes', options.writeHighWaterBytes, DEFAULTS.writeHighWaterBytes),
    writeStallMs: positive('writeStallMs', options.writeStallMs, DEFAULTS.writeStallMs),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, DEFAULTS.connectTimeoutMs),
    handshakeTimeoutMs: positive('handshakeTimeoutMs', options.handshakeTimeoutMs, DEFAULTS.handshakeTimeoutMs),
    messageDeadlineMs: positive('messageDeadlineMs', options.messageDeadlineMs, DEFAULTS.messageDeadlineMs),
    minMessageBytesPerSec: positive('minMessageBytesPerSec', options.minMessageBytesPerSec, DEFAULTS.minMessageBytesPerSec, true),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, DEFAULTS.idleTimeoutMs, true),
    keepAlive: {
      intervalMs: positive('keepAlive.intervalMs', options.keepAlive?.intervalMs, DEFAULTS.keepAlive.intervalMs, true),
      pongTimeoutMs: positive('keepAlive.pongTimeoutMs', options.keepAlive?.pongTimeoutMs, DEFAULTS.keepAlive.pongTimeoutMs),
    },
    pendingSenderMs: positive('pendingSenderMs', options.pendingSenderMs, DEFAULTS.pendingSenderMs),
    maxPendingSenders: positive('maxPendingSenders', options.maxPendingSenders, DEFAULTS.maxPendingSenders),
    udpConnectedPeers: options.udpConnectedPeers ?? DEFAULTS.udpConnectedPeers,
    maxUdpPeers: positive('maxUdpPeers', options.maxUdpPeers, DEFAULTS.maxUdpPeers, true),
    udpPeerIdleMs: positive('udpPeerIdleMs', options.udpPeerIdleMs, DEFAULTS.udpPeerIdleMs),
    udpMaxBytes: options.pathMtu !== undefined ? pathMtuLimit(options.pathMtu) : positive('udpMaxBytes', options.udpMaxBytes, DEFAULTS.udpMaxBytes),
    allowTcpFallback: options.allowTcpFallback ?? DEFAULTS.allowTcpFallback,
    checkResponseSentBy: options.checkResponseSentBy ?? DEFAULTS.checkResponseSentBy,
  };
}

/** RFC 3261 s18.1.1: "within 200 bytes of the path MTU" moves to TCP. */
function pathMtuLimit(pathMtu: number): number {
  if (!Number.isInteger(pathMtu) || pathMtu <= 200) throw new RangeError(`transport option pathMtu must be a whole number of bytes above 200, got ${pathMtu}`);
  return pathMtu - 200;
}
