/**
 * One throughput measurement of the stack part, run in a child process of
 * its own (`node --import tsx bench/stack/load.ts DIRECTION FLOW SECONDS
 * WARMUP CONCURRENCY`), so that each figure starts from a fresh heap and JIT
 * like the SIPp processes it is compared with; prints one JSON line (a
 * Figure). The SIPp processes it starts are stopped by PID before it exits
 * (and killed by process.ts if it dies).
 *
 * Directions (see index.ts): sippToSipp (SIPp UAC -> SIPp UAS, the
 * reference), oursToSipp (our client -> SIPp UAS), sippToOurs (SIPp UAC ->
 * our server). Closed loop: at most CONCURRENCY calls open, a new one as
 * soon as one ends (SIPp: -r far above what it can do, -l CONCURRENCY).
 * Rate: successful calls in the window after the warm-up over its length,
 * from SIPp's -trace_stat rows (one a second) where SIPp is the client,
 * from our own count where we are.
 */
import { delay } from '../../test/interop/harness/process.ts';
import { startSipp, stopAllSipp, statTime, type Sipp, type SippResult } from '../../test/interop/harness/sipp.ts';
import { Stack } from '../../test/interop/harness/stack.ts';
import type { Endpoint } from '../../src/transport/index.ts';

export type Flow = 'options' | 'call';
export type Direction = 'sippToSipp' | 'oursToSipp' | 'sippToOurs';

export interface Figure {
  /** Successful calls (OPTIONS: transactions) per second in the window. */
  readonly callsPerSec: number;
  /** Client transactions per second: callsPerSec for OPTIONS, twice it for calls (INVITE + BYE). */
  readonly transactionsPerSec: number;
  readonly windowSec: number;
  /** Calls that failed in the whole run (SIPp's count, or ours where we are the client). */
  readonly failed: number;
  /** Retransmissions the SIPp side counted (its own and those it received) over the whole run. */
  readonly retransmissions: number;
}

export interface LoadSettings {
  readonly seconds: number;
  readonly warmup: number;
  readonly concurrency: number;
}

const HOST = '127.0.0.1';
/** SIPp's -r: far above what one SIPp can do, so -l (the concurrency) is the limit. */
const SIPP_RATE = 1_000_000;
const TRANSACTIONS_PER_CALL: Record<Flow, number> = { options: 1, call: 2 };

/** Rate from SIPp's -trace_stat rows: successful calls between the first row at or after the warm-up and the last row. */
function rateFromRows(rows: Array<Record<string, string>>, settings: LoadSettings, flow: Flow): Pick<Figure, 'callsPerSec' | 'transactionsPerSec' | 'windowSec'> {
  if (rows.length < 2) throw new Error(`SIPp wrote ${rows.length} statistics rows`);
  const t0 = statTime(rows[0]!['CurrentTime']);
  const first = rows.find((row) => statTime(row['CurrentTime']) - t0 >= settings.warmup - 0.05) ?? rows[0]!;
  const last = rows[rows.length - 1]!;
  const windowSec = statTime(last['CurrentTime']) - statTime(first['CurrentTime']);
  if (!(windowSec > 0.5)) throw new Error(`SIPp's statistics cover ${windowSec} s only`);
  const calls = Number(last['SuccessfulCall(C)']) - Number(first['SuccessfulCall(C)']);
  const callsPerSec = calls / windowSec;
  return { callsPerSec, transactionsPerSec: callsPerSec * TRANSACTIONS_PER_CALL[flow], windowSec };
}

const retransmissionsOf = (...results: SippResult[]): number =>
  results.reduce((n, result) => n + result.lines.reduce((m, line) => m + line.retransmissions, 0), 0);
const failedOf = (rows: Array<Record<string, string>>): number => Number(rows[rows.length - 1]?.['FailedCall(C)'] ?? 0);

/** Stops a SIPp that runs without -m (SIGTERM by PID) and reads its final screen. */
async function finish(sipp: Sipp): Promise<SippResult> {
  await sipp.stop();
  return sipp.exit(5000);
}

async function sippUac(flow: Flow, remote: { host: string; port: number }, settings: LoadSettings): Promise<{ rows: Array<Record<string, string>>; result: SippResult }> {
  const uac = await startSipp({
    scenario: `load-uac-${flow}.xml`,
    transport: 'udp',
    host: HOST,
    remote,
    calls: 0,
    rate: SIPP_RATE,
    limit: settings.concurrency,
    statEverySec: 1,
  });
  await delay((settings.warmup + settings.seconds) * 1000 + 300);
  const rows = uac.statRows();
  return { rows, result: await finish(uac) };
}

function sippUas(flow: Flow): Promise<Sipp> {
  return startSipp({ scenario: `load-uas-${flow}.xml`, transport: 'udp', host: HOST, calls: 0 });
}

async function sippToSipp(flow: Flow, settings: LoadSettings): Promise<Figure> {
  const uas = await sippUas(flow);
  const { rows, result } = await sippUac(flow, { host: uas.host, port: uas.port }, settings);
  const uasResult = await finish(uas);
  return { ...rateFromRows(rows, settings, flow), failed: failedOf(rows), retransmissions: retransmissionsOf(result, uasResult) };
}

async function sippToOurs(flow: Flow, settings: LoadSettings): Promise<Figure> {
  const stack = await Stack.start({ host: HOST, uas: { ring: false } });
  try {
    const { rows, result } = await sippUac(flow, stack.endpoint('udp'), settings);
    return { ...rateFromRows(rows, settings, flow), failed: failedOf(rows), retransmissions: retransmissionsOf(result) };
  } finally {
    await stack.close();
  }
}

async function oursToSipp(flow: Flow, settings: LoadSettings): Promise<Figure> {
  const uas = await sippUas(flow);
  const stack = await Stack.start({ host: HOST });
  try {
    const target: Endpoint = { transport: 'udp', host: uas.host, port: uas.port };
    let running = true;
    let done = 0;
    let failed = 0;
    const once = async (): Promise<boolean> => {
      if (flow === 'options') return (await stack.request('OPTIONS', target).outcome).status === 200;
      const { invite, bye } = await stack.call(target);
      return invite.outcome.status === 200 && bye?.status === 200;
    };
    const worker = async (): Promise<void> => {
      while (running) {
        if (await once()) done++;
        else failed++;
      }
    };
    const workers = Array.from({ length: settings.concurrency }, () => worker());
    await delay(settings.warmup * 1000);
    const start = { at: performance.now(), done };
    await delay(settings.seconds * 1000);
    const end = { at: performance.now(), done };
    running = false;
    // Calls in flight end at once unless something timed out (Timer B/F is 32 s): do not wait for that.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(workers), new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    const uasResult = await finish(uas);
    const windowSec = (end.at - start.at) / 1000;
    const callsPerSec = (end.done - start.done) / windowSec;
    return { callsPerSec, transactionsPerSec: callsPerSec * TRANSACTIONS_PER_CALL[flow], windowSec, failed, retransmissions: retransmissionsOf(uasResult) };
  } finally {
    await stack.close();
  }
}

const RUNNERS: Record<Direction, (flow: Flow, settings: LoadSettings) => Promise<Figure>> = { sippToSipp, oursToSipp, sippToOurs };

// Stopped from outside (the part's time limit): stop our SIPp processes by PID first.
process.once('SIGTERM', () => {
  void stopAllSipp().finally(() => process.exit(1));
});

async function main(): Promise<void> {
  const [direction, flow, seconds, warmup, concurrency] = process.argv.slice(2);
  const runner = RUNNERS[direction as Direction];
  if (runner === undefined || (flow !== 'options' && flow !== 'call')) {
    throw new Error('usage: load.ts sippToSipp|oursToSipp|sippToOurs options|call SECONDS WARMUP CONCURRENCY');
  }
  try {
    const figure = await runner(flow, { seconds: Number(seconds), warmup: Number(warmup), concurrency: Number(concurrency) });
    process.stdout.write(`${JSON.stringify(figure)}\n`);
  } finally {
    await stopAllSipp();
  }
}

await main();
