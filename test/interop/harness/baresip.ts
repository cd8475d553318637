/**
 * baresip (Debian package `baresip`, 1.0), a real softphone, as a peer of
 * the interop tests: one process per startBaresip(), in the foreground (we
 * keep its PID), from a config folder generated in a temp dir, on loopback
 * only, stopped by that PID.
 *
 * What the Debian build offers and what works headless (found by trying):
 * - Control: the `ctrl_tcp` module. Commands go as netstrings holding JSON
 *   `{"command":"dial","params":"sip:...","token":"7"}`; the answer comes
 *   back as `{"response":true,"ok":true,"data":"...","token":"7"}`, and every
 *   UA event as `{"event":true,"type":"CALL_ESTABLISHED","accountaor":...,
 *   "direction":"incoming"|"outgoing","peeruri":...,"id":CALL-ID,"param":...}`
 *   (REGISTER_OK, CALL_INCOMING, CALL_RINGING, CALL_ESTABLISHED,
 *   CALL_DTMF_START with the digit, CALL_CLOSED with the reason, ...). The
 *   menu module's commands are the ones of its help: `dial URI`, `hangup`,
 *   `accept`, `hold`, `resume`, `uafind AOR` (the current account: the one
 *   the next dial, hangup, hold, answermode and listcalls act on),
 *   `uanew ACCOUNT-LINE`, `answermode auto|manual`, `listcalls`,
 *   `reginfo`, `quit`. stdin is not used (baresip would need a terminal).
 * - Accounts are created with `uanew` once the control connection is up, so
 *   that their REGISTER_OK events are not missed, with answermode=manual:
 *   the harness accepts each incoming call (`accept`) a little later (see
 *   answerAfterMs), or leaves it ringing.
 * - Audio: no audio module at all. Calls set up, hold and resume without
 *   one ("(src) ---> PCMU"). aufile with a WAV works too, but baresip hangs
 *   up when the file ends ("audio error (0,end of file)").
 * - `net_interface 127.0.0.1` makes baresip put 127.0.0.1 in its SDP and
 *   Contact (without it, the address of eth0; `net_interface lo` fails).
 *   `sip_listen` binds UDP and TCP on the port and TLS on port + 1, so all
 *   three are probed free. libre's DNS client still opens two wildcard UDP
 *   sockets on ephemeral ports that no setting removes; nothing is sent on
 *   them (every URI here has an IP address).
 * - `-s` prints the SIP trace on stdout: output() keeps it.
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandExists, delay, startPeer, type PeerProcess } from './process.ts';
import { EventLog } from '../../integration/event-log.ts';

export interface BaresipAccount {
  /** User and password at the site. */
  readonly user: string;
  readonly password: string;
  /** The site: its URI host (127.x.y.z) and port. */
  readonly host: string;
  readonly port: number;
  readonly transport?: 'udp' | 'tcp';
  /**
   * Incoming calls: accepted by the harness this many ms after they ring
   * (default 100; baresip's own answermode=auto sends its 180 and 200 back
   * to back, and a site with two workers may relay the 200 first, so the
   * caller would see no ringing), or left ringing (null).
   */
  readonly answerAfterMs?: number | null;
}

export interface BaresipOptions {
  readonly name?: string;
  /** Loopback address for SIP and the control socket; 127.0.0.1 by default. */
  readonly host?: string;
  readonly accounts: readonly BaresipAccount[];
  /** How long start-up and registration may take. Default 10 s. */
  readonly startTimeoutMs?: number;
}

export interface BaresipEvent {
  readonly type: string;
  readonly class?: string;
  /** The account, e.g. "sip:1002@127.0.0.1:5070". */
  readonly accountaor?: string;
  readonly direction?: 'incoming' | 'outgoing';
  readonly peeruri?: string;
  /** The call's Call-ID. */
  readonly id?: string;
  readonly param?: string;
  /** performance.now() when it came. */
  readonly at: number;
}

export interface BaresipReply {
  readonly ok: boolean;
  readonly data: string;
}

export interface Baresip {
  readonly pid: number;
  readonly host: string;
  /** SIP port (UDP and TCP; TLS on port + 1). */
  readonly port: number;
  readonly controlPort: number;
  readonly dir: string;
  /** The AOR of each account, in the order given: "sip:USER@HOST:PORT". */
  readonly aors: readonly string[];
  /** Every UA event so far. */
  readonly events: readonly BaresipEvent[];
  /** Sends one command over ctrl_tcp and waits for its answer. */
  command(command: string, params?: string): Promise<BaresipReply>;
  /** `uafind aor`, then the command, with no other command between them; rejects when baresip refuses it. */
  on(aor: string, command: string, params?: string): Promise<BaresipReply>;
  /**
   * From now on, the incoming calls of account `aor` are accepted by the
   * harness after `afterMs`, left ringing (null), or answered by baresip
   * itself ('at-once': answermode=auto, its 180 and 200 back to back).
   */
  answer(aor: string, afterMs: number | null | 'at-once'): Promise<void>;
  /** The first event (from index `since`) that matches, waiting at most `timeoutMs`. */
  waitEvent(label: string, match: (event: BaresipEvent) => boolean, timeoutMs?: number, since?: number): Promise<BaresipEvent>;
  /** Dials `uri` from account `aor`. */
  dial(aor: string, uri: string): Promise<void>;
  /** The live calls of each account (`listcalls` lists the current account's only). */
  activeCalls(): Promise<Record<string, number>>;
  /** stdout + stderr so far (with the SIP trace). */
  output(): string;
  /** `quit` over the control socket, then SIGTERM and SIGKILL by PID if it lingers. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'baresip is not installed: apt-get install -y baresip (Debian package; .ci/run installs it)';
const MODULE_DIR = '/usr/lib/baresip/modules';

/** Why baresip cannot be used here, or undefined when it can. */
export function baresipMissing(): string | undefined {
  if (!commandExists('baresip')) return INSTALL_HINT;
  const missing = ['ctrl_tcp.so', 'menu.so', 'account.so', 'g711.so'].filter((m) => spawnSync('test', ['-f', join(MODULE_DIR, m)]).status !== 0);
  if (missing.length > 0) return `baresip modules missing in ${MODULE_DIR}: ${missing.join(', ')}; ${INSTALL_HINT}`;
  return undefined;
}

const started = new Set<BaresipImpl>();

export async function startBaresip(options: BaresipOptions): Promise<Baresip> {
  const missing = baresipMissing();
  if (missing !== undefined) throw new Error(missing);
  const host = options.host ?? '127.0.0.1';
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`baresip only runs on loopback IPv4 here, not ${host}`);
  const port = await freeSipPort(host);
  const controlPort = await freeTcpPort(host, new Set([port, port + 1]));
  const dir = mkdtempSync(join(tmpdir(), `baresip-${options.name ?? 'peer'}-`));
  writeFileSync(
    join(dir, 'config'),
    [
      `sip_listen\t\t${host}:${port}`,
      `net_interface\t\t${host}`,
      `module_path\t\t${MODULE_DIR}`,
      'module\t\t\tg711.so',
      'module_app\t\taccount.so',
      'module_app\t\tmenu.so',
      'module_app\t\tctrl_tcp.so',
      `ctrl_tcp_listen\t\t${host}:${controlPort}`,
      'statmode_default\toff',
      'call_max_calls\t\t4',
      '',
    ].join('\n'),
  );
  // Accounts come with uanew once we listen to the events.
  writeFileSync(join(dir, 'accounts'), '');
  const peer = await startPeer(`baresip ${options.name ?? ''}`.trim(), 'baresip', ['-f', dir, '-s'], { cwd: dir, ready: /baresip is ready/, readyTimeoutMs: options.startTimeoutMs ?? 10_000 });
  const impl = new BaresipImpl(peer, host, port, controlPort, dir, options.accounts);
  started.add(impl);
  try {
    await impl.connect(options.startTimeoutMs ?? 10_000);
    await impl.addAccounts(options.startTimeoutMs ?? 10_000);
  } catch (error) {
    await impl.stop();
    throw error;
  }
  return impl;
}

/** Stops every baresip started here (for after() hooks), by PID. */
export async function stopAllBaresip(): Promise<void> {
  await Promise.all([...started].map((b) => b.stop()));
}

class BaresipImpl implements Baresip {
  readonly #log = new EventLog<BaresipEvent>((seen) => seen.map((e) => `${e.type}${e.param ? `(${e.param})` : ''}`).join(', '));
  readonly events: readonly BaresipEvent[] = this.#log.entries;
  readonly aors: string[];
  readonly #peer: PeerProcess;
  readonly #accounts: readonly BaresipAccount[];
  readonly #pending = new Map<string, (reply: BaresipReply) => void>();
  /** Account AOR -> ms after which its incoming calls are accepted (null: they ring). */
  readonly #answerAfter = new Map<string, number | null>();
  /** The tail of the uafind + command pairs (one at a time). */
  #lock: Promise<unknown> = Promise.resolve();
  readonly #timers = new Set<NodeJS.Timeout>();
  #socket: Socket | undefined;
  #buffer = '';
  #token = 0;
  #stopped = false;

  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly controlPort: number;
  readonly dir: string;

  constructor(peer: PeerProcess, host: string, port: number, controlPort: number, dir: string, accounts: readonly BaresipAccount[]) {
    this.#peer = peer;
    this.pid = peer.pid;
    this.host = host;
    this.port = port;
    this.controlPort = controlPort;
    this.dir = dir;
    this.#accounts = accounts;
    this.aors = accounts.map((a) => `sip:${a.user}@${a.host}:${a.port}`);
  }

  output(): string {
    return this.#peer.output();
  }

  async connect(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        this.#socket = await new Promise<Socket>((resolve, reject) => {
          const socket = connect({ host: this.host, port: this.controlPort });
          socket.once('connect', () => resolve(socket));
          socket.once('error', reject);
        });
        break;
      } catch (error) {
        if (performance.now() > deadline) throw new Error(`baresip control socket ${this.host}:${this.controlPort}: ${(error as Error).message}\n${this.output().slice(-2000)}`);
        await delay(50);
      }
    }
    this.#socket.setEncoding('utf8');
    this.#socket.on('data', (chunk: string) => this.#onData(chunk));
    this.#socket.on('error', () => undefined);
  }

  async addAccounts(timeoutMs: number): Promise<void> {
    for (const [index, account] of this.#accounts.entries()) {
      const transport = account.transport === 'tcp' ? ';transport=tcp' : '';
      this.#answerAfter.set(this.aors[index]!, account.answerAfterMs === undefined ? 100 : account.answerAfterMs);
      const line = `<sip:${account.user}@${account.host}:${account.port}${transport}>;auth_pass=${account.password};regint=600;answermode=manual`;
      const reply = await this.command('uanew', line);
      if (!reply.ok) throw new Error(`baresip uanew ${line}: ${reply.data}`);
      await this.waitEvent(`REGISTER_OK of ${this.aors[index]}`, (e) => e.type === 'REGISTER_OK' && e.accountaor === this.aors[index], timeoutMs);
    }
  }

  command(command: string, params = ''): Promise<BaresipReply> {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return Promise.reject(new Error('baresip control socket is closed'));
    const token = String(++this.#token);
    const json = JSON.stringify({ command, params, token });
    return new Promise<BaresipReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(new Error(`baresip: no answer to ${command} ${params} within 5 s`));
      }, 5000);
      this.#pending.set(token, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      socket.write(`${Buffer.byteLength(json)}:${json},`);
    });
  }

  waitEvent(label: string, match: (event: BaresipEvent) => boolean, timeoutMs = 5000, since = 0): Promise<BaresipEvent> {
    return this.#log.waitFor(`baresip: ${label}`, match, timeoutMs, since);
  }


  on(aor: string, command: string, params = ''): Promise<BaresipReply> {
    const run = this.#lock.then(async () => {
      const found = await this.command('uafind', aor);
      if (!found.ok) throw new Error(`baresip uafind ${aor}: ${found.data}`);
      const reply = await this.command(command, params);
      if (!reply.ok) throw new Error(`baresip ${command} ${params} on ${aor}: ${reply.data}`);
      return reply;
    });
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async answer(aor: string, afterMs: number | null | 'at-once'): Promise<void> {
    this.#answerAfter.set(aor, afterMs === 'at-once' ? null : afterMs);
    await this.on(aor, 'answermode', afterMs === 'at-once' ? 'auto' : 'manual');
  }

  async dial(aor: string, uri: string): Promise<void> {
    await this.on(aor, 'dial', uri);
  }

  #onEvent(event: BaresipEvent): void {
    if (event.type !== 'CALL_INCOMING' || event.accountaor === undefined) return;
    const afterMs = this.#answerAfter.get(event.accountaor);
    if (afterMs === undefined || afterMs === null) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      // The call may be gone (cancelled) by now: baresip then refuses, which is fine.
      if (!this.#stopped) void this.on(event.accountaor!, 'accept').catch(() => undefined);
    }, afterMs);
    this.#timers.add(timer);
  }

  async activeCalls(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const aor of this.aors) {
      const reply = await this.on(aor, 'listcalls');
      const count = /Active calls \((\d+)\)/.exec(reply.data)?.[1];
      if (count === undefined) throw new Error(`baresip listcalls: ${reply.data}`);
      counts[aor] = Number(count);
    }
    return counts;
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const head = /^(\d+):/.exec(this.#buffer);
      if (head === null) return;
      const length = Number(head[1]);
      const end = head[0].length + length;
      if (this.#buffer.length < end + 1) return;
      const body = this.#buffer.slice(head[0].length, end);
      this.#buffer = this.#buffer.slice(end + 1); // the netstring's trailing comma
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(body) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (message['response'] === true) {
        const token = String(message['token'] ?? '');
        this.#pending.get(token)?.({ ok: message['ok'] === true, data: String(message['data'] ?? '') });
        this.#pending.delete(token);
      } else if (message['event'] === true) {
        const event: BaresipEvent = { ...(message as Omit<BaresipEvent, 'at'>), at: performance.now() };
        this.#onEvent(event);
        this.#log.push(event);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    started.delete(this);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const child = this.#peer.child;
    const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
    const waitExit = async (ms: number): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([this.#peer.exited.then(() => true), new Promise<false>((done) => (timer = setTimeout(() => done(false), ms)))]);
      clearTimeout(timer);
      return exited;
    };
    if (!gone()) {
      // quit unregisters first; a site that is down makes it wait, so not for long.
      await this.command('quit').catch(() => undefined);
      if (!(await waitExit(1500)) && !gone()) {
        signal(this.pid, 'SIGTERM');
        if (!(await waitExit(1500))) signal(this.pid, 'SIGKILL');
      }
    }
    this.#socket?.destroy();
    await this.#peer.stop(); // gone already: only forgets it
    if (process.env['KEEP_BARESIP_DIR'] !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

// ----- ports -----

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/** A port P with UDP P, TCP P and TCP P + 1 (baresip's TLS listener) free on `host`. */
async function freeSipPort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 4_000);
    if ((await udpFree(host, port)) && (await tcpFree(host, port)) && (await tcpFree(host, port + 1))) return port;
  }
  throw new Error(`no free SIP port for baresip on ${host}`);
}

async function freeTcpPort(host: string, not: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 8_000);
    if (!not.has(port) && (await tcpFree(host, port))) return port;
  }
  throw new Error(`no free control port for baresip on ${host}`);
}
