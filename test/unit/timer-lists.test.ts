/**
 * TimerLists (SystemClock's timers): one list per duration, one runtime
 * timer for the earliest head, O(1) clear.
 *
 * Runs on a fake runtime (setTimeout, clearTimeout and the clock replaced
 * while a test runs), so no test waits on real time and a loaded machine
 * cannot reorder anything. What the module documents, and so what is
 * asserted: a runtime timer on time fires each timer at its due time, so in
 * due order; a late one fires everything due in one pass, each duration's
 * timers in the order they were set (the order across durations is then
 * not promised); a timer set by a callback waits for a later pass; one
 * runtime timer at a time, never keeping the process alive.
 * The real event loop: test/integration/system-clock.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TimerLists } from '../../src/transaction/timer-lists.ts';

interface RuntimeTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
  unrefed: boolean;
  unref(): void;
}

/**
 * setTimeout/clearTimeout and a clock in which time moves only in advance().
 * Each runtime timer that fires is one pass (one turn of the event loop).
 */
class FakeRuntime {
  now = 0;
  passes = 0;
  readonly armed: RuntimeTimer[] = [];
  readonly #pending = new Map<number, RuntimeTimer>();
  #next = 1;

  setTimeout = (callback: () => void, ms: number): RuntimeTimer => {
    const timer: RuntimeTimer = {
      id: this.#next++,
      at: this.now + Math.max(0, ms),
      callback,
      unrefed: false,
      unref() {
        this.unrefed = true;
      },
    };
    this.#pending.set(timer.id, timer);
    this.armed.push(timer);
    return timer;
  };

  clearTimeout = (timer: RuntimeTimer | undefined): void => {
    if (timer !== undefined) this.#pending.delete(timer.id);
  };

  /** Runtime timers armed and not yet run or cleared. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Due time of the one pending runtime timer. */
  get nextAt(): number | undefined {
    return [...this.#pending.values()][0]?.at;
  }

  /**
   * Moves time forward by ms, running each runtime timer that comes due (set
   * meanwhile ones included). On time: each runs at its own due time. Late:
   * the clock jumps to the end first, as when a busy machine runs a timer late.
   */
  advance(ms: number, { late = false } = {}): void {
    const target = this.now + ms;
    if (late) this.now = target;
    for (;;) {
      let next: RuntimeTimer | undefined;
      for (const timer of this.#pending.values()) if (timer.at <= target && (next === undefined || timer.at < next.at)) next = timer;
      if (next === undefined) break;
      this.#pending.delete(next.id);
      this.now = Math.max(this.now, next.at);
      this.passes++;
      next.callback();
    }
    this.now = target;
  }
}

/** Runs body with the fake runtime installed in place of the global timers; body must not await. */
function onFakeRuntime(body: (runtime: FakeRuntime, timers: TimerLists) => void): void {
  const runtime = new FakeRuntime();
  const saved = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  Object.assign(globalThis, { setTimeout: runtime.setTimeout, clearTimeout: runtime.clearTimeout });
  try {
    body(runtime, new TimerLists(() => runtime.now));
  } finally {
    Object.assign(globalThis, saved);
  }
}

test('on time: timers of several durations fire in due order, each at its due time; cleared ones (head, middle, tail) never', () => {
  onFakeRuntime((runtime, timers) => {
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${runtime.now}`);
    const a1 = timers.set(20, at('a1'));
    const a2 = timers.set(20, at('a2'));
    timers.set(20, at('a3'));
    const a4 = timers.set(20, at('a4'));
    timers.set(5, at('b'));
    timers.set(40, at('c'));
    timers.set(0, at('d'));
    assert.is(timers.pending, 7);
    timers.clear(a1);
    timers.clear(a2);
    timers.clear(a4);
    timers.clear(a4); // twice is harmless
    assert.is(timers.pending, 4);
    runtime.advance(100);
    assert.equal(fired, ['d@0', 'b@5', 'a3@20', 'c@40']);
    assert.is(timers.pending, 0);
    timers.clear(a1); // after the fact: harmless
    assert.is(timers.pending, 0);
    assert.is(runtime.pending, 0, 'no runtime timer left behind');
  });
});

test('late: everything due fires in one pass, each duration in the order set; nothing not yet due', () => {
  onFakeRuntime((runtime, timers) => {
    const fired: string[] = [];
    for (const name of ['x1', 'x2', 'x3']) timers.set(20, () => fired.push(name));
    for (const name of ['y1', 'y2']) timers.set(5, () => fired.push(name));
    timers.set(40, () => fired.push('z'));
    runtime.advance(30, { late: true });
    assert.is(runtime.passes, 1, 'one runtime timer ran');
    assert.equal(fired.filter((name) => name.startsWith('x')), ['x1', 'x2', 'x3']);
    assert.equal(fired.filter((name) => name.startsWith('y')), ['y1', 'y2']);
    assert.is(fired.length, 5, `fired ${fired.join(', ')}`);
    assert.is(timers.pending, 1);
    assert.is(runtime.nextAt, 40, 're-armed for the one left');
    runtime.advance(20);
    assert.is(fired.at(-1), 'z');
  });
});

test('a callback may set timers (zero-length included) and clear pending ones', () => {
  onFakeRuntime((runtime, timers) => {
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${runtime.now}`);
    let later: ReturnType<TimerLists['set']> | undefined;
    timers.set(5, () => {
      fired.push(`first@${runtime.now}`);
      timers.set(0, at('zero'));
      timers.set(10, at('ten'));
      if (later !== undefined) timers.clear(later);
    });
    later = timers.set(12, at('cleared'));
    runtime.advance(100);
    assert.equal(fired, ['first@5', 'zero@5', 'ten@15']);
    assert.is(timers.pending, 0);
  });
});

test('an earlier timer set after a later one re-arms the single runtime timer', () => {
  onFakeRuntime((runtime, timers) => {
    const at: Record<string, number> = {};
    timers.set(1000, () => (at.late = runtime.now));
    assert.is(runtime.nextAt, 1000);
    timers.set(10, () => (at.early = runtime.now));
    assert.is(runtime.pending, 1, 'the 1000 ms runtime timer was replaced');
    assert.is(runtime.nextAt, 10);
    runtime.advance(60);
    assert.equal(at, { early: 10 });
    assert.is(timers.pending, 1);
    assert.is(runtime.nextAt, 1000);
    runtime.advance(940);
    assert.equal(at, { early: 10, late: 1000 });
  });
});

test('a callback that throws does not stop the others; the error is rethrown once, after the pass', () => {
  onFakeRuntime((runtime, timers) => {
    const fired: string[] = [];
    timers.set(5, () => {
      throw new Error('boom');
    });
    timers.set(5, () => fired.push('after'));
    timers.set(5, () => {
      throw new Error('second');
    });
    timers.set(30, () => fired.push('later'));
    assert.throws(() => runtime.advance(10), (error: Error) => error.message === 'boom');
    assert.equal(fired, ['after']);
    assert.is(timers.pending, 1);
    assert.is(runtime.nextAt, 30, 're-armed before rethrowing');
    runtime.advance(30);
    assert.equal(fired, ['after', 'later']);
  });
});

test('a callback that empties a list the pass already walked: no crash, the other timers still fire', () => {
  onFakeRuntime((runtime, timers) => {
    const fired: string[] = [];
    const guard = timers.set(50, () => fired.push('guard'));
    timers.set(10, () => {
      fired.push('ten');
      timers.clear(guard); // the 50 ms list was created first: the pass has walked it already
    });
    timers.set(30, () => fired.push('thirty'));
    runtime.advance(100);
    assert.equal(fired, ['ten', 'thirty']);
    assert.is(timers.pending, 0);
    assert.is(runtime.pending, 0);
  });
});

test('a timer set by a callback, even a zero-length one, fires in a later pass', () => {
  onFakeRuntime((runtime, timers) => {
    const passes: Record<string, number> = {};
    timers.set(5, () => {
      passes.first = runtime.passes;
      timers.set(0, () => (passes.zero = runtime.passes));
    });
    timers.set(5, () => (passes.sameList = runtime.passes));
    runtime.advance(5);
    assert.is(passes.first, 1);
    assert.is(passes.sameList, 1, 'set before the pass: fires in it');
    assert.is(passes.zero, 2, 'set during the pass: the next one');
  });
});

test('every runtime timer is unref()ed: pending SIP timers never keep the process alive', () => {
  onFakeRuntime((runtime, timers) => {
    timers.set(100, () => {});
    timers.set(10, () => {});
    runtime.advance(200);
    assert.ok(runtime.armed.length >= 2, `${runtime.armed.length} runtime timers`);
    assert.ok(runtime.armed.every((timer) => timer.unrefed));
  });
});

test.run();
