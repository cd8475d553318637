/**
 * UDP on node:dgram: one socket per local address/port, and per-target
 * connected sockets so that ICMP port unreachable becomes a fast error.
 *
 * Why connected sockets: Linux reports ICMP errors for UDP only to connected
 * sockets (without IP_RECVERR, which Node does not expose), and Node reports
 * them as an 'error' event (ECONNREFUSED) on such a socket. So a request to a
 * target goes out through a socket connected to that target and bound to the
 * same local address and port as the listener (SO_REUSEADDR on both), which
 * keeps the source port equal to the Via sent-by port. The kernel delivers a
 * datagram from that target to the connected socket (exact 4-tuple match),
 * everything else to the listener; both feed the same handler. Measured on
 * loopback: the error arrives about 1 ms after the send.
 *
 * Trade-offs: SO_REUSEADDR lets another local process that also sets it bind
 * the same port; the listener therefore first binds the port without it (so
 * a port already taken fails with EADDRINUSE) and rebinds with it at once.
 * Where the platform refuses the shared bind, or with udpConnectedPeers:
 * false, or beyond maxUdpPeers, sends go out of the listener socket and ICMP
 * errors are not seen (the transaction then ends at Timer B/F).
 */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { endpointKey, familyOf, normalizeHost } from './addresses.ts';
import { DatagramOutbox } from './datagram-outbox.ts';
import { RecentSources } from './recent-sources.ts';
import { codeOf, fromNodeError, transportError } from './errors.ts';
import type { TransportDiagnostic } from './options.ts';
import { callSafely, PendingSenders, type ErrorCallback } from './pending-senders.ts';
import type { Endpoint } from './types.ts';

export interface UdpSettings {
  readonly udpConnectedPeers: boolean;
  readonly maxUdpPeers: number;
  readonly udpPeerIdleMs: number;
  readonly pendingSenderMs: number;
  readonly maxPendingSenders: number;
}

export interface UdpHooks {
  datagram(bytes: Uint8Array, source: Endpoint, listener: UdpListener): void;
  diagnostic(diagnostic: TransportDiagnostic): void;
  callbackError(error: unknown): void;
}

export interface UdpListener {
  readonly socket: Socket;
  /** Bound address (as given, normalized) and actual port. */
  readonly local: Endpoint;
  readonly family: 4 | 6;
  /** Whether connected per-target sockets can share this port. */
  sharing: boolean;
  /** Datagrams sent from the listener socket itself, written at the end of the turn. */
  readonly outbox: DatagramOutbox;
}

const view = (msg: Buffer): Uint8Array => new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);

function bindSocket(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** A socket connected to one target, sharing the listener's address and port. */
class UdpPeer {
  state: 'connecting' | 'ready' | 'closed' = 'connecting';
  readonly pending: PendingSenders;
  readonly #socket: Socket;
  readonly #outbox: DatagramOutbox;
  #queue: Array<{ bytes: Uint8Array; onError: ErrorCallback | undefined }> = [];
  #idle: ReturnType<typeof setTimeout>;
  readonly #idleMs: number;
  /** performance.now() of the last datagram in or out; the idle timer checks it instead of being re-armed per datagram. */
  #lastUse = performance.now();
  /** One completion callback for every send (a closure per datagram showed in profiles). */
  readonly #afterSend = (error: Error | null): void => {
    if (error) this.#onError(error);
  };

  readonly listener: UdpListener;
  readonly target: Endpoint;
  private readonly hooks: UdpHooks;
  private readonly onClosed: (peer: UdpPeer) => void;
  private readonly fallback: (bytes: Uint8Array, onError: ErrorCallback | undefined) => void;

  constructor(
    listener: UdpListener,
    target: Endpoint,
    settings: UdpSettings,
    hooks: UdpHooks,
    onClosed: (peer: UdpPeer) => void,
    fallback: (bytes: Uint8Array, onError: ErrorCallback | undefined) => void,
  ) {
    this.listener = listener;
    this.target = target;
    this.hooks = hooks;
    this.onClosed = onClosed;
    this.fallback = fallback;
    this.pending = new PendingSenders(settings.pendingSenderMs, settings.maxPendingSenders, () => performance.now(), (e) => hooks.callbackError(e));
    const socket = udpSocket(listener.family === 6 ? 'udp6' : 'udp4', true);
    this.#socket = socket;
    this.#outbox = new DatagramOutbox(socket);
    this.#idleMs = settings.udpPeerIdleMs;
    this.#idle = setTimeout(() => this.#checkIdle(), settings.udpPeerIdleMs);
    this.#idle.unref();
    // A connected socket receives from its target only (the kernel matches the 4-tuple).
    const source: Endpoint = { transport: 'udp', host: target.host, port: target.port };
    socket.on('message', (msg: Buffer) => {
      this.#lastUse = performance.now();
      this.hooks.datagram(view(msg), source, listener);
    });
    socket.on('error', (error: Error) => this.#onError(error));
    socket.bind({ address: listener.local.host, port: listener.local.port, exclusive: true }, () => {
      if (this.state === 'closed') return;
      try {
        socket.connect(target.port, target.host, (error?: Error | null) => {
          if (error) this.#onError(error);
          else this.#onReady();
        });
      } catch (error) {
        this.#onError(error as Error);
      }
    });
  }

  send(bytes: Uint8Array, onError: ErrorCallback | undefined): void {
    const now = performance.now();
    this.#lastUse = now;
    if (this.state === 'connecting') {
      this.#queue.push({ bytes, onError });
      return;
    }
    this.#write(bytes, onError, now);
  }

  /** Forgets a sender's error callback, in the pending senders and in what waits for the connect. */
  release(onError: ErrorCallback): void {
    this.pending.remove(onError);
    for (const queued of this.#queue) if (queued.onError === onError) queued.onError = undefined;
  }

  /** Sends what is queued now. */
  flush(): void {
    this.#outbox.flush();
  }

  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    this.state = 'closed';
    clearTimeout(this.#idle);
    this.#outbox.flush();
    this.pending.clear();
    this.onClosed(this);
    return closeSocket(this.#socket);
  }

  #write(bytes: Uint8Array, onError: ErrorCallback | undefined, now: number): void {
    this.pending.add(onError, now);
    // The callback stays: without one, Node drops a synchronous send error
    // (a pending ICMP unreachable) silently.
    this.#outbox.push(bytes, 0, '', this.#afterSend);
  }

  #checkIdle(): void {
    if (this.state === 'closed') return;
    const idleFor = performance.now() - this.#lastUse;
    if (idleFor >= this.#idleMs) {
      void this.close();
      return;
    }
    this.#idle = setTimeout(() => this.#checkIdle(), this.#idleMs - idleFor);
    this.#idle.unref();
  }

  #onReady(): void {
    if (this.state === 'closed') return;
    this.state = 'ready';
    const queue = this.#queue;
    this.#queue = [];
    const now = performance.now();
    for (const { bytes, onError } of queue) this.#write(bytes, onError, now);
  }

  #onError(error: Error): void {
    try {
      if (this.state === 'connecting') {
        // The shared bind or the connect failed: this platform (or target)
        // cannot use a connected socket; send the queue the plain way.
        if (codeOf(error) === 'EADDRINUSE') this.listener.sharing = false;
        const queue = this.#queue;
        this.#queue = [];
        void this.close();
        for (const { bytes, onError } of queue) this.fallback(bytes, onError);
        return;
      }
      // ICMP port unreachable (ECONNREFUSED) and friends: every recent sender hears it now.
      this.pending.fail(fromNodeError(error, this.target, 'datagram'));
    } catch (thrown) {
      this.hooks.callbackError(thrown);
    }
  }
}

/**
 * The address lookup of our sockets: an IP literal (every target the
 * transport gets) is its own answer, given at once. Node's default,
 * dns.lookup, answers even a literal on a later tick, one nextTick and one
 * bound closure per datagram sent with an address (every response).
 */
function literalLookup(host: string, family: number, callback: (error: Error | null, address: string, family: number) => void): void {
  const literal = isIP(host);
  if (literal !== 0) callback(null, host, literal);
  else dnsLookup(host, family, callback);
}

function udpSocket(type: 'udp4' | 'udp6', reuseAddr: boolean): Socket {
  const options: SocketOptions = { type, lookup: literalLookup as SocketOptions['lookup'] };
  if (reuseAddr) options.reuseAddr = true;
  return createSocket(options);
}

export class UdpTransport {
  readonly listeners: UdpListener[] = [];
  readonly #peers = new Map<string, UdpPeer>();
  readonly #settings: UdpSettings;
  readonly #hooks: UdpHooks;
  #closed = false;

  constructor(settings: UdpSettings, hooks: UdpHooks) {
    this.#settings = settings;
    this.#hooks = hooks;
  }

  async listen(host: string, port: number): Promise<UdpListener> {
    const family = familyOf(host);
    const type = family === 6 ? 'udp6' : 'udp4';
    const address = normalizeHost(host);
    let socket: Socket;
    let sharing = this.#settings.udpConnectedPeers;
    if (sharing) {
      // Claim the port exclusively first, so a taken port fails here.
      let attempts = port === 0 ? 5 : 1;
      for (;;) {
        const probe = udpSocket(type, false);
        try {
          await bindSocket(probe, address, port);
        } catch (error) {
          await closeSocket(probe);
          throw error;
        }
        const chosen = probe.address().port;
        await closeSocket(probe);
        socket = udpSocket(type, true);
        try {
          await bindSocket(socket, address, chosen);
          break;
        } catch (error) {
          await closeSocket(socket);
          if (--attempts <= 0) throw error;
        }
      }
    } else {
      socket = udpSocket(type, false);
      try {
        await bindSocket(socket, address, port);
      } catch (error) {
        await closeSocket(socket);
        throw error;
      }
    }
    const listener: UdpListener = { socket, local: { transport: 'udp', host: address, port: socket.address().port }, family, sharing, outbox: new DatagramOutbox(socket) };
    const sources = new RecentSources();
    socket.on('message', (msg: Buffer, rinfo) => {
      this.#hooks.datagram(view(msg), sources.of(rinfo.address, rinfo.port), listener);
    });
    socket.on('error', (error: Error) => {
      this.#hooks.diagnostic({ type: 'socket-error', local: listener.local, message: error.message });
    });
    this.listeners.push(listener);
    return listener;
  }

  /**
   * Sends a datagram. `viaPeer`: go through (or create) the connected socket
   * for this target, so ICMP errors come back; requests do, responses use an
   * existing one only.
   */
  send(listener: UdpListener, bytes: Uint8Array, target: Endpoint, onError: ErrorCallback | undefined, viaPeer: boolean, key = this.peerKey(listener, target)): void {
    if (this.#closed) {
      this.#failLater(onError, transportError('ECLOSED', target, 'transport closed'));
      return;
    }
    let peer = this.#peers.get(key);
    if (peer === undefined && viaPeer && listener.sharing && this.#peers.size < this.#settings.maxUdpPeers) {
      peer = new UdpPeer(
        listener,
        target,
        this.#settings,
        this.#hooks,
        (closed) => {
          if (this.#peers.get(key) === closed) this.#peers.delete(key);
        },
        (b, e) => this.#plainSend(listener, b, target, e),
      );
      this.#peers.set(key, peer);
    }
    if (peer !== undefined) peer.send(bytes, onError);
    else this.#plainSend(listener, bytes, target, onError);
  }

  /** Forgets a sender's error callback on the connected socket of `key` (see Transport.release). */
  release(key: string, onError: ErrorCallback): void {
    this.#peers.get(key)?.release(onError);
  }

  /** The key of the connected socket from `listener` to `target` (callers that send often keep it). */
  peerKey(listener: UdpListener, target: Endpoint): string {
    return `${endpointKey(target)}|${listener.local.host}|${listener.local.port}`;
  }

  stats(): { sockets: number; peers: number; pendingSenders: number } {
    let pendingSenders = 0;
    for (const peer of this.#peers.values()) pendingSenders += peer.pending.size;
    return { sockets: this.listeners.length + this.#peers.size, peers: this.#peers.size, pendingSenders };
  }

  async close(): Promise<void> {
    this.#closed = true;
    // What is queued goes out first. A send to a host name (not an IP
    // literal) waits for its address lookup, which completes on a later
    // tick: wait a turn before closing, or it would be dropped unsent.
    for (const peer of this.#peers.values()) peer.flush();
    for (const listener of this.listeners) listener.outbox.flush();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const closing: Array<Promise<void>> = [];
    for (const peer of [...this.#peers.values()]) closing.push(peer.close());
    for (const listener of this.listeners) {
      listener.outbox.flush();
      closing.push(closeSocket(listener.socket));
    }
    this.listeners.length = 0;
    await Promise.all(closing);
  }

  #plainSend(listener: UdpListener, bytes: Uint8Array, target: Endpoint, onError: ErrorCallback | undefined): void {
    const callback =
      onError === undefined
        ? undefined
        : (error: Error | null): void => {
            if (error) callSafely(onError, fromNodeError(error, target, 'datagram'), (e) => this.#hooks.callbackError(e));
          };
    listener.outbox.push(bytes, target.port, target.host, callback);
  }

  #failLater(onError: ErrorCallback | undefined, error: ReturnType<typeof transportError>): void {
    if (onError === undefined) return;
    queueMicrotask(() => callSafely(onError, error, (e) => this.#hooks.callbackError(e)));
  }
}
