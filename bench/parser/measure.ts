/**
 * The timing loop: a warm-up, then timed rounds of a fixed duration; the
 * figure is the median round. Rounds of different parsers are interleaved
 * (round 1 of each, round 2 of each, ...) so that drift in the machine's
 * speed spreads over all of them instead of hitting the last one.
 */
import { fold, type Adapter, Fields } from './fields.ts';

export interface Timing {
  /** Rounds, each at least this long (ms). */
  readonly roundMs: number;
  readonly rounds: number;
  /** Untimed running before the first round (ms), for the JIT to settle. */
  readonly warmupMs: number;
}

export interface Rate {
  readonly msgsPerSec: number;
  readonly mbPerSec: number;
}

export interface Figure extends Rate {
  /** (slowest - fastest round) / median. */
  readonly spread: number;
}

/** One pass over a batch: returns the checksum; a rejected message (throw or false) adds 1. */
type Pass = (read: Adapter['read'], batch: readonly Uint8Array[], out: Fields, fold: (f: Fields) => number) => number;

// Compiled anew for every task so that V8's inline caches in the loop see one
// parser only (a shared loop would turn megamorphic and tax later parsers).
const passSource = `
  let sum = 0;
  for (let i = 0; i < batch.length; i++) {
    try {
      sum = (sum + (read(batch[i], out) ? fold(out) : 1)) | 0;
    } catch {
      sum = (sum + 1) | 0;
    }
  }
  return sum;
`;

/** Smallest batch between two clock reads, so reading the clock costs little. */
const minBatch = 64;

export class Task {
  readonly adapter: Adapter;
  readonly batch: readonly Uint8Array[];
  readonly batchBytes: number;
  readonly rates: Rate[] = [];
  /** Checksum of one pass, the same every pass (checked). */
  checksum: number | undefined = undefined;
  private readonly pass: Pass;
  private readonly out = new Fields();

  constructor(adapter: Adapter, messages: readonly Uint8Array[]) {
    if (messages.length === 0) throw new Error('no messages to time');
    this.adapter = adapter;
    const batch: Uint8Array[] = [];
    while (batch.length < minBatch) batch.push(...messages);
    this.batch = batch;
    this.batchBytes = batch.reduce((n, b) => n + b.byteLength, 0);
    this.pass = new Function('read', 'batch', 'out', 'fold', passSource) as Pass;
  }

  /** Runs passes for at least `ms` milliseconds; returns messages, bytes and elapsed ns. */
  private run(ms: number): { passes: number; ns: bigint } {
    const read = this.adapter.read.bind(this.adapter);
    const budget = BigInt(Math.round(ms * 1e6));
    const start = process.hrtime.bigint();
    let now = start;
    let passes = 0;
    let sum = 0;
    do {
      sum = this.pass(read, this.batch, this.out, fold);
      passes++;
      now = process.hrtime.bigint();
    } while (now - start < budget);
    if (this.checksum === undefined) this.checksum = sum;
    else if (this.checksum !== sum) throw new Error(`${this.adapter.name}: checksum changed between passes`);
    return { passes, ns: now - start };
  }

  warmUp(ms: number): void {
    this.run(ms);
  }

  round(ms: number): void {
    const { passes, ns } = this.run(ms);
    const seconds = Number(ns) / 1e9;
    this.rates.push({
      msgsPerSec: (passes * this.batch.length) / seconds,
      mbPerSec: (passes * this.batchBytes) / 1e6 / seconds,
    });
  }

  /** (slowest - fastest round) / median, by messages per second: how far to trust the figure. */
  spread(): number {
    const speeds = this.rates.map((r) => r.msgsPerSec);
    return (Math.max(...speeds) - Math.min(...speeds)) / this.median().msgsPerSec;
  }

  /** The median round (by messages per second). */
  median(): Rate {
    const sorted = [...this.rates].sort((a, b) => a.msgsPerSec - b.msgsPerSec);
    const mid = sorted[Math.floor(sorted.length / 2)];
    if (mid === undefined) throw new Error(`${this.adapter.name}: no timed round`);
    return mid;
  }
}

/** Warms up every task, then runs the rounds interleaved; `progress` gets a line per round. */
export function measure(tasks: readonly Task[], timing: Timing, progress: (line: string) => void): void {
  for (const task of tasks) task.warmUp(timing.warmupMs);
  for (let r = 1; r <= timing.rounds; r++) {
    for (const task of tasks) task.round(timing.roundMs);
    progress(`round ${r}/${timing.rounds}`);
  }
}
