/**
 * IP address and endpoint helpers shared by the transport files. Pure: no
 * node: import, so the unit tests (and the core, if it ever needs them) can
 * use them anywhere.
 */
import type { Endpoint, TransportKind } from './types.ts';

/** RFC 3261 s19.1.2: 5060 for UDP/TCP, 5061 for TLS. */
export function defaultPort(transport: TransportKind): number {
  return transport === 'tls' ? 5061 : 5060;
}

/**
 * Canonical text of an address for comparisons: brackets removed, lower
 * case, IPv4-mapped IPv6 (::ffff:1.2.3.4) reduced to the IPv4 address.
 */
export function normalizeHost(host: string): string {
  let h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  h = h.toLowerCase();
  if (h.startsWith('::ffff:') && isIPv4(h.slice(7))) h = h.slice(7);
  return h;
}

export function isIPv4(host: string): boolean {
  // One pass, no allocation: this runs on every send.
  let octets = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i < host.length ? host.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      octets++;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  return octets === 4;
}

/** A loose IPv6 check (hex groups and colons, an optional IPv4 tail); enough to tell it from a host name. */
export function isIPv6(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!h.includes(':')) return false;
  const zone = h.indexOf('%');
  const body = zone < 0 ? h : h.slice(0, zone);
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  const head = tail.includes('.') ? body.slice(0, lastColon + 1) : body;
  if (tail.includes('.') && !isIPv4(tail)) return false;
  return /^[0-9a-fA-F:]+$/.test(head.length === 0 ? ':' : head) && (body.match(/::/g)?.length ?? 0) <= 1;
}

export function isIP(host: string): boolean {
  return isIPv4(host) || isIPv6(host);
}

export function familyOf(host: string): 4 | 6 {
  return isIPv4(normalizeHost(host)) ? 4 : 6;
}

/** Two addresses name the same host (after normalizeHost). */
export function sameHost(a: string, b: string): boolean {
  return normalizeHost(a) === normalizeHost(b);
}

/** host as written in a Via sent-by or a URI: IPv6 in brackets. */
export function hostForHeader(host: string): string {
  return isIPv6(host) && !host.startsWith('[') ? `[${host}]` : host;
}

/** "transport|host|port": the key of a connection or a UDP peer. */
export function endpointKey(endpoint: Endpoint): string {
  return `${endpoint.transport}|${normalizeHost(endpoint.host)}|${endpoint.port}`;
}

/** For messages and traces: "udp:[::1]:5060". */
export function formatEndpoint(endpoint: Endpoint): string {
  return `${endpoint.transport}:${hostForHeader(endpoint.host)}:${endpoint.port}`;
}

/** True for 0.0.0.0 and ::, which a socket may bind but a Via must not carry. */
export function isWildcard(host: string): boolean {
  const h = normalizeHost(host);
  return h === '0.0.0.0' || h === '::' || h === '0:0:0:0:0:0:0:0';
}

/** 127.0.0.0/8, ::1 or "localhost": a target or listener on this machine's loopback. */
export function isLoopback(host: string): boolean {
  const h = normalizeHost(host);
  return h === '::1' || h === 'localhost' || (h.startsWith('127.') && isIPv4(h));
}
