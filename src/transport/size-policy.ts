/**
 * RFC 3261 s18.1.1: "If a request is within 200 bytes of the path MTU, or if
 * it is larger than 1300 bytes and the path MTU is unknown, the request MUST
 * be sent using an RFC 2914 congestion controlled transport protocol, such as
 * TCP. If this causes a change in the transport protocol from the one
 * indicated in the top Via, the value in the top Via MUST be changed."
 *
 * Decided here, applied by the transaction layer, never silently in send():
 * switching to TCP changes the Via and makes the transaction reliable (no
 * retransmissions, timers D/K zero), so the transaction layer asks
 * (Transport.planRequest) before it creates the transaction and builds the
 * request with a TCP Via for the TCP target. SipTransportLayer.send()
 * reports ETOOBIG for a UDP request over the threshold that should have
 * moved (or was refused), and for any datagram over the UDP payload limit,
 * so nothing oversized leaves by accident.
 */
import { hostForHeader } from './addresses.ts';
import type { Endpoint, TransportDecision } from './types.ts';

export type { TransportDecision } from './types.ts';

export interface SizePolicy {
  /** Requests over this many bytes bound for UDP move to TCP (s18.1.1): 1300, or the path MTU - 200 when it is known. */
  readonly udpMaxBytes: number;
  /** Whether the move to TCP is allowed (a TCP listener exists). Default true. */
  readonly allowTcpFallback: boolean;
}

/** Largest UDP payload over IPv4 (65535 - 8 - 20). */
export const MAX_UDP_PAYLOAD = 65507;

export const DEFAULT_SIZE_POLICY: SizePolicy = Object.freeze({ udpMaxBytes: 1300, allowTcpFallback: true });

/**
 * For a request of `byteLength` bytes to `target`:
 * - not UDP, or within udpMaxBytes: send as is;
 * - over udpMaxBytes, the target named UDP itself (`transport=udp`):
 *   'too-big' (we may not change its transport, and s18.1.1 forbids UDP);
 * - over udpMaxBytes and the fallback allowed: 'tcp' to the same address and port;
 * - over udpMaxBytes, no fallback (a UDP-only layer, by configuration): send
 *   as is when it fits a datagram, else 'too-big'.
 */
export function decideRequestTransport(byteLength: number, target: Endpoint, policy: SizePolicy = DEFAULT_SIZE_POLICY): TransportDecision {
  if (target.transport !== 'udp' || byteLength <= policy.udpMaxBytes) return { action: 'send', target };
  if (target.explicitTransport === true) {
    return { action: 'too-big', reason: `request of ${byteLength} bytes is over the UDP limit of ${policy.udpMaxBytes} bytes (RFC 3261 s18.1.1) and its target names transport=udp` };
  }
  if (policy.allowTcpFallback) return { action: 'tcp', target: { transport: 'tcp', host: target.host, port: target.port } };
  if (byteLength <= MAX_UDP_PAYLOAD) return { action: 'send', target };
  return { action: 'too-big', reason: `request of ${byteLength} bytes does not fit a datagram (${MAX_UDP_PAYLOAD} bytes) and no TCP listener can carry it` };
}

const LF = 10;

/**
 * Rewrites the transport token and sent-by of the first Via in a request's
 * bytes ("SIP/2.0/UDP 10.0.0.1:5060;branch=..." -> "SIP/2.0/TCP
 * 10.0.0.1:5070;branch=..."); parameters are kept. Returns the bytes
 * unchanged when no Via line is found in the header section.
 */
export function rewriteTopVia(bytes: Uint8Array, sentBy: Endpoint): Uint8Array {
  // Find the header section end, then a line starting with "Via:" or "v:".
  let lineStart = bytes.indexOf(LF) + 1;
  while (lineStart > 0 && lineStart < bytes.length) {
    const lineEnd = bytes.indexOf(LF, lineStart);
    const end = lineEnd < 0 ? bytes.length : lineEnd;
    if (end - lineStart <= 1) break; // empty line: end of headers
    const line = ascii(bytes, lineStart, end);
    const m = /^(via|v)([ \t]*:[ \t]*)([^/\s]+[ \t]*\/[ \t]*[^/\s]+[ \t]*\/[ \t]*)([A-Za-z0-9.+-]+)([ \t]+)(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)((?:[ \t]*:[ \t]*[0-9]+)?)/i.exec(line);
    if (m !== null) {
      const replaced = `${m[1]}${m[2]}${m[3]}${sentBy.transport.toUpperCase()}${m[5]}${hostForHeader(sentBy.host)}:${sentBy.port}`;
      const head = new TextEncoder().encode(replaced);
      const tailStart = lineStart + m[0].length;
      const out = new Uint8Array(bytes.length - m[0].length + head.length);
      out.set(bytes.subarray(0, lineStart), 0);
      out.set(head, lineStart);
      out.set(bytes.subarray(tailStart), lineStart + head.length);
      return out;
    }
    lineStart = end + 1;
  }
  return bytes;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}
