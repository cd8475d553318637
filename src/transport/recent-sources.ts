/**
 * One Endpoint object per recent UDP source (address, port) of a listener,
 * handed up with every datagram from it.
 *
 * Why: the response target of a request from that source is then the same
 * object every time (responseTargetFor returns the source when it is the
 * target), and the transactions that wait 32 s after each call share one
 * object instead of keeping one each. Found by port, then by the address
 * as the socket reports it (a server hears many peers on port 5060).
 * Bounded: past `max` sources the table starts over.
 */
import { normalizeHost } from './addresses.ts';
import type { Endpoint } from './types.ts';

export class RecentSources {
  readonly #byPort = new Map<number, Map<string, Endpoint>>();
  #size = 0;
  readonly #max: number;

  constructor(max = 1024) {
    this.#max = max;
  }

  get size(): number {
    return this.#size;
  }

  /** The Endpoint for a datagram from `address`:`port` (the same object as last time). */
  of(address: string, port: number): Endpoint {
    let addresses = this.#byPort.get(port);
    const known = addresses?.get(address);
    if (known !== undefined) return known;
    if (this.#size >= this.#max) {
      this.#byPort.clear();
      this.#size = 0;
      addresses = undefined;
    }
    if (addresses === undefined) this.#byPort.set(port, (addresses = new Map()));
    const endpoint: Endpoint = { transport: 'udp', host: normalizeHost(address), port };
    addresses.set(address, endpoint);
    this.#size++;
    return endpoint;
  }
}
