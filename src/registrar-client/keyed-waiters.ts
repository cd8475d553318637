/**
 * Promises that wait, per key, for one thing to happen (a registration to
 * stop, a connection's first outcome) and are settled together when it does.
 * They never reject: a waiter hears the value, or is settled when its owner
 * gives up on the key (settle it with what is known then).
 */
export class KeyedWaiters<K, V> {
  readonly #byKey = new Map<K, Array<(value: V) => void>>();

  /** A promise for the next settle(key, ...). */
  wait(key: K): Promise<V> {
    return new Promise((resolve) => {
      const waiters = this.#byKey.get(key);
      if (waiters === undefined) this.#byKey.set(key, [resolve]);
      else waiters.push(resolve);
    });
  }

  /** Removes and returns the waiters of `key` (to settle after something else runs), or undefined. */
  take(key: K): Array<(value: V) => void> | undefined {
    const waiters = this.#byKey.get(key);
    if (waiters !== undefined) this.#byKey.delete(key);
    return waiters;
  }

  /** Resolves every waiter of `key` with `value`. */
  settle(key: K, value: V): void {
    const waiters = this.take(key);
    if (waiters !== undefined) for (const resolve of waiters) resolve(value);
  }

  /** Resolves every waiter of every key with the value `valueOf` gives for it. */
  settleAll(valueOf: (key: K) => V): void {
    for (const key of [...this.#byKey.keys()]) this.settle(key, valueOf(key));
  }
}
