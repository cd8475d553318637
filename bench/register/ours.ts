/**
 * Our side of the register part, in a child process of its own
 * (`node --expose-gc --import tsx bench/register/ours.ts HOST PORT COUNT
 * [DEADLINE_MS [WINDOW]]`),
 * so that its heap holds nothing but one Phone and can be measured after gc.
 *
 * 1. gc, heap baseline (the SDK's modules are loaded already).
 * 2. Phone.create with COUNT connections (u00000.., password "secret", UDP,
 *    reregisterInSeconds 3600) to HOST:PORT.
 * 3. BENCH_REGISTER_WARMUP=N (the parent passes 3000 for measured runs, 0
 *    for the cold diagnostic): the same Phone first registers N other
 *    connections (users w0..) against a lab site in a child process, then
 *    removes them (they unregister) and waits until their transactions are
 *    gone (Timer K), so the measured connections run on a Phone whose code
 *    is warm, as in a long-running endpoint (see warmUp()).
 * 4. start() the COUNT connections all at once (WINDOW 0, the default), or,
 *    WINDOW > 0, enable WINDOW connections and the next one each time one is
 *    registered (closed loop, like SIPp's -l); time until every one is
 *    `registered` (or the deadline).
 * 5. Wait until no transaction is left (RFC 3261 Timer K keeps each
 *    completed UDP client transaction 5 s), gc, measure again: the memory
 *    of COUNT idle registered connections (with a warm-up, whatever the
 *    warm-up left behind counts too: the figure can only come out higher).
 * 6. Print {"stage":"registered",...} on stdout and wait for "close" on
 *    stdin (the parent reads the registrar's bindings meanwhile), then
 *    phone.close() (unregisters every connection), print
 *    {"stage":"closed",...} and exit.
 *
 * BENCH_REGISTER_CPU_PROFILE=FILE writes a V8 CPU profile of the
 * registration phase alone (start() to the last `registered`) to FILE
 * (open it in Chrome DevTools or VS Code).
 *
 * Transactions and retransmissions come from the Phone's transaction layer
 * (phone.transactions.counters(), before and after). REGISTER datagrams sent
 * and responses received, by status code, are counted through
 * phone.transport.onTrace: while registering, the hook only logs numbers;
 * they are read after the timed phase, so counting costs the run little and
 * keeps no message alive.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { Phone, type ConnectionStatus } from '../../src/sdk/index.ts';

export interface Memory {
  readonly heapUsed: number;
  readonly rss: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface OursRegistered {
  readonly stage: 'registered';
  readonly connections: number;
  /** 0: phone.start(), all at once; N: at most N connections registering at once. */
  readonly window: number;
  /** Connections registered against an in-process lab site before this run (BENCH_REGISTER_WARMUP). */
  readonly warmupConnections: number;
  readonly registered: number;
  /** Connections that ended `failed` or `unavailable` (last status), by status. */
  readonly notRegistered: Record<string, number>;
  readonly localPort: number;
  /** phone.start() to the last `registered` event (or to the deadline). */
  readonly elapsedMs: number;
  /** CPU time of this process (user + system) from start() to the last `registered`. */
  readonly cpuMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** ms after start() at which 50%, 90%, 99% and 100% of the connections were registered. */
  readonly registeredAtMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p100: number };
  /** REGISTER transactions (distinct branches) and datagrams sent (with retransmissions). */
  readonly registerTransactions: number;
  readonly registerSends: number;
  readonly retransmissions: number;
  /** Responses received, by status code. */
  readonly responses: Record<string, number>;
  /** Most REGISTER transactions outstanding at once (sent, no final response yet). */
  readonly peakOutstanding: number;
  readonly createMs: number;
  /** How long the completed transactions took to go (Timer K) before the idle measurement. */
  readonly drainMs: number;
  readonly transactionsLeft: number;
  readonly before: Memory;
  readonly idle: Memory;
}

export interface OursClosed {
  readonly stage: 'closed';
  readonly closeMs: number;
  readonly unregisterSends: number;
  readonly unregisterResponses: Record<string, number>;
}

const gc = (globalThis as { gc?: () => void }).gc;

function memory(): Memory {
  // Several passes: weak references and finalisers need more than one.
  for (let i = 0; i < 4; i++) gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** BENCH_REGISTER_CLOSE_TIMEOUT_MS: how long phone.close() may wait for the unregisters (default 60 s; the SDK's own default is 4 s). */
function closeTimeoutMs(): number {
  const raw = process.env['BENCH_REGISTER_CLOSE_TIMEOUT_MS'];
  const value = raw === undefined || raw === '' ? 60_000 : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`BENCH_REGISTER_CLOSE_TIMEOUT_MS must be a positive whole number, got ${JSON.stringify(raw)}`);
  return value;
}

/** BENCH_REGISTER_MAX_IN_FLIGHT: the Phone's maxRegistrationsInFlight (default: the SDK's). */
function maxInFlight(): { maxRegistrationsInFlight?: number } {
  const raw = process.env['BENCH_REGISTER_MAX_IN_FLIGHT'];
  if (raw === undefined || raw === '') return {};
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`BENCH_REGISTER_MAX_IN_FLIGHT must be a positive whole number, got ${JSON.stringify(raw)}`);
  return { maxRegistrationsInFlight: value };
}

/** BENCH_REGISTER_WARMUP: connections registered against an in-process lab site before the measured Phone (default 0). */
function warmupCount(): number {
  const raw = process.env['BENCH_REGISTER_WARMUP'];
  if (raw === undefined || raw === '') return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`BENCH_REGISTER_WARMUP must be a whole number >= 0, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Warms the JIT up in the measured Phone itself: `count` other connections
 * (users w0..) register against a lab site in a child process
 * (warm-up-site.ts; never the measured site), then are removed (each
 * unregisters); then we wait until their transactions are gone (Timer K: its
 * first firings are code paths too). Two earlier forms, measured worse:
 * - a separate warm-up Phone: once it was closed and collected, V8 threw
 *   away the optimized code that had inlined its objects ("weak objects"
 *   deopts) and the timed phase compiled the hot path again (~190 TurboFan
 *   jobs inside it instead of ~40);
 * - the lab site in this process: its server transactions left tens of MB
 *   of promoted garbage, which V8 collected inside the timed phase.
 */
async function warmUp(phone: Phone, firstId: number, count: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./warm-up-site.ts', import.meta.url)), String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the warm-up site did not listen within 20 s')), 20_000);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve(Number(line));
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the warm-up site exited (${code}) before it listened`)));
    });
    const ids = Array.from({ length: count }, (_, i) => firstId + i);
    let registered = 0;
    let allRegistered: () => void = () => {};
    const done = new Promise<void>((resolve) => (allRegistered = resolve));
    const onStatus = (event: { connectionId: number; status: ConnectionStatus }): void => {
      if (event.connectionId >= firstId && event.status === 'registered' && ++registered === count) allRegistered();
    };
    phone.connections.on('connectionStatusChanged', onStatus);
    for (const [i, id] of ids.entries()) {
      phone.connections.addConnection(id, { user: `w${i}`, server: { host: '127.0.0.1', port }, transport: 'udp', password: 'secret' });
    }
    const started = performance.now();
    for (const id of ids) phone.connections.enableConnection(id);
    await Promise.race([done, sleep(30_000)]);
    phone.connections.off('connectionStatusChanged', onStatus);
    log(`warm-up: ${registered}/${count} registered against a lab site in ${(performance.now() - started).toFixed(0)} ms`);
    // Removed connections unregister; drain() waits for those transactions too.
    for (const id of ids) phone.connections.removeConnection(id);
    await drain(phone);
  } finally {
    // Its close must not overlap the timed phase: wait for the exit (by its PID after 10 s).
    child.stdin!.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
}

/** Waits (at most 40 s) until the Phone holds no transaction. */
async function drain(phone: Phone): Promise<void> {
  const started = performance.now();
  while (phone.transactions.stats().transactions > 0 && performance.now() - started < 40_000) await sleep(100);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string): void => void process.stderr.write(`register bench (ours): ${line}\n`);
const user = (i: number): string => `u${String(i).padStart(5, '0')}`;

/** "REGISTER sip:..." -> true (bytes R E G). */
const isRegister = (bytes: Uint8Array): boolean => bytes[0] === 0x52 && bytes[1] === 0x45 && bytes[2] === 0x47;
/** "SIP/2.0 401 ..." -> 401, anything else -> 0. */
function statusOf(bytes: Uint8Array): number {
  if (bytes[0] !== 0x53 || bytes[1] !== 0x49 || bytes[2] !== 0x50 || bytes[3] !== 0x2f) return 0;
  return (bytes[8]! - 48) * 100 + (bytes[9]! - 48) * 10 + (bytes[10]! - 48);
}

async function main(): Promise<void> {
  const [host = '127.0.0.1', portText = '', countText = '10000', deadlineText = '60000', windowText = '0'] = process.argv.slice(2);
  const port = Number(portText);
  const count = Number(countText);
  const deadlineMs = Number(deadlineText);
  const window = Number(windowText);
  if (!Number.isInteger(port) || port < 1 || !Number.isInteger(count) || count < 1 || !Number.isInteger(window) || window < 0) {
    throw new Error('usage: ours.ts HOST PORT COUNT [DEADLINE_MS [WINDOW]]');
  }
  if (gc === undefined) throw new Error('run with node --expose-gc');

  const warmupConnections = warmupCount();
  const before = memory();

  const created = performance.now();
  const phone = await Phone.create(
    {
      connections: Array.from({ length: count }, (_, i) => ({
        user: user(i),
        server: { host, port },
        transport: 'udp' as const,
        password: 'secret',
        reregisterInSeconds: 3600,
      })),
    },
    { closeTimeoutMs: closeTimeoutMs(), ...maxInFlight() },
  );
  const createMs = performance.now() - created;
  const localPort = phone.transport.localEndpoint('udp').port;
  if (warmupConnections > 0) await warmUp(phone, count, warmupConnections);

  // What the trace sees while registering, in order, as numbers: SENT_REGISTER
  // out, response codes in; the log is read after the timed phase.
  const SENT_REGISTER = -1;
  let traceLog: number[] | undefined = [];
  let registerSends = 0;
  let responses: Record<string, number> = {};
  phone.transport.onTrace = (direction, _transport, _source, _destination, bytes) => {
    if (direction === 'out') {
      if (!isRegister(bytes)) return;
      registerSends++;
      traceLog?.push(SENT_REGISTER);
      return;
    }
    const status = statusOf(bytes);
    if (status === 0) return;
    responses[status] = (responses[status] ?? 0) + 1;
    traceLog?.push(status);
  };

  // Status of every connection and the time each was first registered.
  const status: ConnectionStatus[] = new Array<ConnectionStatus>(count).fill('disabled');
  const registeredAt: number[] = [];
  let allRegistered: (() => void) | undefined;
  let started = 0;
  let next = 0;
  const enableNext = (): void => {
    if (next < count) phone.connections.enableConnection(next++);
  };
  phone.connections.on('connectionStatusChanged', (event) => {
    if (event.connectionId >= count) return; // a warm-up connection
    status[event.connectionId] = event.status;
    if (event.status === 'registered' && event.previousStatus !== 'registered') {
      registeredAt.push(performance.now() - started);
      if (registeredAt.length === count) allRegistered?.();
      if (window > 0) enableNext();
    } else if (window > 0 && event.status === 'failed') {
      enableNext();
    }
  });

  log(`${count} connections to ${host}:${port} from 127.0.0.1:${localPort}; ${window === 0 ? 'all at once' : `at most ${window} registering at once`}`);
  const profileFile = process.env['BENCH_REGISTER_CPU_PROFILE'];
  const profiler = profileFile === undefined || profileFile === '' ? undefined : new Session();
  if (profiler !== undefined) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const countersBefore = phone.transactions.counters();
  const cpuStart = process.cpuUsage();
  started = performance.now();
  const done = new Promise<void>((resolve) => (allRegistered = resolve));
  if (window === 0) phone.start();
  else for (let i = 0; i < window; i++) enableNext();
  const deadline = sleep(deadlineMs);
  await Promise.race([done, deadline]);
  const elapsedMs = registeredAt.length === count ? registeredAt[count - 1]! : performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  // Transactions and retransmissions from the layer; the peak outstanding from the log.
  const countersAfter = phone.transactions.counters();
  const registerTransactions = countersAfter.clientTransactions - countersBefore.clientTransactions;
  const retransmissions = countersAfter.retransmissions - countersBefore.retransmissions;
  const entries = traceLog;
  traceLog = undefined;
  let outstanding = 0;
  let peakOutstanding = 0;
  for (const entry of entries) {
    if (entry === SENT_REGISTER) {
      if (++outstanding > peakOutstanding) peakOutstanding = outstanding;
    } else if (entry >= 200 && outstanding > 0) {
      // A final answer ends a transaction (retransmissions count as sends: with any, the peak is approximate).
      outstanding--;
    }
  }
  entries.length = 0;
  if (profiler !== undefined && profileFile !== undefined) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    profiler.disconnect();
    log(`CPU profile of the registration phase: ${profileFile}`);
  }
  log(`${registeredAt.length}/${count} registered in ${elapsedMs.toFixed(0)} ms (CPU ${cpuMs.toFixed(0)} ms)`);

  const notRegistered: Record<string, number> = {};
  for (const s of status) if (s !== 'registered') notRegistered[s] = (notRegistered[s] ?? 0) + 1;
  const at = (q: number): number => {
    if (registeredAt.length === 0) return NaN;
    const sorted = registeredAt; // pushed in time order
    return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * count) - 1)]!);
  };
  const registeredAtMs = { p50: at(0.5), p90: at(0.9), p99: at(0.99), p100: at(1) };

  // Idle: no transaction left (each completed UDP client transaction lingers Timer K = T4 = 5 s).
  const drainStart = performance.now();
  await drain(phone);
  const drainMs = performance.now() - drainStart;
  const transactionsLeft = phone.transactions.stats().transactions;
  const registeredSnapshot = {
    registerSends,
    registerTransactions,
    responses,
  };
  responses = {};
  const idle = memory();

  const result: OursRegistered = {
    stage: 'registered',
    connections: count,
    window,
    warmupConnections,
    registered: registeredAt.length,
    notRegistered,
    localPort,
    elapsedMs,
    cpuMs,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    registeredAtMs,
    registerTransactions: registeredSnapshot.registerTransactions,
    registerSends: registeredSnapshot.registerSends,
    retransmissions,
    responses: registeredSnapshot.responses,
    peakOutstanding,
    createMs,
    drainMs,
    transactionsLeft,
    before,
    idle,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);

  // The parent counts the bindings, then says "close".
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      if (line.trim() === 'close') resolve();
    });
    lines.on('close', () => resolve());
  });
  lines.close();

  const sendsBefore = registerSends;
  const closing = performance.now();
  await phone.close();
  const closed: OursClosed = {
    stage: 'closed',
    closeMs: performance.now() - closing,
    unregisterSends: registerSends - sendsBefore,
    unregisterResponses: responses,
  };
  log(`closed in ${closed.closeMs.toFixed(0)} ms (${closed.unregisterSends} unregister REGISTERs sent)`);
  process.stdout.write(`${JSON.stringify(closed)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`register bench (ours): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
