/**
 * The TCP and TLS flows of one layer: listeners, outgoing connections reused
 * per (transport, remote address, port), incoming connections kept as flows
 * (flowId) for responses and for requests back, and two caps: incoming
 * (incoming-slots.ts: a new connection evicts the one idle the longest) and
 * outgoing (ELIMIT beyond it), so that a flood of incoming connections can
 * never take the slots of the connections we open to our own sites.
 * Incoming TLS handshakes hold an incoming slot and must finish within
 * handshakeTimeoutMs (Node's own handshakeTimeout only reports, it does not
 * close).
 */
import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { endpointKey, normalizeHost } from './addresses.ts';
import { transportError } from './errors.ts';
import { IncomingSlots, type IncomingSlot } from './incoming-slots.ts';
import { noteAccept } from './turn-budget.ts';
import type { FlowInfo, TlsOptions, TransportDiagnostic } from './options.ts';
import { callSafely, type ErrorCallback } from './pending-senders.ts';
import { StreamConnection, type ConnectionEvents, type ConnectionSettings, type PongWaiter } from './stream.ts';
import { closeServer, connectTcp, createTcpServer, listen } from './tcp.ts';
import { connectTls, createTlsServer } from './tls.ts';
import type { Endpoint, TransportError } from './types.ts';

export interface PoolSettings extends ConnectionSettings {
  readonly maxIncomingConnections: number;
  readonly maxOutgoingConnections: number;
  readonly maxIncomingPerAddress: number;
  readonly handshakeTimeoutMs: number;
}

export interface PoolHooks {
  message(connection: StreamConnection, bytes: Uint8Array): void;
  framingReply: ConnectionEvents['framingReply'];
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
  /** Connections not read because their peer does not read what we write. */
  readonly paused: number;
  /** Outgoing flows kept open past the idle timeout for a registration. */
  readonly retained: number;
  readonly listening: number;
}

/** An incoming TLS socket in its handshake: its slot and its deadline. */
interface Handshake {
  readonly slot: IncomingSlot;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class ConnectionPool {
  readonly #settings: PoolSettings;
  readonly #tls: TlsOptions;
  readonly #hooks: PoolHooks;
  readonly #byFlow = new Map<string, StreamConnection>();
  readonly #byRemote = new Map<string, StreamConnection>();
  readonly #slots: IncomingSlots;
  readonly #slotOf = new Map<StreamConnection, IncomingSlot>();
  /** Raw sockets accepted by TLS listeners, by "address|port", until their handshake is done. */
  readonly #handshakes = new Map<string, Handshake>();
  /** Raw sockets of every incoming TLS connection (handshaking or open), for close(). */
  readonly #tlsRaw = new Set<Socket>();
  #outgoing = 0;
  /** Remote keys whose outgoing flow a registration uses (a count per key). */
  readonly #retained = new Map<string, number>();
  readonly #servers: Server[] = [];
  readonly #servernames = new Map<string, string>();
  #nextFlow = 1;
  #closing = false;

  constructor(settings: PoolSettings, tls: TlsOptions | undefined, hooks: PoolHooks) {
    this.#settings = settings;
    this.#tls = tls ?? {};
    this.#hooks = hooks;
    this.#slots = new IncomingSlots(settings.maxIncomingConnections, settings.maxIncomingPerAddress, (slot) => {
      this.#hooks.diagnostic({ type: 'connection-evicted', source: slot.source });
    });
  }

  /** Binds a TCP or TLS listener; resolves with its port. */
  async listen(transport: 'tcp' | 'tls', host: string, port: number): Promise<number> {
    let server: Server;
    if (transport === 'tcp') {
      server = createTcpServer((socket) => this.#guard(() => this.#accept(socket)));
    } else {
      // Our own handshake timer decides (it closes the socket); Node's, later, only backs it up.
      server = createTlsServer(this.#tls, this.#settings.handshakeTimeoutMs + 1000, (socket) => this.#guard(() => this.#acceptTls(socket)));
      server.on('connection', (raw: Socket) => this.#guard(() => this.#acceptRawTls(raw)));
      server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
        // Node reports a failed or timed-out handshake here and leaves the socket open.
        this.#hooks.diagnostic({ type: 'tls-client-error', source: remoteOf(socket, 'tls'), message: error.message });
        socket.destroy();
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
      if (this.#outgoing >= this.#settings.maxOutgoingConnections) {
        return this.#failLater(onError, transportError('ELIMIT', target, `outgoing connection cap of ${this.#settings.maxOutgoingConnections} reached`));
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

  /**
   * A registration uses (retain true) or stopped using (false) the outgoing
   * flow to `target`: while any does, the idle timeout leaves that flow open
   * (the site reaches us over it; keep-alive is its liveness check).
   */
  retain(target: Endpoint, retain: boolean): void {
    const key = endpointKey(target);
    const count = (this.#retained.get(key) ?? 0) + (retain ? 1 : -1);
    if (count > 0) this.#retained.set(key, count);
    else this.#retained.delete(key);
    const connection = this.#byRemote.get(key);
    if (connection?.direction === 'outgoing') connection.setRetained(count > 0);
  }

  stats(): PoolStats {
    let incoming = 0;
    let bytesBuffered = 0;
    let pendingSenders = 0;
    let paused = 0;
    for (const connection of this.#byFlow.values()) {
      if (connection.direction === 'incoming') incoming++;
      if (connection.paused) paused++;
      bytesBuffered += connection.bufferedBytes;
      pendingSenders += connection.pendingSenders;
    }
    return {
      connections: this.#byFlow.size,
      incoming,
      outgoing: this.#byFlow.size - incoming,
      handshaking: this.#handshakes.size,
      bytesBuffered,
      pendingSenders,
      paused,
      retained: this.#retained.size,
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
    this.#retained.clear();
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
    this.#outgoing++;
    this.#register(connection);
    if (this.#retained.has(endpointKey(connection.remote))) connection.setRetained(true);
    return connection;
  }

  /** Takes an incoming slot for a new socket (evicting when full); false when refused. */
  #admit(socket: Socket, transport: 'tcp' | 'tls', slot: IncomingSlot): boolean {
    noteAccept();
    const refuse = (why: 'closing' | 'address-limit'): false => {
      this.#hooks.diagnostic({ type: 'connection-rejected', source: remoteOf(socket, transport), why });
      socket.destroy();
      return false;
    };
    if (this.#closing) return refuse('closing');
    if (socket.destroyed || socket.remoteAddress === undefined) {
      socket.destroy();
      return false;
    }
    return this.#slots.admit(slot) === 'admitted' || refuse('address-limit');
  }

  #acceptRawTls(raw: Socket): void {
    const slot: IncomingSlot = { source: remoteOf(raw, 'tls'), evict: () => raw.destroy() };
    if (!this.#admit(raw, 'tls', slot)) return;
    const key = rawKey(raw);
    const acceptedAt = performance.now();
    const timer = setTimeout(() => {
      this.#hooks.diagnostic({ type: 'connection-expired', source: remoteOf(raw, 'tls'), why: 'handshake', afterMs: Math.round(performance.now() - acceptedAt) });
      raw.destroy();
    }, this.#settings.handshakeTimeoutMs);
    timer.unref?.();
    this.#handshakes.set(key, { slot, timer });
    this.#tlsRaw.add(raw);
    raw.once('close', () => {
      clearTimeout(timer);
      if (this.#handshakes.get(key)?.slot === slot) this.#handshakes.delete(key);
      this.#tlsRaw.delete(raw);
      this.#slots.release(slot);
    });
  }

  /** An incoming TLS handshake finished: its raw socket's slot now holds the flow. */
  #acceptTls(socket: TLSSocket): void {
    const key = rawKey(socket);
    const handshake = this.#handshakes.get(key);
    if (handshake === undefined || this.#closing) {
      socket.destroy();
      return;
    }
    clearTimeout(handshake.timer);
    this.#handshakes.delete(key);
    const connection = new StreamConnection(socket, `tls-${this.#nextFlow++}`, 'tls', 'incoming', remoteOf(socket, 'tls'), this.#settings, this.#events(), undefined);
    handshake.slot.evict = () => connection.close();
    this.#slotOf.set(connection, handshake.slot);
    this.#register(connection);
  }

  #accept(socket: Socket): void {
    const slot: IncomingSlot = { source: remoteOf(socket, 'tcp'), evict: () => socket.destroy() };
    if (!this.#admit(socket, 'tcp', slot)) return;
    const connection = new StreamConnection(socket, `tcp-${this.#nextFlow++}`, 'tcp', 'incoming', remoteOf(socket, 'tcp'), this.#settings, this.#events(), undefined);
    slot.evict = () => connection.close();
    this.#slotOf.set(connection, slot);
    this.#register(connection);
  }

  #register(connection: StreamConnection): void {
    this.#byFlow.set(connection.flowId, connection);
    this.#byRemote.set(endpointKey(connection.remote), connection);
  }

  #events(): ConnectionEvents {
    return {
      message: (connection, bytes) => {
        const slot = this.#slotOf.get(connection);
        if (slot !== undefined) this.#slots.delivered(slot);
        this.#hooks.message(connection, bytes);
      },
      framingReply: (connection, error, head) => this.#hooks.framingReply(connection, error, head),
      diagnostic: (diagnostic) => this.#hooks.diagnostic(diagnostic),
      callbackError: (error) => this.#hooks.callbackError(error),
      closed: (connection, error) => {
        if (this.#byFlow.get(connection.flowId) === connection) this.#byFlow.delete(connection.flowId);
        const key = endpointKey(connection.remote);
        if (this.#byRemote.get(key) === connection) this.#byRemote.delete(key);
        const slot = this.#slotOf.get(connection);
        if (slot !== undefined) {
          this.#slotOf.delete(connection);
          this.#slots.release(slot);
        }
        if (connection.direction === 'outgoing') this.#outgoing--;
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

/** Key of an incoming socket by its remote address and port (the raw TCP socket and its TLS socket share it). */
function rawKey(socket: Socket): string {
  return `${normalizeHost(socket.remoteAddress ?? '')}|${socket.remotePort ?? 0}`;
}

function remoteOf(socket: Socket, transport: 'tcp' | 'tls'): Endpoint {
  return { transport, host: normalizeHost(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
}
