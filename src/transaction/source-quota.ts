/**
 * Live server transactions of the sources the owner does not trust, per
 * source, for the TransactionLayer's `maxServerTransactionsPerSource` and
 * `maxServerTransactions`: one peer (a flood, a broken UA), or many, cannot
 * take the room that the peers carrying our calls need. A source is its
 * address (a peer has as many ports as it likes), an IPv6 one its /64 (a
 * host is usually given a whole /64).
 */
export class SourceQuota<T extends object> {
  readonly #limit: number;
  readonly #counts = new Map<string, number>();
  readonly #sourceOf = new Map<T, string>();

  constructor(limitPerSource: number) {
    this.#limit = limitPerSource;
  }

  /** Transactions counted now, over every source. */
  get size(): number {
    return this.#sourceOf.size;
  }

  /** Whether source `key` (sourceKey()) may start one more transaction. */
  allows(key: string): boolean {
    return (this.#counts.get(key) ?? 0) < this.#limit;
  }

  take(transaction: T, key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#sourceOf.set(transaction, key);
  }

  /** The transaction ended: its source's slot is free again (nothing for one never counted). */
  release(transaction: T): void {
    const key = this.#sourceOf.get(transaction);
    if (key === undefined) return;
    this.#sourceOf.delete(transaction);
    const left = this.#counts.get(key)! - 1;
    if (left === 0) this.#counts.delete(key);
    else this.#counts.set(key, left);
  }
}

/** The source a host counts as: an IPv4 address itself (an IPv4-mapped IPv6 one too), an IPv6 address its /64 prefix. */
export function sourceKey(host: string): string {
  if (!host.includes(':')) return host;
  let bare = (host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host).toLowerCase();
  const zone = bare.indexOf('%');
  if (zone >= 0) bare = bare.slice(0, zone);
  if (bare.includes('.')) return bare.slice(bare.lastIndexOf(':') + 1);
  const [head = '', tail] = bare.split('::', 2);
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  // '::' stands for the zero groups between head and tail (8 groups in all).
  const groups = tail === undefined ? front : [...front, ...new Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
