/**
 * Time, injected: the transaction, dialog and registration layers never call
 * setTimeout or Date.now themselves, so tests drive them with FakeClock and a
 * 32-second Timer B runs in microseconds.
 */
export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(ms: number, callback: () => void): TimerHandle;
  clearTimer(handle: TimerHandle | undefined): void;
}

/** The real clock: globalThis timers (present in every JS runtime we target). */
export class SystemClock implements Clock {
  #next = 1;
  #pending = 0;

  now(): number {
    return performance.now();
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    // The handle carries its runtime timer: no lookup table per timer (this runs for every transaction).
    const handle: SystemTimer = { id: this.#next++, timer: undefined };
    const timer = setTimeout(() => {
      if (handle.timer === undefined) return;
      handle.timer = undefined;
      this.#pending--;
      callback();
    }, ms);
    // A pending SIP timer must not keep a process alive on its own.
    (timer as { unref?: () => void }).unref?.();
    handle.timer = timer;
    this.#pending++;
    return handle;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    const timer = (handle as SystemTimer | undefined)?.timer;
    if (timer === undefined) return;
    clearTimeout(timer);
    (handle as SystemTimer).timer = undefined;
    this.#pending--;
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pending(): number {
    return this.#pending;
  }
}

interface SystemTimer {
  readonly id: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A clock for tests: time moves only when advance() is called. */
export class FakeClock implements Clock {
  #now = 0;
  #next = 1;
  readonly #timers = new Map<number, { at: number; seq: number; callback: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), seq: id, callback });
    return { id };
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#timers.delete(handle.id);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward, firing due timers in order (timers set while firing included). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let nextId = -1;
      let next: { at: number; seq: number; callback: () => void } | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.at > target) continue;
        if (next === undefined || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) {
          next = timer;
          nextId = id;
        }
      }
      if (next === undefined) break;
      this.#timers.delete(nextId);
      this.#now = next.at;
      next.callback();
    }
    this.#now = target;
  }
}
