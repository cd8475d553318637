/**
 * Live server transactions, found the s17.2.3 way with as little work per
 * request as the rules allow.
 *
 * A request whose branch has the magic cookie is matched by one Map get on
 * that branch, then the sent-by and method of the transaction found are
 * compared (a key string of branch, sent-by and method cost a concatenation,
 * a flattening and a hash on every request, and a copy kept per
 * transaction). s8.1.1.7 makes a branch unique to its request, CANCEL
 * excepted, so CANCELs have a map of their own. A peer that reuses a branch
 * with another sent-by or method, and every request without the cookie
 * (RFC 2543), go by the full serverKey() in a second map, read only while
 * it holds anything.
 */
import { ownedString, type SipMessage } from '../parser/index.ts';
import { hasMagicCookie, serverKey, serverMatches, type MatchableServerTransaction } from './matching.ts';

/** What the table compares: the method, branch and sent-by of the request that created the transaction. */
export interface ServerTableEntry extends MatchableServerTransaction {
  readonly method: string;
  readonly branch: string | null;
  /** Lower case. */
  readonly sentByHost: string;
  readonly sentByPort: number | null;
}

export class ServerTable<T extends ServerTableEntry> {
  /** Cookie transactions of every method but CANCEL, by branch. */
  readonly #byBranch = new Map<string, T>();
  /** Cookie CANCEL transactions, by the branch they share with their INVITE. */
  readonly #cancels = new Map<string, T>();
  /** By serverKey(): RFC 2543 transactions and cookie ones whose branch slot was taken. A key may hold several (the To tag tells them apart). */
  readonly #byKey = new Map<string, T[]>();
  /** The key each transaction of #byKey is held under. */
  readonly #keys = new Map<T, string>();

  get size(): number {
    return this.#byBranch.size + this.#cancels.size + this.#keys.size;
  }

  /** The live transaction of `method` (INVITE for an ACK or a CANCEL's target) that `request` matches. */
  find(request: SipMessage, method: string): T | undefined {
    const via = request.topVia;
    if (via === undefined) return undefined;
    const branch = via.branch;
    if (hasMagicCookie(branch)) {
      const found = this.#branchMap(method).get(branch);
      if (found !== undefined && found.method === method && found.sentByPort === via.port && equalsLower(via.host, found.sentByHost)) return found;
      if (this.#keys.size === 0) return undefined;
    }
    const key = serverKey(request, method);
    if (key === undefined) return undefined;
    const bucket = this.#byKey.get(key.key);
    if (bucket === undefined) return undefined;
    for (const transaction of bucket) if (serverMatches(request, key, transaction)) return transaction;
    return undefined;
  }

  /** Whether a request can have a server transaction: serverKey() needs more of one without the cookie. */
  matchable(request: SipMessage, method: string): boolean {
    return hasMagicCookie(request.topVia?.branch) || serverKey(request, method) !== undefined;
  }

  /** Adds the transaction created for `request` (find() missed it; matchable() holds). */
  add(transaction: T, request: SipMessage): void {
    const branch = transaction.branch;
    if (hasMagicCookie(branch)) {
      const map = this.#branchMap(transaction.method);
      if (!map.has(branch)) {
        map.set(branch, transaction);
        return;
      }
    }
    // A copy: the key is built of views into the request's text, and kept, it kept the whole request alive.
    const key = ownedString(serverKey(request, transaction.method)!.key);
    const bucket = this.#byKey.get(key);
    if (bucket === undefined) this.#byKey.set(key, [transaction]);
    else bucket.push(transaction);
    this.#keys.set(transaction, key);
  }

  /** Removes this transaction (not another one under the same branch or key). */
  delete(transaction: T): void {
    const branch = transaction.branch;
    if (branch !== null) {
      const map = this.#branchMap(transaction.method);
      if (map.get(branch) === transaction) {
        map.delete(branch);
        return;
      }
    }
    const key = this.#keys.get(transaction);
    if (key === undefined) return;
    this.#keys.delete(transaction);
    const bucket = this.#byKey.get(key)!;
    bucket.splice(bucket.indexOf(transaction), 1);
    if (bucket.length === 0) this.#byKey.delete(key);
  }

  *values(): IterableIterator<T> {
    yield* this.#byBranch.values();
    yield* this.#cancels.values();
    yield* this.#keys.keys();
  }

  #branchMap(method: string): Map<string, T> {
    return method === 'CANCEL' ? this.#cancels : this.#byBranch;
  }
}

/** `host` (as received) equals `lowerHost` ignoring case; no new string when the case already matches. */
function equalsLower(host: string, lowerHost: string): boolean {
  return host === lowerHost || (host.length === lowerHost.length && host.toLowerCase() === lowerHost);
}
