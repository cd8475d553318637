/**
 * The next-hop Endpoint for a SIP/SIPS URI whose host is an IP address
 * (RFC 3263 resolution of names is not ours: targets are addresses).
 * RFC 3261 s26.2.2 / RFC 5630: a sips: URI requires TLS on the hop; a
 * transport=udp on it is an error, transport=tcp (deprecated) still means TLS.
 */
import type { Uri } from '../parser/index.ts';
import { defaultPort, isIP, normalizeHost } from './addresses.ts';
import type { Endpoint, TransportKind } from './types.ts';

export type TargetResult = { readonly ok: true; readonly target: Endpoint } | { readonly ok: false; readonly reason: string };

export function targetFromUri(uri: Uri, fallbackTransport: TransportKind = 'udp'): TargetResult {
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return { ok: false, reason: `${uri.scheme}: URIs have no transport target` };
  const host = uri.host === null ? '' : normalizeHost(uri.host);
  if (!isIP(host)) return { ok: false, reason: `host ${uri.host} is not an IP address` };
  const param = uri.params.get('transport')?.toLowerCase() ?? null;
  let transport: TransportKind;
  if (uri.scheme === 'sips') {
    if (param === 'udp') return { ok: false, reason: 'a sips: URI cannot be reached over UDP' };
    transport = 'tls';
  } else if (param === 'udp' || param === 'tcp' || param === 'tls') {
    transport = param;
  } else if (param !== null) {
    return { ok: false, reason: `unsupported transport ${param}` };
  } else {
    transport = fallbackTransport;
  }
  const target: Endpoint = { transport, host, port: uri.port ?? defaultPort(transport) };
  // A UDP named by the URI is not ours to change (RFC 3261 s18.1.1 moves only unnamed ones).
  return { ok: true, target: param === 'udp' ? { ...target, explicitTransport: true } : target };
}

/** RFC 3261 s26.2.2: a request whose Request-URI is sips: must leave over TLS. */
export function secureTransportRequired(uri: Uri, target: Endpoint): boolean {
  return uri.scheme === 'sips' && target.transport !== 'tls';
}
