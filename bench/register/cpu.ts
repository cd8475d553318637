/**
 * CPU cost of one registration in our stack, without sockets, kernel or a
 * second process: `npx tsx bench/register/cpu.ts [COUNT [ROUNDS]]`.
 *
 * The real register part (index.ts) shares two CPUs between our process,
 * Kamailio and its workers, and its figures move by a third from run to run.
 * This measures the part we control, the same way every time: the Phone's
 * own assembly (TransactionLayer, RegistrationManager, ConnectionManager)
 * over an in-memory transport whose responder answers like the Kamailio site
 * (401 with a qop=auth MD5 challenge, then 200 with the binding). Received
 * bytes go through parseMessage as the UDP transport's do.
 *
 * Output: microseconds of CPU per registration (two REGISTER transactions),
 * the responder's share measured apart and taken out, median of ROUNDS.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseMessage } from '../../src/parser/index.ts';
import { RegistrationManager } from '../../src/registrar-client/index.ts';
import { ConnectionManager } from '../../src/sdk/connection-manager.ts';
import { SystemClock } from '../../src/transaction/clock.ts';
import { TransactionLayer } from '../../src/transaction/transaction-layer.ts';
import { SipTransportLayer } from '../../src/transport/index.ts';
import type { Endpoint, Received, SendOptions, Transport, TransportKind } from '../../src/transport/types.ts';

const SITE: Endpoint = { transport: 'udp', host: '127.0.0.1', port: 5060 };
const LOCAL: Endpoint = { transport: 'udp', host: '127.0.0.1', port: 40000 };
const latin1 = new TextDecoder('latin1');
const encoder = new TextEncoder();

/** Answers REGISTERs like the Kamailio site: no Authorization -> 401, else 200. */
class Responder {
  spentMs = 0;
  #nonce = 0;

  answer(request: Uint8Array): Uint8Array {
    const started = performance.now();
    const text = latin1.decode(request);
    const lines = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
    const copy: string[] = [];
    let authorized = false;
    let contact = '';
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      if (name === 'via' || name === 'from' || name === 'call-id' || name === 'cseq') copy.push(line);
      else if (name === 'to') copy.push(`${line};tag=kam${this.#nonce}`);
      else if (name === 'authorization') authorized = true;
      else if (name === 'contact') contact = line.slice(colon + 1).trim();
    }
    let head: string;
    if (authorized) {
      head = `SIP/2.0 200 OK\r\n${copy.join('\r\n')}\r\nContact: ${contact};expires=3600\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n`;
    } else {
      const nonce = `Z${(this.#nonce++).toString(16).padStart(8, '0')}b2c8e0c5a1d9f3e7a4b6c8d0e2f4a6b8`;
      head = `SIP/2.0 401 Unauthorized\r\n${copy.join('\r\n')}\r\nWWW-Authenticate: Digest realm="127.0.0.1", nonce="${nonce}", qop="auth"\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n`;
    }
    const bytes = encoder.encode(head);
    this.spentMs += performance.now() - started;
    return bytes;
  }
}

/** The Transport contract in memory: every send is answered in a later macrotask, in batches. */
class MemoryTransport implements Transport {
  onReceive: ((received: Received) => void) | undefined;
  sends = 0;
  readonly #queue: Uint8Array[] = [];
  #scheduled = false;

  constructor(private readonly responder: Responder) {}

  send(bytes: Uint8Array, _target: Endpoint, _options?: SendOptions): void {
    this.sends++;
    this.#queue.push(bytes);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  isReliable(transport: TransportKind): boolean {
    return transport !== 'udp';
  }

  localEndpoint(transport: TransportKind): Endpoint {
    return { ...LOCAL, transport };
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue.splice(0);
    for (const request of batch) {
      const response = this.responder.answer(request);
      const message = parseMessage(response, { framing: 'datagram' });
      this.onReceive?.({ message, source: SITE, local: LOCAL, flowId: undefined });
    }
  }
}

/** CPU ms of this thread (Linux: /proc/self/task/<tid>/stat, 10 ms ticks), else of the whole process. */
function threadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  }
}

/** The responder on a real UDP socket, in a child process (its CPU is not ours). */
function startUdpResponder(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--responder'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ port: Number(line), child }));
    child.once('error', reject);
  });
}

function runUdpResponder(): void {
  const responder = new Responder();
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => socket.send(responder.answer(msg), rinfo.port, rinfo.address));
  socket.bind(0, '127.0.0.1', () => process.stdout.write(`${socket.address().port}\n`));
}

interface RoundResult {
  readonly usPerRegistration: number;
  readonly responderUs: number;
  readonly wallMs: number;
}

async function round(count: number, udp: boolean): Promise<RoundResult> {
  const responder = new Responder();
  let transport: Transport;
  let site: Endpoint = SITE;
  let stop = async (): Promise<void> => {};
  if (udp) {
    const remote = await startUdpResponder();
    const layer = await SipTransportLayer.create({ listeners: [{ transport: 'udp', host: '127.0.0.1', port: 0 }] });
    transport = layer;
    site = { transport: 'udp', host: '127.0.0.1', port: remote.port };
    stop = async () => {
      await layer.close();
      remote.child.kill();
    };
  } else {
    transport = new MemoryTransport(responder);
  }
  const clock = new SystemClock();
  const random = Math.random;
  const transactions = new TransactionLayer({ transport, clock, random, user: { onRequest: () => undefined } });
  transport.onReceive = transactions.receive;
  let connections: ConnectionManager | undefined;
  const registrations = new RegistrationManager({
    transactionLayer: transactions,
    clock,
    random,
    localEndpoint: (kind) => transport.localEndpoint(kind),
    onStatusChanged: (event) => connections?.onRegistrationStatus(event),
  });
  connections = new ConnectionManager(registrations, (ms) => ms);
  for (let i = 0; i < count; i++) {
    connections.addConnection(i, {
      user: `u${String(i).padStart(5, '0')}`,
      server: { host: site.host, port: site.port },
      transport: 'udp',
      password: 'secret',
      reregisterInSeconds: 3600,
    });
  }
  let registered = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  connections.on('connectionStatusChanged', (event) => {
    if (event.status === 'registered' && ++registered === count) done();
  });
  // SIP timers are unref'd: something must keep the process alive while the round runs.
  const keepAlive = setInterval(() => {}, 1000);
  const cpu = threadCpuMs();
  const started = performance.now();
  for (let i = 0; i < count; i++) connections.enableConnection(i);
  await finished;
  const wallMs = performance.now() - started;
  const cpuMs = threadCpuMs() - cpu;
  clearInterval(keepAlive);
  transactions.close();
  await stop();
  return { usPerRegistration: ((cpuMs - responder.spentMs) * 1000) / count, responderUs: (responder.spentMs * 1000) / count, wallMs };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const udp = args.includes('--udp');
  const [count = 10_000, rounds = 5] = args.filter((a) => !a.startsWith('--')).map(Number);
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const result = await round(count, udp);
    results.push(result.usPerRegistration);
    process.stderr.write(`round ${r + 1}: ${result.usPerRegistration.toFixed(1)} us CPU per registration${udp ? '' : ` (responder ${result.responderUs.toFixed(1)} us apart)`}, wall ${result.wallMs.toFixed(0)} ms\n`);
  }
  results.sort((a, b) => a - b);
  console.log(`${udp ? 'udp' : 'memory'}: median ${results[Math.floor(results.length / 2)]!.toFixed(1)} us CPU per registration (best ${results[0]!.toFixed(1)}) over ${rounds} rounds of ${count}`);
  process.exit(0);
}

if (process.argv.includes('--responder')) runUdpResponder();
else await main();
