/**
 * The register part of `npm run bench`: 10,000 connections (users
 * u00000..u09999, password "secret") registering with MD5 digest over UDP
 * against one Kamailio site on 127.0.0.1 from one process, next to SIPp's
 * register_load in the same run. bench/register/README.md has the rules; in
 * short:
 *
 * 1. One Kamailio site (test/interop/harness/kamailio.ts), started here and
 *    stopped by PID at the end, also on failure. It is restarted before every
 *    run, so every run starts with no binding at all.
 * 2. SIPp, the reference: register_load.xml (REGISTER -> 401 -> REGISTER with
 *    digest -> 200; two REGISTER transactions per registration) with an
 *    injection CSV of the users, -m COUNT calls, -r far above what it can do
 *    and -l L calls open at once. Rate = COUNT / (SIPp's Current Time - Start
 *    Time on its final screen).
 * 3. Ours (bench/register/ours.ts, a child process with --expose-gc): one
 *    Phone with COUNT connections, start() all at once; time from start() to
 *    the last `registered`; REGISTERs counted through phone.transport.onTrace;
 *    memory per idle registered connection = heapUsed after gc with every
 *    connection registered and every transaction gone, minus heapUsed after gc
 *    before the Phone was created, over COUNT. Bindings counted at the site
 *    (usrloc statistics) after registering and again after phone.close().
 * 4. Rounds, BENCH_REGISTER_ROUNDS of them, so that both sides get the same
 *    number of attempts, interleaved (one run varies by a third on a shared
 *    2-CPU machine): round 1 runs SIPp at every L of
 *    BENCH_REGISTER_SIPP_LIMITS, then ours; rounds 2..N run SIPp at its best L
 *    so far (every L again while no SIPp run is complete), then ours. A run is
 *    complete when it registered everyone. Rate: best complete run vs best
 *    complete run; second figure: median of SIPp's complete runs at its best L
 *    vs median of our complete runs. The detail lines come from our best run.
 *    Each measured Phone of ours first warms up (BENCH_REGISTER_WARMUP other
 *    connections registered against a lab site in a child process, never
 *    the Kamailio site, then removed):
 *    the figure is that of a running endpoint, not of a JIT still compiling.
 * 5. Diagnostic, once after the rounds: a cold process (no warm-up), all at
 *    once or BENCH_REGISTER_WINDOW connections at a time (enable the next when
 *    one is registered, as SIPp's -l does). Memory is read from it.
 *
 * Knobs: BENCH_REGISTER_COUNT (10000, at most 10000: the site's users),
 * BENCH_REGISTER_ROUNDS (5), BENCH_REGISTER_SIPP_LIMITS ("25,50,100,200"),
 * BENCH_REGISTER_WINDOW (0), BENCH_REGISTER_WARMUP (3000), BENCH_REGISTER_CHILDREN
 * (Kamailio UDP workers, 4), BENCH_REGISTER_DEADLINE_S (60: a run that has
 * not registered everything by then is reported as it stands).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { kamailioMissing, startSite, type KamailioSite } from '../../test/interop/harness/kamailio.ts';
import { commandExists } from '../../test/interop/harness/process.ts';
import { startSipp, stopAllSipp, type SippResult } from '../../test/interop/harness/sipp.ts';
import { envNumber, progress, type PartResult } from '../part.ts';
import type { OursClosed, OursRegistered } from './ours.ts';
import { print, summary } from './report.ts';
import {
  failed,
  HOST,
  oursLabel,
  SHM_MB,
  userName,
  type Median,
  type OursRun,
  type Outcome,
  type Results,
  type RunError,
  type Settings,
  type SippRun,
} from './results.ts';

const PASSWORD = 'secret';
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
/** tsx's loader, resolved from here, so the child works whatever the working directory. */
const TSX = import.meta.resolve('tsx');

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function settingsFromEnv(): Settings {
  const limitsText = process.env['BENCH_REGISTER_SIPP_LIMITS'] ?? '25,50,100,200';
  const sippLimits = limitsText.split(',').map((part) => Number(part.trim()));
  if (sippLimits.length === 0 || sippLimits.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`BENCH_REGISTER_SIPP_LIMITS must be a list of positive integers, got ${JSON.stringify(limitsText)}`);
  }
  const windowText = process.env['BENCH_REGISTER_WINDOW'];
  const window = windowText === undefined || windowText === '' ? 0 : Number(windowText);
  if (!Number.isInteger(window) || window < 0) throw new Error(`BENCH_REGISTER_WINDOW must be a whole number >= 0, got ${JSON.stringify(windowText)}`);
  const count = Math.round(envNumber('BENCH_REGISTER_COUNT', 10_000));
  if (count > 10_000) throw new Error('BENCH_REGISTER_COUNT: the site has 10,000 users (u00000..u09999)');
  const warmupText = process.env['BENCH_REGISTER_WARMUP'];
  const warmup = warmupText === undefined || warmupText === '' ? 3000 : Number(warmupText);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`BENCH_REGISTER_WARMUP must be a whole number >= 0, got ${JSON.stringify(warmupText)}`);
  const roundsText = process.env['BENCH_REGISTER_ROUNDS'];
  const rounds = roundsText === undefined || roundsText === '' ? 5 : Number(roundsText);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_REGISTER_ROUNDS must be a whole number >= 1, got ${JSON.stringify(roundsText)}`);
  return {
    count,
    rounds,
    sippLimits,
    window,
    warmup,
    children: Math.round(envNumber('BENCH_REGISTER_CHILDREN', 4)),
    deadlineS: envNumber('BENCH_REGISTER_DEADLINE_S', 60),
  };
}


function version(command: string, args: readonly string[], pattern: RegExp): string {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  return pattern.exec(`${out.stdout ?? ''}${out.stderr ?? ''}`)?.[0]?.replace(/\.$/, '') ?? 'unknown';
}

/** The UDP sockets bound to HOST:port (/proc/net/udp) with the datagrams the kernel dropped for each (receive queue full). */
function udpSockets(port: number): Array<{ readonly remote: string; readonly drops: number }> {
  let text: string;
  try {
    text = readFileSync('/proc/net/udp', 'latin1');
  } catch {
    return []; // not Linux
  }
  const hexAddress = (address: string): string =>
    address.split('.').map(Number).reverse().map((n) => n.toString(16).padStart(2, '0')).join('').toUpperCase();
  const fromHex = (cell: string): string => {
    const [ip = '', hexPort = '0'] = cell.split(':');
    const bytes = (ip.match(/../g) ?? []).map((h) => parseInt(h, 16)).reverse();
    return `${bytes.join('.')}:${parseInt(hexPort, 16)}`;
  };
  const local = `${hexAddress(HOST)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const out: Array<{ remote: string; drops: number }> = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local) out.push({ remote: cols[2] === '00000000:0000' ? '*' : fromHex(cols[2] ?? ''), drops: Number(cols[cols.length - 1]) });
  }
  return out;
}

const udpDrops = (port: number): number => udpSockets(port).reduce((n, socket) => n + socket.drops, 0);

/** The site with no binding: a restart (usrloc keeps bindings in memory only). */
async function freshSite(site: KamailioSite): Promise<void> {
  await site.restart();
  const { contacts } = await site.ulStats();
  if (contacts !== 0) throw new Error(`site has ${contacts} bindings after a restart`);
}

// ----- SIPp -----

/** "Start Time | 2026-01-01\t12:00:00.123456\t1767268800.123456": epoch seconds of the last such line. */
function screenTime(output: string, name: string): number {
  const matches = [...output.matchAll(new RegExp(`${name}\\s*\\|\\s*\\S+\\s+\\S+\\s+(\\d+\\.\\d+)`, 'g'))];
  return Number(matches[matches.length - 1]?.[1] ?? NaN);
}

async function runSipp(site: KamailioSite, settings: Settings, limit: number, csv: string, round: number): Promise<SippRun> {
  await freshSite(site);
  const sipp = await startSipp({
    scenario: here('./register_load.xml'),
    transport: 'udp',
    host: HOST,
    remote: { host: HOST, port: site.ports.udp },
    calls: settings.count,
    rate: 1_000_000,
    limit,
    timeoutSec: Math.ceil(settings.deadlineS),
    extraArgs: ['-inf', csv],
  });
  const result: SippResult = await sipp.exit((settings.deadlineS + 15) * 1000);
  const siteDrops = udpDrops(site.ports.udp);
  const bindingsAfter = (await site.ulStats()).contacts;
  let elapsedMs = (screenTime(result.output, 'Current Time') - screenTime(result.output, 'Start Time')) * 1000;
  if (!(elapsedMs > 0)) {
    // Fallback: the scenario screen's Total-time (10 ms resolution).
    const total = /(\d+\.\d+) s\s+\d+\s+\S+\(UDP\)/.exec(result.output);
    elapsedMs = Number(total?.[1] ?? NaN) * 1000;
  }
  const successful = result.successful ?? 0;
  const registrationsPerSec = successful / (elapsedMs / 1000);
  const run: SippRun = {
    round,
    limit,
    status: result.status,
    successful,
    failed: result.failed ?? settings.count - successful,
    elapsedMs,
    registrationsPerSec,
    transactionsPerSec: registrationsPerSec * 2,
    retransmissions: result.lines.reduce((n, line) => n + line.retransmissions, 0),
    timeouts: result.lines.reduce((n, line) => n + line.timeouts, 0),
    siteDrops,
    bindingsAfter,
  };
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`sipp -l ${limit} ended with status ${result.status}: ${result.errors.split('\n').slice(-3).join(' | ') || result.output.slice(-500)}`);
  }
  return run;
}

// ----- ours -----

/** The child's stdout, one JSON object a line; the next line as T, or an error when the child ends first. */
class Lines {
  readonly #queue: string[] = [];
  #waiter: ((line: string | undefined) => void) | undefined;
  #ended = false;

  constructor(child: ChildProcess) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      if (this.#waiter !== undefined) {
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter(line);
      } else this.#queue.push(line);
    });
    lines.on('close', () => {
      this.#ended = true;
      this.#waiter?.(undefined);
    });
  }

  async next<T>(what: string, exited: Promise<number | string>): Promise<T> {
    const line =
      this.#queue.shift() ??
      (this.#ended ? undefined : await new Promise<string | undefined>((resolve) => (this.#waiter = resolve)));
    if (line === undefined) throw new Error(`ours.ts ended (${await exited}) before ${what}`);
    return JSON.parse(line) as T;
  }
}

/** round undefined: the diagnostic run, a cold process (no warm-up), settings.window at once (0: all). */
async function runOurs(site: KamailioSite, settings: Settings, round: number | undefined): Promise<OursRun> {
  const window = round === undefined ? settings.window : 0;
  const warmup = round === undefined ? 0 : settings.warmup;
  await freshSite(site);
  const deadlineMs = settings.deadlineS * 1000;
  const args = [HOST, String(site.ports.udp), String(settings.count), String(deadlineMs), String(window)];
  const child = spawn(process.execPath, ['--expose-gc', '--import', TSX, here('./ours.ts'), ...args], {
    cwd: here('../..'),
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, BENCH_REGISTER_WARMUP: String(warmup) },
  });
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  // Only a child that hangs is killed, by its own PID: registering, draining and closing all have their own bounds.
  const killer = setTimeout(() => child.kill('SIGKILL'), 3 * deadlineMs + 60_000);
  const lines = new Lines(child);
  try {
    const registered = await lines.next<OursRegistered>('registering', exited);
    const siteDrops = udpDrops(site.ports.udp);
    const ourSockets = udpSockets(registered.localPort);
    const ourDrops = ourSockets.reduce((n, socket) => n + socket.drops, 0);
    const bindingsRegistered = (await site.ulStats()).contacts;
    const first = await site.ulLookup(userName(0));
    const firstBindingOurs = first.length === 1 && first[0]!.contact.includes(`:${registered.localPort}`);
    child.stdin!.end('close\n');
    let closed: OursClosed | undefined;
    let bindingsAfterClose: number | undefined;
    try {
      closed = await lines.next<OursClosed>('closing', exited);
      bindingsAfterClose = (await site.ulStats()).contacts;
    } catch (error) {
      progress(`register bench: ${message(error)}`);
    }
    const status = await exited;
    if (status !== 0) progress(`register bench: ours.ts exited with ${status}`);
    const seconds = registered.elapsedMs / 1000;
    return {
      round,
      label: oursLabel(settings, round),
      registered,
      closed,
      registrationsPerSec: registered.registered / seconds,
      transactionsPerSec: registered.registerTransactions / seconds,
      sendsPerSec: registered.registerSends / seconds,
      siteDrops,
      ourDrops,
      ourSockets,
      bindingsRegistered,
      firstBindingOurs,
      bindingsAfterClose,
      heapPerConnection: (registered.idle.heapUsed - registered.before.heapUsed) / registered.connections,
      rssPerConnection: (registered.idle.rss - registered.before.rss) / registered.connections,
    };
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

// ----- the part -----

/** Complete: every user registered; only complete runs give a rate to compare. */
const sippComplete = (settings: Settings) => (run: Outcome<SippRun>): run is SippRun =>
  !failed(run) && run.failed === 0 && run.successful === settings.count;
const oursComplete = (settings: Settings) => (run: Outcome<OursRun>): run is OursRun =>
  !failed(run) && run.registered.registered === run.registered.connections && run.registered.connections === settings.count;

/** The run with the most registrations/s; the earlier one on a tie. */
function fastest<T extends { readonly registrationsPerSec: number }>(runs: readonly T[]): T | undefined {
  return runs.reduce<T | undefined>((a, b) => (a === undefined || b.registrationsPerSec > a.registrationsPerSec ? b : a), undefined);
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A run that throws becomes an error row, and the part goes on. */
async function attempt<T>(what: string, where: Omit<RunError, 'error'>, body: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return await body();
  } catch (error) {
    progress(`register bench: ${what} failed: ${message(error)}`);
    return { ...where, error: message(error) };
  }
}

export async function run(): Promise<PartResult> {
  const started = performance.now();
  const settings = settingsFromEnv();
  const missing = kamailioMissing() ?? (commandExists('sipp') ? undefined : 'sipp is not installed (Debian package sip-tester)');
  if (missing !== undefined) {
    progress(`register bench: not run: ${missing}`);
    process.stdout.write(`Register benchmark: not run: ${missing}\n`);
    return { bench: 'register', error: missing };
  }
  const versions = {
    sipp: version('sipp', ['-v'], /SIPp v[\w.\-]+/),
    kamailio: version('kamailio', ['-v'], /kamailio \d[\w.\-]*/),
  };

  const csvDir = mkdtempSync(join(tmpdir(), 'bench-register-'));
  const csv = join(csvDir, 'users.csv');
  const rows = ['SEQUENTIAL'];
  for (let i = 0; i < settings.count; i++) rows.push(`${userName(i)};[authentication username=${userName(i)} password=${PASSWORD}]`);
  writeFileSync(csv, `${rows.join('\n')}\n`);

  let site: KamailioSite | undefined;
  const sipp: Array<Outcome<SippRun>> = [];
  const ours: Array<Outcome<OursRun>> = [];
  let windowed: Outcome<OursRun> | undefined;
  try {
    progress(`register bench: starting a Kamailio site on ${HOST} (MD5, ${settings.children} workers, ${SHM_MB} MB shm) ...`);
    site = await startSite({ name: 'bench-register', address: HOST, algorithm: 'MD5', children: settings.children, shmMb: SHM_MB, maxExpires: 3600 });
    const ready = site;

    for (let round = 1; round <= settings.rounds; round++) {
      // Round 1 finds SIPp's best limit; later rounds repeat it. Every limit again while no SIPp run is complete.
      const bestSoFar = fastest(sipp.filter(sippComplete(settings)));
      const limits = bestSoFar === undefined ? settings.sippLimits : [bestSoFar.limit];
      for (const limit of limits) {
        const what = `SIPp -l ${limit}, round ${round}/${settings.rounds}`;
        progress(`register bench: ${what}: register_load, ${settings.count} registrations ...`);
        const outcome = await attempt(what, { round, limit }, () => runSipp(ready, settings, limit, csv, round));
        if (!failed(outcome)) {
          progress(
            `register bench: ${what}: ${Math.round(outcome.registrationsPerSec)} registrations/s, ` +
              `${outcome.failed} failed, ${outcome.retransmissions} retransmissions`,
          );
        }
        sipp.push(outcome);
      }

      const what = `ours, all at once, round ${round}/${settings.rounds}`;
      progress(`register bench: ${what}: ${settings.count} connections (Phone.start()) ...`);
      const outcome = await attempt(what, { round }, () => runOurs(ready, settings, round));
      if (!failed(outcome)) {
        progress(
          `register bench: ${what}: ${Math.round(outcome.registrationsPerSec)} registrations/s, ` +
            `${outcome.registered.registered}/${outcome.registered.connections} registered, ${outcome.registered.retransmissions} retransmissions`,
        );
      }
      ours.push(outcome);
    }

    if (settings.warmup > 0 || settings.window > 0) {
      const what = oursLabel(settings, undefined);
      progress(`register bench: ${what} ...`);
      windowed = await attempt(what, {}, () => runOurs(ready, settings, undefined));
    }
  } finally {
    await stopAllSipp();
    await site?.dispose();
    rmSync(csvDir, { recursive: true, force: true });
  }

  const sippDone = sipp.filter(sippComplete(settings));
  const oursDone = ours.filter(oursComplete(settings));
  const sippBest = fastest(sippDone);
  const oursBest = fastest(oursDone);
  const medianOf = (runs: ReadonlyArray<{ readonly registrationsPerSec: number }>): Median | undefined => {
    const value = median(runs.map((r) => r.registrationsPerSec));
    return value === undefined ? undefined : { registrationsPerSec: value, runs: runs.length };
  };
  const results: Results = {
    settings,
    versions,
    sipp,
    ours,
    windowed,
    sippBest,
    oursBest,
    oursShown: oursBest ?? ours.find((r): r is OursRun => !failed(r)),
    sippMedian: sippBest === undefined ? undefined : medianOf(sippDone.filter((r) => r.limit === sippBest.limit)),
    oursMedian: medianOf(oursDone),
    elapsedS: (performance.now() - started) / 1000,
  };
  print(results);
  return summary(results);
}
