/**
 * One Endpoint object per recent UDP source (address, port) of a listener,
 * handed up with every datagram from it.
 *
 * Why: the response target of a request from that source is then the same
 * object every time (responseTargetFor returns the source when it is the
 * target), so the transport's route cache, keyed by target object, finds it
 * instead of adding a WeakMap entry per request; and the transactions that
 * wait 32 s after each call share one object instead of keeping one each.
 * Bounded: past `max` sources the table starts over.
 */
import { normalizeHost } from './addresses.ts';
import type { Endpoint } from './types.ts';

interface Known {
  /** The address as the socket reported it (before normalizeHost). */
  readonly address: string;
  readonly endpoint: Endpoint;
}

export class RecentSources {
  readonly #byPort = new Map<number, Known>();
  readonly #max: number;

  constructor(max = 1024) {
    this.#max = max;
  }

  get size(): number {
    return this.#byPort.size;
  }

  /** The Endpoint for a datagram from `address`:`port` (the same object as last time when the address is unchanged). */
  of(address: string, port: number): Endpoint {
    const known = this.#byPort.get(port);
    if (known !== undefined && known.address === address) return known.endpoint;
    const endpoint: Endpoint = { transport: 'udp', host: normalizeHost(address), port };
    if (known === undefined && this.#byPort.size >= this.#max) this.#byPort.clear();
    this.#byPort.set(port, { address, endpoint });
    return endpoint;
  }
}
