/**
 * The RTP address and port of each call, owned while the call lives: a UDP
 * socket bound on the listener's address with a port the system picks, so
 * that no two calls (nor another program) share it. RTP itself comes later;
 * the socket drops whatever arrives.
 *
 * Binding is asynchronous but an incoming INVITE needs its port at once, so
 * a few ports per address are bound ahead (`spares`) and refilled in the
 * background; take() hands one out or undefined (the call gets 503).
 */
import { StateError } from '../errors/sip-endpoint-error.ts';
import { createSocket, type Socket } from 'node:dgram';

export interface MediaPort {
  readonly address: string;
  readonly port: number;
  /** Frees the port (idempotent). */
  release(): void;
}

/** Where calls get their RTP ports (MediaPorts; tests give a fake). */
export interface MediaPortSource {
  /** Binds a port now (outbound calls). */
  allocate(address: string): Promise<MediaPort>;
  /** A port bound ahead, or undefined (incoming calls need one at once). */
  take(address: string): MediaPort | undefined;
}

/** Ports bound ahead per address for incoming calls. */
export const DEFAULT_SPARE_PORTS = 4;

export class MediaPorts implements MediaPortSource {
  readonly #open = new Set<Socket>();
  readonly #spares = new Map<string, MediaPort[]>();
  readonly #refilling = new Set<string>();
  readonly #spareCount: number;
  #closed = false;

  constructor(spareCount = DEFAULT_SPARE_PORTS) {
    this.#spareCount = spareCount;
  }

  /** A port bound ahead on `address`, or undefined when none is ready; starts a refill either way. */
  take(address: string): MediaPort | undefined {
    const port = this.#spares.get(address)?.pop();
    void this.prepare(address);
    return port;
  }

  /** Binds spare ports on `address` up to the spare count. */
  async prepare(address: string): Promise<void> {
    if (this.#closed || this.#refilling.has(address)) return;
    this.#refilling.add(address);
    try {
      let spares = this.#spares.get(address);
      if (spares === undefined) this.#spares.set(address, (spares = []));
      while (!this.#closed && spares.length < this.#spareCount) spares.push(await this.allocate(address));
    } catch {
      // A failed bind leaves fewer spares: take() answers undefined and the call gets 503.
    } finally {
      this.#refilling.delete(address);
    }
  }

  /** Ports held now (spares included). */
  get held(): number {
    return this.#open.size;
  }

  /** Binds a port on `address` (IPv4 or IPv6). */
  async allocate(address: string): Promise<MediaPort> {
    if (this.#closed) throw new StateError('ERR_CLOSED', 'media ports are closed');
    const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
    socket.on('message', () => {});
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (this.#closed) {
      socket.close();
      throw new StateError('ERR_CLOSED', 'media ports are closed');
    }
    socket.unref();
    this.#open.add(socket);
    let released = false;
    return {
      address,
      port: socket.address().port,
      release: () => {
        if (released || !this.#open.delete(socket)) return;
        released = true;
        socket.close();
      },
    };
  }

  /** Closes every port; resolves once the sockets are closed (no handle left behind). */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const closing = [...this.#open].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve())));
    this.#open.clear();
    this.#spares.clear();
    await Promise.all(closing);
  }
}
