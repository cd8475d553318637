/**
 * The contract between the transport layer (node sockets, in this folder)
 * and the core layers above it. Types only: the core imports this file, so it
 * must never import a node: module.
 */
import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
import type { SipMessage } from '../parser/index.ts';

export type TransportKind = 'udp' | 'tcp' | 'tls';

/** One side of a SIP hop: transport, IP address (IPv6 without brackets) and port. */
export interface Endpoint {
  readonly transport: TransportKind;
  readonly host: string;
  readonly port: number;
  /**
   * The transport was named by the target (a URI's `transport=` param): a
   * large request is not moved from UDP to TCP (RFC 3261 s18.1.1), it fails
   * with ETOOBIG instead. Absent: the transport is ours to choose.
   */
  readonly explicitTransport?: boolean;
}

/**
 * RFC 3261 s18.1.1 for one request: send as is, move to TCP (same address
 * and port; the Via changes and the transaction runs with reliable timers),
 * or refuse (`reason` names the size and the limit).
 */
export type TransportDecision =
  | { readonly action: 'send'; readonly target: Endpoint }
  | { readonly action: 'tcp'; readonly target: Endpoint }
  | { readonly action: 'too-big'; readonly reason: string };

/** A message handed up by the transport, already parsed and checked (RFC 3261 s18.3). */
export interface Received {
  readonly message: SipMessage;
  /** Where it came from (for responses to requests: received/rport). */
  readonly source: Endpoint;
  /** The local socket it arrived on. */
  readonly local: Endpoint;
  /** Connection it arrived on (TCP/TLS), so responses and requests back reuse it. */
  readonly flowId: string | undefined;
}

export type TransportErrorCode =
  | 'ECONNREFUSED' // TCP refused or ICMP port unreachable on UDP
  | 'ECONNRESET'
  | 'ETIMEDOUT' // connect timeout or keep-alive pong timeout
  | 'ETLS' // handshake or certificate failure
  | 'ECLOSED' // transport closed
  | 'ELIMIT' // connection cap reached
  | 'EUNREACHABLE' // no route / address error
  | 'ETOOBIG' // message too large for the chosen transport
  | 'EBIND'; // a listener could not bind: address in use, not this host's, or not an IP address

export class TransportError extends SipEndpointError {
  override readonly name = 'TransportError';
  declare readonly code: TransportErrorCode;
  readonly target: Endpoint;

  constructor(
    code: TransportErrorCode,
    target: Endpoint,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.target = target;
  }
}

export interface SendOptions {
  /** Reuse this connection (TCP/TLS flow of a received request). */
  readonly flowId?: string;
  /** Called at most once, as soon as the transport knows the send failed. */
  readonly onError?: (error: TransportError) => void;
}

/** What the core layers use. Implemented by SipTransportLayer over node sockets, and by fakes in tests. */
export interface Transport {
  /** Sends one message; failures come back through options.onError, never as a throw. */
  send(bytes: Uint8Array, target: Endpoint, options?: SendOptions): void;
  /** True for TCP/TLS: no retransmissions, timers D/I/J/K are zero. */
  isReliable(transport: TransportKind): boolean;
  /**
   * Local address to put in Via sent-by and Contact for that transport; with
   * a `target`, the address a message to that target leaves from (same
   * address family: an IPv6 target gets our IPv6 address).
   */
  localEndpoint(transport: TransportKind, target?: Endpoint): Endpoint;
  /**
   * The sender of `options.onError` no longer needs to hear of errors on
   * `target` (its transaction got its final answer, or ended): the transport
   * forgets the callback now instead of holding it, and through it the
   * sender, for its whole error window. Optional: without it, callbacks age
   * out of that window.
   */
  release?(target: Endpoint, options: SendOptions): void;
  /**
   * RFC 5626 s4.4.1 keep-alive of the TCP/TLS connection to `target`: a
   * CRLFCRLF ping, and `done(true)` when the CRLF pong comes, `done(false,
   * why)` when there is no open connection or no pong within `timeoutMs`
   * (the connection is then failed). Optional: transports without streams
   * leave it out.
   */
  probeFlow?(target: Endpoint, timeoutMs: number, done: (alive: boolean, reason: string) => void): void;
  /**
   * The request sent to `target` with `options` timed out without any
   * response (Timer B in Calling, Timer F in Trying): for a host name, the
   * address it went to is silent and the name's next address takes over
   * (RFC 3263 s4.3; a refusal or unreachable address moves on at once,
   * silence only shows here). Called before release(). Optional.
   */
  noResponse?(target: Endpoint, options: SendOptions): void;
  /**
   * A registration uses (true) or stopped using (false) the TCP/TLS flow to
   * `target`: while retained, the flow is not closed for idleness (the site
   * reaches us over it; keep-alive checks it). Calls pair up. Optional.
   */
  retainFlow?(target: Endpoint, retain: boolean): void;
  /**
   * RFC 3261 s18.1.1 for a request of `byteLength` bytes to `target`, asked
   * by the transaction layer before it creates the transaction. Optional:
   * without it every request goes as addressed.
   */
  planRequest?(byteLength: number, target: Endpoint): TransportDecision;
  /** The upper layer's handler for every received message. */
  onReceive: ((received: Received) => void) | undefined;
}
