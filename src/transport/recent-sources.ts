/**
 * One Endpoint object per recent UDP source (address, port) of a listener,
 * handed up with every datagram from it.
 *
 * Why: the response target of a request from that source is then the same
 * object every time (responseTargetFor returns the source when it is the
 * target), and the transactions that wait 32 s after each call share one
 * object instead of keeping one each. Keyed by the address as the socket
 * reports it (normalized once, when the Endpoint is made); bounded
 * (PortHostTable).
 */
import { normalizeHost } from './addresses.ts';
import { PortHostTable } from './port-host-table.ts';
import type { Endpoint } from './types.ts';

export class RecentSources {
  readonly #table: PortHostTable<Endpoint>;

  constructor(max = 1024) {
    this.#table = new PortHostTable(max);
  }

  get size(): number {
    return this.#table.size;
  }

  /** The Endpoint for a datagram from `address`:`port` (the same object as last time). */
  of(address: string, port: number): Endpoint {
    const known = this.#table.find(address, port);
    if (known !== undefined) return known;
    const endpoint: Endpoint = { transport: 'udp', host: normalizeHost(address), port };
    this.#table.add(address, port, endpoint);
    return endpoint;
  }
}
