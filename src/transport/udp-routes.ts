/**
 * The UDP routes the transport layer has chosen, found by destination port
 * and then host (normalized) on every send.
 *
 * Why not a WeakMap keyed by the target object (the cache before): every
 * call makes target objects of its own (a dialog's remote target), and a
 * WeakMap entry per call is an ephemeron the garbage collector has to
 * process until the object dies, 32 s later for a waiting transaction.
 * Why not a "host|port" string key: a string built per send. A port holds a
 * few hosts at most in practice; the list per port is bounded, so a flood
 * of sources on one port cannot make a send scan a long list.
 */
import type { Endpoint } from './types.ts';

export interface CachedRoute {
  /** The destination, host normalized. */
  readonly to: Endpoint;
}

export class UdpRoutes<Route extends CachedRoute> {
  readonly #byPort = new Map<number, Route[]>();
  #size = 0;
  readonly #max: number;
  readonly #maxPerPort: number;

  /** `max` routes in all (past it the table starts over), `maxPerPort` per destination port (past it the oldest goes). */
  constructor(max: number, maxPerPort = 16) {
    this.#max = max;
    this.#maxPerPort = maxPerPort;
  }

  get size(): number {
    return this.#size;
  }

  /** The route to `host` (normalized) at `port`, if one was added. */
  find(host: string, port: number): Route | undefined {
    const routes = this.#byPort.get(port);
    if (routes === undefined) return undefined;
    for (let i = 0; i < routes.length; i++) if (routes[i]!.to.host === host) return routes[i];
    return undefined;
  }

  add(route: Route): void {
    if (this.#size >= this.#max) {
      this.#byPort.clear();
      this.#size = 0;
    }
    const port = route.to.port;
    const routes = this.#byPort.get(port);
    if (routes === undefined) {
      this.#byPort.set(port, [route]);
    } else {
      if (routes.length >= this.#maxPerPort) {
        routes.shift();
        this.#size--;
      }
      routes.push(route);
    }
    this.#size++;
  }
}
