/**
 * The calls part of `npm run bench` (issue 11): calls/s of whole calls
 * (INVITE, 100, 180, 200, ACK, BYE, 200) with our dialog layer on one side
 * and SIPp on the other, next to SIPp -> SIPp in the same run, directly on
 * loopback UDP and through one Kamailio site; and the heap per established
 * idle dialog with 10,000 concurrent calls in one process.
 * bench/calls/README.md has the rules; in short:
 *
 * - Directions: SIPp -> SIPp (the reference: sipp-uac.xml against
 *   sipp-uas.xml), ours -> SIPp (our DialogLayer calling the same SIPp
 *   callee), SIPp -> ours (the same SIPp caller against our DialogLayer
 *   answering with 100, 180, 200), and directly only SIPp -> bare Node
 *   (bare-responder.ts: a UDP responder with no SIP stack, Node's ceiling
 *   on the machine). Paths: direct, and through a Kamailio
 *   site (harness/kamailio.ts, stock routing, record-routing) where the
 *   callee is registered; the site is restarted before each run through it.
 * - Each run is a child process (load.ts) with fresh heaps and JIT like the
 *   SIPp processes; closed loop at BENCH_CALLS_CONCURRENCY calls open; rate =
 *   successful calls in the window after the warm-up. BENCH_CALLS_ROUNDS
 *   rounds, interleaved (every path and direction, then again); each
 *   figure is the best round, the median is shown too; ratios are ours /
 *   SIPp -> SIPp on the same path, best against best.
 * - Targets: >= 1x SIPp -> SIPp directly, >= 0.9x through the site, 0
 *   failed calls, < 4 KiB heap per established idle dialog (memory.ts).
 *
 * Knobs: BENCH_CALLS_SECONDS (5), BENCH_CALLS_WARMUP (2), BENCH_CALLS_ROUNDS
 * (3), BENCH_CALLS_CONCURRENCY (50), BENCH_CALLS_CHILDREN (Kamailio UDP
 * workers, 4), BENCH_CALLS_MEMORY_COUNT (10000), BENCH_CALLS_MEMORY_T1 (100).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { kamailioMissing, startSite, type KamailioSite } from '../../test/interop/harness/kamailio.ts';
import { commandExists } from '../../test/interop/harness/process.ts';
import { envNumber, formatTable, progress, type PartResult } from '../part.ts';
import type { Direction, Figure, Path } from './load.ts';

interface Settings {
  readonly seconds: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly concurrency: number;
  readonly children: number;
  readonly memoryCount: number;
  readonly memoryT1: number;
}

interface MemoryRole {
  readonly heapBytes: number;
  readonly arrayBufferBytes: number;
  readonly rssBytes: number;
}

interface Memory {
  readonly count: number;
  readonly dialogs: number;
  readonly T1: number;
  readonly gcExposed: boolean;
  readonly setupMs: number;
  readonly perDialog: MemoryRole;
  readonly caller: MemoryRole;
  readonly callee: MemoryRole;
}

type Outcome<T> = T | { readonly error: string };
function isError<T extends object>(value: Outcome<T>): value is { readonly error: string } {
  return 'error' in value;
}

const HOST = '127.0.0.1';
/** Kamailio's shared memory: 35,000 transactions in its 5 s wait at 3,500 calls/s take 520 MB (README). */
const SHM_MB = 2048;
const DIRECTIONS: readonly Direction[] = ['sippToSipp', 'oursToSipp', 'sippToOurs', 'sippToBare'];
/** The bare responder cannot register at a site: it is measured directly only. */
const measuredOn = (path: Path, direction: Direction): boolean => path === 'direct' || direction !== 'sippToBare';
const PATHS: readonly Path[] = ['direct', 'site'];
const LABEL: Record<Direction, string> = { sippToSipp: 'SIPp -> SIPp', oursToSipp: 'ours -> SIPp', sippToOurs: 'SIPp -> ours', sippToBare: 'SIPp -> bare Node' };
const PATH_LABEL: Record<Path, string> = { direct: 'direct', site: 'through Kamailio' };
/** The targets of issue 11: ours / SIPp -> SIPp on the same path. */
const TARGET_RATIO: Record<Path, number> = { direct: 1, site: 0.9 };
const TARGET_DIALOG_BYTES = 4 * 1024;

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
/** tsx's loader, resolved from here, so the children work whatever the working directory. */
const TSX = import.meta.resolve('tsx');
const round = (value: number, digits = 0): number => Number(value.toFixed(digits));
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Runs `node [flags] --import tsx SCRIPT ARGS` and parses the last stdout line as JSON; stderr passes through on failure. */
function child<T>(script: string, args: readonly string[], nodeFlags: readonly string[], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeFlags, '--import', TSX, here(script), ...args], { cwd: here('../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    // The child stops its SIPp processes itself; one that hangs gets SIGTERM (it stops them by PID), SIGKILL 5 s later.
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
      else {
        const lines = err.trim().split('\n');
        const reason = lines.find((line) => /Error|bench:/.test(line)) ?? lines.slice(-3).join(' | ');
        reject(new Error(`${script} ${args.join(' ')} failed (${code ?? signal}): ${reason.trim()}`));
      }
    });
  });
}

function version(command: string, args: readonly string[], pattern: RegExp): string {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return pattern.exec(`${out.stdout ?? ''}${out.stderr ?? ''}`)?.[0]?.replace(/\.$/, '') ?? 'unknown';
}

/** Every round of one path and direction, the best one, the median. */
interface Measured {
  readonly runs: readonly Figure[];
  readonly errors: readonly string[];
  readonly best: Figure | undefined;
  readonly median: number | undefined;
  /** Failed calls over every round. */
  readonly failed: number;
  readonly retransmissions: number;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function measured(runs: readonly Figure[], errors: readonly string[]): Measured {
  const best = runs.reduce<Figure | undefined>((a, b) => (a === undefined || b.callsPerSec > a.callsPerSec ? b : a), undefined);
  return {
    runs,
    errors,
    best,
    median: median(runs.map((run) => run.callsPerSec)),
    failed: runs.reduce((n, run) => n + run.failed, 0),
    retransmissions: runs.reduce((n, run) => n + run.retransmissions, 0),
  };
}

type Table = Record<Path, Record<Direction, Measured>>;

function ratios(table: Table, path: Path, direction: Direction): { best: number | undefined; median: number | undefined } {
  const reference = table[path].sippToSipp;
  const ours = table[path][direction];
  return {
    best: reference.best !== undefined && ours.best !== undefined && reference.best.callsPerSec > 0 ? ours.best.callsPerSec / reference.best.callsPerSec : undefined,
    median: reference.median !== undefined && ours.median !== undefined && reference.median > 0 ? ours.median / reference.median : undefined,
  };
}

export async function run(): Promise<PartResult> {
  const settings: Settings = {
    seconds: envNumber('BENCH_CALLS_SECONDS', 5),
    warmup: envNumber('BENCH_CALLS_WARMUP', 2),
    rounds: Math.round(envNumber('BENCH_CALLS_ROUNDS', 3)),
    concurrency: Math.round(envNumber('BENCH_CALLS_CONCURRENCY', 50)),
    children: Math.round(envNumber('BENCH_CALLS_CHILDREN', 4)),
    memoryCount: Math.round(envNumber('BENCH_CALLS_MEMORY_COUNT', 10_000)),
    memoryT1: envNumber('BENCH_CALLS_MEMORY_T1', 100),
  };
  const started = performance.now();
  const sipp = commandExists('sipp') ? version('sipp', ['-v'], /SIPp v[\w.\-]+/) : null;
  const kamailioProblem = kamailioMissing();
  const kamailio = kamailioProblem === undefined ? version('kamailio', ['-v'], /kamailio \d[\w.\-]*/) : null;
  const runs = new Map<string, Figure[]>();
  const errors = new Map<string, string[]>();
  const key = (path: Path, direction: Direction): string => `${path} ${direction}`;
  let site: KamailioSite | undefined;
  let users = 0;
  if (sipp !== null) {
    try {
      if (kamailioProblem === undefined) {
        progress(`calls bench: starting a Kamailio site on ${HOST} (${settings.children} UDP workers, ${SHM_MB} MB shm) ...`);
        site = await startSite({ name: 'bench-calls', address: HOST, children: settings.children, shmMb: SHM_MB });
      } else {
        progress(`calls bench: no Kamailio (${kamailioProblem}): the site path is not measured`);
      }
      // Rounds interleaved (every path and direction, then again), so drift in the machine's speed spreads over all.
      for (let r = 1; r <= settings.rounds; r++) {
        for (const path of PATHS) {
          for (const direction of DIRECTIONS) {
            if (!measuredOn(path, direction)) continue;
            const k = key(path, direction);
            if (path === 'site' && site === undefined) {
              errors.set(k, [`no Kamailio: ${kamailioProblem ?? 'not started'}`]);
              continue;
            }
            progress(`calls bench: round ${r}/${settings.rounds}: ${PATH_LABEL[path]}: ${LABEL[direction]} (${settings.warmup} s warm-up + ${settings.seconds} s) ...`);
            try {
              const args = [direction, path, String(settings.seconds), String(settings.warmup), String(settings.concurrency)];
              if (path === 'site') {
                // A fresh site (no transaction or binding left from the run before); the callee registers as a user of its own.
                await site!.restart();
                args.push(String(site!.ports.udp), `u${String(users++).padStart(5, '0')}`);
              }
              const figure = await child<Figure>('./load.ts', args, [], (settings.seconds + settings.warmup) * 1000 + 40_000);
              runs.set(k, [...(runs.get(k) ?? []), figure]);
              progress(`calls bench:   ${int(figure.callsPerSec)} calls/s, ${figure.failed} failed, ${figure.retransmissions} retransmissions, CPU ms/s ${JSON.stringify(figure.cpu)}`);
            } catch (error) {
              const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
              errors.set(k, [...(errors.get(k) ?? []), message]);
              progress(`calls bench: ${PATH_LABEL[path]}: ${LABEL[direction]} failed: ${message}`);
            }
          }
        }
      }
    } finally {
      await site?.dispose();
    }
  } else {
    progress('calls bench: sipp not found (Debian package sip-tester): calls/s not measured');
  }
  const table = Object.fromEntries(
    PATHS.map((path) => [path, Object.fromEntries(DIRECTIONS.map((direction) => [direction, measured(runs.get(key(path, direction)) ?? [], errors.get(key(path, direction)) ?? [])]))]),
  ) as Table;

  progress(`calls bench: memory per established idle dialog (${settings.memoryCount.toLocaleString('en-US')} calls in one process, T1 = ${settings.memoryT1} ms) ...`);
  let memory: Outcome<Memory>;
  try {
    memory = await child<Memory>('./memory.ts', [String(settings.memoryCount), String(settings.memoryT1)], ['--expose-gc'], 64 * settings.memoryT1 + 180_000);
  } catch (error) {
    memory = { error: error instanceof Error ? error.message : String(error) };
  }
  const elapsed = (performance.now() - started) / 1000;
  const versions = { sipp, kamailio };
  print(settings, versions, table, memory, elapsed);
  return summary(settings, versions, table, memory, elapsed);
}

interface Verdicts {
  readonly rate: Record<Path, boolean | null>;
  readonly noFailedCalls: boolean | null;
  readonly memory: boolean | null;
}

function verdicts(table: Table, memory: Outcome<Memory>): Verdicts {
  const rate = {} as Record<Path, boolean | null>;
  let anyRun = false;
  let failed = 0;
  for (const path of PATHS) {
    const pair = (['oursToSipp', 'sippToOurs'] as const).map((direction) => ratios(table, path, direction).best);
    rate[path] = table[path].sippToSipp.best === undefined ? null : pair.every((r) => r !== undefined && r >= TARGET_RATIO[path]);
    // The bare responder is a measure of the platform, not of our stack: its failures are shown, not judged.
    for (const direction of DIRECTIONS) {
      if (direction === 'sippToBare') continue;
      const m = table[path][direction];
      if (m.runs.length > 0) anyRun = true;
      failed += m.failed + m.errors.length;
    }
  }
  return {
    rate,
    noFailedCalls: anyRun ? failed === 0 : null,
    memory: isError(memory) ? null : memory.perDialog.heapBytes < TARGET_DIALOG_BYTES,
  };
}

const verdictText = (value: boolean | null): string => (value === null ? 'not measured' : value ? 'met' : 'NOT met');

function print(settings: Settings, versions: { sipp: string | null; kamailio: string | null }, table: Table, memory: Outcome<Memory>, elapsed: number): void {
  const lines: string[] = [];
  lines.push(
    `Calls benchmark: node ${process.version}, ${versions.sipp ?? 'SIPp not installed'}, ${versions.kamailio ?? 'no Kamailio'} ` +
      `(${settings.children} UDP workers), ${cpus().length} CPUs; UDP on ${HOST}, RFC 3261 timers (T1 = 500 ms).`,
  );
  lines.push('A call: INVITE (SDP) -> 100 -> 180 -> 200 (SDP) -> ACK -> BYE -> 200, no hold time. ours: DialogLayer + TransactionLayer + SipTransportLayer.');
  lines.push(
    `Closed loop, at most ${settings.concurrency} calls open; rate = successful calls in ${settings.seconds} s after ${settings.warmup} s warm-up, ` +
      `each run in fresh processes; ${settings.rounds} interleaved rounds; calls/s is the best round, all rounds listed.`,
  );
  lines.push('Through Kamailio: the stock-routed site (record-routes), restarted before each run, the callee registered there.');
  lines.push('ratio: ours / SIPp -> SIPp on the same path, best vs best (median vs median in brackets). failed, retrans: over all rounds.');
  lines.push('SIPp -> bare Node: SIPp against a UDP responder with no SIP stack (bare-responder.ts), directly: the most a Node process does here.');
  lines.push('CPU: ms of CPU per second of window (best round), per process; ours µs/call: our CPU per successful call.');
  lines.push('');
  const rows: string[][] = [['path', 'direction', 'calls/s', 'ratio', 'failed', 'retrans', 'CPU ms/s', 'ours µs/call', 'rounds']];
  for (const path of PATHS) {
    for (const direction of DIRECTIONS) {
      if (!measuredOn(path, direction)) continue;
      const m = table[path][direction];
      if (m.best === undefined) {
        rows.push([PATH_LABEL[path], LABEL[direction], `error: ${m.errors[0] ?? 'not run'}`, '', '', '', '', '', '']);
        continue;
      }
      const r = direction === 'sippToSipp' ? undefined : ratios(table, path, direction);
      rows.push([
        PATH_LABEL[path],
        LABEL[direction],
        int(m.best.callsPerSec),
        r === undefined ? '' : `${r.best?.toFixed(2) ?? '-'}x (${r.median?.toFixed(2) ?? '-'}x)`,
        String(m.failed + m.errors.length),
        String(m.retransmissions),
        Object.entries(m.best.cpu).map(([name, ms]) => `${name} ${ms}`).join(', '),
        m.best.oursCpuPerCallUs === undefined ? '' : int(m.best.oursCpuPerCallUs),
        [...m.runs.map((run) => int(run.callsPerSec)), ...m.errors.map(() => 'error')].join(' / '),
      ]);
    }
  }
  lines.push(formatTable(rows, [2, 4, 5, 7]));
  lines.push('');
  if (isError(memory)) {
    lines.push(`Memory per established idle dialog: not measured: ${memory.error}`);
  } else {
    lines.push(
      `Memory per established idle dialog: ${memory.count.toLocaleString('en-US')} calls up at once in one process (our caller and our callee, ` +
        `${memory.dialogs.toLocaleString('en-US')} dialogs), every transaction ended (T1 = ${memory.T1} ms), ${memory.gcExposed ? 'after full GCs' : 'no --expose-gc'}:`,
    );
    const memRows: string[][] = [['dialog', 'V8 heap B', 'array buffers B', 'rss B']];
    for (const [name, figure] of [['average', memory.perDialog], ['caller side', memory.caller], ['callee side', memory.callee]] as const) {
      memRows.push([name, int(figure.heapBytes), int(figure.arrayBufferBytes), int(figure.rssBytes)]);
    }
    lines.push(formatTable(memRows, [1, 2, 3]).replace(/^/gm, '  '));
  }
  const v = verdicts(table, memory);
  lines.push('');
  lines.push(
    `Targets: direct >= 1x: ${verdictText(v.rate.direct)}; through Kamailio >= 0.9x: ${verdictText(v.rate.site)}; ` +
      `0 failed calls: ${verdictText(v.noFailedCalls)}; < 4 KiB heap per idle dialog: ${verdictText(v.memory)}.`,
  );
  lines.push(`(calls part: ${elapsed.toFixed(0)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function summary(settings: Settings, versions: { sipp: string | null; kamailio: string | null }, table: Table, memory: Outcome<Memory>, elapsed: number): PartResult {
  const paths: Record<string, unknown> = {};
  for (const path of PATHS) {
    const entry: Record<string, unknown> = {};
    for (const direction of DIRECTIONS) {
      if (!measuredOn(path, direction)) continue;
      const m = table[path][direction];
      entry[direction] =
        m.best === undefined
          ? { error: m.errors[0] ?? 'not run' }
          : {
              callsPerSec: round(m.best.callsPerSec),
              medianCallsPerSec: m.median === undefined ? null : round(m.median),
              failed: m.failed + m.errors.length,
              retransmissions: m.retransmissions,
              cpuMsPerSec: m.best.cpu,
              oursCpuPerCallUs: m.best.oursCpuPerCallUs === undefined ? null : round(m.best.oursCpuPerCallUs),
              rounds: m.runs.map((run) => round(run.callsPerSec)),
              errors: m.errors,
            };
    }
    for (const direction of ['oursToSipp', 'sippToOurs', 'sippToBare'] as const) {
      if (!measuredOn(path, direction)) continue;
      const r = ratios(table, path, direction);
      entry[`ratio${direction[0]!.toUpperCase()}${direction.slice(1)}`] = r.best === undefined ? null : round(r.best, 3);
      entry[`medianRatio${direction[0]!.toUpperCase()}${direction.slice(1)}`] = r.median === undefined ? null : round(r.median, 3);
    }
    paths[path] = entry;
  }
  const v = verdicts(table, memory);
  return {
    bench: 'calls',
    node: process.version,
    sipp: versions.sipp,
    kamailio: versions.kamailio,
    transport: 'udp',
    concurrency: settings.concurrency,
    windowSec: settings.seconds,
    warmupSec: settings.warmup,
    rounds: settings.rounds,
    direct: paths['direct'],
    site: paths['site'],
    memory: isError(memory)
      ? memory
      : { count: memory.count, dialogs: memory.dialogs, T1: memory.T1, gcExposed: memory.gcExposed, heapBytesPerDialog: memory.perDialog.heapBytes, callerHeapBytes: memory.caller.heapBytes, calleeHeapBytes: memory.callee.heapBytes, rssBytesPerDialog: memory.perDialog.rssBytes },
    targets: { direct: v.rate.direct, site: v.rate.site, noFailedCalls: v.noFailedCalls, memory: v.memory },
    elapsedSec: round(elapsed, 1),
  };
}
