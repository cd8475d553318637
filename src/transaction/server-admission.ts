/**
 * Whether a request from the network may start a server transaction, beside
 * the layer's cap on all transactions: the caps on untrusted sources, so
 * that a flood, from one peer or many, never takes the room of our own
 * requests nor of the peers carrying our calls. Without a per-source cap or
 * a trust predicate nothing is tracked per transaction (every source is
 * untrusted, counted by the live server transactions). A source is its
 * address (a peer has as many ports as it likes), an IPv6 one its /64 (a
 * host is usually given a whole /64).
 */
import type { SipMessage } from '../parser/index.ts';
import type { Endpoint } from '../transport/types.ts';

export interface AdmissionOptions {
  /** Most live server transactions from untrusted sources. */
  readonly maxUntrusted: number;
  /** Most from one untrusted source; undefined: no limit. */
  readonly perSource: number | undefined;
  /** Sources no cap here counts; asked once per new request. */
  readonly trusted: ((source: Endpoint, request: SipMessage) => boolean) | undefined;
}

/** What admit() answers for a trusted source, or when sources are not told apart: nothing to count. */
const UNCOUNTED = '';

export class ServerAdmission<T extends object> {
  readonly #maxUntrusted: number;
  readonly #perSource: number;
  readonly #trusted: AdmissionOptions['trusted'];
  /** Live transactions per untrusted source; undefined when sources are not told apart. */
  readonly #counts: Map<string, number> | undefined;
  readonly #sourceOf = new Map<T, string>();

  constructor(options: AdmissionOptions) {
    this.#maxUntrusted = options.maxUntrusted;
    this.#perSource = options.perSource ?? Infinity;
    this.#trusted = options.trusted;
    if (options.perSource !== undefined || options.trusted !== undefined) this.#counts = new Map();
  }

  /**
   * The source key to count a new transaction under (take() it once made),
   * or undefined when a cap refuses it. `servers`: the live server
   * transactions, all untrusted when sources are not told apart.
   */
  admit(source: Endpoint, request: SipMessage, servers: number): string | undefined {
    const counts = this.#counts;
    if (counts === undefined) return servers < this.#maxUntrusted ? UNCOUNTED : undefined;
    // Asked before anything is made: a predicate that throws leaves nothing half-built.
    if (this.#trusted?.(source, request) === true) return UNCOUNTED;
    const key = sourceKey(source.host);
    if (this.#sourceOf.size >= this.#maxUntrusted || (counts.get(key) ?? 0) >= this.#perSource) return undefined;
    return key;
  }

  take(transaction: T, key: string): void {
    if (key === UNCOUNTED) return;
    this.#counts!.set(key, (this.#counts!.get(key) ?? 0) + 1);
    this.#sourceOf.set(transaction, key);
  }

  /** The transaction ended: its source's slot is free again (nothing for one never counted). */
  release(transaction: T): void {
    const key = this.#sourceOf.get(transaction);
    if (key === undefined) return;
    this.#sourceOf.delete(transaction);
    const left = this.#counts!.get(key)! - 1;
    if (left === 0) this.#counts!.delete(key);
    else this.#counts!.set(key, left);
  }
}

/** A cap given as an option: undefined (the default) or a positive integer (Infinity: no cap); anything else is refused at once. */
export function positiveCap(name: string, value: number | undefined): number | undefined {
  if (value === undefined || value === Infinity) return value === Infinity ? Number.MAX_SAFE_INTEGER : undefined;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`TransactionLayerOptions.${name} must be a positive integer, got ${value}`);
  return value;
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
