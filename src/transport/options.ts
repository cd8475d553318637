/**
 * Options of SipTransportLayer, with every limit explicit. Defaults (all
 * overridable):
 *
 * | option                 | default  | why                                                  |
 * |------------------------|----------|------------------------------------------------------|
 * | maxConnections         | 1024     | TCP+TLS, incoming + outgoing + handshaking           |
 * | maxBufferedBytes       | 65535    | per connection read buffer = largest message (parser) |
 * | maxWriteBufferBytes    | 1 MiB    | unsent bytes queued per connection                   |
 * | connectTimeoutMs       | 5000     | TCP connect + TLS handshake                          |
 * | idleTimeoutMs          | 180000   | no byte either way -> connection closed              |
 * | keepAlive.intervalMs   | 0 (off)  | RFC 5626 s4.4.1 CRLFCRLF ping on outgoing flows      |
 * | keepAlive.pongTimeoutMs| 10000    | RFC 5626 s4.4.1: no pong in 10 s -> flow failed      |
 * | pendingSenderMs        | 32000    | 64*T1: how long a sender hears of a flow failure     |
 * | maxPendingSenders      | 4096     | per flow                                             |
 * | udpConnectedPeers      | true     | per-target connected UDP sockets (ICMP detection)    |
 * | maxUdpPeers            | 256      | connected UDP sockets at once; beyond, plain sends   |
 * | udpPeerIdleMs          | 64000    | an unused connected UDP socket is closed             |
 * | udpMaxBytes            | 1300     | RFC 3261 s18.1.1 threshold                           |
 * | allowTcpFallback       | true     | s18.1.1 move to TCP (see size-policy.ts)             |
 * | checkResponseSentBy    | true     | RFC 3261 s18.1.2 drop responses not sent-by us       |
 */
import type { ParseLimits } from '../parser/index.ts';
import type { Endpoint, TransportError, TransportKind } from './types.ts';

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
  /** Name the server certificate must match (and SNI); default: the target IP (matched against IP SANs). */
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
  | { readonly type: 'connection-rejected'; readonly source: Endpoint; readonly why: 'limit' | 'closing' }
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
  readonly tls?: TlsOptions;
  readonly limits?: Partial<ParseLimits>;
  readonly maxConnections?: number;
  readonly maxBufferedBytes?: number;
  readonly maxWriteBufferBytes?: number;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly keepAlive?: Partial<KeepAliveOptions>;
  readonly pendingSenderMs?: number;
  readonly maxPendingSenders?: number;
  readonly udpConnectedPeers?: boolean;
  readonly maxUdpPeers?: number;
  readonly udpPeerIdleMs?: number;
  readonly udpMaxBytes?: number;
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
  readonly maxConnections: number;
  readonly maxBufferedBytes: number;
  readonly maxWriteBufferBytes: number;
  readonly connectTimeoutMs: number;
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
  maxConnections: 1024,
  maxBufferedBytes: 65535,
  maxWriteBufferBytes: 1024 * 1024,
  connectTimeoutMs: 5000,
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
    maxConnections: positive('maxConnections', options.maxConnections, DEFAULTS.maxConnections),
    maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes ?? options.limits?.maxMessageBytes, DEFAULTS.maxBufferedBytes),
    maxWriteBufferBytes: positive('maxWriteBufferBytes', options.maxWriteBufferBytes, DEFAULTS.maxWriteBufferBytes),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, DEFAULTS.connectTimeoutMs),
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
    udpMaxBytes: positive('udpMaxBytes', options.udpMaxBytes, DEFAULTS.udpMaxBytes),
    allowTcpFallback: options.allowTcpFallback ?? DEFAULTS.allowTcpFallback,
    checkResponseSentBy: options.checkResponseSentBy ?? DEFAULTS.checkResponseSentBy,
  };
}
