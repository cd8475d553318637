/**
 * Registration timing (scheduler.ts) and the timer structure (timer-heap.ts).
 *
 * Covers: the asked Expires and the refresh wait for a period and a granted
 * expiry (exact period when granted what we ask, margin before a shorter
 * grant, floor), the spread of the first refresh, the retry backoff bounds
 * [min*2^(k-1)/2, min*2^(k-1)] capped at max and its doubling, the heap:
 * order by due time then scheduling order, moves and cancels, one clock
 * timer for 10,000 entries, batches per clock callback, re-entrant
 * scheduling from a callback, a throwing callback, clear().
 * Not covered: registrations (registrar-registration.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  MIN_REFRESH_SECONDS,
  REFRESH_MARGIN_SECONDS,
  TimerHeap,
  heapEntry,
  refreshBefore,
  refreshDelayMs,
  requestedExpires,
  retryBaseSeconds,
  retryDelayMs,
} from '../../src/registrar-client/index.ts';
import { CountingClock, seededRandom } from './registrar-fakes.ts';

// ---------------------------------------------------------------- formulas

test('requestedExpires / refreshBefore: granted what we ask, the refresh falls on the period exactly', () => {
  for (const period of [1, 5, 20, 31, 32, 33, 60, 120, 600, 3600, 86400]) {
    const asked = requestedExpires(period);
    assert.ok(asked > period, `asked ${asked} > period ${period}`);
    assert.is(Math.min(period, refreshBefore(asked)), period, `period ${period}`);
  }
  assert.is(requestedExpires(3600), 3600 + REFRESH_MARGIN_SECONDS);
  assert.is(requestedExpires(20), 40);
  assert.is(requestedExpires(59.5), 60 + REFRESH_MARGIN_SECONDS, 'whole seconds');
});

test('refreshBefore: margin before a shorter grant, half-way for short ones, floor', () => {
  assert.is(refreshBefore(3600), 3600 - 32);
  assert.is(refreshBefore(60), 30);
  assert.is(refreshBefore(20), 10);
  assert.is(refreshBefore(1), MIN_REFRESH_SECONDS);
  assert.is(refreshBefore(0), MIN_REFRESH_SECONDS);
});

test('refreshDelayMs: shorter of period and grant; the spread only shortens, and only the first', () => {
  const never = () => 0.999999;
  assert.is(refreshDelayMs(60, 92, 0.1, never, false), 60_000);
  assert.is(refreshDelayMs(3600, 600, 0.1, never, false), 568_000, 'granted 600 wins');
  assert.is(refreshDelayMs(60, 92, 0, never, true), 60_000, 'no spread');
  const random = seededRandom(2);
  for (let i = 0; i < 1000; i++) {
    const first = refreshDelayMs(3600, 3632, 0.1, random, true);
    assert.ok(first > 3240_000 && first <= 3600_000, `first refresh ${first} in (0.9P, P]`);
  }
  assert.is(refreshDelayMs(1, 1, 0.5, () => 0.99, true), 1000, 'floor of 1 s');
});

test('retry: waits in [min, max] and in [base, 1.5 base] below the cap, base doubling from min to the cap', () => {
  const min = 20;
  const max = 1800;
  assert.equal([1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => retryBaseSeconds(k, min, max)), [20, 40, 80, 160, 320, 640, 1280, 1800, 1800]);
  assert.is(retryBaseSeconds(0, min, max), 20, 'k < 1 counts as the first');
  assert.is(retryBaseSeconds(10_000, min, max), 1800, 'no overflow after a week of failures');
  const random = seededRandom(9);
  for (let k = 1; k <= 12; k++) {
    const base = Math.min(max, min * 2 ** (k - 1));
    for (let i = 0; i < 200; i++) {
      const wait = retryDelayMs(k, min, max, random) / 1000;
      assert.ok(wait >= min && wait <= max, `k=${k}: ${wait} in [${min}, ${max}]`);
      if (base < max) assert.ok(wait >= base && wait <= Math.min(max, base * 1.5), `k=${k}: ${wait} in [${base}, ${base * 1.5}]`);
      else assert.ok(wait >= max * 0.75, `k=${k}: ${wait} >= ${max * 0.75} at the cap`);
    }
  }
  assert.is(retryDelayMs(1, min, max, () => 0), 20_000, 'random 0 -> the minimum itself');
  assert.is(retryDelayMs(1, min, max, () => 1), 30_000, 'random 1 -> 1.5 x');
  assert.is(retryDelayMs(1, min, max, () => Number.NaN), 20_000, 'bad random is clamped');
  assert.is(retryDelayMs(3, min, max, () => 7), 120_000, 'random above 1 is clamped');
  assert.is(retryDelayMs(9, min, max, () => 1), 1_800_000, 'at the cap: never above max');
  assert.is(retryDelayMs(9, min, max, () => 0), 1_350_000, 'at the cap: jitter downward');
});

// ---------------------------------------------------------------- heap

test('TimerHeap: fires by due time, equal times in scheduling order; one clock timer', () => {
  const clock = new CountingClock();
  const heap = new TimerHeap(clock);
  const fired: string[] = [];
  const make = (name: string) => heapEntry(() => fired.push(`${name}@${clock.now()}`));
  const a = make('a');
  const b = make('b');
  const c = make('c');
  const d = make('d');
  heap.schedule(c, 300);
  heap.schedule(a, 100);
  heap.schedule(b, 100);
  heap.schedule(d, 200);
  assert.is(heap.size, 4);
  assert.is(heap.clockTimers, 1);
  assert.is(heap.nextDue, 100);
  heap.schedule(d, 50); // move earlier
  heap.schedule(c, 400); // move later
  clock.advance(1000);
  assert.equal(fired, ['d@50', 'a@100', 'b@100', 'c@400']);
  assert.is(heap.size, 0);
  assert.is(heap.clockTimers, 0);
  assert.is(clock.inner.pending, 0);
  assert.is(clock.maxPending, 1);
});

test('TimerHeap: cancel anywhere keeps the order; cancelling the last entry frees the clock timer', () => {
  const clock = new CountingClock();
  const heap = new TimerHeap(clock);
  const fired: number[] = [];
  const entries = Array.from({ length: 50 }, (_, i) => heapEntry(() => fired.push(i)));
  const random = seededRandom(4);
  const due = entries.map(() => Math.floor(random() * 1000));
  entries.forEach((entry, i) => heap.schedule(entry, due[i]!));
  const cancelled = new Set([0, 7, 13, 25, 49, 30]);
  for (const i of cancelled) heap.cancel(entries[i]!);
  heap.cancel(entries[0]!); // twice: no-op
  assert.is(heap.has(entries[7]!), false);
  clock.advance(2000);
  const expected = entries
    .map((_, i) => i)
    .filter((i) => !cancelled.has(i))
    .sort((x, y) => due[x]! - due[y]! || x - y);
  assert.equal(fired, expected);
  const only = heapEntry(() => {});
  heap.schedule(only, 10);
  assert.is(clock.inner.pending, 1);
  heap.cancel(only);
  assert.is(clock.inner.pending, 0, 'no clock timer left');
  assert.is(heap.clockTimers, 0);
});

test('TimerHeap: 10,000 entries due at once fire in batches, one clock timer at any time', () => {
  const clock = new CountingClock();
  const heap = new TimerHeap(clock, 256);
  const order: number[] = [];
  const batches: number[] = [];
  let lastArmed = 0;
  const entries = Array.from({ length: 10_000 }, (_, i) =>
    heapEntry(() => {
      if (clock.armed !== lastArmed) {
        batches.push(0);
        lastArmed = clock.armed;
      }
      batches[batches.length - 1]!++;
      order.push(i);
    }),
  );
  for (const entry of entries) heap.schedule(entry, 0);
  assert.is(clock.maxPending, 1);
  clock.advance(0);
  assert.is(order.length, 10_000);
  assert.equal(order.slice(0, 5), [0, 1, 2, 3, 4], 'first come, first served');
  assert.ok(order.every((v, i) => v === i));
  assert.ok(batches.length >= 10_000 / 256, `${batches.length} batches`);
  assert.ok(batches.every((n) => n <= 256), 'no batch above the limit');
  assert.is(clock.maxPending, 1, 'one clock timer at any time');
  assert.is(heap.clockTimers, 0);
});

test('TimerHeap: callbacks may schedule and cancel; a throwing callback does not stop the heap', () => {
  const clock = new CountingClock();
  const heap = new TimerHeap(clock);
  const fired: string[] = [];
  const later = heapEntry(() => fired.push(`later@${clock.now()}`));
  const victim = heapEntry(() => fired.push('victim'));
  const self: ReturnType<typeof heapEntry> = heapEntry(() => {
    fired.push(`self@${clock.now()}`);
    if (clock.now() < 300) heap.schedule(self, 100);
  });
  const boom = heapEntry(() => {
    throw new Error('boom');
  });
  heap.schedule(self, 100);
  heap.schedule(victim, 150);
  heap.schedule(boom, 120);
  heap.schedule(later, 500);
  const canceller = heapEntry(() => heap.cancel(victim));
  heap.schedule(canceller, 110);
  assert.throws(() => clock.advance(130), /boom/);
  assert.is(heap.clockTimers, 1, 're-armed after the throw');
  clock.advance(1000);
  assert.equal(fired, ['self@100', 'self@200', 'self@300', 'later@500']);
  assert.is(clock.maxPending, 1);
  assert.is(heap.clockTimers, 0);
});

test('TimerHeap: clear() drops everything; bad batch size', () => {
  const clock = new CountingClock();
  const heap = new TimerHeap(clock);
  const entry = heapEntry(() => assert.unreachable('cleared'));
  heap.scheduleAt(entry, 100);
  heap.schedule(heapEntry(() => {}), 50);
  heap.clear();
  assert.is(heap.size, 0);
  assert.is(heap.has(entry), false);
  assert.is(clock.inner.pending, 0);
  clock.advance(1000);
  assert.throws(() => new TimerHeap(clock, 0), /batch/);
});

test('TimerHeap: a late clock fires everything due, nothing early', () => {
  const clock = new CountingClock();
  const heap = new TimerHeap(clock);
  const fired: number[] = [];
  for (const due of [100, 200, 300]) heap.scheduleAt(heapEntry(() => fired.push(due)), due);
  clock.advance(250);
  assert.equal(fired, [100, 200]);
  assert.is(heap.nextDue, 300);
});

test.run();
