/**
 * Timers for SystemClock: one list per duration and a single runtime timer
 * for the earliest of them all.
 *
 * Why: every transaction starts two or three timers (E and F, then K) and
 * clears most of them within milliseconds. A runtime timer each cost ~2 µs
 * to set and clear, and four objects, about a seventh of the CPU of a
 * registration. Timers of one duration expire in the order they were set,
 * so appending to that duration's list keeps it sorted; clearing unlinks in
 * O(1). SIP uses few durations (T1 doublings, T2, T4, 64*T1), so firing
 * looks at a handful of list heads.
 */

import type { TimerTarget } from './clock.ts';

/** A pending timer, and its own node in its duration's list. */
export class ListTimer {
  prev: ListTimer | undefined;
  next: ListTimer | undefined;
  /** The list it is in; undefined once fired or cleared. */
  list: DurationList | undefined;

  readonly id: number;
  readonly due: number;
  /** What fires: the callback, or else the target told of this timer. */
  readonly callback: (() => void) | undefined;
  readonly target: TimerTarget | undefined;

  constructor(
    id: number,
    due: number,
    callback: (() => void) | undefined,
    target: TimerTarget | undefined,
  ) {
    this.id = id;
    this.due = due;
    this.callback = callback;
    this.target = target;
  }
}

class DurationList {
  head: ListTimer | undefined;
  tail: ListTimer | undefined;

  readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
  }

  append(timer: ListTimer): void {
    timer.list = this;
    timer.prev = this.tail;
    timer.next = undefined;
    if (this.tail === undefined) this.head = timer;
    else this.tail.next = timer;
    this.tail = timer;
  }

  unlink(timer: ListTimer): void {
    if (timer.prev === undefined) this.head = timer.next;
    else timer.prev.next = timer.next;
    if (timer.next === undefined) this.tail = timer.prev;
    else timer.next.prev = timer.prev;
    timer.prev = timer.next = timer.list = undefined;
  }
}

/**
 * A runtime timer may run a little before performance.now() reaches a due
 * time (Node measures from its cached loop time): what is due within this
 * many ms fires in the same pass instead of arming another timer.
 */
const EARLY_MS = 1;

export class TimerLists {
  readonly #lists = new Map<number, DurationList>();
  readonly #now: () => number;
  #next = 1;
  #pending = 0;
  #runtimeTimer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Infinity;
  #firing = false;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.#pending;
  }

  /** Calls `callback` when due, or else `target.onClockTimer(timer)`. */
  set(ms: number, callback: (() => void) | undefined, target?: TimerTarget): ListTimer {
    const duration = ms > 0 ? Math.ceil(ms) : 0;
    const now = this.#now();
    // A whole ms (never earlier than asked): V8 keeps a fractional number as an object of its own, 16 B per
    // timer (a whole one too, once the clock passes the small-integer range after weeks of uptime).
    const timer = new ListTimer(this.#next++, Math.ceil(now + duration), callback, target);
    let list = this.#lists.get(duration);
    if (list === undefined) {
      list = new DurationList(duration);
      this.#lists.set(duration, list);
    }
    list.append(timer);
    this.#pending++;
    if (timer.due < this.#armedAt) this.#arm(timer.due, now);
    return timer;
  }

  /** Harmless for a timer that fired or was cleared already. The runtime timer stays: when it runs, it finds nothing due. */
  clear(timer: ListTimer): void {
    const list = timer.list;
    if (list === undefined) return;
    list.unlink(timer);
    this.#pending--;
  }

  #arm(due: number, now: number): void {
    if (this.#firing) return; // #fire arms for what is left when it ends
    if (this.#runtimeTimer !== undefined) clearTimeout(this.#runtimeTimer);
    this.#armedAt = due;
    const timer = setTimeout(this.#fire, Math.max(0, Math.ceil(due - now)));
    // A pending SIP timer must not keep a process alive on its own.
    (timer as { unref?: () => void }).unref?.();
    this.#runtimeTimer = timer;
  }

  readonly #fire = (): void => {
    this.#runtimeTimer = undefined;
    this.#armedAt = Infinity;
    this.#firing = true;
    // Only timers set before this pass fire in it: one set by a callback (a
    // zero-length one included) waits for the next runtime timer, so the
    // event loop gets its turn in between.
    const firstNew = this.#next;
    let failure: { error: unknown } | undefined;
    try {
      const now = this.#now() + EARLY_MS;
      for (const list of this.#lists.values()) {
        for (let timer = list.head; timer !== undefined && timer.due <= now && timer.id < firstNew; timer = list.head) {
          list.unlink(timer);
          this.#pending--;
          try {
            if (timer.callback !== undefined) timer.callback();
            else timer.target!.onClockTimer(timer);
          } catch (error) {
            // One timer's failure must not stop the others; it is rethrown below.
            failure ??= { error };
          }
        }
      }
    } finally {
      this.#firing = false;
      // A callback may have emptied any list, one already walked included.
      let earliest = Infinity;
      for (const list of this.#lists.values()) {
        if (list.head === undefined) this.#lists.delete(list.ms);
        else if (list.head.due < earliest) earliest = list.head.due;
      }
      if (earliest < Infinity) this.#arm(earliest, this.#now());
    }
    if (failure !== undefined) throw failure.error;
  };
}
