/** TimerLists (SystemClock's timers): one list per duration, one runtime timer, O(1) clear. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TimerLists } from '../../src/transaction/timer-lists.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('timers of several durations fire in due order; cleared ones (head, middle, tail) never', async () => {
  const timers = new TimerLists(() => performance.now());
  const fired: string[] = [];
  const a1 = timers.set(20, () => fired.push('a1'));
  const a2 = timers.set(20, () => fired.push('a2'));
  timers.set(20, () => fired.push('a3'));
  const a4 = timers.set(20, () => fired.push('a4'));
  timers.set(5, () => fired.push('b'));
  timers.set(40, () => fired.push('c'));
  timers.set(0, () => fired.push('d'));
  assert.is(timers.pending, 7);
  timers.clear(a1);
  timers.clear(a2);
  timers.clear(a4);
  timers.clear(a4); // twice is harmless
  assert.is(timers.pending, 4);
  await sleep(80);
  assert.equal(fired, ['d', 'b', 'a3', 'c']);
  assert.is(timers.pending, 0);
  timers.clear(a1); // after the fact: harmless
  assert.is(timers.pending, 0);
});

test('a callback may set timers (zero-length included) and clear pending ones', async () => {
  const timers = new TimerLists(() => performance.now());
  const fired: string[] = [];
  let later: ReturnType<TimerLists['set']> | undefined;
  timers.set(5, () => {
    fired.push('first');
    timers.set(0, () => fired.push('zero'));
    timers.set(10, () => fired.push('ten'));
    if (later !== undefined) timers.clear(later);
  });
  later = timers.set(12, () => fired.push('cleared'));
  await sleep(60);
  assert.equal(fired, ['first', 'zero', 'ten']);
  assert.is(timers.pending, 0);
});

test('an earlier timer set after a later one re-arms the runtime timer', async () => {
  const timers = new TimerLists(() => performance.now());
  const at: Record<string, number> = {};
  const start = performance.now();
  timers.set(1000, () => (at.late = performance.now() - start));
  timers.set(10, () => (at.early = performance.now() - start));
  await sleep(60);
  assert.ok(at.early !== undefined && at.early >= 9 && at.early < 60, `early fired at ${at.early}`);
  assert.is(at.late, undefined);
  assert.is(timers.pending, 1);
});

test('a callback that throws does not stop the others; the error is rethrown once', async () => {
  const timers = new TimerLists(() => performance.now());
  const fired: string[] = [];
  const uncaught: unknown[] = [];
  const listeners = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', (error) => uncaught.push(error));
  try {
    timers.set(5, () => {
      throw new Error('boom');
    });
    timers.set(5, () => fired.push('after'));
    await sleep(40);
  } finally {
    process.removeAllListeners('uncaughtException');
    for (const listener of listeners) process.on('uncaughtException', listener);
  }
  assert.equal(fired, ['after']);
  assert.is(uncaught.length, 1);
  assert.match(String(uncaught[0]), /boom/);
  assert.is(timers.pending, 0);
});

test('a callback that empties a list the pass already walked: no crash, the other timers still fire', async () => {
  const timers = new TimerLists(() => performance.now());
  const fired: string[] = [];
  const guard = timers.set(50, () => fired.push('guard'));
  timers.set(10, () => {
    fired.push('ten');
    timers.clear(guard); // the 50 ms list was created first: the pass has walked it already
  });
  timers.set(30, () => fired.push('thirty'));
  await sleep(80);
  assert.equal(fired, ['ten', 'thirty']);
  assert.is(timers.pending, 0);
});

test('a zero-length timer set by a callback waits for the next turn of the event loop', async () => {
  const timers = new TimerLists(() => performance.now());
  const order: string[] = [];
  timers.set(5, () => {
    order.push('first');
    timers.set(0, () => order.push('zero'));
    setImmediate(() => order.push('immediate'));
  });
  await sleep(40);
  assert.equal(order, ['first', 'immediate', 'zero']);
  assert.is(timers.pending, 0);
});

test.run();
