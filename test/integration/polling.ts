/**
 * Waiting on a condition by polling (not a test file), for tests that watch
 * state they cannot subscribe to: socket closes, counters, stats. Event
 * streams have EventLog (event-log.ts) instead.
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `predicate` holds, checking every `everyMs`; throws naming
 * `what` after `timeoutMs` (3 s by default: generous for a loaded machine,
 * and a timeout is never what a test asserts).
 */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 3000, everyMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
