/**
 * One calls/s measurement of the calls part, in a child process of its own
 * (`node --import tsx bench/calls/load.ts DIRECTION PATH SECONDS WARMUP
 * CONCURRENCY [SITE_PORT USER]`), so that each figure starts from a fresh
 * heap and JIT like the SIPp processes it is compared with. Prints one JSON
 * line (a Figure). The SIPp processes it starts are stopped by PID before it
 * exits (and killed by the harness's exit hook if it dies).
 *
 * A call: INVITE (SDP) -> 100 -> 180 -> 200 (SDP) -> ACK -> BYE -> 200, no
 * hold time, over UDP on 127.0.0.1, RFC 3261 timers (T1 = 500 ms).
 *
 * Directions: sippToSipp (SIPp's caller, sipp-uac.xml, against SIPp's
 * callee, sipp-uas.xml: the reference), oursToSipp (our caller: DialogLayer
 * over TransactionLayer over SipTransportLayer, against the same SIPp
 * callee), sippToOurs (the same SIPp caller against our callee). PATH
 * `direct`, or `site`: through the Kamailio site listening on
 * 127.0.0.1:SITE_PORT (started by the part), the callee registered there as
 * USER before the run (its old bindings removed first).
 *
 * Closed loop: at most CONCURRENCY calls open, a new one as soon as one
 * ends (SIPp: -r far above what it can do, -l CONCURRENCY; ours: that many
 * callers each starting a new call when theirs ends). Rate: successful
 * calls in the window after the warm-up over its length, from SIPp's
 * -trace_stat rows (one a second) where SIPp is the caller, from our own
 * count where we are. CPU: each process's user + system time over the
 * window (ours from process.cpuUsage(), SIPp's from /proc/PID/stat).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { DialogUa } from '../../test/interop/harness/dialog-ua.ts';
import { startBareResponder } from './bare-responder.ts';
import { delay } from '../../test/interop/harness/process.ts';
import { startSipp, stopAllSipp, statTime, type Sipp, type SippResult } from '../../test/interop/harness/sipp.ts';
import { OfferAnswer, type IncomingInvite, type OutgoingInviteEvents, type SessionDialog } from '../../src/dialog/index.ts';
import type { Endpoint } from '../../src/transport/index.ts';

export type Direction = 'sippToSipp' | 'oursToSipp' | 'sippToOurs' | 'sippToBare';
export type Path = 'direct' | 'site';

export interface Figure {
  /** Successful calls per second in the window. */
  readonly callsPerSec: number;
  readonly windowSec: number;
  /** Calls that failed over the whole run (SIPp's count, or ours where we call). */
  readonly failed: number;
  /** Retransmissions the SIPp side(s) counted over the whole run. */
  readonly retransmissions: number;
  /** CPU milliseconds per second of window, per process: ours, sippUac, sippUas. */
  readonly cpu: Readonly<Record<string, number>>;
  /** Our CPU (user + system) per successful call in the window, µs; undefined when SIPp plays both sides. */
  readonly oursCpuPerCallUs: number | undefined;
  /** The first lines SIPp logged as errors (-trace_err), when any: why calls failed. */
  readonly sippErrors?: string;
}

/** The first few error lines of SIPp's logs, for a figure with failed calls. */
function sippErrors(...results: SippResult[]): { sippErrors?: string } {
  const text = results.map((result) => result.errors).filter((errors) => errors !== '').join('\n');
  return text === '' ? {} : { sippErrors: text.split('\n').slice(0, 14).join(' | ').slice(0, 1500) };
}

export interface LoadSettings {
  readonly seconds: number;
  readonly warmup: number;
  readonly concurrency: number;
}

const HOST = '127.0.0.1';
/** SIPp's -r: far above what one SIPp can do, so -l (the concurrency) is the limit. */
const SIPP_RATE = 1_000_000;
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const CLK_TCK = 100;

/** utime + stime of a process in ms (Linux /proc; 0 elsewhere). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

const ownCpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/**
 * BENCH_CALLS_CPU_PROFILE=FILE: a V8 CPU profile of our process over the
 * window only (not the start-up, not the warm-up), written to FILE.
 */
const PROFILE = process.env['BENCH_CALLS_CPU_PROFILE'];
let profiler: Session | undefined;

async function startProfile(): Promise<void> {
  if (PROFILE === undefined || PROFILE === '') return;
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  await profiler.post('Profiler.start');
}

async function stopProfile(): Promise<void> {
  if (profiler === undefined) return;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(PROFILE!, JSON.stringify(profile));
  profiler.disconnect();
  profiler = undefined;
}

/** CPU ms of each named process, read at the window's start and end (and our CPU profile, when asked for). */
class CpuMeter {
  readonly #readers: Record<string, () => number>;
  #start: Record<string, number> = {};
  #end: Record<string, number> = {};

  constructor(readers: Record<string, () => number>) {
    this.#readers = readers;
  }

  start(): void {
    if ('ours' in this.#readers) void startProfile();
    this.#start = this.#read();
  }

  stop(): void {
    this.#end = this.#read();
    if ('ours' in this.#readers) void stopProfile();
  }

  /** ms of CPU per second of `windowSec`, per process. */
  perSecond(windowSec: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of Object.keys(this.#readers)) out[name] = Math.round(((this.#end[name] ?? 0) - (this.#start[name] ?? 0)) / windowSec);
    return out;
  }

  used(name: string): number {
    return (this.#end[name] ?? 0) - (this.#start[name] ?? 0);
  }

  #read(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, read] of Object.entries(this.#readers)) out[name] = read();
    return out;
  }
}

/** Where the site is and who the callee is there. */
interface SiteTarget {
  readonly port: number;
  readonly user: string;
}

const siteHop = (site: SiteTarget): Endpoint => ({ transport: 'udp', host: HOST, port: site.port });

/** The callee's binding at the site: every old one of `user` removed, then `contact` registered. */
async function registerAt(site: SiteTarget, contact: string, via?: DialogUa): Promise<void> {
  const ua = via ?? (await DialogUa.start({ trace: false, record: false }));
  try {
    const registrar = siteHop(site);
    const cleared = await ua.register({ registrar, user: site.user, password: 'secret', contact: '*', expires: 0 });
    if (cleared !== 200) throw new Error(`REGISTER ${site.user} (Contact: *, Expires: 0): ${cleared}`);
    const status = await ua.register({ registrar, user: site.user, password: 'secret', contact, expires: 600 });
    if (status !== 200) throw new Error(`REGISTER ${site.user}: ${status}`);
  } finally {
    if (via === undefined) await ua.close();
  }
}

/**
 * Through a proxy with several workers a 180 can reach the caller after the
 * 200, and a BYE the callee before the ACK: SIPp then counts the message as
 * unexpected and goes on with the call, instead of aborting it (its default).
 */
const SIPP_BEHAVIOURS = ['-default_behaviors', 'all,-abortunexp'];

function sippUas(): Promise<Sipp> {
  return startSipp({ scenario: here('./sipp-uas.xml'), transport: 'udp', host: HOST, calls: 0, extraArgs: SIPP_BEHAVIOURS });
}

async function sippUac(remote: { host: string; port: number }, settings: LoadSettings, site: SiteTarget | undefined): Promise<Sipp> {
  return startSipp({
    scenario: here('./sipp-uac.xml'),
    transport: 'udp',
    host: HOST,
    remote,
    calls: 0,
    rate: SIPP_RATE,
    limit: settings.concurrency,
    statEverySec: 1,
    extraArgs: [...SIPP_BEHAVIOURS, ...(site === undefined ? [] : ['-s', site.user])],
  });
}

/** Rate from SIPp's -trace_stat rows: successful calls between the first row at or after the warm-up and the last row. */
function rateFromRows(rows: Array<Record<string, string>>, settings: LoadSettings): { callsPerSec: number; windowSec: number; calls: number } {
  if (rows.length < 2) throw new Error(`SIPp wrote ${rows.length} statistics rows`);
  const t0 = statTime(rows[0]!['CurrentTime']);
  const first = rows.find((row) => statTime(row['CurrentTime']) - t0 >= settings.warmup - 0.05) ?? rows[0]!;
  const last = rows[rows.length - 1]!;
  const windowSec = statTime(last['CurrentTime']) - statTime(first['CurrentTime']);
  if (!(windowSec > 0.5)) throw new Error(`SIPp's statistics cover ${windowSec} s only`);
  const calls = Number(last['SuccessfulCall(C)']) - Number(first['SuccessfulCall(C)']);
  return { callsPerSec: calls / windowSec, windowSec, calls };
}

const retransmissionsOf = (...results: SippResult[]): number =>
  results.reduce((n, result) => n + result.lines.reduce((m, line) => m + line.retransmissions, 0), 0);
const failedOf = (rows: Array<Record<string, string>>): number => Number(rows[rows.length - 1]?.['FailedCall(C)'] ?? 0);

/** Stops a SIPp that runs without -m (SIGTERM by PID) and reads its final screen. */
async function finish(sipp: Sipp): Promise<SippResult> {
  await sipp.stop();
  return sipp.exit(5000);
}

/**
 * Runs SIPp's caller for warm-up + window while `meter` reads CPU at the
 * window's edges (aligned to SIPp's one-second statistics rows as closely as
 * a timer can be).
 */
async function runSippCaller(uac: Sipp, settings: LoadSettings, meter: CpuMeter): Promise<{ rows: Array<Record<string, string>>; result: SippResult }> {
  await delay(settings.warmup * 1000);
  meter.start();
  await delay(settings.seconds * 1000 + 300);
  meter.stop();
  const rows = uac.statRows();
  return { rows, result: await finish(uac) };
}

async function sippToSipp(settings: LoadSettings, site: SiteTarget | undefined): Promise<Figure> {
  const uas = await sippUas();
  if (site !== undefined) await registerAt(site, `<sip:${site.user}@${uas.host}:${uas.port}>`);
  const remote = site === undefined ? { host: uas.host, port: uas.port } : siteHop(site);
  const uac = await sippUac(remote, settings, site);
  const meter = new CpuMeter({ sippUac: () => processCpuMs(uac.pid), sippUas: () => processCpuMs(uas.pid) });
  const { rows, result } = await runSippCaller(uac, settings, meter);
  const uasResult = await finish(uas);
  const rate = rateFromRows(rows, settings);
  return {
    callsPerSec: rate.callsPerSec,
    windowSec: rate.windowSec,
    failed: failedOf(rows),
    retransmissions: retransmissionsOf(result, uasResult),
    cpu: meter.perSecond(rate.windowSec),
    oursCpuPerCallUs: undefined,
    ...sippErrors(result, uasResult),
  };
}

/** Our callee: answers every INVITE with 100 (the transaction's own, at once), 180 and 200. */
async function ourCallee(): Promise<DialogUa> {
  // trying: 0 makes the INVITE server transaction send its 100 before the
  // dialog layer sees the INVITE; the callee then rings and answers at once,
  // so it sends what SIPp's does, when SIPp's does: 100, 180, 200, back to back.
  const ua = await DialogUa.start({ host: HOST, trace: false, record: false, timers: { trying: 0 } });
  const contact = ua.contact('udp');
  ua.dialogs.onInvite = (invite: IncomingInvite) => {
    invite.ring({ contact });
    invite.accept({ contact });
  };
  return ua;
}

/** SIPp's caller against a callee in this process (its CPU read as `callee`): one run's figure. */
async function sippCallerAgainst(callee: 'ours' | 'bare', remote: { host: string; port: number }, settings: LoadSettings, site: SiteTarget | undefined): Promise<Figure> {
  const uac = await sippUac(remote, settings, site);
  const meter = new CpuMeter({ [callee]: ownCpuMs, sippUac: () => processCpuMs(uac.pid) });
  const { rows, result } = await runSippCaller(uac, settings, meter);
  const rate = rateFromRows(rows, settings);
  return {
    callsPerSec: rate.callsPerSec,
    windowSec: rate.windowSec,
    failed: failedOf(rows),
    retransmissions: retransmissionsOf(result),
    cpu: meter.perSecond(rate.windowSec),
    oursCpuPerCallUs: rate.calls > 0 ? (meter.used(callee) * 1000) / rate.calls : undefined,
    ...sippErrors(result),
  };
}

async function sippToOurs(settings: LoadSettings, site: SiteTarget | undefined): Promise<Figure> {
  const ua = await ourCallee();
  try {
    if (site !== undefined) await registerAt(site, ua.contact('udp', site.user), ua);
    return await sippCallerAgainst('ours', site === undefined ? ua.endpoint('udp') : siteHop(site), settings, site);
  } finally {
    await ua.close();
  }
}

/** SIPp's caller against a UDP responder with no SIP stack (bare-responder.ts): Node's ceiling on this machine; direct only. */
async function sippToBare(settings: LoadSettings, site: SiteTarget | undefined): Promise<Figure> {
  if (site !== undefined) throw new Error('the bare responder is measured directly only (it cannot register)');
  const bare = await startBareResponder(HOST);
  try {
    return await sippCallerAgainst('bare', { host: bare.host, port: bare.port }, settings, undefined);
  } finally {
    await bare.close();
  }
}

async function oursToSipp(settings: LoadSettings, site: SiteTarget | undefined): Promise<Figure> {
  const uas = await sippUas();
  const ua = await DialogUa.start({ host: HOST, trace: false, record: false });
  try {
    if (site !== undefined) await registerAt(site, `<sip:${site.user}@${uas.host}:${uas.port}>`);
    const nextHop: Endpoint = site === undefined ? { transport: 'udp', host: uas.host, port: uas.port } : siteHop(site);
    const requestUri = site === undefined ? `sip:service@${uas.host}:${uas.port}` : `sip:${site.user}@${HOST}:${site.port}`;
    const local = ua.endpoint('udp');
    const from = `<sip:bench@${local.host}:${local.port}>`;
    const to = `<${requestUri}>`;
    const contact = ua.contact('udp');
    let rtpPort = 20_000;
    let running = true;
    let done = 0;
    let failed = 0;
    let open = 0;
    let allEnded: (() => void) | undefined;
    const options = { requestUri, from, to, contact, nextHop };
    /**
     * One caller: a call at a time, answered, BYE at once, then the next.
     * Its methods are the call's events (one object per caller, not closures
     * and a promise per call), as lean as SIPp's scenario loop.
     */
    class Caller implements OutgoingInviteEvents {
      start(): void {
        if (!running) {
          if (--open === 0) allEnded?.();
          return;
        }
        rtpPort = rtpPort >= 60_000 ? 20_000 : rtpPort + 2;
        const media = new OfferAnswer({ local: { address: HOST, port: rtpPort }, random: ua.random });
        try {
          ua.dialogs.invite({ ...options, media }, this);
        } catch {
          this.onFailed();
        }
      }

      readonly #restart = (): void => this.start();

      onAnswered(session: SessionDialog): void {
        void session.bye().then(this.#afterBye);
      }

      onFailed(): void {
        failed++;
        // On a later turn: a failure can come inside invite() itself.
        setImmediate(this.#restart);
      }

      readonly #afterBye = (result: { status: number }): void => {
        if (result.status === 200) done++;
        else failed++;
        this.start();
      };
    }
    for (let i = 0; i < settings.concurrency; i++) {
      open++;
      new Caller().start();
    }
    const meter = new CpuMeter({ ours: ownCpuMs, sippUas: () => processCpuMs(uas.pid) });
    await delay(settings.warmup * 1000);
    const start = { at: performance.now(), done };
    meter.start();
    await delay(settings.seconds * 1000);
    meter.stop();
    const end = { at: performance.now(), done };
    running = false;
    // Calls in flight end at once unless something timed out (Timer B/F is 32 s): do not wait for that.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      allEnded = resolve;
      timer = setTimeout(resolve, 3000);
    });
    clearTimeout(timer);
    const uasResult = await finish(uas);
    const windowSec = (end.at - start.at) / 1000;
    const calls = end.done - start.done;
    return {
      callsPerSec: calls / windowSec,
      windowSec,
      failed,
      retransmissions: retransmissionsOf(uasResult),
      cpu: meter.perSecond(windowSec),
      oursCpuPerCallUs: calls > 0 ? (meter.used('ours') * 1000) / calls : undefined,
      ...sippErrors(uasResult),
    };
  } finally {
    await ua.close();
  }
}

const RUNNERS: Record<Direction, (settings: LoadSettings, site: SiteTarget | undefined) => Promise<Figure>> = { sippToSipp, oursToSipp, sippToOurs, sippToBare };

// Stopped from outside (the part's time limit): stop our SIPp processes by PID first.
process.once('SIGTERM', () => {
  void stopAllSipp().finally(() => process.exit(1));
});

async function main(): Promise<void> {
  const [direction, path, seconds, warmup, concurrency, sitePort, user] = process.argv.slice(2);
  const runner = RUNNERS[direction as Direction];
  if (runner === undefined || (path !== 'direct' && path !== 'site') || (path === 'site' && (sitePort === undefined || user === undefined))) {
    throw new Error('usage: load.ts sippToSipp|oursToSipp|sippToOurs|sippToBare direct|site SECONDS WARMUP CONCURRENCY [SITE_PORT USER]');
  }
  const site = path === 'site' ? { port: Number(sitePort), user: user! } : undefined;
  try {
    const figure = await runner({ seconds: Number(seconds), warmup: Number(warmup), concurrency: Number(concurrency) }, site);
    process.stdout.write(`${JSON.stringify(figure)}\n`);
  } finally {
    await stopAllSipp();
  }
}

await main();
