/**
 * A bounded table of values found by port, then host: what the transport
 * keeps per UDP peer address (the routes it has chosen, the source
 * Endpoints it hands up).
 *
 * Why by port then host: no "host|port" key string is built per datagram,
 * and a server hears many peers on one port (5060), so each port has a map
 * by host. Why not a WeakMap keyed by a target object: every call makes
 * target objects of its own, and a WeakMap entry per call is an ephemeron
 * the garbage collector processes while the object lives. Bounded in all:
 * past `max` entries the table starts over (each value is cheap to make
 * again).
 */
export class PortHostTable<T> {
  readonly #byPort = new Map<number, Map<string, T>>();
  #size = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#size;
  }

  find(host: string, port: number): T | undefined {
    return this.#byPort.get(port)?.get(host);
  }

  add(host: string, port: number, value: T): void {
    if (this.#size >= this.#max) {
      this.#byPort.clear();
      this.#size = 0;
    }
    let hosts = this.#byPort.get(port);
    if (hosts === undefined) this.#byPort.set(port, (hosts = new Map()));
    if (!hosts.has(host)) this.#size++;
    hosts.set(host, value);
  }
}
