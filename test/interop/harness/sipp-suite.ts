/**
 * What the SIPp flow suites share: short timers (so a transaction settles in
 * 64*T1 = 3.2 s), our stacks closed after each test with every SIPp they
 * started, and the check that SIPp finished its one call cleanly.
 */
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { stopAllSipp, type SippResult } from './sipp.ts';
import { Stack } from './stack.ts';

export const TIMERS = { T1: 50, T2: 400, T4: 250 } as const;
/** Time for every transaction of a finished exchange to end on its own timers. */
export const SETTLE_MS = 64 * TIMERS.T1 + 1500;

/** Registers the cleanup on `test`; returns a function that starts a stack closed after each test. */
export function stacksFor(test: Test): () => Promise<Stack> {
  let stacks: Stack[] = [];
  test.after.each(async () => {
    for (const stack of stacks) await stack.close();
    stacks = [];
    await stopAllSipp();
  });
  return async () => {
    const stack = await Stack.start({ timers: TIMERS, trace: true });
    stacks.push(stack);
    return stack;
  };
}

/**
 * SIPp exited 0 with one successful call, no failure, no unexpected message
 * and an empty error log. `noSippResends`: SIPp never had to resend its own
 * requests (we answered within its 500 ms).
 */
export function assertSippSucceeded(result: SippResult, options: { noSippResends?: boolean } = {}): void {
  const detail = `\n${result.errors}\n${result.output.slice(-2500)}`;
  assert.is(result.status, 0, `SIPp exit status${detail}`);
  assert.is(result.successful, 1, `SIPp successful calls${detail}`);
  assert.is(result.failed, 0, `SIPp failed calls${detail}`);
  assert.is(result.lines.reduce((n, line) => n + line.unexpected, 0), 0, `unexpected messages at SIPp${detail}`);
  if (options.noSippResends) {
    assert.is(result.lines.filter((line) => line.direction === 'out').reduce((n, line) => n + line.retransmissions, 0), 0, `SIPp resent${detail}`);
  }
  assert.is(result.errors, '', 'SIPp error log');
}
