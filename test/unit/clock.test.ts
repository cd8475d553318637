/** SystemClock (real timers, multiplexed by TimerLists) and its pending count. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SystemClock } from '../../src/transaction/clock.ts';

test('SystemClock: timers fire once, cleared ones never, pending counts both', async () => {
  const clock = new SystemClock();
  const fired: string[] = [];
  const a = clock.setTimer(5, () => fired.push('a'));
  const b = clock.setTimer(5, () => fired.push('b'));
  clock.setTimer(1, () => fired.push('c'));
  assert.is(clock.pending, 3);
  clock.clearTimer(b);
  clock.clearTimer(b); // twice is harmless
  clock.clearTimer(undefined);
  assert.is(clock.pending, 2);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(fired.sort(), ['a', 'c']);
  assert.is(clock.pending, 0);
  clock.clearTimer(a); // after firing: harmless
  assert.is(clock.pending, 0);
  assert.ok(clock.now() > 0);
});

test.run();
