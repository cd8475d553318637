/**
 * The register part's output: the table and the lines on stdout, and the
 * JSON summary (bench/register/README.md, "Figures", says what each means).
 */
import { cpus } from 'node:os';
import { formatTable, type PartResult } from '../part.ts';
import { failed, HOST, oursLabel, SHM_MB, sippLabel, userName, type OursRun, type Outcome, type Results, type SippRun } from './results.ts';

/**
 * The run memory is read from: the cold process when it registered everyone
 * (in a warm run, what the warm-up left counts too), else the run the
 * details show.
 */
function memoryRun(r: Results): OursRun | undefined {
  const cold = r.windowed !== undefined && !failed(r.windowed) ? r.windowed : undefined;
  if (cold !== undefined && cold.registered.registered === cold.registered.connections && cold.registered.warmupConnections === 0) return cold;
  return r.oursShown;
}

// ----- output -----

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const kib = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 1024).toFixed(2) : '-');
const round = (value: number, digits = 0): number => Number(value.toFixed(digits));
const TARGET_BYTES = 10 * 1024;

/** ours / SIPp: best vs best (the target figure), and median vs median. */
function ratios(r: Results): { readonly best: number | undefined; readonly medians: number | undefined } {
  return {
    best: r.oursBest !== undefined && r.sippBest !== undefined ? r.oursBest.registrationsPerSec / r.sippBest.registrationsPerSec : undefined,
    medians:
      r.oursMedian !== undefined && r.sippMedian !== undefined ? r.oursMedian.registrationsPerSec / r.sippMedian.registrationsPerSec : undefined,
  };
}

/** Rate target: unknown without a SIPp figure; not met when SIPp has one and none of our runs registered everyone. */
function rateTargetMet(r: Results): boolean | undefined {
  if (r.sippBest === undefined) return undefined;
  const { best } = ratios(r);
  return best !== undefined && best >= 1;
}

export function print(r: Results): void {
  const { settings } = r;
  const lines: string[] = [];
  lines.push(
    `Register benchmark: ${settings.count.toLocaleString('en-US')} users (u00000..${userName(settings.count - 1)}) registering with MD5 digest over UDP ` +
      `against one Kamailio site on ${HOST}, from one process each;`,
  );
  lines.push(
    `node ${process.version}, ${r.versions.sipp}, ${r.versions.kamailio} (${settings.children} UDP workers, ${SHM_MB} MB shm), ` +
      `${cpus().length} CPUs. Every run starts from a freshly restarted site (no binding).`,
  );
  lines.push('A registration = REGISTER -> 401 -> REGISTER with digest -> 200: two REGISTER transactions.');
  lines.push(
    `${settings.rounds} round(s): round 1 runs SIPp at -l ${settings.sippLimits.join(', ')}, then ours; later rounds run SIPp at its best -l so far, then ours.`,
  );
  lines.push('(best): the fastest run of each side that registered everyone.');
  lines.push('at once: REGISTERs in flight at most (SIPp: -l; ours: what the SDK\'s flight window allowed).');
  if (settings.warmup > 0) {
    lines.push(
      `ours: each measured Phone first registers and removes ${settings.warmup.toLocaleString('en-US')} other connections against a lab site in a child process (never the Kamailio site), ` +
        'so the JIT is warm, as in a long-running endpoint; the cold process row shows a first run.',
    );
  }
  lines.push('retrans: retransmitted REGISTERs; site drops: datagrams the site\'s UDP socket dropped (receive queue full).');
  lines.push(
    'heap/conn, rss/conn: (after gc, every connection registered and idle) - (after gc, before the Phone) over the connections, KiB.',
  );
  lines.push('');
  const table: string[][] = [
    ['run', 'at once', 'registrations/s', 'REGISTER tx/s', 'time s', 'retrans', 'failed', 'site drops', 'heap/conn', 'rss/conn'],
  ];
  for (const run of r.sipp) {
    if (failed(run)) {
      table.push([sippLabel(run), String(run.limit ?? ''), `error: ${run.error.split('\n')[0]}`, '', '', '', '', '', '', '']);
      continue;
    }
    table.push([
      `${sippLabel(run)}${run === r.sippBest ? ' (best)' : ''}`,
      String(run.limit),
      int(run.registrationsPerSec),
      int(run.transactionsPerSec),
      (run.elapsedMs / 1000).toFixed(2),
      int(run.retransmissions),
      int(run.failed),
      int(run.siteDrops),
      '',
      '',
    ]);
  }
  for (const run of r.windowed === undefined ? r.ours : [...r.ours, r.windowed]) {
    if (failed(run)) {
      table.push([oursLabel(settings, run.round), '', `error: ${run.error.split('\n')[0]}`, '', '', '', '', '', '', '']);
      continue;
    }
    const reg = run.registered;
    table.push([
      `${run.label}${run === r.oursBest ? ' (best)' : ''}`,
      int(reg.peakOutstanding),
      int(run.registrationsPerSec),
      int(run.transactionsPerSec),
      (reg.elapsedMs / 1000).toFixed(2),
      int(reg.retransmissions),
      int(reg.connections - reg.registered),
      int(run.siteDrops),
      kib(run.heapPerConnection),
      kib(run.rssPerConnection),
    ]);
  }
  lines.push(formatTable(table, [1, 2, 3, 4, 5, 6, 7, 8, 9]));
  lines.push('');

  // Details for our best run and the diagnostic run only: one pair of lines a run would bury the table.
  for (const run of [r.oursShown, r.windowed]) {
    if (run === undefined || failed(run)) continue;
    const reg = run.registered;
    const closed = run.closed;
    lines.push(
      `${run.label}${run === r.oursBest ? ' (best)' : ''}: registered after ${int(reg.registeredAtMs.p50)} / ${int(reg.registeredAtMs.p90)} / ${int(reg.registeredAtMs.p99)} / ` +
        `${int(reg.registeredAtMs.p100)} ms (50/90/99/100%); ${int(reg.registerSends)} REGISTER datagrams for ${int(reg.registerTransactions)} transactions; ` +
        `responses ${Object.entries(reg.responses).map(([code, n]) => `${code} x${n}`).join(', ')}; our UDP socket drops ${int(run.ourDrops)}` +
        ` (${run.ourSockets.map((socket) => `${socket.remote === '*' ? 'listener' : `connected to ${socket.remote}`} ${int(socket.drops)}`).join(', ')}); ` +
        `CPU ${int(reg.cpuMs)} ms (user ${int(reg.cpuUserMs)}, system ${int(reg.cpuSystemMs)}) in ${int(reg.elapsedMs)} ms.`,
    );
    lines.push(
      `  bindings at the site: ${int(run.bindingsRegistered)} after registering (u00000 -> our port: ${run.firstBindingOurs ? 'yes' : 'NO'}), ` +
        `${run.bindingsAfterClose === undefined ? 'unknown' : int(run.bindingsAfterClose)} after phone.close()` +
        (closed === undefined
          ? ' (close did not finish)'
          : ` (unregistered in ${int(closed.closeMs)} ms, ${int(closed.unregisterSends)} REGISTER datagrams, ` +
            `responses ${Object.entries(closed.unregisterResponses).map(([code, n]) => `${code} x${n}`).join(', ')})`) +
        `; heap ${int(reg.before.heapUsed)} -> ${int(reg.idle.heapUsed)} B, rss ${int(reg.before.rss)} -> ${int(reg.idle.rss)} B.`,
    );
  }
  lines.push('');

  const ratio = ratios(r);
  const verdict = rateTargetMet(r);
  if (r.sippBest === undefined) {
    lines.push(`Rate: no comparison: none of SIPp's ${r.sipp.length} runs registered every user (see above).`);
  } else if (r.oursBest === undefined || ratio.best === undefined) {
    lines.push(
      `Rate: no comparison: none of our ${r.ours.length} runs registered every connection (see above); ` +
        `SIPp (best of ${r.sipp.length}, -l ${r.sippBest.limit}) ${int(r.sippBest.transactionsPerSec)} REGISTER transactions/s. Target >= 1x: NOT met.`,
    );
  } else {
    const medians =
      r.oursMedian !== undefined && r.sippMedian !== undefined && ratio.medians !== undefined
        ? `Medians: ours ${int(r.oursMedian.registrationsPerSec * 2)} (${r.oursMedian.runs} runs) vs SIPp at -l ${r.sippBest.limit} ` +
          `${int(r.sippMedian.registrationsPerSec * 2)} (${r.sippMedian.runs} runs): ${ratio.medians.toFixed(2)}x. `
        : '';
    lines.push(
      `Rate: ours (best of ${r.ours.length}) ${int(r.oursBest.transactionsPerSec)} REGISTER transactions/s vs ` +
        `SIPp (best of ${r.sipp.length}, -l ${r.sippBest.limit}) ${int(r.sippBest.transactionsPerSec)}: ${ratio.best.toFixed(2)}x. ` +
        `${medians}Target >= 1x: ${verdict === true ? 'met' : 'NOT met'}.`,
    );
  }
  const win = r.windowed !== undefined && !failed(r.windowed) ? r.windowed : undefined;
  if (win !== undefined && r.sippBest !== undefined) {
    lines.push(`  (diagnostic, ${win.label.replace(/ \(diagnostic\)$/, '')}: ${(win.registrationsPerSec / r.sippBest.registrationsPerSec).toFixed(2)}x SIPp's best)`);
  }
  const shown = memoryRun(r);
  if (shown !== undefined) {
    const allRegistered = shown.registered.registered === shown.registered.connections && shown.registered.transactionsLeft === 0;
    const which = shown === r.windowed ? 'no warm-up in its baseline' : shown === r.oursBest ? 'our best run' : 'no run of ours registered everyone';
    lines.push(
      `Memory per idle registered connection (${shown.label}, ${which}): ` +
        `${kib(shown.heapPerConnection)} KiB heap (rss ${kib(shown.rssPerConnection)} KiB). ` +
        `Target < 10 KiB: ${shown.heapPerConnection < TARGET_BYTES && allRegistered ? 'met' : 'NOT met'}` +
        (allRegistered ? '.' : ' (not every connection was registered and idle).'),
    );
  }
  lines.push(`(register part: ${r.elapsedS.toFixed(0)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function sippJson(run: Outcome<SippRun>): unknown {
  if (failed(run)) return run;
  return {
    round: run.round,
    limit: run.limit,
    registrationsPerSec: Math.round(run.registrationsPerSec),
    transactionsPerSec: Math.round(run.transactionsPerSec),
    elapsedMs: Math.round(run.elapsedMs),
    successful: run.successful,
    failed: run.failed,
    retransmissions: run.retransmissions,
    timeouts: run.timeouts,
    siteDrops: run.siteDrops,
    bindingsAfter: run.bindingsAfter,
    status: run.status,
  };
}

function oursJson(run: Outcome<OursRun> | undefined): unknown {
  if (run === undefined || failed(run)) return run ?? null;
  const reg = run.registered;
  return {
    ...(run.round === undefined ? {} : { round: run.round }),
    window: reg.window,
    registered: reg.registered,
    notRegistered: reg.notRegistered,
    elapsedMs: Math.round(reg.elapsedMs),
    registrationsPerSec: Math.round(run.registrationsPerSec),
    transactionsPerSec: Math.round(run.transactionsPerSec),
    registerSendsPerSec: Math.round(run.sendsPerSec),
    registerTransactions: reg.registerTransactions,
    registerSends: reg.registerSends,
    retransmissions: reg.retransmissions,
    responses: reg.responses,
    peakOutstanding: reg.peakOutstanding,
    registeredAtMs: reg.registeredAtMs,
    cpuMs: Math.round(reg.cpuMs),
    cpuUserMs: Math.round(reg.cpuUserMs),
    cpuSystemMs: Math.round(reg.cpuSystemMs),
    siteDrops: run.siteDrops,
    ourDrops: run.ourDrops,
    ourSockets: run.ourSockets,
    heapBytesPerConnection: Math.round(run.heapPerConnection),
    rssBytesPerConnection: Math.round(run.rssPerConnection),
    heapUsedBefore: reg.before.heapUsed,
    heapUsedIdle: reg.idle.heapUsed,
    rssBefore: reg.before.rss,
    rssIdle: reg.idle.rss,
    createMs: Math.round(reg.createMs),
    drainMs: Math.round(reg.drainMs),
    transactionsLeft: reg.transactionsLeft,
    bindingsRegistered: run.bindingsRegistered,
    firstBindingOurs: run.firstBindingOurs,
    bindingsAfterClose: run.bindingsAfterClose ?? null,
    closeMs: run.closed === undefined ? null : Math.round(run.closed.closeMs),
    unregisterSends: run.closed?.unregisterSends ?? null,
  };
}

export function summary(r: Results): PartResult {
  const { best, medians } = ratios(r);
  const ratio = best === undefined ? null : round(best, 3);
  const measured = memoryRun(r);
  const memory = measured === undefined ? null : round(measured.heapPerConnection / 1024, 2);
  const rateMet = rateTargetMet(r);
  return {
    bench: 'register',
    connections: r.settings.count,
    transport: 'udp',
    algorithm: 'MD5',
    site: { kamailio: r.versions.kamailio, children: r.settings.children, shmMb: SHM_MB },
    rounds: r.settings.rounds,
    sipp: {
      version: r.versions.sipp,
      best: r.sippBest === undefined ? null : sippJson(r.sippBest),
      runs: r.sipp.map(sippJson),
    },
    // Our best run; when none registered everyone, the first with figures (where the memory figure comes from).
    ours: oursJson(r.oursShown),
    oursRuns: r.ours.map(oursJson),
    oursCold: oursJson(r.windowed),
    warmupConnections: r.settings.warmup,
    ratio,
    ratioOfMedians: medians === undefined ? null : round(medians, 3),
    memoryKiBPerConnection: memory,
    targets: {
      rateAtLeastSipp: rateMet ?? null,
      memoryUnder10KiB: memory === null ? null : memory < 10,
    },
    cpus: cpus().length,
    node: process.version,
    elapsedS: round(r.elapsedS, 1),
  };
}
