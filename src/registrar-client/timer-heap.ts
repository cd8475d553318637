/**
 * One timer structure for any number of registrations: a binary min-heap of
 * entries keyed by (due time, insertion order), with ONE clock timer armed for
 * the earliest entry. Each registration owns one entry object for its life,
 * so it holds at most one pending wake-up, and scheduling it again moves the
 * entry instead of adding one (O(log n), no allocation).
 *
 * When many entries are due at once (10,000 registrations started together)
 * the heap fires at most `batch` of them per clock callback and re-arms a
 * zero-delay timer for the rest, so one tick never sends them all and the
 * event loop keeps turning (sockets are read between batches). Equal due
 * times fire in the order they were scheduled: equal priority, first come
 * first served.
 */
import type { Clock, TimerHandle } from '../transaction/clock.ts';

export interface HeapEntry {
  /** Clock time (ms) at which it fires. */
  due: number;
  /** Tie-break: order of scheduling. */
  seq: number;
  /** Position in the heap, -1 when not scheduled. */
  index: number;
  readonly fire: () => void;
}

export function heapEntry(fire: () => void): HeapEntry {
  return { due: 0, seq: 0, index: -1, fire };
}

/** Default largest number of entries fired in one clock callback. */
export const DEFAULT_BATCH = 256;

export class TimerHeap {
  readonly #clock: Clock;
  readonly #batch: number;
  readonly #heap: HeapEntry[] = [];
  #handle: TimerHandle | undefined;
  #armedAt = Infinity;
  #seq = 0;
  #firing = false;

  constructor(clock: Clock, batch = DEFAULT_BATCH) {
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
    this.#clock = clock;
    this.#batch = batch;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#heap.length;
  }

  /** Clock timers this structure holds: 0 or 1. */
  get clockTimers(): number {
    return this.#handle === undefined ? 0 : 1;
  }

  /** Due time of the earliest entry. */
  get nextDue(): number | undefined {
    return this.#heap[0]?.due;
  }

  has(entry: HeapEntry): boolean {
    return entry.index >= 0 && this.#heap[entry.index] === entry;
  }

  /** Schedules (or moves) the entry to fire at clock time `due`. */
  scheduleAt(entry: HeapEntry, due: number): void {
    const seq = this.#seq++;
    if (this.has(entry)) {
      // The new seq is the largest: an equal due time moves the entry behind its peers.
      const earlier = due < entry.due;
      entry.due = due;
      entry.seq = seq;
      if (earlier) this.#up(entry.index);
      else this.#down(entry.index);
    } else {
      entry.due = due;
      entry.seq = seq;
      entry.index = this.#heap.length;
      this.#heap.push(entry);
      this.#up(entry.index);
    }
    this.#arm();
  }

  /** Schedules the entry `ms` from now. */
  schedule(entry: HeapEntry, ms: number): void {
    this.scheduleAt(entry, this.#clock.now() + Math.max(0, ms));
  }

  cancel(entry: HeapEntry): void {
    if (!this.has(entry)) return;
    const i = entry.index;
    const last = this.#heap.pop()!;
    entry.index = -1;
    if (last !== entry) {
      this.#heap[i] = last;
      last.index = i;
      this.#down(i);
      this.#up(last.index);
    }
    if (this.#heap.length === 0) this.#disarm();
  }

  /** Drops every entry and the clock timer. */
  clear(): void {
    for (const entry of this.#heap) entry.index = -1;
    this.#heap.length = 0;
    this.#disarm();
  }

  #onTimer = (): void => {
    this.#handle = undefined;
    this.#armedAt = Infinity;
    const now = this.#clock.now();
    this.#firing = true;
    try {
      for (let fired = 0; fired < this.#batch; fired++) {
        const head = this.#heap[0];
        if (head === undefined || head.due > now) break;
        this.cancel(head);
        head.fire();
      }
    } finally {
      this.#firing = false;
      this.#arm();
    }
  };

  #arm(): void {
    if (this.#firing) return;
    const head = this.#heap[0];
    if (head === undefined) return this.#disarm();
    if (this.#handle !== undefined && this.#armedAt <= head.due) return;
    this.#disarm();
    this.#armedAt = head.due;
    this.#handle = this.#clock.setTimer(Math.max(0, head.due - this.#clock.now()), this.#onTimer);
  }

  #disarm(): void {
    if (this.#handle === undefined) return;
    this.#clock.clearTimer(this.#handle);
    this.#handle = undefined;
    this.#armedAt = Infinity;
  }

  #less(a: HeapEntry, b: HeapEntry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const entry = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (!this.#less(entry, above)) break;
      heap[i] = above;
      above.index = i;
      i = parent;
    }
    heap[i] = entry;
    entry.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.#less(heap[right]!, heap[left]!) ? right : left;
      const below = heap[child]!;
      if (!this.#less(below, entry)) break;
      heap[i] = below;
      below.index = i;
      i = child;
    }
    heap[i] = entry;
    entry.index = i;
  }
}
