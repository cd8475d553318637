/**
 * A UDP flood from one peer against a Phone (PhoneOptions
 * maxTransactionsPerPeer): for RELIABILITY_FLOOD_SECONDS (default 15) a peer
 * on 127.0.0.9, in a process of its own (udp-flooder.ts), sends the Phone's
 * UDP port RELIABILITY_FLOOD_RATE (default 4,000) new OPTIONS a second,
 * while the Phone is registered over UDP and TCP (keep-alive every 2 s) at
 * a lab site and calls 1002 there.
 *
 * Asserted: the flood holds at most 1,000 live transactions of the Phone
 * (about 60,000 without the cap: Timer J keeps each 32 s); the rest get 503,
 * and at most 1,000 get a 200; both connections stay registered; a call to
 * 1002 during the flood is connected within 3 s; RSS stays under 300 MB;
 * after close() nothing is left. Not covered: floods from many sources (the
 * server cap: test/unit/transaction-limits.test.ts), floods over TCP
 * (listener-attacks.test.ts).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LabSite } from '../../src/lab/lab-site.ts';
import { Phone, DEFAULT_MAX_TRANSACTIONS_PER_PEER, type ConnectionStatusChanged, type SessionStatusChanged } from '../../src/sdk/index.ts';

const SECONDS = Number(process.env.RELIABILITY_FLOOD_SECONDS ?? 15);
const RATE = Number(process.env.RELIABILITY_FLOOD_RATE ?? 4000);
const PASSWORD = 'flood';
const MAX_RSS = 300 * 1024 * 1024;
const FLOODER = fileURLToPath(new URL('./udp-flooder.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test(`a UDP flood of ${RATE} requests/s from one peer for ${SECONDS} s: capped at ${DEFAULT_MAX_TRANSACTIONS_PER_PEER} transactions, registrations and a call unharmed`, async () => {
  const site = await LabSite.start({ name: 'flood-site', host: '127.0.0.1', port: 0, users: { '1001': PASSWORD, '1002': PASSWORD }, minExpires: 1 });
  const common = { user: '1001', server: `127.0.0.1:${site.port}`, password: PASSWORD, sendKeepAlive: true, keepAliveIntervalSeconds: 2, minimumRetrySeconds: 1, maximumRetrySeconds: 2 };
  const phone = await Phone.create({ connections: [{ ...common, transport: 'udp' }, { ...common, transport: 'tcp' }] });
  const callee = await Phone.create({ connections: [{ ...common, user: '1002', transport: 'udp' }] });
  const changes: ConnectionStatusChanged[] = [];
  const sessions: SessionStatusChanged[] = [];
  callee.sessions.on('sessionStatusChanged', (e) => {
    if (e.direction === 'inbound' && e.status === 'ringing') void callee.calls.answer(e.sessionId).catch(() => {});
  });
  phone.sessions.on('sessionStatusChanged', (e) => sessions.push(e));
  let flooder: ReturnType<typeof fork> | undefined;
  try {
    assert.equal((await phone.start()).map((c) => c.status), ['registered', 'registered']);
    assert.equal((await callee.start()).map((c) => c.status), ['registered']);
    phone.connections.on('connectionStatusChanged', (e) => changes.push(e));
    const udpPort = phone.transport.listeners.find((l) => l.transport === 'udp')!.port;
    flooder = fork(FLOODER, ['127.0.0.9', String(udpPort), String(RATE)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await once(flooder, 'message');
    let maxTransactions = 0;
    let maxRss = 0;
    const sampler = setInterval(() => {
      maxTransactions = Math.max(maxTransactions, phone.transactions.stats().transactions);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }, 100);
    await sleep((SECONDS * 1000) / 3);
    // A call while the flood goes on.
    const dialled = performance.now();
    const call = await phone.calls.dial(0, '1002');
    while (!sessions.some((e) => e.sessionId === call.id && (e.status === 'connected' || e.status === 'disconnected')) && performance.now() - dialled < 3000) await sleep(20);
    const connectedIn = performance.now() - dialled;
    assert.ok(sessions.some((e) => e.sessionId === call.id && e.status === 'connected'), `the call connected (events: ${sessions.map((e) => e.status).join(', ')})`);
    await phone.calls.hangup(call.id);
    await sleep((SECONDS * 2000) / 3);
    clearInterval(sampler);
    flooder.send({ type: 'stop' });
    const [counts] = (await once(flooder, 'message')) as [{ sent: number; answers: Record<string, number> }];
    process.stdout.write(`${JSON.stringify({ rate: RATE, seconds: SECONDS, sent: counts.sent, answers: counts.answers, maxTransactions, maxRssMb: Math.round(maxRss / 1048576), callConnectedMs: Math.round(connectedIn) })}\n`);
    assert.ok(counts.sent >= RATE * SECONDS * 0.5, `the flood ran (${counts.sent} sent)`);
    assert.ok((counts.answers['503'] ?? 0) > 0, 'past the cap the flood gets 503');
    assert.ok((counts.answers['200'] ?? 0) <= DEFAULT_MAX_TRANSACTIONS_PER_PEER, `at most ${DEFAULT_MAX_TRANSACTIONS_PER_PEER} of the flood served (${counts.answers['200']})`);
    // The flood's slots, plus the phone's own: registrations, keep-alives, the call.
    assert.ok(maxTransactions <= DEFAULT_MAX_TRANSACTIONS_PER_PEER + 50, `live transactions stayed capped (${maxTransactions})`);
    assert.equal(changes.map((e) => `${e.connectionId} ${e.status}`), [], 'both connections stayed registered');
    assert.ok(maxRss < MAX_RSS, `RSS ${Math.round(maxRss / 1048576)} MB`);
  } finally {
    if (flooder !== undefined && flooder.exitCode === null) flooder.kill();
    await phone.close();
    await callee.close();
    await site.close();
  }
});

test.run();
