/**
 * The stack part of `npm run bench`: SIP throughput on loopback UDP with
 * SIPp on one side (SIPp: Debian package sip-tester), and memory per live
 * transaction. bench/stack/README.md has the rules; in short:
 *
 * Flows: `options` (one OPTIONS -> 200 transaction per call) and `call`
 * (INVITE -> 200 with SDP -> ACK -> BYE -> 200: two client transactions per
 * call), each measured three ways in the same run:
 * - SIPp -> SIPp, the reference: SIPp's UAC (test/interop/sipp/load-uac-*.xml)
 *   against SIPp's UAS (load-uas-*.xml);
 * - ours -> SIPp: our client (TransactionLayer over SipTransportLayer, the
 *   interop harness's Stack as TU) against the same SIPp UAS;
 * - SIPp -> ours: the same SIPp UAC against our server (the Stack's UAS).
 * Every run is closed-loop: at most `concurrency` calls open at once, a new
 * one as soon as one ends (SIPp: `-r` far above what it can do, `-l`
 * concurrency), so the rate is the most the pair sustains. The rate is the
 * number of successful calls in the measuring window (after a warm-up)
 * divided by its length: SIPp's UAC -trace_stat rows (one a second) where
 * SIPp is the client, our own count where we are. RFC 3261 timers
 * (T1 = 500 ms): what a retransmission or timeout costs is part of the
 * figure, and failures and retransmissions are reported.
 *
 * Each figure comes from a child process of its own (bench/stack/load.ts),
 * which starts and stops its SIPp processes, so that every run starts from a
 * fresh heap and JIT like the SIPp processes it is compared with. Memory:
 * bench/stack/memory.ts in a child process with --expose-gc.
 *
 * Every figure is the best of BENCH_STACK_ROUNDS rounds, interleaved.
 *
 * Knobs: BENCH_STACK_SECONDS (4, the measuring window), BENCH_STACK_WARMUP
 * (1 s), BENCH_STACK_ROUNDS (2), BENCH_STACK_CONCURRENCY (50),
 * BENCH_STACK_MEMORY_COUNT (10000).
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { commandExists } from '../../test/interop/harness/process.ts';
import { envNumber, formatTable, progress, type PartResult } from '../part.ts';
import type { Direction, Figure, Flow, LoadSettings } from './load.ts';

interface Settings extends LoadSettings {
  readonly rounds: number;
  readonly memoryCount: number;
}

const HOST = '127.0.0.1';
const LABEL: Record<Direction, string> = { sippToSipp: 'SIPp -> SIPp', oursToSipp: 'ours -> SIPp', sippToOurs: 'SIPp -> ours' };
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
/** tsx's loader, resolved from here, so the children work whatever the working directory. */
const TSX = import.meta.resolve('tsx');
const round = (value: number, digits = 0): number => Number(value.toFixed(digits));

/** Runs `node --import tsx SCRIPT ARGS` and parses the last stdout line as JSON; progress passes through on stderr. */
function child<T>(script: string, args: readonly string[], nodeFlags: readonly string[], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeFlags, '--import', TSX, here(script), ...args], { cwd: here('../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    // The child stops its SIPp processes itself. A child that hangs gets
    // SIGTERM (it then stops its SIPp processes by PID and exits), SIGKILL 5 s later.
    let kill: ReturnType<typeof setTimeout> | undefined;
    const timer = setTimeout(() => {
      proc.kill('SIGTERM');
      kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
    }, timeoutMs);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(kill);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as T);
      else reject(new Error(`${script} ${args.join(' ')} failed (${code ?? signal}): ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

function measureLoad(direction: Direction, flow: Flow, settings: Settings): Promise<Figure> {
  const args = [direction, flow, String(settings.seconds), String(settings.warmup), String(settings.concurrency)];
  return child<Figure>('./load.ts', args, [], (settings.seconds + settings.warmup) * 1000 + 30_000);
}

interface MemoryFigure {
  readonly live: number;
  readonly timers: number;
  readonly heapBytes: number;
  readonly bufferBytes: number;
  readonly totalBytes: number;
}

interface Memory {
  readonly count: number;
  readonly gcExposed: boolean;
  readonly clientInvite: MemoryFigure;
  readonly clientNonInvite: MemoryFigure;
  readonly pendingSenders: number;
}

function measureMemory(settings: Settings): Promise<Memory> {
  return child<Memory>('./memory.ts', [String(settings.memoryCount)], ['--expose-gc'], 60_000);
}

function sippVersion(): string {
  const out = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  return /SIPp v[\w.\-]+/.exec(`${out.stdout}${out.stderr}`)?.[0]?.replace(/\.$/, '') ?? 'unknown';
}

const FLOWS: readonly Flow[] = ['options', 'call'];
const DIRECTIONS: readonly Direction[] = ['sippToSipp', 'oursToSipp', 'sippToOurs'];

/** The best round's figure, with every round's rate, and failures and retransmissions summed over the rounds. */
interface Measured extends Figure {
  readonly rounds: readonly number[];
}

export async function run(): Promise<PartResult> {
  const settings: Settings = {
    seconds: envNumber('BENCH_STACK_SECONDS', 4),
    warmup: envNumber('BENCH_STACK_WARMUP', 1),
    rounds: Math.round(envNumber('BENCH_STACK_ROUNDS', 2)),
    concurrency: Math.round(envNumber('BENCH_STACK_CONCURRENCY', 50)),
    memoryCount: Math.round(envNumber('BENCH_STACK_MEMORY_COUNT', 10_000)),
  };
  const started = performance.now();
  const sipp = commandExists('sipp') ? sippVersion() : null;
  const figures: Record<Flow, Partial<Record<Direction, Measured | { error: string }>>> = { options: {}, call: {} };
  if (sipp !== null) {
    const runs = new Map<string, Figure[]>();
    const errors = new Map<string, string>();
    // Rounds interleaved (all six, then all six again), so drift in the machine's speed spreads over all.
    for (let round = 1; round <= settings.rounds; round++) {
      for (const flow of FLOWS) {
        for (const direction of DIRECTIONS) {
          const key = `${flow} ${direction}`;
          if (errors.has(key)) continue;
          progress(`stack bench: round ${round}/${settings.rounds}: ${flow}: ${LABEL[direction]} (${settings.warmup} s warm-up + ${settings.seconds} s) ...`);
          try {
            const figure = await measureLoad(direction, flow, settings);
            runs.set(key, [...(runs.get(key) ?? []), figure]);
          } catch (error) {
            errors.set(key, error instanceof Error ? error.message.split('\n')[0]! : String(error));
            progress(`stack bench: ${flow}: ${LABEL[direction]} failed: ${String(error)}`);
          }
        }
      }
    }
    for (const flow of FLOWS) {
      for (const direction of DIRECTIONS) {
        const key = `${flow} ${direction}`;
        const list = runs.get(key) ?? [];
        const error = errors.get(key);
        if (error !== undefined || list.length === 0) {
          figures[flow][direction] = { error: error ?? 'not run' };
          continue;
        }
        const best = list.reduce((a, b) => (b.callsPerSec > a.callsPerSec ? b : a));
        figures[flow][direction] = {
          ...best,
          failed: list.reduce((n, figure) => n + figure.failed, 0),
          retransmissions: list.reduce((n, figure) => n + figure.retransmissions, 0),
          rounds: list.map((figure) => figure.callsPerSec),
        };
      }
    }
  } else {
    progress('stack bench: sipp not found (Debian package sip-tester): throughput not measured');
  }
  progress(`stack bench: memory per live transaction (${settings.memoryCount} of each kind) ...`);
  let memory: Memory | { error: string };
  try {
    memory = await measureMemory(settings);
  } catch (error) {
    memory = { error: error instanceof Error ? error.message : String(error) };
  }
  const elapsed = (performance.now() - started) / 1000;
  print(settings, sipp, figures, memory, elapsed);
  return summary(settings, sipp, figures, memory, elapsed);
}

const isFigure = (value: Measured | { error: string } | undefined): value is Measured => value !== undefined && 'callsPerSec' in value;

function ratio(figures: Partial<Record<Direction, Measured | { error: string }>>, direction: Direction): number | null {
  const reference = figures.sippToSipp;
  const ours = figures[direction];
  if (!isFigure(reference) || !isFigure(ours) || reference.callsPerSec === 0) return null;
  return ours.callsPerSec / reference.callsPerSec;
}

function print(
  settings: Settings,
  sipp: string | null,
  figures: Record<Flow, Partial<Record<Direction, Measured | { error: string }>>>,
  memory: Memory | { error: string },
  elapsed: number,
): void {
  const lines: string[] = [];
  lines.push(`Stack benchmark: node ${process.version}, ${sipp ?? 'SIPp not installed'}, UDP on ${HOST}, RFC 3261 timers (T1 = 500 ms)`);
  lines.push(
    `Closed loop, at most ${settings.concurrency} calls open; rate = successful calls in ${settings.seconds} s after ${settings.warmup} s warm-up;`,
  );
  lines.push(`best of ${settings.rounds} interleaved rounds, each run in fresh processes (rounds: calls/s of each).`);
  lines.push('options: OPTIONS -> 200 (1 transaction per call); call: INVITE -> 200 -> ACK -> BYE -> 200 (2 transactions per call).');
  lines.push('failed: calls that failed, retrans: retransmissions the SIPp side counted (a sign of overload), over all rounds.');
  lines.push('');
  if (sipp !== null) {
    const rows: string[][] = [['flow', 'direction', 'calls/s', 'transactions/s', 'failed', 'retrans', 'vs SIPp -> SIPp', 'rounds']];
    for (const flow of FLOWS) {
      for (const direction of DIRECTIONS) {
        const figure = figures[flow][direction];
        if (!isFigure(figure)) {
          rows.push([flow, LABEL[direction], `error: ${figure?.error ?? 'not run'}`, '', '', '', '', '']);
          continue;
        }
        const r = direction === 'sippToSipp' ? 1 : ratio(figures[flow], direction);
        rows.push([
          flow,
          LABEL[direction],
          Math.round(figure.callsPerSec).toLocaleString('en-US'),
          Math.round(figure.transactionsPerSec).toLocaleString('en-US'),
          String(figure.failed),
          String(figure.retransmissions),
          r === null ? '' : `${r.toFixed(2)}x`,
          figure.rounds.map((rate) => Math.round(rate).toLocaleString('en-US')).join(' / '),
        ]);
      }
    }
    lines.push(formatTable(rows, [2, 3, 4, 5, 6]));
  } else {
    lines.push('Throughput: not measured (sipp not installed: Debian package sip-tester).');
  }
  lines.push('');
  if ('error' in memory) {
    lines.push(`Memory per live transaction: not measured: ${memory.error}`);
  } else {
    lines.push(
      `Memory per live client transaction (${memory.count} live at once, UDP, T1 = 60 s so nothing fires; ` +
        `${memory.gcExposed ? 'after a full GC' : 'no --expose-gc: after settling'}):`,
    );
    const rows: string[][] = [['kind', 'V8 heap B', 'buffers B', 'total B']];
    for (const [name, figure] of [['INVITE (with SDP)', memory.clientInvite], ['OPTIONS', memory.clientNonInvite]] as const) {
      rows.push([name, figure.heapBytes.toLocaleString('en-US'), figure.bufferBytes.toLocaleString('en-US'), figure.totalBytes.toLocaleString('en-US')]);
    }
    lines.push(formatTable(rows, [1, 2, 3]).replace(/^/gm, '  '));
  }
  lines.push(`(stack part: ${elapsed.toFixed(0)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function summary(
  settings: Settings,
  sipp: string | null,
  figures: Record<Flow, Partial<Record<Direction, Measured | { error: string }>>>,
  memory: Memory | { error: string },
  elapsed: number,
): PartResult {
  const flows: Record<string, unknown> = {};
  for (const flow of FLOWS) {
    const entry: Record<string, unknown> = {};
    for (const direction of DIRECTIONS) {
      const figure = figures[flow][direction];
      entry[direction] = isFigure(figure)
        ? {
            callsPerSec: round(figure.callsPerSec),
            transactionsPerSec: round(figure.transactionsPerSec),
            windowSec: round(figure.windowSec, 2),
            failed: figure.failed,
            retransmissions: figure.retransmissions,
            rounds: figure.rounds.map((rate) => round(rate)),
          }
        : (figure ?? null);
    }
    const client = ratio(figures[flow], 'oursToSipp');
    const server = ratio(figures[flow], 'sippToOurs');
    entry['ratioOursToSipp'] = client === null ? null : round(client, 3);
    entry['ratioSippToOurs'] = server === null ? null : round(server, 3);
    flows[flow] = entry;
  }
  return {
    bench: 'stack',
    node: process.version,
    sipp,
    transport: 'udp',
    concurrency: settings.concurrency,
    windowSec: settings.seconds,
    warmupSec: settings.warmup,
    rounds: settings.rounds,
    ...(sipp === null ? { error: 'sipp not installed (Debian package sip-tester)' } : {}),
    options: flows['options'],
    call: flows['call'],
    memory:
      'error' in memory
        ? memory
        : {
            count: memory.count,
            gcExposed: memory.gcExposed,
            clientInviteBytes: memory.clientInvite.totalBytes,
            clientInviteHeapBytes: memory.clientInvite.heapBytes,
            clientNonInviteBytes: memory.clientNonInvite.totalBytes,
            clientNonInviteHeapBytes: memory.clientNonInvite.heapBytes,
          },
    elapsedSec: round(elapsed, 1),
  };
}
