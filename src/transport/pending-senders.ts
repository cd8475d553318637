/**
 * The senders a transport error must reach. A connection reset, a pong
 * timeout or an ICMP port unreachable arrives after send() returned, so each
 * flow (TCP/TLS connection, UDP peer) keeps the onError callbacks of its
 * recent sends and calls each once when the flow fails. A callback is kept
 * for `windowMs` after its last send (default 32 s = 64*T1, the life of a
 * non-INVITE client transaction), or until its sender releases it (its
 * transaction has its outcome); retransmissions that pass the same callback
 * refresh one entry instead of adding another.
 */
import type { TransportError } from './types.ts';

export type ErrorCallback = (error: TransportError) => void;

export class PendingSenders {
  /** callback -> time of its last send; Map order is oldest first. */
  readonly #entries = new Map<ErrorCallback, number>();
  #prunedAt = -Infinity;

  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly onCallbackError: (error: unknown) => void;

  constructor(
    windowMs: number,
    maxEntries: number,
    now: () => number,
    onCallbackError: (error: unknown) => void = () => {},
  ) {
    this.windowMs = windowMs;
    this.maxEntries = maxEntries;
    this.now = now;
    this.onCallbackError = onCallbackError;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** `now`: the caller's clock reading, when it has one (saves a second reading per send). */
  add(callback: ErrorCallback | undefined, now = this.now()): void {
    if (callback === undefined) return;
    this.#entries.delete(callback);
    this.#entries.set(callback, now);
    // Pruning walks from the oldest entry; once per second is enough (fail() prunes first).
    if (now - this.#prunedAt >= 1000) this.prune(now);
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as ErrorCallback;
      this.#entries.delete(oldest);
    }
  }

  /** Forgets one callback (its sender is done with this flow). */
  remove(callback: ErrorCallback): void {
    this.#entries.delete(callback);
  }

  /** Drops callbacks older than the window. */
  prune(now = this.now()): void {
    this.#prunedAt = now;
    const limit = now - this.windowMs;
    for (const [callback, at] of this.#entries) {
      if (at >= limit) break;
      this.#entries.delete(callback);
    }
  }

  /** Reports the error to every recent sender once, and forgets them. */
  fail(error: TransportError): void {
    this.prune();
    const callbacks = [...this.#entries.keys()];
    this.#entries.clear();
    for (const callback of callbacks) callSafely(callback, error, this.onCallbackError);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** Calls an upper-layer callback; what it throws must not unwind into a socket handler. */
export function callSafely(callback: ErrorCallback, error: TransportError, onCallbackError: (error: unknown) => void = () => {}): void {
  try {
    callback(error);
  } catch (thrown) {
    // The upper layer's bug; the transport keeps running and reports it.
    try {
      onCallbackError(thrown);
    } catch {
      // A diagnostics hook that throws is ignored too.
    }
  }
}
