/**
 * CPU cost of one whole call in our stack, without sockets, kernel or SIPp:
 * `node --import tsx bench/calls/cpu.ts [COUNT [ROUNDS]]`.
 *
 * The calls part (index.ts) shares two CPUs between our process, SIPp and
 * Kamailio (and, on this machine, other sessions' work), and its figures
 * move a lot from run to run. This measures the part we control, the same
 * way every time: a caller and a callee, each TransactionLayer + DialogLayer
 * on the real clock (RFC 3261 timers: what the transactions keep for Timer
 * L, M, J, K is in the garbage collector's bill): pair.ts.
 *
 * Output: microseconds of CPU (user + system, this process) per call for
 * both sides together, after a warm-up of WARMUP calls, median of ROUNDS
 * (each round COUNT calls). Add `--cpu-prof` to node for a profile.
 */
import { calls, closePair } from './pair.ts';
import { cpuMs, median } from './socketless.ts';

const COUNT = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const WARMUP = 10_000;

if ((await calls(WARMUP)) > 0) throw new Error('calls failed in the warm-up');
const perCall: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const cpu = cpuMs();
  const wall = performance.now();
  const failed = await calls(COUNT);
  const us = ((cpuMs() - cpu) * 1000) / COUNT;
  if (failed > 0) throw new Error(`${failed} calls failed`);
  perCall.push(us);
  process.stderr.write(`round ${r + 1}: ${us.toFixed(0)} µs CPU per call (both sides), ${Math.round(COUNT / ((performance.now() - wall) / 1000))} calls/s\n`);
}
process.stdout.write(`${JSON.stringify({ count: COUNT, rounds: ROUNDS, cpuUsPerCall: Math.round(median(perCall)), all: perCall.map(Math.round) })}\n`);
closePair();
process.exit(0);
