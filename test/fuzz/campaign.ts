/**
 * A fuzz campaign: iterations [start, end) of one seed (every `step`-th, so
 * that workers can share a run), each case generated from (seed, iteration)
 * alone. Findings are de-duplicated by signature; a case slower than the hang
 * threshold is timed once more and is a hang only if both runs are slow (one
 * slow run is a GC pause or JIT tier-up, not the parser).
 */
import { loadCorpus } from './corpus.ts';
import { caseSeed, mutate, Rng, type Mutation } from './mutate.ts';
import { fuzzOne, type CaseResult, type Finding, type FindingKind } from './fuzz-one.ts';

export const DEFAULT_HANG_MS = 200;
/** One case in PROBE_EVERY also runs the framer starvation probe (it pushes 70 KB). */
const PROBE_EVERY = 50;

export interface FuzzCase {
  seed: number;
  iteration: number;
  mutation: Mutation;
  /** Seed of the framer's chunking randomness (separate, so a saved input replays alike). */
  chunkSeed: number;
  probe: boolean;
}

export function makeCase(seed: number, iteration: number, corpus = loadCorpus().map((e) => e.bytes)): FuzzCase {
  const rng = new Rng(caseSeed(seed, iteration));
  return { seed, iteration, mutation: mutate(rng, corpus), chunkSeed: chunkSeedOf(seed, iteration), probe: iteration % PROBE_EVERY === 0 };
}

export function chunkSeedOf(seed: number, iteration: number): number {
  return caseSeed(seed ^ 0x5bd1e995, iteration);
}

export function runCase(c: FuzzCase, budgetMs?: number): CaseResult {
  return fuzzOne(c.mutation.bytes, new Rng(c.chunkSeed), { probeFramer: c.probe, budgetMs });
}

/** One reported case (the first few of each signature are kept). */
export interface Report {
  kind: FindingKind;
  stage: string;
  message: string;
  stack: string;
  signature: string;
  seed: number;
  iteration: number;
  base: string;
  ops: string[];
  input: Uint8Array;
  ms: number;
}

export interface CampaignStats {
  cases: number;
  accepted: number;
  /** Cases per kind (a case counts once per kind). */
  byKind: Record<FindingKind, number>;
  /** Cases per signature. */
  bySignature: Record<string, number>;
  reports: Report[];
  slowestMs: number;
  slowestIteration: number;
  slowestBytes: number;
  /** Slow runs that were not slow when repeated. */
  spikes: number;
  elapsedMs: number;
}

export interface CampaignOptions {
  seed: number;
  start?: number;
  end: number;
  step?: number;
  hangMs?: number;
  /** Reports kept per signature (all cases are counted). */
  keepPerSignature?: number;
  /** Iterations not to run (a worker restarted after its watchdog killed it skips the case that hung). */
  skip?: ReadonlySet<number>;
  /** Called before each case (a watchdog's heartbeat). */
  onCase?: (iteration: number) => void;
  onProgress?: (stats: CampaignStats) => void;
  progressEvery?: number;
}

export function emptyStats(): CampaignStats {
  return {
    cases: 0,
    accepted: 0,
    byKind: { crash: 0, masked: 0, roundtrip: 0, framing: 0, limit: 0, hang: 0 },
    bySignature: {},
    reports: [],
    slowestMs: 0,
    slowestIteration: -1,
    slowestBytes: 0,
    spikes: 0,
    elapsedMs: 0,
  };
}

export function runCampaign(options: CampaignOptions): CampaignStats {
  const corpusEntries = loadCorpus();
  const corpus = corpusEntries.map((e) => e.bytes);
  const hangMs = options.hangMs ?? DEFAULT_HANG_MS;
  const step = options.step ?? 1;
  const stats = emptyStats();
  const t0 = performance.now();
  for (let iteration = options.start ?? 0; iteration < options.end; iteration += step) {
    if (options.skip?.has(iteration)) continue;
    options.onCase?.(iteration);
    const c = makeCase(options.seed, iteration, corpus);
    // The budget only cuts a case that is a hang already (twice the limit).
    let result = runCase(c, hangMs * 2);
    let ms = result.ms;
    if (ms > hangMs) {
      // Confirm: the faster of two runs decides (a GC pause or a busy CPU can stall one run for long).
      ms = Math.min(ms, runCase(c, hangMs * 2).ms);
      if (ms > hangMs) {
        result = { ...result, findings: [...result.findings, hangFinding(ms, hangMs, result.phases)] };
      } else {
        stats.spikes++;
      }
    }
    stats.cases++;
    if (result.accepted) stats.accepted++;
    if (ms > stats.slowestMs) {
      stats.slowestMs = ms;
      stats.slowestIteration = iteration;
      stats.slowestBytes = c.mutation.bytes.length;
    }
    addFindings(stats, c, corpusEntries[c.mutation.base]!.name, result.findings, ms, options.keepPerSignature ?? 3);
    if (options.onProgress && options.progressEvery && stats.cases % options.progressEvery === 0) {
      stats.elapsedMs = performance.now() - t0;
      options.onProgress(stats);
    }
  }
  stats.elapsedMs = performance.now() - t0;
  return stats;
}

/** The signature names the phase that took longest (parse, getters, roundtrip, sdp, framer). */
function hangFinding(ms: number, hangMs: number, phases: Record<string, number>): Finding {
  const [phase] = Object.entries(phases).sort((a, b) => b[1] - a[1])[0] ?? ['case'];
  const detail = Object.entries(phases).map(([name, t]) => `${name} ${t.toFixed(1)}`).join(', ');
  const message = `case took ${ms.toFixed(1)} ms (> ${hangMs} ms), most of it in ${phase} (${detail})`;
  return { kind: 'hang', stage: phase, message, stack: message, signature: `hang|${phase}` };
}

function addFindings(stats: CampaignStats, c: FuzzCase, base: string, findings: Finding[], ms: number, keep: number): void {
  const kinds = new Set<FindingKind>();
  const signatures = new Set<string>();
  for (const finding of findings) {
    kinds.add(finding.kind);
    if (signatures.has(finding.signature)) continue;
    signatures.add(finding.signature);
    const seen = stats.bySignature[finding.signature] ?? 0;
    stats.bySignature[finding.signature] = seen + 1;
    if (seen < keep) {
      stats.reports.push({ ...finding, seed: c.seed, iteration: c.iteration, base, ops: c.mutation.ops, input: c.mutation.bytes, ms });
    }
  }
  for (const kind of kinds) stats.byKind[kind]++;
}

/** Merges worker results (same seed, disjoint iterations). */
export function mergeStats(into: CampaignStats, from: CampaignStats, keep = 3): void {
  into.cases += from.cases;
  into.accepted += from.accepted;
  for (const kind of Object.keys(from.byKind) as FindingKind[]) into.byKind[kind] += from.byKind[kind];
  for (const report of from.reports) {
    const kept = into.reports.filter((r) => r.signature === report.signature).length;
    if (kept < keep) into.reports.push(report);
  }
  for (const [signature, count] of Object.entries(from.bySignature)) into.bySignature[signature] = (into.bySignature[signature] ?? 0) + count;
  if (from.slowestMs > into.slowestMs) {
    into.slowestMs = from.slowestMs;
    into.slowestIteration = from.slowestIteration;
    into.slowestBytes = from.slowestBytes;
  }
  into.spikes += from.spikes;
}

/** Crash-like kinds: an exception other than a clean SipParseError, or one the parser's safety net hid. */
export function crashCount(stats: CampaignStats): number {
  return stats.byKind.crash + stats.byKind.masked;
}
