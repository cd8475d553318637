/**
 * Time, injected: the transaction, dialog and registration layers never call
 * setTimeout or Date.now themselves, so tests drive them with FakeClock and a
 * 32-second Timer B runs in microseconds.
 */
import { ListTimer, TimerLists } from './timer-lists.ts';

export type TimerHandle = { readonly id: number };

/** An object told which of its timers fired: no closure per timer (tsx names each one it makes, at a cost). */
export interface TimerTarget {
  onClockTimer(handle: TimerHandle): void;
}

/**
 * A timer that tells `target`: the clock's setTimerOn where it has one, else
 * setTimer with a closure (what every Clock has).
 */
export function setTimerOn(clock: Clock, ms: number, target: TimerTarget): TimerHandle {
  if (clock.setTimerOn !== undefined) return clock.setTimerOn(ms, target);
  const handle: TimerHandle = clock.setTimer(ms, () => target.onClockTimer(handle));
  return handle;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(ms: number, callback: () => void): TimerHandle;
  /** As setTimer, calling target.onClockTimer(handle) when it fires. Optional: users fall back to setTimer. */
  setTimerOn?(ms: number, target: TimerTarget): TimerHandle;
  clearTimer(handle: TimerHandle | undefined): void;
}

/** The real clock: performance.now() and globalThis timers (present in every JS runtime we target), multiplexed by TimerLists. */
export class SystemClock implements Clock {
  readonly #timers = new TimerLists(() => performance.now());

  now(): number {
    return performance.now();
  }

  setTimer(ms: number, callback: () => void): TimerHandle {
    return this.#timers.set(ms, callback, undefined);
  }

  setTimerOn(ms: number, target: TimerTarget): TimerHandle {
    return this.#timers.set(ms, undefined, target);
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle instanceof ListTimer) this.#timers.clear(handle);
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.pending;
  }
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
