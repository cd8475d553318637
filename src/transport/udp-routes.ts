/**
 * The UDP routes the transport layer has chosen, found by destination port
 * and then host (normalized) on every send.
 *
 * Why not a WeakMap keyed by the target object (the cache before): every
 * call makes target objects of its own (a dialog's remote target), and a
 * WeakMap entry per call is an ephemeron the garbage collector has to
 * process until the object dies, 32 s later for a waiting transaction.
 * Why not one "host|port" string key: a string built per send. A server
 * hears many peers on one port (5060), so each port has a map by host.
 * Bounded in all: past `max` routes the table starts over.
 */
import type { Endpoint } from './types.ts';

export interface CachedRoute {
  /** The destination, host normalized. */
  readonly to: Endpoint;
}

export class UdpRoutes<Route extends CachedRoute> {
  readonly #byPort = new Map<number, Map<string, Route>>();
  #size = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#size;
  }

  /** The route to `host` (normalized) at `port`, if one was added. */
  find(host: string, port: number): Route | undefined {
    return this.#byPort.get(port)?.get(host);
  }

  add(route: Route): void {
    if (this.#size >= this.#max) {
      this.#byPort.clear();
      this.#size = 0;
    }
    const { host, port } = route.to;
    let hosts = this.#byPort.get(port);
    if (hosts === undefined) this.#byPort.set(port, (hosts = new Map()));
    if (!hosts.has(host)) this.#size++;
    hosts.set(host, route);
  }
}
