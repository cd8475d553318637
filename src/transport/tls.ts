/**
 * TLS on node:tls. The client verifies the server certificate chain and its
 * host name by default (servername, else the target IP against the
 * certificate's IP SANs); `rejectUnauthorized: false` must be written out to
 * skip that, for labs. TLS 1.2 is the minimum both ways. A sips: target
 * always goes over TLS (target.ts).
 */
import { StateError } from '../errors/sip-endpoint-error.ts';
import { checkServerIdentity, connect as tlsConnect, createServer as createTlsServerNode, type PeerCertificate, type Server, type TLSSocket } from 'node:tls';
import { isIP, isWildcard } from './addresses.ts';
import type { TlsOptions } from './options.ts';
import type { Endpoint } from './types.ts';

export const TLS_MIN_VERSION = 'TLSv1.2';

/** A TLS listener; needs tls.cert and tls.key. `onSocket` gets each connection once its handshake is done. */
export function createTlsServer(options: TlsOptions, handshakeTimeoutMs: number, onSocket: (socket: TLSSocket) => void): Server {
  if (options.cert === undefined || options.key === undefined) {
    throw new StateError('ERR_STATE', 'a TLS listener needs tls.cert and tls.key');
  }
  return createTlsServerNode(
    {
      cert: options.cert,
      key: options.key,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      minVersion: TLS_MIN_VERSION,
      requestCert: options.requestCert ?? false,
      // Only meaningful with requestCert: a client certificate must then verify.
      rejectUnauthorized: options.requestCert === true ? options.rejectUnauthorized !== false : false,
      handshakeTimeout: handshakeTimeoutMs,
      noDelay: true,
    },
    onSocket,
  );
}

/**
 * Starts a TLS connection. `servername` is the name the certificate must
 * carry (and the SNI); without it the target IP address is verified.
 */
export function connectTls(target: Endpoint, options: TlsOptions, servername: string | undefined, localAddress: string | undefined): TLSSocket {
  const name = servername ?? options.servername;
  return tlsConnect({
    host: target.host,
    port: target.port,
    ...(localAddress !== undefined && !isWildcard(localAddress) ? { localAddress } : {}),
    // RFC 6066 s3: SNI carries host names only, never IP addresses.
    ...(name !== undefined && !isIP(name) ? { servername: name } : {}),
    ...(name !== undefined ? { checkServerIdentity: checkIdentityAs(name) } : {}),
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.key !== undefined ? { key: options.key } : {}),
    minVersion: TLS_MIN_VERSION,
    rejectUnauthorized: options.rejectUnauthorized !== false,
  });
}

/** Verifies the certificate against `name` (Node would otherwise use the IP address we connected to). */
function checkIdentityAs(name: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => checkServerIdentity(name, cert);
}
