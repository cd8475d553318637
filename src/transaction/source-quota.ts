/**
 * Live server transactions per source address, for the TransactionLayer's
 * `maxServerTransactionsPerSource`: one peer (a flood, a broken UA) cannot
 * take the room that the peers carrying our calls need. Sources the owner
 * trusts (the SDK: its sites) are not counted. Keyed by address, not port:
 * a peer has as many ports as it likes.
 */
export class SourceQuota<T extends object> {
  readonly #limit: number;
  readonly #trusted: (host: string) => boolean;
  readonly #counts = new Map<string, number>();
  readonly #sourceOf = new Map<T, string>();

  constructor(limit: number, trusted: (host: string) => boolean) {
    this.#limit = limit;
    this.#trusted = trusted;
  }

  /** Sources holding transactions now. */
  get sources(): number {
    return this.#counts.size;
  }

  /** Whether a request from `host` may start one more transaction. */
  allows(host: string): boolean {
    return (this.#counts.get(host) ?? 0) < this.#limit || this.#trusted(host);
  }

  /** Counts `transaction` against `host` (nothing for a trusted one). */
  take(transaction: T, host: string): void {
    if (this.#trusted(host)) return;
    this.#counts.set(host, (this.#counts.get(host) ?? 0) + 1);
    this.#sourceOf.set(transaction, host);
  }

  /** The transaction ended: its source's slot is free again. */
  release(transaction: T): void {
    const host = this.#sourceOf.get(transaction);
    if (host === undefined) return;
    this.#sourceOf.delete(transaction);
    const left = this.#counts.get(host)! - 1;
    if (left === 0) this.#counts.delete(host);
    else this.#counts.set(host, left);
  }
}
