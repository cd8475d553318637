/**
 * Parser fuzzer CLI (npm run fuzz -- ...).
 *
 *   --iterations N   cases to run (default 100000)
 *   --seed S         run seed, a 32-bit integer (default 1); "clock" picks one from the time and prints it
 *   --start I        first iteration (default 0)
 *   --workers N      worker threads (default: CPU count, at most 4)
 *   --hang-ms N      a case slower than this (in each of 3 runs) is a hang (default 200)
 *   --crashes-only   exit non-zero only for crashes and hangs, not round-trip/framing/limit findings
 *   --case I         run iteration I of the seed alone and print everything about it
 *   --replay FILE    run one saved input (test/fuzz/crashes/<seed>-<iteration>.bin) and print everything
 *   --minimize       with --case or --replay: shrink the input while the same problem shows
 *
 * Every case is a pure function of (seed, iteration): a report names both, and
 * `--seed S --case I` regenerates it. Reports are written to
 * test/fuzz/crashes/<seed>-<iteration>.bin (the input) and .txt (what
 * happened), at most 3 per distinct problem (signature).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { chunkSeedOf, crashCount, DEFAULT_HANG_MS, emptyStats, makeCase, mergeStats, type CampaignStats, type Report } from './campaign.ts';
import { loadCorpus } from './corpus.ts';
import { fuzzOne, type Finding } from './fuzz-one.ts';
import { minimize } from './minimize.ts';
import { Rng } from './mutate.ts';
import type { WorkerInput, WorkerMessage } from './worker.ts';

const CRASH_DIR = fileURLToPath(new URL('./crashes/', import.meta.url));
/** A case still running after this long is killed and reported as a hang (an endless loop never returns to be timed). */
const WATCHDOG_MS = 20_000;
const WINDOW = 2000;
const MAX_REPORT_FILES = 100;

interface Args {
  iterations: number;
  seed: number;
  start: number;
  workers: number;
  hangMs: number;
  crashesOnly: boolean;
  caseIteration: number | undefined;
  replay: string | undefined;
  minimize: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    iterations: 100_000,
    seed: 1,
    start: 0,
    workers: Math.max(1, Math.min(4, availableParallelism())),
    hangMs: DEFAULT_HANG_MS,
    crashesOnly: false,
    caseIteration: undefined,
    replay: undefined,
    minimize: false,
  };
  const integer = (flag: string, value: string | undefined, min = 0): number => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < min) usage(`${flag} needs an integer >= ${min}`);
    return n;
  };
  for (let k = 0; k < argv.length; k++) {
    const flag = argv[k]!;
    const value = argv[k + 1];
    switch (flag) {
      case '--iterations': args.iterations = integer(flag, value); k++; break;
      case '--seed': args.seed = value === 'clock' ? Date.now() >>> 0 : integer(flag, value) >>> 0; k++; break;
      case '--start': args.start = integer(flag, value); k++; break;
      case '--workers': args.workers = integer(flag, value, 1); k++; break;
      case '--hang-ms': args.hangMs = integer(flag, value, 1); k++; break;
      case '--case': args.caseIteration = integer(flag, value); k++; break;
      case '--replay': if (value === undefined) usage('--replay needs a file'); args.replay = value; k++; break;
      case '--crashes-only': args.crashesOnly = true; break;
      case '--minimize': args.minimize = true; break;
      case '--help': case '-h': usage(); break;
      default: usage(`unknown argument ${flag}`);
    }
  }
  return args;
}

function usage(error?: string): never {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*?|^ \* ?/gm, '');
  if (error) console.error(`run-fuzz: ${error}\n`);
  console.error(text.trim());
  process.exit(error ? 2 : 0);
}

// ---------------------------------------------------------------- one case

function runSingle(args: Args): number {
  let input: Uint8Array;
  let chunkSeed: number;
  let probe = true;
  let label: string;
  if (args.replay !== undefined) {
    input = new Uint8Array(readFileSync(args.replay));
    const named = /^(\d+)-(\d+)\.bin$/.exec(basename(args.replay));
    chunkSeed = named ? chunkSeedOf(Number(named[1]) >>> 0, Number(named[2])) : 0;
    label = args.replay;
  } else {
    const c = makeCase(args.seed, args.caseIteration!);
    input = c.mutation.bytes;
    chunkSeed = c.chunkSeed;
    probe = c.probe;
    label = `seed ${args.seed} iteration ${args.caseIteration} (${loadCorpus()[c.mutation.base]!.name} + ${c.mutation.ops.join(', ')})`;
  }
  const run = (bytes: Uint8Array) => fuzzOne(bytes, new Rng(chunkSeed), { probeFramer: probe });
  const result = run(input);
  console.log(`case: ${label}`);
  console.log(`input: ${input.length} bytes, ${result.ms.toFixed(2)} ms, datagram parse ${result.accepted ? 'accepted' : 'rejected'}`);
  console.log(`phases (ms): ${Object.entries(result.phases).map(([name, ms]) => `${name} ${ms.toFixed(2)}`).join(', ')}`);
  printInput(input);
  for (const finding of result.findings) console.log(`\n[${finding.kind}] ${finding.stage}\n${finding.stack}`);
  const slow = result.ms > args.hangMs;
  if (result.findings.length === 0 && !slow) console.log('\nno findings');
  if (slow) console.log(`\n[hang?] ${result.ms.toFixed(1)} ms > ${args.hangMs} ms`);
  if (args.minimize && (result.findings.length > 0 || slow)) {
    const target = result.findings[0];
    const reproduces = (bytes: Uint8Array) => {
      const r = run(bytes);
      return target === undefined ? r.ms > args.hangMs : r.findings.some((f: Finding) => f.signature === target.signature);
    };
    const small = minimize(input, reproduces);
    console.log(`\nminimized to ${small.length} bytes${target ? ` (${target.signature})` : ''}:`);
    printInput(small);
  }
  return result.findings.length > 0 || slow ? 1 : 0;
}

function printInput(bytes: Uint8Array): void {
  const shown = bytes.length <= 2048;
  if (shown) console.log(`hex: ${Buffer.from(bytes).toString('hex')}`);
  console.log(`base64: ${shown ? Buffer.from(bytes).toString('base64') : `(${bytes.length} bytes: see the .bin file or re-run with --case)`}`);
  if (shown) console.log(`text: ${JSON.stringify(new TextDecoder('latin1').decode(bytes))}`);
}

// ---------------------------------------------------------------- campaign

interface Slot {
  index: number;
  worker: Worker | undefined;
  next: number;
  skip: Set<number>;
  beat: Int32Array;
  startedAt: Float64Array;
  done: boolean;
}

function runCampaignInWorkers(args: Args): Promise<CampaignStats> {
  const end = args.start + args.iterations;
  const total = emptyStats();
  const workers = Math.min(args.workers, Math.max(1, args.iterations));
  const t0 = performance.now();
  let lastPrint = 0;
  return new Promise((resolve) => {
    const slots: Slot[] = [];
    const finish = () => {
      if (!slots.every((s) => s.done)) return;
      clearInterval(watchdog);
      total.elapsedMs = performance.now() - t0;
      resolve(total);
    };
    const start = (slot: Slot) => {
      const data: WorkerInput = {
        seed: args.seed,
        start: slot.next,
        end,
        step: workers,
        skip: [...slot.skip],
        window: WINDOW,
        hangMs: args.hangMs,
        heartbeat: slot.beat.buffer as SharedArrayBuffer,
        startedAt: slot.startedAt.buffer as SharedArrayBuffer,
      };
      const worker = new Worker(new URL('./worker-bootstrap.mjs', import.meta.url), { workerData: data });
      slot.worker = worker;
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'done') {
          slot.done = true;
          void worker.terminate();
          finish();
          return;
        }
        slot.next = message.next;
        mergeStats(total, message.stats);
        const now = performance.now();
        if (now - lastPrint > 5000 || total.cases === args.iterations) {
          lastPrint = now;
          printProgress(total, args.iterations, now - t0);
        }
      });
      worker.on('error', (error: unknown) => lostWorker(slot, worker, 'crash', `worker died: ${error instanceof Error ? error.stack : String(error)}`));
      worker.on('exit', (code) => {
        if (!slot.done && slot.worker === worker) lostWorker(slot, worker, 'crash', `worker exited with code ${code} (out of memory?)`);
      });
    };
    /** The case in the heartbeat killed or stalled its worker: report it, skip it, restart from the last window. */
    const lostWorker = (slot: Slot, worker: Worker, kind: 'crash' | 'hang', message: string) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      void worker.terminate();
      const iteration = Atomics.load(slot.beat, 0);
      const c = makeCase(args.seed, iteration);
      const report: Report = {
        kind, stage: 'worker', message, stack: message, signature: `${kind}|worker|${message.slice(0, 40)}`,
        seed: args.seed, iteration, base: loadCorpus()[c.mutation.base]!.name, ops: c.mutation.ops, input: c.mutation.bytes, ms: Date.now() - slot.startedAt[0]!,
      };
      const one = emptyStats();
      one.byKind[kind] = 1;
      one.bySignature[report.signature] = 1;
      one.reports.push(report);
      // Cases of the unfinished window are re-run by the new worker, so only the lost case is counted here.
      one.cases = 1;
      mergeStats(total, one);
      slot.skip.add(iteration);
      console.log(`  ${kind}: iteration ${iteration}: ${message}`);
      start(slot);
    };
    const watchdog = setInterval(() => {
      for (const slot of slots) {
        if (slot.done || slot.worker === undefined || Atomics.load(slot.beat, 1) !== 1) continue;
        const ms = Date.now() - slot.startedAt[0]!;
        if (ms > WATCHDOG_MS) lostWorker(slot, slot.worker, 'hang', `case still running after ${ms} ms: killed by the watchdog`);
      }
    }, 500);
    for (let k = 0; k < workers; k++) {
      const slot: Slot = {
        index: k,
        worker: undefined,
        next: args.start + k,
        skip: new Set(),
        beat: new Int32Array(new SharedArrayBuffer(8)),
        startedAt: new Float64Array(new SharedArrayBuffer(8)),
        done: args.start + k >= end,
      };
      slots.push(slot);
      if (!slot.done) start(slot);
    }
    finish();
  });
}

function printProgress(stats: CampaignStats, iterations: number, ms: number): void {
  const findings = Object.values(stats.byKind).reduce((a, b) => a + b, 0);
  const rate = stats.cases / (ms / 1000);
  console.log(
    `  ${String(stats.cases).padStart(9)} / ${iterations} cases (${((stats.cases / iterations) * 100).toFixed(0)}%)  ` +
      `${rate.toFixed(0)} cases/s  findings ${findings}  slowest ${stats.slowestMs.toFixed(1)} ms`,
  );
}

function writeReports(stats: CampaignStats): string[] {
  if (stats.reports.length === 0) return [];
  mkdirSync(CRASH_DIR, { recursive: true });
  const written: string[] = [];
  for (const report of stats.reports.slice(0, MAX_REPORT_FILES)) {
    const name = `${report.seed}-${report.iteration}`;
    writeFileSync(join(CRASH_DIR, `${name}.bin`), report.input);
    const small = report.input.length <= 4096;
    writeFileSync(
      join(CRASH_DIR, `${name}.txt`),
      [
        `kind: ${report.kind}`,
        `stage: ${report.stage}`,
        `seed: ${report.seed}`,
        `iteration: ${report.iteration}`,
        `corpus: ${report.base}`,
        `mutators: ${report.ops.join(', ')}`,
        `bytes: ${report.input.length}`,
        `ms: ${report.ms.toFixed(1)}`,
        `reproduce: npm run fuzz -- --seed ${report.seed} --case ${report.iteration} [--minimize]`,
        `signature: ${report.signature}`,
        '',
        report.stack,
        '',
        `base64: ${Buffer.from(report.input).toString('base64')}`,
        small ? `hex: ${Buffer.from(report.input).toString('hex')}` : '',
      ].join('\n'),
    );
    written.push(`${name}.bin`);
  }
  return written;
}

function printSummary(args: Args, stats: CampaignStats): number {
  const crashes = crashCount(stats);
  const other = stats.byKind.roundtrip + stats.byKind.framing + stats.byKind.limit;
  const seconds = stats.elapsedMs / 1000;
  console.log('');
  console.log(`seed              ${args.seed} (iterations ${args.start}..${args.start + args.iterations - 1})`);
  console.log(`total cases       ${stats.cases}`);
  console.log(`accepted          ${stats.accepted} (${((stats.accepted / Math.max(1, stats.cases)) * 100).toFixed(1)}% parsed as datagrams)`);
  console.log(`crashes           ${crashes} (exceptions ${stats.byKind.crash}, masked by the parser's safety net ${stats.byKind.masked})`);
  console.log(`hangs             ${stats.byKind.hang} (slow once, fine when re-timed: ${stats.spikes})`);
  console.log(`other findings    ${other} (round-trip ${stats.byKind.roundtrip}, framing ${stats.byKind.framing}, framer limit ${stats.byKind.limit})`);
  console.log(`slowest case      ${stats.slowestMs.toFixed(1)} ms (iteration ${stats.slowestIteration}, ${stats.slowestBytes} bytes)`);
  console.log(`time              ${seconds.toFixed(1)} s`);
  console.log(`cases/s           ${(stats.cases / seconds).toFixed(0)}`);
  const signatures = Object.entries(stats.bySignature).sort((a, b) => b[1] - a[1]);
  if (signatures.length > 0) {
    console.log('\ndistinct problems (cases, signature):');
    for (const [signature, count] of signatures) console.log(`  ${String(count).padStart(7)}  ${signature}`);
    const seen = new Set<string>();
    console.log('\nfirst case of each:');
    for (const report of stats.reports) {
      if (seen.has(report.signature)) continue;
      seen.add(report.signature);
      console.log(`  [${report.kind}] seed ${report.seed} iteration ${report.iteration} (${report.base} + ${report.ops.join(', ')}), ${report.input.length} bytes`);
      console.log(`      ${report.message.split('\n')[0]!.slice(0, 200)}`);
      if (report.input.length <= 256) console.log(`      base64 ${Buffer.from(report.input).toString('base64')}`);
    }
    const files = writeReports(stats);
    console.log(`\n${files.length} report(s) written to ${CRASH_DIR} (<seed>-<iteration>.bin + .txt)`);
  }
  const failing = crashes + stats.byKind.hang + (args.crashesOnly ? 0 : other);
  return failing > 0 ? 1 : 0;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.caseIteration !== undefined || args.replay !== undefined) {
    process.exitCode = runSingle(args);
    return;
  }
  console.log(`fuzz: seed ${args.seed}, ${args.iterations} cases from iteration ${args.start}, ${args.workers} worker(s), corpus ${loadCorpus().length} messages, hang > ${args.hangMs} ms`);
  const stats = await runCampaignInWorkers(args);
  process.exitCode = printSummary(args, stats);
}

await main();
