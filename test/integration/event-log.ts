/**
 * A list of things that happen (events, messages on the wire) that a test
 * can wait on (not a test file): push() appends and wakes the waiters;
 * waitFor() resolves with the first entry from index `since` on that
 * matches, or rejects after `ms` naming what it waited for and, through
 * `describe`, what it saw. Shared by the SDK integration tests and the
 * interop harnesses.
 */
export class EventLog<T> {
  readonly entries: T[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #describe: (entries: readonly T[]) => string;

  constructor(describe: (entries: readonly T[]) => string = (entries) => `${entries.length} entries`) {
    this.#describe = describe;
  }

  push(entry: T): void {
    this.entries.push(entry);
    for (const wake of [...this.#waiters]) wake();
  }

  waitFor(label: string, match: (entry: T) => boolean, ms: number, since = 0): Promise<T> {
    const find = (): T | undefined => this.entries.slice(since).find(match);
    const now = find();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        const found = find();
        if (found === undefined) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`no ${label} within ${ms} ms; saw [${this.#describe(this.entries.slice(since))}]`));
      }, ms);
      this.#waiters.add(wake);
    });
  }
}
