/**
 * The TCP and TLS flows of one layer: listeners, outgoing connections reused
 * per (transport, remote address, port), incoming connections kept as flows
 * (flowId) for responses and for requests back, and the connection cap
 * (incoming beyond it are closed at accept; outgoing fail with ELIMIT).
 */
import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { endpointKey, normalizeHost } from './addresses.ts';
import { transportError } from './errors.ts';
import type { FlowInfo, TlsOptions, TransportDiagnostic } from './options.ts';
import { callSafely, type ErrorCallback } from './pending-senders.ts';
import { StreamConnection, type ConnectionSettings, type PongWaiter } from './stream.ts';
import { closeServer, connectTcp, createTcpServer, listen } from './tcp.ts';
import { connectTls, createTlsServer } from './tls.ts';
import type { Endpoint, TransportError } from './types.ts';

export interface PoolSettings extends ConnectionSettings {
  readonly maxConnections: number;
}

export interface PoolHooks {
  message(connection: StreamConnection, bytes: Uint8Array): void;
  diagnostic(diagnostic: TransportDiagnostic): void;
  callbackError(error: unknown): void;
  flowClosed(flow: FlowInfo, error: TransportError | undefined): void;
  /** Local address to connect from for a target (the listener's, so the source matches the Via). */
  localAddressFor(target: Endpoint): string | undefined;
}

export interface PoolStats {
  readonly connections: number;
  readonly incoming: number;
  readonly outgoing: number;
  /** Incoming TLS connections still in their handshake. */
  readonly handshaking: number;
  readonly bytesBuffered: number;
  readonly pendingSenders: number;
  readonly listening: number;
}

export class ConnectionPool {
  readonly #settings: PoolSettings;
  readonly #tls: TlsOptions;
  readonly #hooks: PoolHooks;
  readonly #byFlow = new Map<string, StreamConnection>();
  readonly #byRemote = new Map<string, StreamConnection>();
  /** Raw sockets accepted by TLS listeners (handshaking or carrying an incoming TLS flow). */
  readonly #tlsRaw = new Set<Socket>();
  readonly #servers: Server[] = [];
  readonly #servernames = new Map<string, string>();
  #nextFlow = 1;
  #closing = false;

  constructor(settings: PoolSettings, tls: TlsOptions | undefined, hooks: PoolHooks) {
    this.#settings = settings;
    this.#tls = tls ?? {};
    this.#hooks = hooks;
  }

  /** Binds a TCP or TLS listener; resolves with its port. */
  async listen(transport: 'tcp' | 'tls', host: string, port: number): Promise<number> {
    let server: Server;
    if (transport === 'tcp') {
      server = createTcpServer((socket) => this.#guard(() => this.#accept(socket, 'tcp')));
    } else {
      server = createTlsServer(this.#tls, this.#settings.connectTimeoutMs, (socket) => this.#guard(() => this.#accept(socket, 'tls')));
      server.on('connection', (raw: Socket) => this.#guard(() => this.#acceptRawTls(raw)));
      server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
        this.#hooks.diagnostic({ type: 'tls-client-error', source: remoteOf(socket, 'tls'), message: error.message });
      });
    }
    server.on('error', (error: Error) => {
      this.#hooks.diagnostic({ type: 'socket-error', local: { transport, host, port }, message: error.message });
    });
    const bound = await listen(server, host, port);
    this.#servers.push(server);
    return bound;
  }

  /** Associates the name a TLS target's certificate must carry (SNI + verification). */
  setServerName(target: Endpoint, servername: string | undefined): void {
    const key = endpointKey({ ...target, transport: 'tls' });
    if (servername === undefined) this.#servernames.delete(key);
    else this.#servernames.set(key, servername);
  }

  send(bytes: Uint8Array, target: Endpoint, flowId: string | undefined, onError: ErrorCallback | undefined, trace: (connection: StreamConnection) => void): void {
    if (this.#closing) return this.#failLater(onError, transportError('ECLOSED', target, 'transport closed'));
    let connection = this.#pick(target, flowId);
    if (connection === undefined) {
      if (this.count >= this.#settings.maxConnections) {
        return this.#failLater(onError, transportError('ELIMIT', target, `connection cap of ${this.#settings.maxConnections} reached`));
      }
      connection = this.#connect(target as Endpoint & { transport: 'tcp' | 'tls' }, onError);
      if (connection === undefined) return;
    }
    trace(connection);
    connection.write(bytes, onError);
  }

  /** Forgets a sender's error callback on the connection send() would pick for it (see Transport.release). */
  release(target: Endpoint, flowId: string | undefined, onError: ErrorCallback): void {
    this.#pick(target, flowId)?.release(onError);
  }

  /** The open connection a send to `target` (over `flowId` if given and usable) goes out on, if any. */
  #pick(target: Endpoint, flowId: string | undefined): StreamConnection | undefined {
    if (flowId !== undefined) {
      const flow = this.#byFlow.get(flowId);
      if (flow !== undefined && flow.state !== 'closed' && flow.transport === target.transport) return flow;
    }
    const known = this.#byRemote.get(endpointKey(target));
    return known !== undefined && known.state !== 'closed' ? known : undefined;
  }

  /** Sends an RFC 5626 keep-alive ping on a flow; false when there is no such open flow. */
  ping(flowId: string): boolean {
    const connection = this.#byFlow.get(flowId);
    if (connection === undefined || connection.state !== 'open') return false;
    connection.ping();
    return true;
  }

  /**
   * A keep-alive probe of the open connection a send to `target` would use:
   * `done(true)` on the pong; `done(false, why)` when there is no such
   * connection or it fails first (no pong within timeoutMs closes it).
   */
  probe(target: Endpoint, timeoutMs: number, done: PongWaiter): void {
    const connection = this.#pick(target, undefined);
    if (connection === undefined || connection.state !== 'open') {
      queueMicrotask(() => done(false, `no open ${target.transport.toUpperCase()} connection to the site`));
      return;
    }
    connection.ping(timeoutMs, done);
  }

  flow(flowId: string): StreamConnection | undefined {
    return this.#byFlow.get(flowId);
  }

  /** Open connections, incoming TLS handshakes included: what the cap counts. */
  get count(): number {
    let incomingTls = 0;
    for (const connection of this.#byFlow.values()) if (connection.transport === 'tls' && connection.direction === 'incoming') incomingTls++;
    return this.#byFlow.size - incomingTls + this.#tlsRaw.size;
  }

  stats(): PoolStats {
    let incoming = 0;
    let incomingTls = 0;
    let bytesBuffered = 0;
    let pendingSenders = 0;
    for (const connection of this.#byFlow.values()) {
      if (connection.direction === 'incoming') incoming++;
      if (connection.direction === 'incoming' && connection.transport === 'tls') incomingTls++;
      bytesBuffered += connection.bufferedBytes;
      pendingSenders += connection.pendingSenders;
    }
    return {
      connections: this.#byFlow.size,
      incoming,
      outgoing: this.#byFlow.size - incoming,
      handshaking: this.#tlsRaw.size - incomingTls,
      bytesBuffered,
      pendingSenders,
      listening: this.#servers.filter((server) => server.listening).length,
    };
  }

  async close(): Promise<void> {
    this.#closing = true;
    const closing: Array<Promise<void>> = [];
    for (const server of this.#servers) closing.push(closeServer(server));
    for (const connection of this.#byFlow.values()) {
      connection.close();
      closing.push(connection.closed);
    }
    for (const raw of this.#tlsRaw) {
      closing.push(new Promise((resolve) => raw.once('close', () => resolve())));
      raw.destroy();
    }
    await Promise.all(closing);
    this.#servers.length = 0;
    this.#servernames.clear();
  }

  #connect(target: Endpoint & { transport: 'tcp' | 'tls' }, onError: ErrorCallback | undefined): StreamConnection | undefined {
    const flowId = `${target.transport}-${this.#nextFlow++}`;
    const localAddress = this.#hooks.localAddressFor(target);
    let socket: Socket;
    try {
      socket =
        target.transport === 'tls'
          ? connectTls(target, this.#tls, this.#servernames.get(endpointKey(target)), localAddress)
          : connectTcp(target, localAddress);
    } catch (error) {
      this.#failLater(onError, transportError('EUNREACHABLE', target, (error as Error).message));
      return undefined;
    }
    const connection = new StreamConnection(
      socket,
      flowId,
      target.transport,
      'outgoing',
      { transport: target.transport, host: normalizeHost(target.host), port: target.port },
      this.#settings,
      this.#events(),
      target.transport === 'tls' ? 'secureConnect' : 'connect',
    );
    this.#register(connection);
    return connection;
  }

  #acceptRawTls(raw: Socket): void {
    if (this.#closing || this.count >= this.#settings.maxConnections) {
      this.#hooks.diagnostic({ type: 'connection-rejected', source: remoteOf(raw, 'tls'), why: this.#closing ? 'closing' : 'limit' });
      raw.destroy();
      return;
    }
    this.#tlsRaw.add(raw);
    raw.once('close', () => this.#tlsRaw.delete(raw));
  }

  #accept(socket: Socket, transport: 'tcp' | 'tls'): void {
    const remote = remoteOf(socket, transport);
    // TLS sockets passed the cap at their raw accept.
    if (transport === 'tcp' && (this.#closing || this.count >= this.#settings.maxConnections)) {
      this.#hooks.diagnostic({ type: 'connection-rejected', source: remote, why: this.#closing ? 'closing' : 'limit' });
      socket.destroy();
      return;
    }
    if (this.#closing || socket.destroyed || socket.remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const connection = new StreamConnection(socket, `${transport}-${this.#nextFlow++}`, transport, 'incoming', remote, this.#settings, this.#events(), undefined);
    this.#register(connection);
  }

  #register(connection: StreamConnection): void {
    this.#byFlow.set(connection.flowId, connection);
    this.#byRemote.set(endpointKey(connection.remote), connection);
  }

  #events(): ConstructorParameters<typeof StreamConnection>[6] {
    return {
      message: (connection, bytes) => this.#hooks.message(connection, bytes),
      diagnostic: (diagnostic) => this.#hooks.diagnostic(diagnostic),
      callbackError: (error) => this.#hooks.callbackError(error),
      closed: (connection, error) => {
        if (this.#byFlow.get(connection.flowId) === connection) this.#byFlow.delete(connection.flowId);
        const key = endpointKey(connection.remote);
        if (this.#byRemote.get(key) === connection) this.#byRemote.delete(key);
        const { flowId, transport, direction, remote } = connection;
        this.#hooks.flowClosed({ flowId, transport, direction, remote }, error);
      },
    };
  }

  #failLater(onError: ErrorCallback | undefined, error: TransportError): void {
    if (onError === undefined) return;
    queueMicrotask(() => callSafely(onError, error, (e) => this.#hooks.callbackError(e)));
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#hooks.callbackError(error);
    }
  }
}

function remoteOf(socket: Socket, transport: 'tcp' | 'tls'): Endpoint {
  return { transport, host: normalizeHost(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
}
