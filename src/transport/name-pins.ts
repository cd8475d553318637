/**
 * Which address of a host name the transport's sends go to, per
 * (transport, name, port): a UDP and a TLS connection to one name each keep
 * their own, so a refusal on one does not move the other.
 *
 * An address is kept while later answers still list it (a registration's
 * flow, keep-alive and Contact stay on one address), else the first of a
 * family we listen on is taken (`localhost` as ::1 and 127.0.0.1 on a
 * Phone without IPv6: 127.0.0.1). When an address refuses or cannot be
 * reached, or a request to it gets no response at all (silent()), the
 * next one takes over for the sends after it (RFC 3263 s4.3):
 * the sender's error callback is wrapped for that, and the wrapper records
 * every address it was sent to, so release() reaches each flow it is on.
 */
import { endpointKey, familyOf, normalizeHost } from './addresses.ts';
import type { ErrorCallback } from './pending-senders.ts';
import type { Endpoint, TransportError, TransportErrorCode } from './types.ts';

/** Failures of one address after which the name's next address is used. */
const MOVE_ON: ReadonlySet<TransportErrorCode> = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EUNREACHABLE']);

/** A sender's error callback for sends to one (transport, name, port), and where they went. */
export interface WrappedSender {
  readonly onError: ErrorCallback;
  readonly addresses: Set<string>;
  /** The address of its first send, and when (performance.now()): what a timeout of the whole request can blame. */
  readonly first: string;
  readonly firstAt: number;
}

export class NamePins {
  /** endpointKey of (transport, lower-case name, port) -> the address its sends go to; oldest first. */
  readonly #pinned = new Map<string, string>();
  readonly #wrapped = new WeakMap<ErrorCallback, Map<string, WrappedSender>>();
  readonly #families: ReadonlySet<4 | 6>;
  readonly #maxPins: number;
  /** Pinned addresses -> when a message last came from them (performance.now(); -1: never). */
  readonly #heard = new Map<string, number>();

  /** `families`: the address families the transport listens on (a live set: it fills as listeners bind). */
  constructor(families: ReadonlySet<4 | 6>, maxPins: number) {
    this.#families = families;
    this.#maxPins = maxPins;
  }

  /** The address for `target` (a name) from `addresses` (its answer, normalized): kept, or chosen now. */
  pin(target: Endpoint, addresses: readonly string[]): string {
    const key = keyOf(target);
    const families = this.#families;
    const pinned = this.#pinned.get(key);
    // Every send to the name comes here: the kept address answers without building anything.
    if (pinned !== undefined && families.has(familyOf(pinned)) && addresses.includes(pinned)) return pinned;
    const usable = addresses.filter((a) => families.has(familyOf(a)));
    // One of a family we do not listen on is kept only while no other is usable.
    if (pinned !== undefined && usable.length === 0 && addresses.includes(pinned)) return pinned;
    const chosen = usable[0] ?? addresses[0]!;
    this.#set(key, chosen);
    return chosen;
  }

  /** The address `target`'s sends went to last, if any. */
  pinned(target: Endpoint): string | undefined {
    return this.#pinned.get(keyOf(target));
  }

  /** The wrapper of `onError` for sends to `target` (a name): it moves the pin on when `address` fails. */
  wrap(target: Endpoint, onError: ErrorCallback, address: string, known: () => readonly string[]): ErrorCallback {
    const key = keyOf(target);
    let byTarget = this.#wrapped.get(onError);
    if (byTarget === undefined) this.#wrapped.set(onError, (byTarget = new Map()));
    let sender = byTarget.get(key);
    if (sender === undefined) {
      const addresses = new Set<string>();
      const wrapped: ErrorCallback = (error: TransportError): void => {
        if (MOVE_ON.has(error.code)) this.#moveOn(key, normalizeHost(error.target.host), known());
        onError(error);
      };
      sender = { onError: wrapped, addresses, first: address, firstAt: performance.now() };
      byTarget.set(key, sender);
    }
    sender.addresses.add(address);
    return sender.onError;
  }

  /** The wrapper of `onError` for `target` (a name), forgotten: release() takes it off every address it went to. */
  unwrap(target: Endpoint, onError: ErrorCallback): WrappedSender | undefined {
    const byTarget = this.#wrapped.get(onError);
    const key = keyOf(target);
    const sender = byTarget?.get(key);
    byTarget?.delete(key);
    return sender;
  }

  /**
   * A request sent with `onError` to `target` (a name) got no response at
   * all: when the name's current address is one it went to, the next
   * address takes over (a transaction that went to an address already
   * left behind moves nothing).
   */
  silent(target: Endpoint, onError: ErrorCallback, known: readonly string[]): void {
    const key = keyOf(target);
    const pinned = this.#pinned.get(key);
    const sender = this.#wrapped.get(onError)?.get(key);
    // Only the address that had the whole request: one that got just its last retransmissions (the pin moved meanwhile) is not judged.
    if (pinned === undefined || sender === undefined || sender.first !== pinned) return;
    // An address that sent us anything since the request left is alive: that one request was lost.
    if ((this.#heard.get(pinned) ?? -1) >= sender.firstAt) return;
    this.#moveOn(key, pinned, known);
  }

  /** A message came from `address`: remembered (performance.now()) when some name is pinned to it. */
  heard(address: string): void {
    if (this.#heard.has(address)) this.#heard.set(address, performance.now());
  }

  #moveOn(key: string, failed: string, known: readonly string[]): void {
    if (this.#pinned.get(key) !== failed) return;
    const families = this.#families;
    const usable = known.filter((a) => families.has(familyOf(a)));
    const next = usable[(usable.indexOf(failed) + 1) % usable.length];
    if (next !== undefined) this.#set(key, next);
  }

  #set(key: string, address: string): void {
    this.#pinned.delete(key);
    // Only configured sites' names come here; past the cap the oldest pin goes.
    if (this.#pinned.size >= this.#maxPins) this.#pinned.delete(this.#pinned.keys().next().value!);
    this.#pinned.set(key, address);
    if (!this.#heard.has(address)) {
      // Bounded as the pins are: addresses no pin holds any more go.
      if (this.#heard.size >= 2 * this.#maxPins) {
        const held = new Set(this.#pinned.values());
        for (const old of this.#heard.keys()) if (!held.has(old)) this.#heard.delete(old);
      }
      this.#heard.set(address, -1);
    }
  }
}

function keyOf(target: Endpoint): string {
  return endpointKey({ transport: target.transport, host: normalizeHost(target.host), port: target.port });
}
