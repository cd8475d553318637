/**
 * Host names to addresses for the transport (RFC 3263 s4.2 with a port
 * given: A/AAAA only; no NAPTR or SRV, see ARCHITECTURE.md). A site is
 * usually configured by name; a send to a name waits for one lookup, and
 * later sends to it take the remembered address at once.
 *
 * Every limit is explicit: an answer is kept `ttlMs` (the system resolver
 * gives no TTL), a failure `failureTtlMs` (a name that does not resolve is
 * not asked for again on every retransmission), at most `maxNames` names
 * (the oldest forgotten first), at most `maxPending` lookups at once (a peer
 * whose Contact names a new host per dialog cannot fill the system's
 * resolver threads), and a lookup that the system leaves unanswered fails
 * after `timeoutMs`. Lookups of one name share one query.
 */
import { lookup as systemLookup } from 'node:dns';
import { isIP, normalizeHost } from './addresses.ts';

/** Resolves `host` to its addresses, as node:dns lookup(host, { all: true }) does. */
export type LookupAll = (host: string, done: (error: Error | null, addresses: readonly string[]) => void) => void;

export interface HostResolverOptions {
  readonly lookup?: LookupAll;
  /** How long an answer is used (default 60 s). */
  readonly ttlMs?: number;
  /** How long a failed lookup is remembered (default 5 s). */
  readonly failureTtlMs?: number;
  /** A lookup still unanswered after this fails (default 5 s). */
  readonly timeoutMs?: number;
  /** Names remembered at most (default 1,000). */
  readonly maxNames?: number;
  /** Lookups in progress at most; past it a new name fails at once (default 16). */
  readonly maxPending?: number;
  /** Milliseconds, monotonic (default performance.now). */
  readonly now?: () => number;
}

/** A resolution that failed: why, for the sender's TransportError. */
export class HostLookupError extends Error {
  override readonly name = 'HostLookupError';
}

interface Known {
  readonly addresses: readonly string[];
  readonly error: HostLookupError | undefined;
  readonly until: number;
}

/** RFC 1123 host names: labels of letters, digits and inner hyphens, dot-separated. */
const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** RFC 1123 s2.1: the top label is not all digits (else `127.1` or `2130706433`, which getaddrinfo reads as addresses). */
const NUMERIC_TOP_LABEL = /(^|\.)[0-9]+\.?$/;

export function isHostName(host: string): boolean {
  return !isIP(host) && HOST_NAME.test(host) && !NUMERIC_TOP_LABEL.test(host);
}

const systemLookupAll: LookupAll = (host, done) => {
  systemLookup(host, { all: true, verbatim: true }, (error, addresses) => {
    done(error, error === null ? addresses.map((a) => a.address) : []);
  });
};

export class HostResolver {
  readonly #lookup: LookupAll;
  readonly #ttlMs: number;
  readonly #failureTtlMs: number;
  readonly #timeoutMs: number;
  readonly #maxNames: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #known = new Map<string, Known>();
  readonly #pending = new Map<string, Promise<readonly string[]>>();

  constructor(options: HostResolverOptions = {}) {
    this.#lookup = options.lookup ?? systemLookupAll;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#failureTtlMs = options.failureTtlMs ?? 5_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#maxNames = options.maxNames ?? 1_000;
    this.#maxPending = options.maxPending ?? 16;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The addresses of `host`, if a fresh answer is known (in the resolver's order). */
  cached(host: string): readonly string[] | undefined {
    const known = this.#known.get(normalizeHost(host).toLowerCase());
    return known !== undefined && known.error === undefined && known.until > this.#now() ? known.addresses : undefined;
  }

  /** Every address `host` had at its last successful lookup, stale or not (a site's own addresses, to recognise it). */
  addresses(host: string): readonly string[] {
    return this.#known.get(normalizeHost(host).toLowerCase())?.addresses ?? [];
  }

  /** The addresses of `host` (at least one, in the resolver's order); rejects with HostLookupError. */
  resolve(host: string): Promise<readonly string[]> {
    const name = normalizeHost(host).toLowerCase();
    const known = this.#known.get(name);
    if (known !== undefined && known.until > this.#now()) {
      return known.error === undefined ? Promise.resolve(known.addresses) : Promise.reject(known.error);
    }
    let pending = this.#pending.get(name);
    if (pending === undefined) {
      if (this.#pending.size >= this.#maxPending) return Promise.reject(new HostLookupError(`cannot resolve ${name}: ${this.#maxPending} lookups in progress already`));
      pending = this.#query(name, known?.addresses ?? []);
      this.#pending.set(name, pending);
      const forget = (): void => void this.#pending.delete(name);
      pending.then(forget, forget);
    }
    return pending;
  }

  #query(name: string, previous: readonly string[]): Promise<readonly string[]> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => finish(new HostLookupError(`cannot resolve ${name}: no answer within ${this.#timeoutMs} ms`), []), this.#timeoutMs);
      // A lookup the system never answers must not keep the process alive.
      timer.unref?.();
      const finish = (error: HostLookupError | undefined, addresses: readonly string[]): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Normalized (::ffff:1.2.3.4 is 1.2.3.4), as every address the transport compares is.
        const usable = [...new Set(addresses.filter((a) => isIP(a)).map((a) => normalizeHost(a)))];
        const failure = error ?? (usable.length === 0 ? new HostLookupError(`cannot resolve ${name}: no address`) : undefined);
        // A failed lookup keeps the addresses known before, for recognising the site (addresses()).
        this.#remember(name, {
          addresses: failure === undefined ? usable : previous,
          error: failure,
          until: this.#now() + (failure === undefined ? this.#ttlMs : this.#failureTtlMs),
        });
        if (failure === undefined) resolve(usable);
        else reject(failure);
      };
      try {
        this.#lookup(name, (error, addresses) => finish(error === null ? undefined : new HostLookupError(`cannot resolve ${name}: ${(error as { code?: string }).code ?? error.message}`), addresses));
      } catch (error) {
        finish(new HostLookupError(`cannot resolve ${name}: ${(error as Error).message}`), []);
      }
    });
  }

  #remember(name: string, known: Known): void {
    this.#known.delete(name);
    if (this.#known.size >= this.#maxNames) this.#known.delete(this.#known.keys().next().value!);
    this.#known.set(name, known);
  }
}
