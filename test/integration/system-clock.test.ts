/**
 * SystemClock on the real runtime timers (the unit tests of TimerLists run on
 * a fake runtime: test/unit/timer-lists.test.ts).
 *
 * Covers: timers fire once, cleared ones never, the pending count; a timer
 * set by a callback, even a zero-length one, lets the event loop run first
 * (setImmediate before it). Nothing here bounds how long a timer takes: each
 * test waits for the callbacks themselves, with a generous cap.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SystemClock } from '../../src/transaction/clock.ts';

/** Waits for `done`, failing after capMs (generous: a loaded 2-core machine delays timers, it does not lose them). */
function settled(done: Promise<void>, what: string, capMs = 10_000): Promise<void> {
  let cap: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cap = setTimeout(() => reject(new Error(`${what}: nothing after ${capMs} ms`)), capMs);
  });
  return Promise.race([done, timeout]).finally(() => clearTimeout(cap));
}

test('SystemClock: timers fire once, cleared ones never, pending counts both', async () => {
  const clock = new SystemClock();
  const fired: string[] = [];
  let bothFired!: () => void;
  const done = new Promise<void>((resolve) => (bothFired = resolve));
  const record = (name: string) => () => {
    fired.push(name);
    if (fired.length === 2) bothFired();
  };
  const a = clock.setTimer(5, record('a'));
  const b = clock.setTimer(5, record('b'));
  clock.setTimer(1, record('c'));
  assert.is(clock.pending, 3);
  clock.clearTimer(b);
  clock.clearTimer(b); // twice is harmless
  clock.clearTimer(undefined);
  assert.is(clock.pending, 2);
  await settled(done, 'timers a and c');
  // b had a's duration and was set after it: had it not been cleared, it would have fired in a's pass.
  assert.equal(fired.sort(), ['a', 'c']);
  assert.is(clock.pending, 0);
  clock.clearTimer(a); // after firing: harmless
  assert.is(clock.pending, 0);
  assert.ok(clock.now() > 0);
});

test('a zero-length timer set by a timer callback waits for the next turn of the event loop', async () => {
  const clock = new SystemClock();
  const order: string[] = [];
  let zeroFired!: () => void;
  const done = new Promise<void>((resolve) => (zeroFired = resolve));
  clock.setTimer(5, () => {
    order.push('first');
    clock.setTimer(0, () => {
      order.push('zero');
      zeroFired();
    });
    setImmediate(() => order.push('immediate'));
  });
  await settled(done, 'the zero-length timer');
  assert.equal(order, ['first', 'immediate', 'zero']);
  assert.is(clock.pending, 0);
});

test.run();
