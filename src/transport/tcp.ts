/**
 * TCP on node:net: the listener and outgoing connections. Framing, reuse and
 * limits live in stream.ts and connection-pool.ts; this file only makes
 * sockets.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { isWildcard } from './addresses.ts';
import type { Endpoint } from './types.ts';

export function createTcpServer(onSocket: (socket: Socket) => void): Server {
  // pauseOnConnect: false; allowHalfOpen: false (a FIN from the peer closes the flow).
  return createServer({ noDelay: true }, onSocket);
}

/** Starts a TCP connection to `target`, from `localAddress` when it is a concrete address. */
export function connectTcp(target: Endpoint, localAddress: string | undefined): Socket {
  return createConnection({
    host: target.host,
    port: target.port,
    ...(localAddress !== undefined && !isWildcard(localAddress) ? { localAddress } : {}),
    noDelay: true,
  });
}

/** Binds a server; resolves with the bound port (port 0 picks one). */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
