/**
 * Heap a finished call keeps while the RFC's waits run (Timers J and L on
 * the callee, K and M on the caller: up to 64*T1 = 32 s after the call):
 * `node --expose-gc --import tsx bench/calls/retained.ts [COUNT]`.
 *
 * At thousands of calls a second, 32 s of finished calls is most of the
 * live heap, and what the garbage collector copies and marks again and
 * again. The pair (pair.ts) makes COUNT calls, each set up and hung up;
 * none of their waits has ended when the heap is measured (two full GCs
 * before and after):
 *
 *     retained per call = (heapUsed after - heapUsed before) / COUNT
 *
 * and the same for arrayBuffers (bytes outside the V8 heap). The side of a
 * figure: BENCH_CALLS_CALLER_T1=5 lets the caller's waits end within the
 * run (the figure is then the callee's), BENCH_CALLS_CALLEE_T1=5 the
 * callee's. Prints one JSON line.
 */
import { calls, closePair } from './pair.ts';

const COUNT = Number(process.argv[2] ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run node with --expose-gc');

/** After two full GCs, once short waits (T1 = 5 ms: Timers L, M, J at 320 ms, K at 50 ms) are over. */
async function settled(): Promise<NodeJS.MemoryUsage> {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  gc!();
  gc!();
  return process.memoryUsage();
}

if ((await calls(2_000)) > 0) throw new Error('calls failed in the warm-up');
const before = await settled();
const failed = await calls(COUNT);
if (failed > 0) throw new Error(`${failed} calls failed`);
const after = await settled();
const perCall = (bytes: number): number => Math.round(bytes / COUNT);
process.stdout.write(
  `${JSON.stringify({ count: COUNT, heapBytesPerCall: perCall(after.heapUsed - before.heapUsed), arrayBufferBytesPerCall: perCall(after.arrayBuffers - before.arrayBuffers) })}\n`,
);
closePair();
process.exit(0);
