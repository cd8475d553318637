/**
 * SIPp under the interop harness: one SIPp process per call of startSipp(),
 * in the foreground (never -bg: we keep its PID) under process.ts, which
 * stops it by that PID (stopAllSipp() in an after hook), on loopback
 * only, with ports probed free, its control socket on loopback too, and its
 * files (message trace, error log, statistics) in a temporary folder of its
 * own. The project's scenarios live in test/interop/sipp/. A missing sipp
 * is an error that says how to install it (tests fail, never skip).
 *
 * What a test reads back:
 * - exit(): SIPp's exit status (0: every call succeeded, 1: at least one
 *   failed, 97: stopped by -timeout or an internal command, 99: no call, 255
 *   or negative: fatal) with its final counters (successful/failed calls and,
 *   per scenario line, messages, retransmissions, timeouts, unexpected);
 * - messages(): every SIP message SIPp logged with -trace_msg, with its
 *   microsecond timestamp (SIPp flushes the log per message, so a test can
 *   wait for "SIPp has received the INVITE");
 * - statRows(): the -trace_stat CSV rows (the benchmark's rates).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandExists, delay, startPeer, type PeerProcess } from './process.ts';

/** The project's SIPp scenarios. */
export const SCENARIO_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../sipp');

const INSTALL_HINT =
  'SIPp is not installed (command "sipp" not found). Install the Debian package sip-tester ' +
  '(`apt-get install sip-tester`, or `bash ../shared/peers/install.sh`); .ci/run installs it.';

/** Throws a clear error when sipp is missing: interop tests fail, they are never skipped. */
export function requireSipp(): void {
  if (!commandExists('sipp')) throw new Error(INSTALL_HINT);
}

export type SippTransport = 'udp' | 'tcp';

export interface SippOptions {
  /** A file name in test/interop/sipp/ or a path. */
  readonly scenario: string;
  readonly transport: SippTransport;
  /** Loopback address SIPp binds and advertises; 127.0.0.1 by default. */
  readonly host?: string;
  /** SIPp's SIP port; a free one is probed when absent. */
  readonly port?: number;
  /** UAC: where the calls go ("host:port"). */
  readonly remote?: { readonly host: string; readonly port: number };
  /** -m: stop after this many calls (1 by default; 0 = no limit). */
  readonly calls?: number;
  /** -r: calls per second (per ratePeriodMs). */
  readonly rate?: number;
  readonly ratePeriodMs?: number;
  /** -l: most calls open at once. */
  readonly limit?: number;
  /** -d: length of a <pause/> without milliseconds. */
  readonly pauseMs?: number;
  /** -timeout N -timeout_error: SIPp gives up (and fails) after this long; a safety net for tests. */
  readonly timeoutSec?: number;
  /** -trace_msg into the work folder. */
  readonly traceMessages?: boolean;
  /** -trace_stat -fd N into the work folder (the benchmark's rate source). */
  readonly statEverySec?: number;
  /** Anything else, appended as given. */
  readonly extraArgs?: readonly string[];
}

export interface SippLine {
  /** "INVITE", "200", "Pause", ... as SIPp prints it. */
  readonly label: string;
  readonly direction: 'in' | 'out' | 'none';
  readonly messages: number;
  readonly retransmissions: number;
  readonly timeouts: number;
  readonly unexpected: number;
}

export interface SippResult {
  /** Exit status, or the signal name when killed. */
  readonly status: number | string;
  readonly successful: number | undefined;
  readonly failed: number | undefined;
  /** The scenario lines of SIPp's last screen. */
  readonly lines: readonly SippLine[];
  /** Errors SIPp logged (-trace_err), empty when none. */
  readonly errors: string;
  readonly output: string;
}

export interface TracedMessage {
  /** Epoch milliseconds with microsecond precision, as SIPp logged it. */
  readonly at: number;
  readonly direction: 'in' | 'out';
  readonly transport: string;
  /** "INVITE sip:... SIP/2.0" or "SIP/2.0 200 OK". */
  readonly startLine: string;
  readonly text: string;
}

export interface Sipp {
  readonly peer: PeerProcess;
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly transport: SippTransport;
  readonly workDir: string;
  /** Waits for SIPp to exit (fails the test after timeoutMs) and reads its counters. */
  exit(timeoutMs?: number): Promise<SippResult>;
  /** Messages of the -trace_msg log so far. */
  messages(): TracedMessage[];
  /** Waits until the message log holds a message matching `predicate`. */
  waitForMessage(what: string, predicate: (message: TracedMessage) => boolean, timeoutMs?: number): Promise<TracedMessage>;
  /** Rows of the -trace_stat CSV so far, as column -> value. */
  statRows(): Array<Record<string, string>>;
  /** SIGKILL by PID, now (the transport-error tests); resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGTERM then SIGKILL by PID (process.ts). */
  stop(): Promise<void>;
}

const workDirs = new Set<string>();
const started = new Set<Sipp>();

/**
 * A port free for both UDP and TCP on `host` (SIPp listens on one, our stack
 * shares its port number between both). The probe sockets are closed before
 * SIPp binds; the window is tiny and the OS hands out ephemeral ports in a
 * rotating order, so a clash is not expected.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = createServer();
    const port = await new Promise<number>((resolvePort, reject) => {
      server.once('error', reject);
      server.listen({ host, port: 0, exclusive: true }, () => resolvePort((server.address() as { port: number }).port));
    });
    const udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const udpOk = await new Promise<boolean>((done) => {
      udp.once('error', () => done(false));
      udp.bind({ address: host, port, exclusive: true }, () => done(true));
    });
    await new Promise<void>((done) => server.close(() => done()));
    await new Promise<void>((done) => {
      try {
        udp.close(() => done());
      } catch {
        done();
      }
    });
    if (udpOk) return port;
  }
  throw new Error(`no port free for both UDP and TCP on ${host}`);
}

/** Starts SIPp; a UAS (no `remote`) is returned once its SIP socket is bound. */
export async function startSipp(options: SippOptions): Promise<Sipp> {
  requireSipp();
  const host = options.host ?? '127.0.0.1';
  if (!/^127\.|^::1$/.test(host)) throw new Error(`SIPp only runs on loopback here, not ${host}`);
  const port = options.port ?? (await freePort(host));
  const controlPort = await freePort(host);
  const workDir = mkdtempSync(join(tmpdir(), 'sipp-interop-'));
  workDirs.add(workDir);
  const scenario = options.scenario.includes('/') ? resolve(options.scenario) : join(SCENARIO_DIR, options.scenario);
  if (!existsSync(scenario)) throw new Error(`no SIPp scenario ${scenario}`);
  const args = [
    '-sf', scenario,
    '-t', options.transport === 'udp' ? 'u1' : 't1',
    '-i', host,
    '-p', String(port),
    '-mi', host,
    '-ci', host,
    '-cp', String(controlPort),
    '-nostdin',
    '-trace_err', '-error_file', join(workDir, 'errors.log'),
  ];
  const calls = options.calls ?? 1;
  if (calls > 0) args.push('-m', String(calls));
  if (options.rate !== undefined) args.push('-r', String(options.rate));
  if (options.ratePeriodMs !== undefined) args.push('-rp', String(options.ratePeriodMs));
  if (options.limit !== undefined) args.push('-l', String(options.limit));
  if (options.pauseMs !== undefined) args.push('-d', String(options.pauseMs));
  if (options.timeoutSec !== undefined) args.push('-timeout', `${options.timeoutSec}s`, '-timeout_error');
  if (options.traceMessages) args.push('-trace_msg', '-message_file', join(workDir, 'messages.log'));
  if (options.statEverySec !== undefined) args.push('-trace_stat', '-stf', join(workDir, 'stats.csv'), '-fd', String(options.statEverySec));
  args.push(...(options.extraArgs ?? []));
  if (options.remote !== undefined) {
    const remoteHost = options.remote.host.includes(':') ? `[${options.remote.host}]` : options.remote.host;
    args.push(`${remoteHost}:${options.remote.port}`);
  }
  const peer = await startPeer(`sipp ${options.scenario} (${options.transport})`, 'sipp', args, { cwd: workDir });
  const sipp = makeSipp(peer, host, port, options.transport, workDir);
  started.add(sipp);
  if (options.remote === undefined) await waitBound(sipp, options.transport, host, port);
  return sipp;
}

/**
 * Stops every SIPp this harness started and is still running, each by its
 * PID (process.ts: SIGTERM, SIGKILL after a grace period), then removes the
 * work folders (kept with KEEP_SIPP_LOGS=1). For after()/after.each() hooks:
 * it runs when a test fails too. Peers of other suites (Kamailio sites) are
 * left alone; process.ts still kills everything when the process exits.
 */
export async function stopAllSipp(): Promise<void> {
  const mine = [...started];
  started.clear();
  await Promise.all(mine.map((sipp) => sipp.stop()));
  if (process.env['KEEP_SIPP_LOGS'] === undefined) for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
  workDirs.clear();
}

function makeSipp(peer: PeerProcess, host: string, port: number, transport: SippTransport, workDir: string): Sipp {
  const read = (name: string): string => {
    try {
      return readFileSync(join(workDir, name), 'latin1');
    } catch {
      return '';
    }
  };
  const sipp: Sipp = {
    peer,
    pid: peer.pid,
    host,
    port,
    transport,
    workDir,
    async exit(timeoutMs = 30_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const status = await Promise.race([peer.exited, new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), timeoutMs)))]);
      clearTimeout(timer);
      if (status === undefined) {
        await peer.stop();
        throw new Error(`${peer.name} still running after ${timeoutMs} ms:\n${peer.output().slice(-3000)}\n${read('errors.log')}`);
      }
      return readResult(status, peer.output(), read('errors.log'));
    },
    messages: () => parseMessageLog(read('messages.log')),
    async waitForMessage(what, predicate, timeoutMs = 5000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const found = sipp.messages().find(predicate);
        if (found !== undefined) return found;
        if (performance.now() > deadline) throw new Error(`${peer.name}: no ${what} in its message log after ${timeoutMs} ms`);
        if (peer.child.exitCode !== null || peer.child.signalCode !== null) throw new Error(`${peer.name} exited before ${what}:\n${peer.output().slice(-2000)}`);
        await delay(1);
      }
    },
    statRows: () => parseStatCsv(read('stats.csv')),
    async kill() {
      try {
        process.kill(peer.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await peer.exited;
      await peer.stop(); // forgets it in process.ts (it is gone already)
    },
    async stop() {
      // SIGTERM by PID and wait for the exit here, with a timer we clear:
      // process.ts's stop() leaves its 2 s grace timer running, which keeps
      // a process that is otherwise done alive for 2 s. Its stop() then only
      // forgets the peer (or SIGKILLs one that ignored SIGTERM).
      if (peer.child.exitCode === null && peer.child.signalCode === null) {
        try {
          process.kill(peer.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([peer.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
        clearTimeout(timer);
      }
      await peer.stop();
    },
  };
  return sipp;
}

/** Waits until SIPp's socket is bound (read from /proc/net, so nothing of ours touches the port). */
async function waitBound(sipp: Sipp, transport: SippTransport, host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const v6 = host.includes(':');
  const files = [`/proc/net/${transport}${v6 ? '6' : ''}`];
  if (!existsSync(files[0]!)) {
    // Not Linux: give SIPp a moment instead.
    await delay(500);
    return;
  }
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  // UDP sockets show state 07 (unconnected), a listening TCP socket 0A.
  const state = transport === 'udp' ? '07' : '0A';
  for (;;) {
    const table = readFileSync(files[0]!, 'latin1').split('\n');
    if (table.some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[1]?.endsWith(portHex) === true && cols[3] === state;
    })) return;
    if (sipp.peer.child.exitCode !== null || sipp.peer.child.signalCode !== null) {
      throw new Error(`${sipp.peer.name} exited at start (${await sipp.peer.exited}):\n${sipp.peer.output().slice(-2000)}`);
    }
    if (performance.now() > deadline) {
      await sipp.stop();
      throw new Error(`${sipp.peer.name}: port ${port}/${transport} not bound after ${timeoutMs} ms:\n${sipp.peer.output().slice(-2000)}`);
    }
    await delay(10);
  }
}

/** SIPp's last screens: the final counters and the scenario table. */
function readResult(status: number | string, output: string, errors: string): SippResult {
  const cumulative = (name: string): number | undefined => {
    const matches = [...output.matchAll(new RegExp(`^\\s*${name}\\s*\\|[^|]*\\|\\s*(\\d+)`, 'gm'))];
    const last = matches[matches.length - 1];
    return last === undefined ? undefined : Number(last[1]);
  };
  // The scenario table of the last "Scenario Screen": UAS lines read
  // "  ----------> INVITE  msgs retrans timeout unexpected", UAC lines
  // "      INVITE ---------->  msgs retrans timeout unexpected"; pauses
  // "  [   4000ms] Pause  count ... ".
  const screens = output.split('Scenario Screen');
  const screen = screens[screens.length - 1] ?? '';
  const lines: SippLine[] = [];
  for (const raw of screen.split('\n')) {
    if (raw.includes('Test Terminated') || raw.includes('Statistics Screen')) break;
    const arrow = /^\s*(?:(-+>|<-+)\s+(\S+)|(\S+)\s+(-+>|<-+))\s+(?:[EB]-RTD\d+\s+)?(\d+)\s+(\d+)(?:\s+(\d+))?(?:\s+(\d+))?/.exec(raw);
    if (arrow !== null) {
      const sign = arrow[1] ?? arrow[4] ?? '';
      const label = arrow[2] ?? arrow[3] ?? '';
      // "---------->" is a message SIPp receives on the UAS side (arrow before
      // the label) and one SIPp sends on the UAC side (arrow after the label).
      const received = arrow[1] !== undefined ? sign.endsWith('>') : sign.startsWith('<');
      lines.push({
        label,
        direction: received ? 'in' : 'out',
        messages: Number(arrow[5]),
        retransmissions: Number(arrow[6]),
        timeouts: Number(arrow[7] ?? 0),
        unexpected: Number(arrow[8] ?? 0),
      });
      continue;
    }
    const pause = /^\s*\[\s*(\d+)ms\]\s+Pause\s+(\d+)/.exec(raw);
    if (pause !== null) lines.push({ label: 'Pause', direction: 'none', messages: Number(pause[2]), retransmissions: 0, timeouts: 0, unexpected: 0 });
  }
  const errorText = errors.replace(/^The following events occurred:\s*/, '').trim();
  return { status, successful: cumulative('Successful call'), failed: cumulative('Failed call'), lines, errors: errorText, output };
}

/**
 * -trace_msg format: a line of dashes with "YYYY-MM-DD HH:MM:SS.uuuuuu",
 * then "UDP message received [N] bytes :" or "TCP message sent (N bytes):",
 * a blank line, and the message.
 */
function parseMessageLog(log: string): TracedMessage[] {
  const out: TracedMessage[] = [];
  const blocks = log.split(/^-{10,} /m).slice(1);
  for (const block of blocks) {
    const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})\r?\n(\w+) message (received|sent)[^\n]*\n\r?\n([\s\S]*)$/.exec(block);
    if (match === null) continue;
    const [, date, hh, mm, ss, micros, transport, verb, text] = match as unknown as string[];
    const at = new Date(`${date}T${hh}:${mm}:${ss}`).getTime() + Number(micros) / 1000;
    const startLine = (text ?? '').split(/\r?\n/, 1)[0] ?? '';
    out.push({ at, direction: verb === 'received' ? 'in' : 'out', transport: transport ?? '', startLine, text: text ?? '' });
  }
  return out;
}

function parseStatCsv(csv: string): Array<Record<string, string>> {
  const rows = csv.split('\n').filter((line) => line.trim() !== '');
  const header = rows.shift()?.split(';') ?? [];
  return rows
    .map((line) => line.split(';'))
    .filter((cells) => cells.length >= header.length - 1)
    .map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])));
}

/** Epoch seconds of a -trace_stat time cell ("2026-01-01\t12:00:00.123456\t1767268800.123456"). */
export function statTime(cell: string | undefined): number {
  const epoch = (cell ?? '').split('\t').pop() ?? '';
  return Number(epoch);
}
