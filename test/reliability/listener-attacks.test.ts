/**
 * The reliability suite (issue 14): each attack on the TCP/TLS listener runs
 * for RELIABILITY_SECONDS (default 30) against a Phone and against a
 * LabSite, each in a child process on loopback (target.ts), the attack in
 * another (attacker.ts, at the lowest CPU priority: on a network it would
 * have CPUs of its own), while a legitimate client probes it every 500 ms.
 *
 * Asserted per run: every legitimate TCP and TLS OPTIONS and TCP REGISTER is
 * answered, 95% of each kind within 100 ms and none after 1 s (a new
 * connection each time: connect, handshake, request, response); the
 * incoming cap holds (incoming + handshaking <=
 * 1024); RSS stays under 300 MB; the Phone's registrations (TCP and UDP, to
 * a registrar here) stay `registered` when the Phone is attacked, and a
 * Phone registered over TCP to the attacked site stays `registered` too;
 * every attack connection is closed within its documented deadline (or
 * evicted sooner); after close() the target holds no socket and exits on
 * its own. The figures are printed as one JSON line per run.
 * Not covered: UDP floods (udp-flood.test.ts), calls under attack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LabSite } from '../../src/lab/lab-site.ts';
import { Phone } from '../../src/sdk/index.ts';
import { TRANSPORT_DEFAULTS } from '../../src/transport/index.ts';
import { RATE_GRACE_MS } from '../../src/transport/read-deadline.ts';
import { makeTestCertificates } from '../interop/harness/certs.ts';
import type { AttackKind } from './attacks.ts';
import { probe, type ProbeResult } from './probes.ts';
import type { TargetConfig, TargetMessage } from './target.ts';

const SECONDS = Number(process.env.RELIABILITY_SECONDS ?? 30);
/** RELIABILITY_ONLY=phone:idle (target:attack, either may be *) runs only the runs it names. */
const ONLY = (process.env.RELIABILITY_ONLY ?? '*:*').split(':');
const PASSWORD = 'reliability';
const MAX_RSS = 300 * 1024 * 1024;
const ANSWER_MS = 100;
/** No legitimate request may wait this long: a client starved by the attack. */
const STARVED_MS = 1000;
const KINDS = ['tcp OPTIONS', 'tls OPTIONS', 'tcp REGISTER'];
/** Slack on every deadline: the attacker's own event loop and the machine's load. */
const SLACK_MS = 1500;
const TARGET = fileURLToPath(new URL('./target.ts', import.meta.url));
const ATTACKER = fileURLToPath(new URL('./attacker.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each attack, its size, and the longest an attack connection may live as
 * the attacker sees it (its deadline + slack; undefined: not bounded in
 * time, see no-read), and the longest the target may take to expire one
 * once its condition starts (its own `connection-expired` reports).
 */
const ATTACKS: ReadonlyArray<{ kind: AttackKind; connections: number; lifetimeMs: number | undefined; expiry: Record<string, number> }> = [
  { kind: 'tls-handshake', connections: 1100, lifetimeMs: TRANSPORT_DEFAULTS.handshakeTimeoutMs + SLACK_MS, expiry: { handshake: TRANSPORT_DEFAULTS.handshakeTimeoutMs + SLACK_MS } },
  { kind: 'idle', connections: 1100, lifetimeMs: TRANSPORT_DEFAULTS.messageDeadlineMs + SLACK_MS, expiry: { 'message-deadline': TRANSPORT_DEFAULTS.messageDeadlineMs + SLACK_MS } },
  // The rate check starts at RATE_GRACE_MS and runs every second.
  { kind: 'slowloris', connections: 250, lifetimeMs: RATE_GRACE_MS + 1000 + SLACK_MS, expiry: { 'message-rate': RATE_GRACE_MS + 1000 + SLACK_MS } },
  // Read at a fair share while the kernel's buffers take our responses (up to tcp_rmem + tcp_wmem, MBs per
  // connection on loopback): no bound in time; once our write buffer passes its mark, closed after writeStallMs.
  // Reading stopped with half a pipelined request read (a loaded machine) also meets the message deadline: either
  // way the attacker is closed within its bound.
  { kind: 'no-read', connections: 100, lifetimeMs: undefined, expiry: { 'write-stall': TRANSPORT_DEFAULTS.writeStallMs + SLACK_MS, 'message-deadline': TRANSPORT_DEFAULTS.messageDeadlineMs + SLACK_MS } },
];

const certDir = mkdtempSync(join(tmpdir(), 'sip-reliability-'));
const certs = makeTestCertificates(certDir, { ips: ['127.0.0.1'] });

interface Run {
  readonly probes: ProbeResult[];
  readonly samples: Array<Extract<TargetMessage, { type: 'sample' }>>;
  /** Status changes seen after the attack started: the attacked Phone's, then the watching Phone's. */
  readonly statusChanges: string[];
  readonly lifetimes: number[];
  readonly closed: Extract<TargetMessage, { type: 'closed' }> | undefined;
  readonly exit: number | null | 'timeout';
}

/** Starts target.ts; resolves when it is ready (and, for a Phone, registered on both connections). */
async function startTarget(config: TargetConfig, messages: TargetMessage[]): Promise<{ child: ChildProcess; ready: Extract<TargetMessage, { type: 'ready' }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', TARGET, JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', (message: TargetMessage) => messages.push(message));
  const deadline = performance.now() + 15_000;
  const registered = (id: number): boolean => messages.some((m) => m.type === 'status' && m.id === id && m.status === 'registered');
  for (;;) {
    const ready = messages.find((m): m is Extract<TargetMessage, { type: 'ready' }> => m.type === 'ready');
    if (ready !== undefined && (config.kind === 'site' || (registered(0) && registered(1)))) return { child, ready };
    if (performance.now() > deadline || child.exitCode !== null) {
      child.kill();
      throw new Error(`target ${config.kind} not ready: ${JSON.stringify(messages.filter((m) => m.type !== 'sample'))}`);
    }
    await sleep(20);
  }
}

async function run(target: 'phone' | 'site', kind: AttackKind, connections: number): Promise<Run> {
  const messages: TargetMessage[] = [];
  const registrar = target === 'phone' ? await LabSite.start({ name: 'registrar', host: '127.0.0.1', port: 0, users: { '1001': PASSWORD }, minExpires: 1 }) : undefined;
  const config: TargetConfig = {
    kind: target,
    certPath: certs.certPath,
    keyPath: certs.keyPath,
    password: PASSWORD,
    ...(registrar !== undefined ? { registrar: { host: '127.0.0.1', port: registrar.port } } : {}),
  };
  const { child, ready } = await startTarget(config, messages);
  // Against a site: a Phone of ours registered over TCP must stay registered through the attack.
  let watcher: Phone | undefined;
  const watched: string[] = [];
  if (target === 'site') {
    watcher = await Phone.create({
      connections: [{ user: '1001', server: `127.0.0.1:${ready.tcp}`, transport: 'tcp', password: PASSWORD, reregisterInSeconds: 10, minimumRetrySeconds: 1, maximumRetrySeconds: 2, sendKeepAlive: true, keepAliveIntervalSeconds: 2 }],
    }, { localHost: '127.0.0.1' });
    watcher.connections.on('connectionStatusChanged', (e) => watched.push(`watcher:${e.status}(${e.code ?? ''})`));
    watcher.start();
    const deadline = performance.now() + 5000;
    while (!watched.some((s) => s.startsWith('watcher:registered'))) {
      if (performance.now() > deadline) throw new Error(`watcher not registered: ${watched.join(', ')}`);
      await sleep(20);
    }
  }
  // A server under attack has been running: warm the target's code paths first (a cold process compiles as it goes).
  for (let k = 0; k < 5; k++) await Promise.all([probe('tcp', ready.tcp), probe('tls', ready.tls), probe('tcp', ready.tcp, 'REGISTER')]);
  const attackedSince = messages.length;
  const watchedSince = watched.length;
  const port = kind === 'tls-handshake' ? ready.tls : ready.tcp;
  const attacker = spawn(process.execPath, ['--import', 'tsx', ATTACKER, kind, String(port), String(connections)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // On a real network the attacker has CPUs of its own; here it shares ours, so it runs at the lowest priority.
  try {
    setPriority(attacker.pid!, 19);
  } catch {
    // Not allowed here: the attack competes with the target for the CPU (a harder test).
  }
  const lifetimes = new Promise<number[]>((resolve) => {
    attacker.on('message', (m: { type: string; lifetimes?: number[] }) => {
      if (m.type === 'lifetimes') resolve(m.lifetimes!);
    });
  });
  await new Promise((resolve) => attacker.once('message', resolve));
  const probes: ProbeResult[] = [];
  const started = performance.now();
  // Probes start once the attack is in its steady state: its first burst of 1,100 connects fills the
  // kernel's accept queue (511), and Node accepts one connection per turn, so a client connecting in
  // that first second waits for the queue (or its SYN is dropped and resent after 1 s).
  await sleep(2000);
  while (performance.now() - started < SECONDS * 1000) {
    const round = await Promise.all([probe('tcp', ready.tcp), probe('tls', ready.tls), probe('tcp', ready.tcp, 'REGISTER')]);
    probes.push(...round);
    await sleep(500);
  }
  attacker.send({ type: 'stop' });
  const statusChanges = [
    ...messages.slice(attackedSince).flatMap((m) => (m.type === 'status' ? [`phone ${m.id}:${m.status}(${m.code ?? ''})`] : [])),
    ...watched.slice(watchedSince),
  ];
  await watcher?.close();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.send({ type: 'close' });
  const exit = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
  if (exit === 'timeout') child.kill('SIGKILL');
  await registrar?.close();
  return {
    probes,
    lifetimes: await lifetimes,
    samples: messages.filter((m): m is Extract<TargetMessage, { type: 'sample' }> => m.type === 'sample'),
    statusChanges,
    closed: messages.find((m): m is Extract<TargetMessage, { type: 'closed' }> => m.type === 'closed'),
    exit,
  };
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
};
const round1 = (n: number): number => Math.round(n * 10) / 10;

for (const target of ['phone', 'site'] as const) {
  for (const { kind, connections, lifetimeMs, expiry } of ATTACKS) {
    if ((ONLY[0] !== '*' && ONLY[0] !== target) || (ONLY[1] !== '*' && ONLY[1] !== kind)) continue;
    test(`${target} under ${kind} (${connections} connections, ${SECONDS} s): legitimate clients served (95% < ${ANSWER_MS} ms), caps, memory, registration, deadlines, clean close`, async () => {
      const r = await run(target, kind, connections);
      const maxRss = Math.max(...r.samples.map((s) => s.rss));
      const maxIncoming = Math.max(...r.samples.map((s) => s.stats.incoming + s.stats.handshaking));
      const byKind = (k: string): number[] => r.probes.filter((p) => p.kind === k).map((p) => p.ms);
      console.log(JSON.stringify({
        target,
        attack: kind,
        seconds: SECONDS,
        probes: r.probes.length,
        answerMs: Object.fromEntries(KINDS.map((k) => [k, { median: round1(percentile(byKind(k), 0.5)), p95: round1(percentile(byKind(k), 0.95)), max: round1(Math.max(...byKind(k))) }])),
        maxRssMB: round1(maxRss / 1048576),
        maxIncoming,
        maxLoopDelayMs: Math.round(Math.max(...r.samples.map((s) => s.loopDelayMaxMs))),
        attackConnections: r.lifetimes.length,
        maxLifetimeMs: Math.round(Math.max(...r.lifetimes)),
        expiredAfterMs: r.samples.at(-1)?.expiredAfterMs,
        diagnostics: r.samples.at(-1)?.diagnostics,
        statusChanges: r.statusChanges,
      }));
      // Every request answered, 95% of each kind within 100 ms, none after a second: the rest is the
      // machine (on a shared 2-core box the target is sometimes descheduled for 100-300 ms; see README).
      const unanswered = r.probes.filter((p) => !(p.ms < STARVED_MS));
      assert.equal(unanswered.map((p) => `${p.kind} ${p.ms.toFixed(1)} ms (connected after ${p.connectMs.toFixed(1)} ms, ${p.status})`), [], `every legitimate request answered within ${STARVED_MS} ms`);
      for (const k of KINDS) assert.ok(percentile(byKind(k), 0.95) < ANSWER_MS, `${k}: 95% within ${ANSWER_MS} ms, got ${percentile(byKind(k), 0.95).toFixed(1)} ms`);
      assert.ok(r.probes.length >= SECONDS, `${r.probes.length} probes`);
      assert.ok(maxRss < MAX_RSS, `RSS ${(maxRss / 1048576).toFixed(0)} MB`);
      assert.ok(maxIncoming <= TRANSPORT_DEFAULTS.maxIncomingConnections, `incoming ${maxIncoming}`);
      assert.equal(r.statusChanges, [], 'registrations stay registered');
      if (lifetimeMs !== undefined) {
        const late = r.lifetimes.filter((ms) => ms > lifetimeMs);
        assert.equal(late.map(Math.round), [], `every attack connection closed within ${lifetimeMs} ms`);
      }
      const expired = r.samples.at(-1)?.expiredAfterMs ?? {};
      for (const [why, afterMs] of Object.entries(expired)) {
        assert.ok(afterMs <= (expiry[why] ?? 0), `${why} expiry after ${afterMs} ms (bound ${expiry[why] ?? 'none: not expected'})`);
      }
      assert.ok(r.lifetimes.length >= connections);
      assert.equal(r.closed?.handles, [], 'no socket left after close()');
      assert.is(r.exit, 0, 'the target exits on its own after close()');
    });
  }
}

test.after(() => rmSync(certDir, { recursive: true, force: true }));

test.run();
