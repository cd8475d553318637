/**
 * Real Kamailio "sites" for interop tests: one registrar + proxy per loopback
 * address (test/interop/kamailio/kamailio.cfg), each in a fresh temp dir with
 * its own users table, TLS CA/certificate, ctl socket and log. The address is
 * any 127.x.y.z or ::1 (IPv6: listeners, probes and certificate SAN on ::1,
 * `site.uriHost` is `[::1]`).
 *
 *   const site = await startSite({ name: 'a', address: '127.0.0.1', algorithm: 'SHA-256' });
 *   site.ports.udp / .tcp / .tls, site.caCertPath, await site.ulDump()
 *   await site.stop();   // down: SIGTERM to its PID (its children follow)
 *   await site.start();  // up again: same address, ports, users and certificate
 *   await site.kill();   // crash: SIGKILL to the main PID and every worker PID
 *   site.freeze();       // silent: SIGSTOP to every PID of the site (sockets stay open)
 *   site.thaw();         // SIGCONT to the same PIDs
 *   await stopAllSites(); // in after(): stops every site and removes its dir
 *
 * Kamailio runs in the foreground (-DD -E) as our child, so the harness owns
 * its PID. Its workers do not exit when the main process is SIGKILLed (they
 * are re-parented to init and keep the sockets), so kill(), stop() and the
 * exit hook also SIGKILL, by PID, every process whose command line is this
 * site's Kamailio (`-w <the site's own temp dir>`, unique per site): no
 * process of another site or program is ever signalled.
 *
 * Users: u00000..u09999 and 1001, 1002, 1003, all with the password
 * DEFAULT_PASSWORD ("secret"); `users` adds users or overrides passwords.
 * Realm = the To host of the REGISTER (the site address unless a domain is
 * used). Ports: free ports below the kernel's ephemeral range (so no client
 * socket can take a port while its site is down), UDP and TCP on the same
 * number, unless given.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestCertificates } from './certs.ts';
import { commandExists, delay, startPeer, type PeerProcess } from './process.ts';

export const DEFAULT_PASSWORD = 'secret';

/** The users every site has unless `defaultUsers: false`: u00000..u09999, 1001, 1002, 1003. */
export function defaultUserNames(): string[] {
  const names = ['1001', '1002', '1003'];
  for (let i = 0; i < 10_000; i++) names.push(`u${String(i).padStart(5, '0')}`);
  return names;
}

export type SiteAlgorithm = 'MD5' | 'SHA-256';

export interface SiteOptions {
  /** Label: temp dir prefix, `Server: kamailio-site-NAME` header, log lines. */
  name: string;
  /** Loopback address: IPv4 127.0.0.0/8 or IPv6 ::1 (with or without brackets); default 127.0.0.1. */
  address?: string;
  /** Ports; omitted or 0 = a free port (UDP and TCP share one when both are free). */
  udpPort?: number;
  tcpPort?: number;
  tlsPort?: number;
  /** Extra users or other passwords (user -> password), on top of the default users. */
  users?: Readonly<Record<string, string>>;
  /** false: only the `users` given exist. Default true. */
  defaultUsers?: boolean;
  /** Digest algorithm of the challenges (Kamailio offers one per site). Default MD5. */
  algorithm?: SiteAlgorithm;
  /** Registrar limits: below min -> 423 with Min-Expires; above max -> max granted. Default 10 / 3600. */
  minExpires?: number;
  maxExpires?: number;
  /** Wrong password -> 403 (true) instead of a new 401 challenge without stale (default, as stock Kamailio). */
  forbiddenOnBadPassword?: boolean;
  /** Challenge initial INVITE/MESSAGE/SUBSCRIBE/REFER from local users with 407. Default false. */
  callAuth?: boolean;
  /** Worker processes per listener. Default 2. */
  children?: number;
  /** Shared memory in MB (bindings, transactions). Default 128. */
  shmMb?: number;
  /** How long start-up may take. Default 10 s. */
  startTimeoutMs?: number;
}

export interface Binding {
  /** The address-of-record as usrloc keys it (user part only, no domain: use_domain is off). */
  aor: string;
  /** The Contact URI as registered. */
  contact: string;
  /** Seconds left. */
  expires: number;
  /** Where requests for this contact really go (source of the REGISTER) when it differed. */
  received?: string;
  callId?: string;
  cseq?: number;
  userAgent?: string;
  /** Kamailio listener that took the REGISTER, e.g. "udp:127.0.0.1:20345". */
  socket?: string;
  /** Every field of the contact as kamcmd printed it. */
  fields: Record<string, string>;
}

export interface SitePorts {
  udp: number;
  tcp: number;
  tls: number;
}

export interface KamailioSite {
  readonly name: string;
  /** The address as bound: 127.x.y.z or ::1 (no brackets). */
  readonly address: string;
  /** The address as a SIP URI host takes it: 127.x.y.z or [::1]. */
  readonly uriHost: string;
  /** 4 or 6. */
  readonly family: 4 | 6;
  readonly ports: SitePorts;
  readonly algorithm: SiteAlgorithm;
  /** PID of the running main process (of the last run once stopped). */
  readonly pid: number;
  readonly running: boolean;
  /** The site's temp dir (config inputs, certificates, ctl socket). */
  readonly dir: string;
  /** CA that signed the site's TLS certificate (SAN: the site address and localhost). */
  readonly caCertPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** user -> password of every user the site knows. */
  readonly users: ReadonlyMap<string, string>;
  /** Brings a stopped or killed site up again (same address, ports, users, certificate). */
  start(): Promise<void>;
  /** SIGTERM to the main PID (Kamailio stops its workers), SIGKILL after 3 s. */
  stop(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** SIGKILL to the main PID and every worker PID: a crashed site. */
  kill(): Promise<void>;
  /**
   * SIGSTOP to the main PID and every worker PID: a silent site. The kernel
   * keeps its sockets (UDP datagrams queue, TCP connects and data are
   * accepted) but nothing answers. Returns the PIDs stopped. stop(), kill(),
   * dispose() and the exit hooks thaw a frozen site first or SIGKILL it.
   */
  freeze(): number[];
  /** SIGCONT to every PID freeze() stopped (a no-op when not frozen). */
  thaw(): void;
  /** True between freeze() and thaw(). */
  readonly frozen: boolean;
  /**
   * Every registered binding, from `kamcmd ul.dump`. kamcmd refuses big
   * replies ("reply too big": about 250-300 bindings): beyond that this
   * rejects with a message that says so; use ulLookup() / ulStats() then.
   */
  ulDump(): Promise<Binding[]>;
  /** The bindings of one AOR (the user part), from `kamcmd ul.lookup location AOR`; [] when none. */
  ulLookup(aor: string): Promise<Binding[]>;
  /** Counts from usrloc's statistics: registered AORs and contacts. */
  ulStats(): Promise<{ users: number; contacts: number }>;
  /** Runs `kamcmd -s <ctl socket> ARGS...` and returns its stdout. */
  kamcmd(...args: string[]): Promise<string>;
  /** Everything Kamailio logged, over all runs of this site. */
  log(): string;
  /** stop() and remove the temp dir (kept when KAMAILIO_KEEP_DIR=1). */
  dispose(): Promise<void>;
}

const CONFIG = resolve(dirname(fileURLToPath(import.meta.url)), '../kamailio/kamailio.cfg');
const sites = new Set<SiteImpl>();

/** Why Kamailio cannot be used here, or undefined when it can. */
export function kamailioMissing(): string | undefined {
  const hint =
    'install the Debian packages kamailio, kamailio-tls-modules (and sip-tester for SIPp): ' +
    'apt-get install -y kamailio kamailio-tls-modules sip-tester (.ci/run does this)';
  if (!commandExists('kamailio')) return `kamailio is not installed; ${hint}`;
  if (!commandExists('kamcmd')) return `kamcmd is not installed; ${hint}`;
  if (!commandExists('openssl')) return 'the openssl CLI is not installed (needed for the TLS certificates)';
  const info = spawnSync('kamailio', ['-I'], { encoding: 'utf8' });
  const moduleDir = /Default paths to modules:\s*(\S+)/.exec(`${info.stdout}${info.stderr}`)?.[1];
  if (moduleDir !== undefined && !existsSync(join(moduleDir.split(':')[0]!, 'tls.so'))) {
    return `the kamailio TLS module (tls.so) is missing in ${moduleDir}; ${hint}`;
  }
  return undefined;
}

export async function startSite(options: SiteOptions): Promise<KamailioSite> {
  const missing = kamailioMissing();
  if (missing !== undefined) throw new Error(missing);
  const site = await SiteImpl.create(options);
  sites.add(site);
  try {
    await site.start();
  } catch (error) {
    await site.dispose();
    throw error;
  }
  return site;
}

/** Stops every site started here and removes their temp dirs (call in an after() hook). */
export async function stopAllSites(): Promise<void> {
  await Promise.all([...sites].map((site) => site.dispose()));
}

class SiteImpl implements KamailioSite {
  readonly name: string;
  readonly address: string;
  readonly uriHost: string;
  readonly family: 4 | 6;
  readonly ports: SitePorts;
  readonly algorithm: SiteAlgorithm;
  readonly dir: string;
  readonly caCertPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly users: ReadonlyMap<string, string>;
  private readonly options: SiteOptions;
  private peer: PeerProcess | undefined;
  private lastPid = 0;
  private previousLogs = '';
  private runs = 0;
  private disposed = false;
  private frozenPids: number[] = [];

  private constructor(options: SiteOptions, address: string, ports: SitePorts, dir: string, users: Map<string, string>) {
    this.options = options;
    this.name = options.name;
    this.address = address;
    this.family = address.includes(':') ? 6 : 4;
    this.uriHost = this.family === 6 ? `[${address}]` : address;
    this.ports = ports;
    this.algorithm = options.algorithm ?? 'MD5';
    this.dir = dir;
    this.users = users;
    const certs = makeTestCertificates(join(dir, 'tls'), { ips: [address], dnsNames: ['localhost'], commonName: address });
    this.caCertPath = certs.caCertPath;
    this.certPath = certs.certPath;
    this.keyPath = certs.keyPath;
    writeTlsConfig(dir, certs.certPath, certs.keyPath, certs.caCertPath);
    writeCredentials(join(dir, 'db'), users);
    mkdirSync(join(dir, 'run'), { recursive: true });
  }

  static async create(options: SiteOptions): Promise<SiteImpl> {
    if (!/^[A-Za-z0-9_.-]+$/.test(options.name)) throw new Error(`site name ${JSON.stringify(options.name)}: letters, digits, _ . - only`);
    const address = (options.address ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
    if (!isLoopbackV4(address) && address !== '::1') {
      throw new Error(`site ${options.name}: ${address} is not a loopback address (127.0.0.0/8 or ::1)`);
    }
    const users = new Map<string, string>();
    if (options.defaultUsers !== false) for (const user of defaultUserNames()) users.set(user, DEFAULT_PASSWORD);
    for (const [user, password] of Object.entries(options.users ?? {})) {
      if (!/^[A-Za-z0-9_.!~*'()&=+$,;?/-]+$/.test(user) || /[:\n\r]/.test(password) || password === '') {
        throw new Error(`site ${options.name}: user ${JSON.stringify(user)} or its password cannot go in the credentials table`);
      }
      users.set(user, password);
    }
    const ports = await choosePorts(address, options);
    const dir = mkdtempSync(join(tmpdir(), `kamailio-site-${options.name}-`));
    return new SiteImpl(options, address, ports, dir, users);
  }

  get pid(): number {
    return this.peer?.pid ?? this.lastPid;
  }

  get running(): boolean {
    const child = this.peer?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  private get ctlSocket(): string {
    return join(this.dir, 'run', 'ctl.sock');
  }

  async start(): Promise<void> {
    if (this.disposed) throw new Error(`site ${this.name} was disposed`);
    if (this.running) return;
    this.collectLog();
    rmSync(this.ctlSocket, { force: true });
    // Kamailio would fail to bind only after another process answered our probes.
    const busy = [
      (await udpFree(this.address, this.ports.udp)) ? undefined : `${this.ports.udp}/udp`,
      (await tcpFree(this.address, this.ports.tcp)) ? undefined : `${this.ports.tcp}/tcp`,
      (await tcpFree(this.address, this.ports.tls)) ? undefined : `${this.ports.tls}/tcp (TLS)`,
    ].filter((port) => port !== undefined);
    if (busy.length > 0) throw new Error(`site ${this.name}: ${this.address} port ${busy.join(', ')} already in use`);
    this.runs += 1;
    const args = [
      '-f', CONFIG, '-DD', '-E',
      '-Y', join(this.dir, 'run'), '-w', this.dir,
      '-m', String(this.options.shmMb ?? 128), '-M', '16', '-x', 'tlsf',
    ];
    if (this.options.forbiddenOnBadPassword === true) args.push('-A', 'WITH_FORBIDDEN_ON_BAD_PASSWORD');
    if (this.options.callAuth === true) args.push('-A', 'WITH_CALL_AUTH');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // Kamailio's listen= takes an IPv6 address in brackets.
      KSITE_ADDR: this.uriHost,
      KSITE_UDP_PORT: String(this.ports.udp),
      KSITE_TCP_PORT: String(this.ports.tcp),
      KSITE_TLS_PORT: String(this.ports.tls),
      KSITE_TLS_CFG: join(this.dir, 'tls', 'tls.cfg'),
      KSITE_CTL: `unix:${this.ctlSocket}`,
      KSITE_DB_URL: `text://${join(this.dir, 'db')}`,
      KSITE_SERVER_HEADER: `Server: kamailio-site-${this.name}`,
      KSITE_AUTH_ALGORITHM: this.algorithm,
      KSITE_MIN_EXPIRES: String(this.options.minExpires ?? 10),
      KSITE_MAX_EXPIRES: String(this.options.maxExpires ?? 3600),
      KSITE_CHILDREN: String(this.options.children ?? 2),
    };
    const peer = await startPeer(`kamailio-${this.name}`, 'kamailio', args, { cwd: this.dir, env });
    this.peer = peer;
    this.lastPid = peer.pid;
    const timeoutMs = this.options.startTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) {
        const code = await peer.exited;
        await peer.stop();
        this.killWorkers();
        throw new Error(`kamailio site ${this.name} exited during start-up (${code}):\n${tail(peer.output(), 40)}`);
      }
      if (await this.answers()) break;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`kamailio site ${this.name} not ready after ${timeoutMs} ms:\n${tail(peer.output(), 40)}`);
      }
      await delay(50);
    }
  }

  /** True when UDP answers an OPTIONS, TCP and TLS accept a connection and the ctl socket exists. */
  private async answers(): Promise<boolean> {
    if (!existsSync(this.ctlSocket)) return false;
    const [udp, tcp, tls] = await Promise.all([
      udpAnswers(this.address, this.ports.udp, 300, `kamailio-site-${this.name}`),
      tcpAccepts(this.address, this.ports.tcp, 300),
      tcpAccepts(this.address, this.ports.tls, 300),
    ]);
    return udp && tcp && tls;
  }

  async stop(): Promise<void> {
    const peer = this.peer;
    if (peer === undefined) return;
    if (this.frozen) {
      // A stopped process would not act on SIGTERM. Kamailio's main process
      // ignores a signal that comes before it has handled the previous one
      // (sig_usr: `if (sig_flag==0) sig_flag=signo; else return;`): the
      // SIGCHLD of its continued workers made it drop a SIGTERM sent right
      // after SIGCONT (1 stop in 3 here), so let it handle that one first.
      this.thaw();
      await delay(100);
    }
    if (this.running) {
      // SIGTERM ourselves rather than peer.stop(): its grace timer would keep
      // the test process alive for the whole grace period.
      signal(peer.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        peer.exited.then(() => true),
        new Promise<false>((done) => (timer = setTimeout(() => done(false), 3000))),
      ]);
      clearTimeout(timer);
      if (!exited) {
        signal(peer.pid, 'SIGKILL');
        await peer.exited;
      }
    }
    await peer.stop(); // already gone: only forgets it
    // Normally the workers are gone with their main process; make sure.
    this.killWorkers();
    this.collectLog();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async kill(): Promise<void> {
    const peer = this.peer;
    if (peer === undefined) return;
    if (this.running) {
      signal(peer.pid, 'SIGKILL');
      this.killWorkers();
      await peer.exited;
    }
    this.frozenPids = []; // SIGKILL ends stopped processes too
    await peer.stop();
    this.collectLog();
  }

  get frozen(): boolean {
    return this.frozenPids.length > 0;
  }

  freeze(): number[] {
    if (!this.running) throw new Error(`site ${this.name} is not running`);
    if (this.frozen) return [...this.frozenPids];
    // The main PID first (it forks nothing once stopped), then every worker,
    // found by command line as kill() finds them.
    const pids = [this.pid, ...sitePids(this.dir).filter((pid) => pid !== this.pid)];
    for (const pid of pids) signal(pid, 'SIGSTOP');
    this.frozenPids = pids;
    // Only return once every one of them is really stopped (state T).
    const deadline = Date.now() + 2000;
    while (pids.some((pid) => isAlive(pid) && procStat(pid)?.state !== 'T') && Date.now() < deadline) spawnSync('sleep', ['0.01']);
    const late = pids.filter((pid) => isAlive(pid) && procStat(pid)?.state !== 'T');
    if (late.length > 0) {
      this.thaw();
      throw new Error(`site ${this.name}: PIDs ${late.join(', ')} did not stop`);
    }
    return [...pids];
  }

  thaw(): void {
    const pids = this.frozenPids;
    this.frozenPids = [];
    // Workers first, the main process last: their SIGCHLDs (one per worker
    // continued) then wait as one pending signal on the stopped main.
    // Only our own processes: a PID is signalled again only while it is still this site's Kamailio.
    for (const pid of [...pids.slice(1), pids[0]]) if (pid !== undefined && isOurKamailio(pid, this.dir)) signal(pid, 'SIGCONT');
  }

  /** SIGKILL to every process left of this site (workers outlive a SIGKILLed main); waits until they are gone. */
  killWorkers(): void {
    const left = sitePids(this.dir);
    for (const pid of left) signal(pid, 'SIGKILL');
    const deadline = Date.now() + 2000;
    while (left.some((pid) => isAlive(pid)) && Date.now() < deadline) {
      spawnSync('sleep', ['0.02']);
    }
  }

  private collectLog(): void {
    if (this.peer === undefined) return;
    this.previousLogs += `----- ${this.name} run ${this.runs} (pid ${this.peer.pid}) -----\n${this.peer.output()}`;
    this.peer = undefined;
  }

  log(): string {
    const current = this.peer === undefined ? '' : `----- ${this.name} run ${this.runs} (pid ${this.peer.pid}) -----\n${this.peer.output()}`;
    return this.previousLogs + current;
  }

  kamcmd(...args: string[]): Promise<string> {
    return new Promise((resolvePromise, reject) => {
      execFile('kamcmd', ['-s', `unix:${this.ctlSocket}`, ...args], { timeout: 10_000, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`kamcmd ${args.join(' ')} on site ${this.name}: ${error.message} ${stderr}`));
        else resolvePromise(stdout);
      });
    });
  }

  async ulDump(): Promise<Binding[]> {
    try {
      return parseUlDump(await this.kamcmd('ul.dump'));
    } catch (error) {
      if (/reply too big/.test(String(error))) {
        const { contacts } = await this.ulStats();
        throw new Error(`site ${this.name}: ul.dump of ${contacts} bindings is more than kamcmd can take (about 250); use ulLookup(aor) or ulStats()`);
      }
      throw error;
    }
  }

  async ulLookup(aor: string): Promise<Binding[]> {
    try {
      return parseUlDump(await this.kamcmd('ul.lookup', 'location', `s:${aor}`));
    } catch (error) {
      if (/not found/i.test(String(error))) return [];
      throw error;
    }
  }

  async ulStats(): Promise<{ users: number; contacts: number }> {
    const text = await this.kamcmd('stats.get_statistics', 'usrloc:');
    const value = (name: string): number => Number(new RegExp(`usrloc:${name}\\s*=\\s*(\\d+)`).exec(text)?.[1] ?? NaN);
    return { users: value('location_users'), contacts: value('location_contacts') };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.stop();
    this.disposed = true;
    sites.delete(this);
    if (process.env['KAMAILIO_KEEP_DIR'] !== '1') rmSync(this.dir, { recursive: true, force: true });
  }

  /** For the exit hook: SIGKILL everything of this site (stopped or not), synchronously. */
  killNow(): void {
    if (this.running && this.peer !== undefined) signal(this.peer.pid, 'SIGKILL');
    for (const pid of sitePids(this.dir)) signal(pid, 'SIGKILL');
  }
}

// A test process that exits with sites still up takes their workers along
// (process.ts SIGKILLs the main PIDs; the workers would survive that).
function killAllNow(): void {
  for (const site of sites) {
    site.killNow();
    if (process.env['KAMAILIO_KEEP_DIR'] !== '1') rmSync(site.dir, { recursive: true, force: true });
  }
}
process.on('exit', killAllNow);
// Killed by a signal (CI timeout, Ctrl-C), Node does not run 'exit' handlers:
// clean up, then let the signal do what it would have done.
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  const onSignal = (): void => {
    killAllNow();
    process.removeListener(name, onSignal);
    if (process.listenerCount(name) === 0) process.kill(process.pid, name);
  };
  process.on(name, onSignal);
}

// ----- files -----

function writeTlsConfig(dir: string, cert: string, key: string, ca: string): void {
  writeFileSync(
    join(dir, 'tls', 'tls.cfg'),
    [
      '[server:default]',
      'method = TLSv1.2+',
      'verify_certificate = no',
      'require_certificate = no',
      `certificate = ${cert}`,
      `private_key = ${key}`,
      `ca_list = ${ca}`,
      '',
      '[client:default]',
      'method = TLSv1.2+',
      'verify_certificate = no',
      'require_certificate = no',
      '',
    ].join('\n'),
  );
}

/** db_text table "credentials" in htable's layout (key_type 0 = plain key, value_type 0 = string). */
function writeCredentials(dbDir: string, users: ReadonlyMap<string, string>): void {
  mkdirSync(dbDir, { recursive: true });
  writeFileSync(join(dbDir, 'version'), 'id(int,auto) table_name(string) table_version(int)\n0:credentials:2\n');
  const rows = ['id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int)'];
  let id = 1;
  for (const [user, password] of users) rows.push(`${id++}:${escapeDbText(user)}:0:0:${escapeDbText(password)}:0`);
  writeFileSync(join(dbDir, 'credentials'), `${rows.join('\n')}\n`);
}

function escapeDbText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

// ----- kamcmd ul.dump -----

/**
 * Parses kamcmd's printout of ul.dump (and of ul.lookup): nested "Name: {"
 * blocks and "Name: value" lines. Each AoR holds "AoR: user" and a Contacts
 * block with one "Contact: {" block per binding.
 */
export function parseUlDump(text: string): Binding[] {
  const bindings: Binding[] = [];
  let aor: string | undefined;
  let contact: Record<string, string> | undefined;
  const stack: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line === '}') {
      const closed = stack.pop();
      if (closed === 'Contact' && contact !== undefined && aor !== undefined) {
        bindings.push(toBinding(aor, contact));
        contact = undefined;
      }
      continue;
    }
    const open = /^(?:([^:{}]+):\s*)?\{$/.exec(line);
    if (open !== null) {
      const name = (open[1] ?? '').trim();
      stack.push(name);
      if (name === 'Contact') contact = {};
      continue;
    }
    const field = /^([^:]+):\s?(.*)$/.exec(line);
    if (field === null) continue;
    const key = field[1]!.trim();
    const value = field[2]!.trim();
    if (contact !== undefined) contact[key] = value;
    else if (key === 'AoR') aor = value;
  }
  return bindings;
}

function toBinding(aor: string, fields: Record<string, string>): Binding {
  const binding: Binding = { aor, contact: fields['Address'] ?? '', expires: Number(fields['Expires'] ?? NaN), fields };
  const received = fields['Received'];
  if (received !== undefined && received !== '' && received !== '[not set]') binding.received = received;
  if (fields['Call-ID'] !== undefined) binding.callId = fields['Call-ID'];
  if (fields['CSeq'] !== undefined) binding.cseq = Number(fields['CSeq']);
  if (fields['User-Agent'] !== undefined && fields['User-Agent'] !== '[not set]' && fields['User-Agent'] !== 'n/a') binding.userAgent = fields['User-Agent'];
  if (fields['Socket'] !== undefined) binding.socket = fields['Socket'];
  return binding;
}

// ----- ports and probes -----

function isLoopbackV4(address: string): boolean {
  const parts = address.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 12_000) return low;
  } catch {
    // not Linux
  }
  return 32_768;
}

const claimed = new Set<string>();

async function choosePorts(address: string, options: SiteOptions): Promise<SitePorts> {
  const pick = async (want: number | undefined, udp: boolean, tcp: boolean, same?: number): Promise<number> => {
    if (want !== undefined && want !== 0) return want;
    if (same !== undefined && !claimed.has(`${address}:${same}:tcp`) && (await tcpFree(address, same))) return same;
    const high = ephemeralLow() - 1;
    for (let attempt = 0; attempt < 200; attempt++) {
      const port = 10_000 + Math.floor(Math.random() * (high - 10_000));
      const key = `${address}:${port}`;
      if (claimed.has(`${key}:udp`) || claimed.has(`${key}:tcp`)) continue;
      if (udp && !(await udpFree(address, port))) continue;
      if (tcp && !(await tcpFree(address, port))) continue;
      return port;
    }
    throw new Error(`no free port found on ${address}`);
  };
  const udp = await pick(options.udpPort, true, options.tcpPort === undefined || options.tcpPort === 0);
  claimed.add(`${address}:${udp}:udp`);
  const tcp = await pick(options.tcpPort, false, true, udp);
  claimed.add(`${address}:${tcp}:tcp`);
  const tls = await pick(options.tlsPort, false, true);
  claimed.add(`${address}:${tls}:tcp`);
  return { udp, tcp, tls };
}

function udpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolvePromise(false);
    });
    socket.bind(port, address, () => socket.close(() => resolvePromise(true)));
  });
}

function tcpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen({ port, host: address, exclusive: true }, () => server.close(() => resolvePromise(true)));
  });
}

/**
 * Sends an OPTIONS over UDP (IPv4 or IPv6 after the address) and resolves true on any SIP answer within
 * `timeoutMs` (with `server`: only an answer whose Server header is that).
 */
export function udpAnswers(address: string, port: number, timeoutMs: number, server?: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const v6 = address.includes(':');
    const socket = createSocket(v6 ? 'udp6' : 'udp4');
    const host = v6 ? `[${address}]` : address;
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolvePromise(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('message', (data) => {
      const text = data.toString('latin1');
      const from = /\r\nServer:[ \t]*([^\r\n]*)/i.exec(text)?.[1]?.trim();
      finish(text.startsWith('SIP/2.0 ') && (server === undefined || from === server));
    });
    socket.bind(0, v6 ? '::1' : '127.0.0.1', () => {
      const local = socket.address();
      const localHost = v6 ? `[${local.address}]` : local.address;
      const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
      const message =
        `OPTIONS sip:${host}:${port} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP ${localHost}:${local.port};rport;branch=z9hG4bK-probe-${id}\r\n` +
        'Max-Forwards: 70\r\n' +
        `From: <sip:probe@${localHost}>;tag=${id}\r\n` +
        `To: <sip:${host}:${port}>\r\n` +
        `Call-ID: probe-${id}\r\n` +
        'CSeq: 1 OPTIONS\r\n' +
        'Content-Length: 0\r\n\r\n';
      socket.send(message, port, address, (error) => {
        if (error) finish(false);
      });
    });
  });
}

/** Resolves true when a TCP connection to address:port is accepted within `timeoutMs`. */
export function tcpAccepts(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: address, port });
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolvePromise(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

// ----- PIDs -----

/** PIDs of the live Kamailio processes of the site whose temp dir is `dir`. */
function sitePids(dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && isOurKamailio(Number(entry), dir)) out.push(Number(entry));
  }
  return out;
}

function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** True when `pid` is a live kamailio started for the site in `dir` (guards against recycled PIDs). */
function isOurKamailio(pid: number, dir: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const w = cmdline.indexOf('-w');
    return /kamailio$/.test(cmdline[0] ?? '') && w > 0 && cmdline[w + 1] === dir;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}
