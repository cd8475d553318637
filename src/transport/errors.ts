/**
 * Node socket errors -> TransportError codes (types.ts), by what the upper
 * layers do with them: ECONNREFUSED/ECONNRESET/ETLS/ETIMEDOUT end a client
 * transaction at once with a 503-equivalent (ETIMEDOUT: 408).
 */
import { formatEndpoint } from './addresses.ts';
import { TransportError, type Endpoint, type TransportErrorCode } from './types.ts';

/** Where in a connection's life the error happened. */
export type ErrorPhase = 'connect' | 'handshake' | 'open' | 'datagram';

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EINVAL', 'ENOTFOUND', 'EHOSTDOWN', 'ENETDOWN']);

const TLS_CODE = /^ERR_(SSL|TLS)_|CERT|SSL|TLS/;

export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classify(error: unknown, phase: ErrorPhase): TransportErrorCode {
  const code = codeOf(error);
  if (code === 'ECONNREFUSED') return 'ECONNREFUSED';
  if (code === 'ETIMEDOUT') return 'ETIMEDOUT';
  if (code !== undefined && UNREACHABLE.has(code)) return 'EUNREACHABLE';
  if (code === 'EMSGSIZE') return 'ETOOBIG';
  // OpenSSL and Node TLS codes (ERR_SSL_*, ERR_TLS_*, certificate errors) at
  // any phase: with TLS 1.3 a rejected client certificate arrives after the
  // client has finished its handshake.
  if (code !== undefined && TLS_CODE.test(code)) return 'ETLS';
  // During a TLS handshake every other failure (certificate, host name,
  // protocol version, a reset by a peer that refused us) is a TLS failure.
  if (phase === 'handshake') return 'ETLS';
  if (phase === 'datagram') return 'EUNREACHABLE';
  return 'ECONNRESET';
}

export function transportError(code: TransportErrorCode, target: Endpoint, detail: string): TransportError {
  return new TransportError(code, target, `${code} ${formatEndpoint(target)}: ${detail}`);
}

export function fromNodeError(error: unknown, target: Endpoint, phase: ErrorPhase): TransportError {
  const message = (error as Error | null)?.message ?? String(error);
  return transportError(classify(error, phase), target, message);
}
