/**
 * Registration timing (scheduler.ts) and the timer structure (timer-heap.ts).
 *
 * Covers: the asked Expires and the refresh wait for a period and a granted
 * expiry (exact period when granted what we ask, margin before a shorter
 * grant, floor), the spread of the first refresh; the retry schedule's
 * guarantees, from what the settings promise: never below
 * minimum_time_before_reregistration_in_seconds, never above the maximum,
 * doubling from the minimum to the cap, jitter (up to +50% of the base below
 * the cap, up to -25% of the cap at it) spread over its whole window,
 * min = max; the heap: order by due time then scheduling order, moves and
 * cancels, one clock timer for 10,000 entries, batches per clock callback,
 * re-entrant scheduling from a callback, a throwing callback, clear().
 * Expected values are worked out by hand from the documented rules
 * (ARCHITECTURE.md, Registrar client), never computed with scheduler.ts's
 * own formulas.
 * Not covered: registrations (registrar-registration.test.ts: the retry
 * schedule over a simulated day, min > max refused).
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

test('requestedExpires: P + 32 s (Timer F) from 32 s up, 2P below; whole seconds', () => {
  // Worked out from ARCHITECTURE.md "Refresh": Expires = P + 32 for a period P, and twice P when P < 32.
  const asked: Array<[number, number]> = [
    [1, 2], [5, 10], [20, 40], [31, 62], [32, 64], [33, 65], [60, 92], [120, 152], [600, 632], [3600, 3632], [86400, 86432],
  ];
  assert.equal(asked.map(([period]) => [period, requestedExpires(period)]), asked);
  assert.is(requestedExpires(59.5), 92, 'a fractional period asks as the next whole second (60 + 32)');
});

test('granted what we ask, the refresh falls on the period exactly', () => {
  for (const period of [1, 5, 20, 31, 32, 33, 60, 120, 600, 3600, 86400]) {
    assert.is(Math.min(period, refreshBefore(requestedExpires(period))), period, `period ${period}`);
  }
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

// ---------------------------------------------------------------- retry schedule
//
// What the settings promise (README "Using the SDK", DESIGN.md, ARCHITECTURE.md
// "Retry while a site is down"): the first retry waits the minimum and no
// wait is shorter; no wait is longer than the maximum; waits double from the
// minimum up to the maximum, with jitter so that endpoints do not retry in
// step: below the cap up to half the base is added (never past the maximum),
// at the cap up to a quarter of it is taken off.

/** `random` is injected: the edges of [0, 1) and values it should never return must not break the bounds. */
const ODD_RANDOMS = [0, 1e-12, 0.5, 0.999_999_999, 1, 7, -3, Number.NaN, Number.POSITIVE_INFINITY];

/** Waits in seconds for failures 1..count, drawn with random. */
function retryWaits(min: number, max: number, random: () => number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => retryDelayMs(i + 1, min, max, random) / 1000);
}

test('retry: never below the minimum, never above the maximum, for every failure count and any random value', () => {
  const settings: Array<[number, number]> = [[20, 1800], [1, 8], [5, 7], [30, 30], [1, 1], [600, 86400], [3600, 3600]];
  for (const [min, max] of settings) {
    const randoms = [...ODD_RANDOMS.map((r) => () => r), seededRandom(min * 7 + max)];
    for (const random of randoms) {
      for (const [k, wait] of retryWaits(min, max, random, 80).entries()) {
        assert.ok(wait >= min && wait <= max, `min ${min}, max ${max}, failure ${k + 1}: waited ${wait} s`);
      }
    }
  }
});

test('retry: minimum = maximum = 30 s: every wait is exactly 30 s', () => {
  // The setting leaves no room: jitter may move neither up nor down.
  for (const random of [...ODD_RANDOMS.map((r) => () => r), seededRandom(30)]) {
    assert.equal(retryWaits(30, 30, random, 40), Array.from({ length: 40 }, () => 30));
  }
});

test('retry: the waits double from the minimum to the cap; each lies in its window (defaults 20 s / 1800 s)', () => {
  // By hand: bases 20, 40, ... 1280 (+ up to half: [20, 30], [40, 60], ...), the
  // 7th window stops at the cap (1280 * 1.5 = 1920 > 1800), from the 8th the base
  // is the cap and the wait is 1800 less up to a quarter: [1350, 1800].
  const windows: Array<[number, number]> = [
    [20, 30], [40, 60], [80, 120], [160, 240], [320, 480], [640, 960], [1280, 1800],
    [1350, 1800], [1350, 1800], [1350, 1800], [1350, 1800], [1350, 1800],
  ];
  const random = seededRandom(9);
  for (let sample = 0; sample < 300; sample++) {
    const waits = retryWaits(20, 1800, random, windows.length);
    waits.forEach((wait, i) => {
      const [low, high] = windows[i]!;
      assert.ok(wait >= low && wait <= high, `failure ${i + 1}: waited ${wait} s, window [${low}, ${high}]`);
    });
  }
  // Lowest draw: the doubling itself, then the cap's lowest.
  assert.equal(retryWaits(20, 1800, () => 0, 10), [20, 40, 80, 160, 320, 640, 1280, 1350, 1350, 1350]);
  // Highest draw: one and a half times each base, never past the cap.
  assert.equal(retryWaits(20, 1800, () => 0.999_999_999, 9), [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
  // A small range: 1 s doubling to an 8 s cap reaches it at the 4th failure.
  assert.equal(retryWaits(1, 8, () => 0, 6), [1, 2, 4, 6, 6, 6]);
  assert.equal(retryWaits(1, 8, () => 0.999_999_999, 6), [1.5, 3, 6, 8, 8, 8]);
  // A week of failures: still the cap's window, no overflow.
  const late = retryDelayMs(10_000, 20, 1800, seededRandom(3)) / 1000;
  assert.ok(late >= 1350 && late <= 1800, `failure 10,000: ${late} s`);
  assert.equal([1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => retryBaseSeconds(k, 20, 1800)), [20, 40, 80, 160, 320, 640, 1280, 1800, 1800]);
  assert.is(retryBaseSeconds(0, 20, 1800), 20, 'k < 1 counts as the first');
});

test('retry: the jitter spreads waits over the whole window, below the cap and at it', () => {
  const random = seededRandom(21);
  // First failure, defaults: [20, 30] in ten 1-s bins; at the cap: [1350, 1800] in ten 45-s bins.
  for (const [failure, low, width] of [[1, 20, 1], [10, 1350, 45]] as const) {
    const bins = Array.from({ length: 10 }, () => 0);
    for (let sample = 0; sample < 2000; sample++) {
      const wait = retryDelayMs(failure, 20, 1800, random) / 1000;
      bins[Math.min(9, Math.floor((wait - low) / width))]!++;
    }
    // 200 expected per bin for an even spread; 100 leaves room for chance, not for a clumped jitter.
    assert.ok(bins.every((n) => n >= 100), `failure ${failure}: ${bins.join(' ')}`);
  }
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
