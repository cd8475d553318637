/**
 * Live client transactions, found the s17.1.3 way (top Via branch and CSeq
 * method) without building a key string per message.
 *
 * A key string (branch + method) cost a concatenation, flattening and
 * hashing on every send and every response, and was kept for the whole life
 * of the transaction. Here the branch string itself is the key: the one we
 * generated when sending, the one parsed from the Via when a response comes.
 * s8.1.1.7 makes a branch unique to its request, CANCEL excepted ("the same
 * value of the branch parameter" as the request it cancels), so CANCELs have
 * a map of their own, and a match also compares the method.
 */
export interface TableEntry {
  readonly branch: string;
  readonly method: string;
}

export class ClientTable<T extends TableEntry> {
  /** Every method but CANCEL, by branch. */
  readonly #byBranch = new Map<string, T>();
  /** CANCELs, by the branch they share with their INVITE. */
  readonly #cancels = new Map<string, T>();

  get size(): number {
    return this.#byBranch.size + this.#cancels.size;
  }

  /** s17.1.3: the transaction whose branch and method a response carries. */
  get(branch: string, method: string): T | undefined {
    const transaction = (method === 'CANCEL' ? this.#cancels : this.#byBranch).get(branch);
    return transaction !== undefined && transaction.method === method ? transaction : undefined;
  }

  /** Whether a new request with this branch and method would clash with a live one. */
  taken(branch: string, method: string): boolean {
    return (method === 'CANCEL' ? this.#cancels : this.#byBranch).has(branch);
  }

  /** Adds a transaction; the caller checked taken() first. */
  add(transaction: T): void {
    (transaction.method === 'CANCEL' ? this.#cancels : this.#byBranch).set(transaction.branch, transaction);
  }

  /** Removes this transaction (not another one under the same key). */
  delete(transaction: T): void {
    const map = transaction.method === 'CANCEL' ? this.#cancels : this.#byBranch;
    if (map.get(transaction.branch) === transaction) map.delete(transaction.branch);
  }

  *values(): IterableIterator<T> {
    yield* this.#byBranch.values();
    yield* this.#cancels.values();
  }
}
