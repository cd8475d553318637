/**
 * Fuzz worker: runs its share of a campaign (every `step`-th iteration from
 * `start`) in windows, posting each window's stats, and keeps a heartbeat in
 * shared memory so that the parent's watchdog can see a case that never ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCampaign, type CampaignStats } from './campaign.ts';

export interface WorkerInput {
  seed: number;
  start: number;
  end: number;
  step: number;
  skip: number[];
  /** Cases per posted window. */
  window: number;
  hangMs: number;
  /** Int32Array view: [current iteration, 1 while a case runs]. */
  heartbeat: SharedArrayBuffer;
  /** Float64Array view: [Date.now() when the current case started]. */
  startedAt: SharedArrayBuffer;
}

export type WorkerMessage = { type: 'window'; next: number; stats: CampaignStats } | { type: 'done' };

const input = workerData as WorkerInput;
const beat = new Int32Array(input.heartbeat);
const startedAt = new Float64Array(input.startedAt);
const skip = new Set(input.skip);
const span = input.window * input.step;

for (let from = input.start; from < input.end; from += span) {
  const to = Math.min(from + span, input.end);
  const stats = runCampaign({
    seed: input.seed,
    start: from,
    end: to,
    step: input.step,
    skip,
    hangMs: input.hangMs,
    onCase: (iteration) => {
      startedAt[0] = Date.now();
      Atomics.store(beat, 0, iteration);
      Atomics.store(beat, 1, 1);
    },
  });
  Atomics.store(beat, 1, 0);
  parentPort!.postMessage({ type: 'window', next: to, stats } satisfies WorkerMessage);
}
parentPort!.postMessage({ type: 'done' } satisfies WorkerMessage);
