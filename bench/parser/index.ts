/**
 * The parser part of `npm run bench`: our parser against four npm SIP parsers
 * on the RFC 3665 fixtures (see bench/README.md for the rules).
 *
 * 1. Load the adapters; a parser that cannot be loaded is reported and left out.
 * 2. Check every parser on every message against the reference values: each
 *    message is `ok`, `rejected` (the parser refused it) or `mismatch` (it
 *    accepted it but read a value wrong). Nothing is timed before this.
 * 3. Time the workloads: `mix` = the messages that every loaded parser reads
 *    correctly, `invite` = RFC 3665 3.1 F1 alone (each parser that reads it
 *    correctly), `mixFull` = ours on every file, a rejection counted as a
 *    message handled.
 */
import { formatTable, envNumber, progress, type PartResult } from '../part.ts';
import { compare, Fields, type Adapter } from './fields.ts';
import { measure, Task, type Figure, type Rate, type Timing } from './measure.ts';
import { fixturesDir, inviteFile, loadMix, repoRoot, type Message } from './workloads.ts';

const adapterModules: ReadonlyArray<readonly [string, () => Promise<{ adapter: Adapter }>]> = [
  ['ours', () => import('./adapters/ours.ts')],
  ['sip', () => import('./adapters/sip.ts')],
  ['drachtio-sip', () => import('./adapters/drachtio-sip.ts')],
  ['jssip', () => import('./adapters/jssip.ts')],
  ['sip.js', () => import('./adapters/sip-js.ts')],
];

type Verdict = { kind: 'ok' } | { kind: 'rejected'; why: string } | { kind: 'mismatch'; diffs: string[] };

interface Checked {
  readonly adapter: Adapter;
  /** Verdict per message file. */
  readonly verdicts: ReadonlyMap<string, Verdict>;
}

interface WorkloadResult {
  readonly label: string;
  readonly description: string;
  readonly messages: readonly Message[];
  /** The parsers this workload is for, timed or not. */
  readonly parsers: readonly Adapter[];
  readonly rates: ReadonlyMap<string, Figure>;
}

const rejectionText = (error: unknown): string => {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    return typeof status === 'number' ? `${status} ${error.message}` : `${error.name}: ${error.message}`;
  }
  return String(error);
};

function check(adapter: Adapter, messages: readonly Message[]): Checked {
  const verdicts = new Map<string, Verdict>();
  for (const message of messages) {
    const out = new Fields();
    let verdict: Verdict;
    try {
      if (!adapter.read(message.bytes, out)) verdict = { kind: 'rejected', why: 'no message returned' };
      else {
        const diffs = compare(out, message.expected);
        verdict = diffs.length === 0 ? { kind: 'ok' } : { kind: 'mismatch', diffs };
      }
    } catch (error) {
      verdict = { kind: 'rejected', why: rejectionText(error) };
    }
    verdicts.set(message.file, verdict);
  }
  return { adapter, verdicts };
}

const bytesOf = (messages: readonly Message[]): number => messages.reduce((n, m) => n + m.bytes.byteLength, 0);
const round = (value: number, digits: number): number => Number(value.toFixed(digits));
const rateJson = (rate: Rate): { msgsPerSec: number; mbPerSec: number } => ({
  msgsPerSec: Math.round(rate.msgsPerSec),
  mbPerSec: round(rate.mbPerSec, 2),
});

/** Times each adapter on its messages, all in one interleaved measurement. */
function time(
  label: string,
  description: string,
  messages: readonly Message[],
  entries: ReadonlyArray<readonly [Adapter, readonly Message[]]>,
  timing: Timing,
): WorkloadResult {
  const rates = new Map<string, Figure>();
  const runnable = entries.filter(([, msgs]) => msgs.length > 0);
  if (runnable.length > 0) {
    progress(`parser bench: ${label}: ${runnable.map(([a]) => a.name).join(', ')}`);
    const tasks = runnable.map(([adapter, msgs]) => new Task(adapter, msgs.map((m) => m.bytes)));
    measure(tasks, timing, (line) => progress(`parser bench: ${label}: ${line}`));
    for (const task of tasks) rates.set(task.adapter.name, { ...task.median(), spread: task.spread() });
  }
  return { label, description, messages, parsers: entries.map(([adapter]) => adapter), rates };
}

export async function run(): Promise<PartResult> {
  const timing: Timing = {
    warmupMs: envNumber('BENCH_WARMUP_MS', 500),
    roundMs: envNumber('BENCH_ROUND_MS', 600),
    rounds: Math.round(envNumber('BENCH_ROUNDS', 5)),
  };
  const mix = loadMix();
  const fixtures = fixturesDir.slice(repoRoot.length);

  // 1. Load.
  const adapters: Adapter[] = [];
  const unavailable = new Map<string, string>();
  for (const [name, load] of adapterModules) {
    try {
      adapters.push((await load()).adapter);
    } catch (error) {
      unavailable.set(name, error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error));
    }
  }
  const ours = adapters.find((a) => a.name === 'ours');
  const anchors = adapters.filter((a) => a !== ours);

  // 2. Check.
  const checked = adapters.map((adapter) => check(adapter, mix));
  const okFor = (c: Checked): Message[] => mix.filter((m) => c.verdicts.get(m.file)?.kind === 'ok');
  const common = mix.filter((m) => checked.every((c) => c.verdicts.get(m.file)?.kind === 'ok'));
  const invite = mix.filter((m) => m.file === inviteFile);

  // 3. Time.
  const workloads: WorkloadResult[] = [
    time(
      'mix',
      `the ${common.length} of ${mix.length} messages every parser reads correctly`,
      common,
      checked.map((c) => [c.adapter, common] as const),
      timing,
    ),
    time(
      'invite',
      `${inviteFile} alone`,
      invite,
      checked.map((c) => [c.adapter, okFor(c).filter((m) => m.file === inviteFile)] as const),
      timing,
    ),
  ];
  if (ours !== undefined) {
    workloads.push(time('mixFull', `ours on all ${mix.length} files, a rejection counted as handled`, mix, [[ours, mix]], timing));
  }

  print(timing, mix, fixtures, unavailable, checked, workloads);
  return summary(timing, mix, unavailable, checked, workloads, ours, anchors);
}

function fastestAnchor(result: WorkloadResult): [string, Rate] | undefined {
  let best: [string, Rate] | undefined;
  for (const [name, rate] of result.rates) {
    if (name !== 'ours' && (best === undefined || rate.msgsPerSec > best[1].msgsPerSec)) best = [name, rate];
  }
  return best;
}

function ratio(result: WorkloadResult): { ratio: number; anchor: string } | undefined {
  const ours = result.rates.get('ours');
  const best = fastestAnchor(result);
  return ours === undefined || best === undefined ? undefined : { ratio: ours.msgsPerSec / best[1].msgsPerSec, anchor: best[0] };
}

function print(
  timing: Timing,
  mix: readonly Message[],
  fixtures: string,
  unavailable: ReadonlyMap<string, string>,
  checked: readonly Checked[],
  workloads: readonly WorkloadResult[],
): void {
  const lines: string[] = [];
  lines.push(`Parser benchmark: node ${process.version}, ${process.platform}/${process.arch}`);
  lines.push(
    `Median of ${timing.rounds} interleaved rounds of ${timing.roundMs} ms after ${timing.warmupMs} ms warm-up; MB = 10^6 bytes;`,
  );
  lines.push('spread = (slowest - fastest round) / median.');
  lines.push(`Messages: ${mix.length} .sip files under ${fixtures}, ${bytesOf(mix)} bytes, read as raw bytes.`);
  lines.push('');

  const rows: string[][] = [['parser', 'version', 'accepted', 'rejected', 'mismatched', 'entry point']];
  for (const c of checked) {
    const count = (kind: Verdict['kind']): string => String([...c.verdicts.values()].filter((v) => v.kind === kind).length);
    rows.push([c.adapter.name, c.adapter.version, count('ok'), count('rejected'), count('mismatch'), c.adapter.api]);
  }
  for (const [name, error] of unavailable) rows.push([name, '-', '-', '-', '-', `not available: ${error}`]);
  lines.push(formatTable(rows, [2, 3, 4]));
  for (const c of checked) {
    for (const [file, verdict] of c.verdicts) {
      if (verdict.kind === 'rejected') lines.push(`  ${c.adapter.name} rejects ${file}: ${verdict.why}`);
      if (verdict.kind === 'mismatch') lines.push(`  ${c.adapter.name} DISAGREES on ${file}: ${verdict.diffs.join('; ')}`);
    }
  }

  for (const w of workloads) {
    lines.push('');
    lines.push(`Workload ${w.label}: ${w.description} (${w.messages.length} messages, ${bytesOf(w.messages)} bytes)`);
    if (w.rates.size === 0) {
      lines.push('  nothing timed');
      continue;
    }
    const best = fastestAnchor(w);
    const table: string[][] = [['parser', 'msgs/s', 'MB/s', 'spread', 'vs fastest anchor']];
    for (const adapter of w.parsers) {
      const rate = w.rates.get(adapter.name);
      const x = rate !== undefined && best !== undefined ? rate.msgsPerSec / best[1].msgsPerSec : undefined;
      const vs = x === undefined ? '' : `${x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)}x`;
      table.push(
        rate === undefined
          ? [adapter.name, 'not timed: rejects or misreads it', '', '', '']
          : [
              adapter.name,
              Math.round(rate.msgsPerSec).toLocaleString('en-US'),
              rate.mbPerSec.toFixed(1),
              `${(rate.spread * 100).toFixed(1)}%`,
              vs,
            ],
      );
    }
    if (unavailable.has('ours')) table.push(['ours', 'not available', '', '', '']);
    // Without an anchor in the workload (mixFull) the last column says nothing.
    const shown = best === undefined ? table.map((row) => row.slice(0, 4)) : table;
    lines.push(formatTable(shown, [1, 2, 3, 4]).replace(/^/gm, '  '));
    const r = ratio(w);
    if (r !== undefined) lines.push(`  ours / fastest anchor (${r.anchor}): ${r.ratio.toFixed(2)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function summary(
  timing: Timing,
  mix: readonly Message[],
  unavailable: ReadonlyMap<string, string>,
  checked: readonly Checked[],
  workloads: readonly WorkloadResult[],
  ours: Adapter | undefined,
  anchors: readonly Adapter[],
): PartResult {
  const workloadJson: Record<string, unknown> = {};
  for (const w of workloads) {
    const entry: Record<string, unknown> = { messages: w.messages.length, bytes: bytesOf(w.messages) };
    for (const adapter of [...(ours ? [ours] : []), ...anchors]) {
      const rate = w.rates.get(adapter.name);
      if (rate !== undefined) entry[adapter.name] = rateJson(rate);
    }
    if (ours === undefined) entry['ours'] = null;
    if (w.label !== 'mixFull') {
      const r = ratio(w);
      entry['ratioToFastestAnchor'] = r === undefined ? null : round(r.ratio, 3);
      entry['fastestAnchor'] = fastestAnchor(w)?.[0] ?? null;
    }
    workloadJson[w.label] = entry;
  }
  const parsers: Record<string, unknown> = {};
  for (const c of checked) {
    const files = (kind: Verdict['kind']): string[] =>
      [...c.verdicts].filter(([, v]) => v.kind === kind).map(([file]) => file);
    parsers[c.adapter.name] = {
      version: c.adapter.version,
      accepted: files('ok').length,
      rejected: files('rejected'),
      mismatched: files('mismatch'),
    };
  }
  for (const [name, error] of unavailable) parsers[name] = { available: false, error };
  return {
    bench: 'parser',
    workloads: workloadJson,
    parsers,
    messages: mix.length,
    timing,
    node: process.version,
  };
}
