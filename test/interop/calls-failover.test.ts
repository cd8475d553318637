/**
 * Call failover across real Kamailio sites (issue 12): the Phone (DN 1001,
 * connection 0 to site A, connection 1 to site B, both sites challenging
 * INVITEs with 407, dial_failover_timeout 1000 ms) calls baresip, registered
 * as 1002 at both sites and answering at once.
 *
 *   - site A frozen (SIGSTOP, every PID) right before a dial: the INVITE to
 *     A gets nothing, the call is connected through B within the failover
 *     timeout + 1 s; after SIGCONT, A works off the queued INVITE and
 *     answers it 407: we ACK that and send no credentials to A, so baresip
 *     only ever has the call through B;
 *   - site A frozen right after it challenged our INVITE (from the trace
 *     hook, before our stack sends the INVITE with credentials): connected
 *     through B within the failover timeout + 1 s; after SIGCONT, A relays
 *     the authenticated INVITE to baresip, and we CANCEL it (after A's 100)
 *     or ACK and BYE its late 2xx: baresip ends every call it got through A
 *     and keeps only the one through B;
 *   - site A frozen under a call through it (Kamailio record-routes): the
 *     hold's re-INVITE goes to A and gets no response; after 64*T1 (T1 =
 *     100 ms here) the call ends SipError 408 and connection 0 becomes
 *     unavailable (408), connection 1 untouched;
 *   - site A killed (SIGKILL, every PID): a dial on connection 0 right away
 *     goes to A, fails there (ICMP port unreachable: 503) and completes
 *     through B within 1 s; once connection 0 is unavailable, the next dial
 *     goes straight to B.
 *
 * The measured times are printed. Sites are thawed in `finally`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Phone } from '../../src/sdk/index.ts';
import { Recorder } from '../integration/sdk-support.ts';
import { startBaresip, stopAllBaresip, type Baresip } from './harness/baresip.ts';
import { explained, isSite, proxyAuthorization, registeredPhone, sleep, startTwoSites, type SessionLog, type Wire } from './harness/calls-phone.ts';
import { DEFAULT_PASSWORD, stopAllSites, type KamailioSite } from './harness/kamailio.ts';
import { stopAllPeers } from './harness/process.ts';

const FAILOVER_MS = 1000;

let a: KamailioSite;
let b: KamailioSite;
let baresip: Baresip;
let phone: Phone | undefined;
const { tested, note } = explained(test);

/** On a failure: our ladders and sessions, and what baresip reported since `since`. */
function noteCalls(started: { sessions: SessionLog; wire: Wire }): void {
  const since = baresip.events.length;
  note(() => started.wire.summary());
  note(() => `our sessions: ${started.sessions.seq().join(', ')}`);
  note(() => `baresip: ${baresip.events.slice(since).filter((e) => e.class === 'call').map((e) => `${e.type}${e.param ? `(${e.param})` : ''} on ${e.accountaor} ${e.id ?? ''}`).join(', ')}`);
}
let atA: string;
let atB: string;

test.before(async () => {
  ({ a, b } = await startTwoSites('cf'));
  baresip = await startBaresip({
    name: 'failover',
    accounts: [a, b].map((site) => ({ user: '1002', password: DEFAULT_PASSWORD, host: site.uriHost, port: site.ports.udp })),
  });
  [atA, atB] = baresip.aors as [string, string];
});

test.after.each(async () => {
  a.thaw();
  if (a.running) await baresip.answer(atA, 100);
  await phone?.close();
  phone = undefined;
});

test.after(async () => {
  await stopAllBaresip();
  await stopAllSites();
  await stopAllPeers();
});

async function start(): Promise<{ phone: Phone; sessions: SessionLog; wire: Wire; connections: Recorder }> {
  const started = await registeredPhone(a, b, { dialFailoverTimeoutMs: FAILOVER_MS });
  phone = started.phone;
  noteCalls(started);
  return { ...started, connections: new Recorder(started.phone) };
}

/** The Call-IDs of the INVITEs we sent to a site (outside dialogs). */
function callIdsTo(wire: Wire, site: KamailioSite): string[] {
  const ids = wire.requests('out', 'INVITE').filter((m) => m.message.to?.tag == null && isSite(m.peer, site)).map((m) => m.message.callId!);
  return [...new Set(ids)];
}

/** baresip's live calls per account: site A's, site B's. */
async function baresipCalls(): Promise<[number, number]> {
  const calls = await baresip.activeCalls();
  return [calls[atA]!, calls[atB]!];
}

tested(`site A frozen right before a dial: connected through B within ${FAILOVER_MS} ms + 1 s; after SIGCONT A's late 407 is ACKed and nothing else reaches baresip`, async () => {
  const { phone, sessions, wire, connections } = await start();
  const bmark = baresip.events.length;
  let latency: number;
  let session;
  a.freeze();
  try {
    const started = performance.now();
    session = await phone.calls.dial(0, '1002');
    const connected = await sessions.status(session.id, 'connected', FAILOVER_MS + 4000);
    latency = connected.at - started;
    assert.is(connected.connectionId, 1, 'connected on connection 1');
    assert.equal(phone.sessions.session(session.id)?.triedConnections, [0, 1]);
  } finally {
    a.thaw();
  }
  console.log(`  failover, site A frozen before the dial: connected through B ${latency.toFixed(0)} ms after dial() (bound ${FAILOVER_MS + 1000} ms)`);
  assert.ok(latency <= FAILOVER_MS + 1000, `connected ${latency.toFixed(0)} ms after dial()`);
  const toB = wire.requests('out', 'INVITE').find((m) => isSite(m.peer, b))!;
  const toA = wire.requests('out', 'INVITE').find((m) => isSite(m.peer, a))!;
  assert.ok(toB.at - toA.at >= FAILOVER_MS - 5, `the INVITE to B waited for the failover timeout (${(toB.at - toA.at).toFixed(0)} ms)`);
  assert.is((await connections.status(0, 'unavailable', 1000)).code, 408, 'connection 0 unavailable (408)');

  // After SIGCONT: A answers the queued INVITE (and its retransmissions) 407.
  const [lateCallId] = callIdsTo(wire, a);
  await wire.wait("site A's late 407", (m) => m.direction === 'in' && m.message.status === 407 && m.message.callId === lateCallId, 5000);
  await sleep(1500); // anything A would still do
  const toALate = wire.call(lateCallId);
  assert.equal(toALate.filter((m) => m.direction === 'out' && m.message.method === 'INVITE' && proxyAuthorization(m) !== undefined), [], 'no INVITE with credentials to the late site');
  assert.ok(toALate.some((m) => m.direction === 'out' && m.message.method === 'ACK'), 'the late 407 ACKed');
  assert.is(toALate.filter((m) => m.direction === 'in' && m.message.status !== undefined && m.message.status < 400).length, 0, 'no provisional or 2xx from A for it');
  assert.equal(baresip.events.slice(bmark).filter((e) => e.accountaor === atA && e.class === 'call').map((e) => e.type), [], 'baresip got nothing through A');
  assert.equal(await baresipCalls(), [0, 1], 'baresip has one call: the one through B');
  assert.is(phone.sessions.sessions.length, 1, 'we have one session');
  const bCall = baresip.events.slice(bmark).find((e) => e.type === 'CALL_ESTABLISHED')!;
  assert.is(bCall.accountaor, atB);

  await phone.calls.hangup(session.id);
  await baresip.waitEvent('the call closed', (e) => e.type === 'CALL_CLOSED' && e.id === bCall.id, 5000, bmark);
  assert.equal(sessions.seq(), ['s1 dialing @0', 's1 ringing @1', 's1 connected @1', 's1 disconnected:Normal @1']);
  await connections.status(0, 'registered', 5000, connections.events.findIndex((e) => e.connectionId === 0 && e.status === 'unavailable'));
});

tested(`site A frozen right after its 407: connected through B within ${FAILOVER_MS} ms + 1 s; after SIGCONT our CANCEL or ACK+BYE leaves baresip no second live call`, async () => {
  const { phone, sessions, wire } = await start();
  // baresip answers through A by itself, 180 and 200 back to back: its 2xx mostly crosses our CANCEL.
  await baresip.answer(atA, 'at-once');
  const bmark = baresip.events.length;
  let frozen = false;
  // The trace hook runs before the stack handles the 407: A is stopped before our INVITE with credentials leaves.
  wire.onMessage = (m) => {
    if (!frozen && m.direction === 'in' && m.message.status === 407 && isSite(m.peer, a)) {
      frozen = true;
      a.freeze();
    }
  };
  let latency: number;
  let session;
  try {
    const started = performance.now();
    session = await phone.calls.dial(0, '1002');
    const connected = await sessions.status(session.id, 'connected', FAILOVER_MS + 4000);
    latency = connected.at - started;
    assert.ok(frozen, 'A was frozen after its 407');
    assert.is(connected.connectionId, 1);
    assert.equal(phone.sessions.session(session.id)?.triedConnections, [0, 1]);
  } finally {
    wire.onMessage = undefined;
    a.thaw();
  }
  console.log(`  failover, site A frozen after its 407: connected through B ${latency.toFixed(0)} ms after dial() (bound ${FAILOVER_MS + 1000} ms)`);
  assert.ok(latency <= FAILOVER_MS + 1000, `connected ${latency.toFixed(0)} ms after dial()`);

  // After SIGCONT: A relays the INVITE with credentials to baresip; we end that branch.
  const [lateCallId] = callIdsTo(wire, a);
  const late = wire.call(lateCallId);
  assert.ok(late.some((m) => m.direction === 'out' && m.message.method === 'INVITE' && proxyAuthorization(m) !== undefined), 'the INVITE with credentials went to A');
  const ended = await wire.wait(
    'the end of the late call (487 to our CANCEL, or 200 to our BYE)',
    (m) => m.direction === 'in' && m.message.callId === lateCallId && ((m.message.status === 487 && m.message.cseq?.method === 'INVITE') || (m.message.status === 200 && m.message.cseq?.method === 'BYE')),
    8000,
  );
  const ladder = wire.ladder(lateCallId);
  const how = ended.message.status === 487 ? 'CANCEL -> 487' : 'late 2xx -> ACK + BYE';
  console.log(`  failover, late site after SIGCONT: ${how}: ${ladder.join(', ')}`);
  if (ended.message.status === 487) {
    assert.ok(ladder.includes('out CANCEL') && ladder.includes('in 200 CANCEL'), 'CANCEL answered 200');
    assert.ok(ladder.indexOf('out CANCEL') > ladder.indexOf('in 100 INVITE'), 'the CANCEL went after the first provisional (RFC 3261 s9.1)');
  } else {
    const okAt = ladder.lastIndexOf('in 200 INVITE');
    assert.ok(okAt >= 0, 'a 2xx came');
    assert.equal(ladder.slice(okAt + 1).filter((l) => l === 'out ACK' || l === 'out BYE'), ['out ACK', 'out BYE'], 'the late 2xx ACKed, then BYE');
  }
  // baresip: every call through A ends; one call left, the one through B.
  const throughA = [...new Set(baresip.events.slice(bmark).filter((e) => e.accountaor === atA && e.id !== undefined && e.class === 'call').map((e) => e.id!))];
  for (const id of throughA) await baresip.waitEvent(`baresip closing its call ${id} through A`, (e) => e.type === 'CALL_CLOSED' && e.id === id, 5000, bmark);
  await sleep(300);
  assert.equal(await baresipCalls(), [0, 1], 'baresip has one call: the one through B');
  assert.is(phone.sessions.sessions.length, 1, 'we have one session');
  assert.is(phone.sessions.session(session.id)?.status, 'connected', 'the call through B is untouched');
  const bCall = baresip.events.slice(bmark).find((e) => e.type === 'CALL_ESTABLISHED' && e.accountaor === atB)!;
  assert.ok(bCall !== undefined, 'baresip has the call on its site-B account');

  await phone.calls.hangup(session.id);
  await baresip.waitEvent('the call through B closed', (e) => e.type === 'CALL_CLOSED' && e.id === bCall.id, 5000, bmark);
  assert.equal(await baresipCalls(), [0, 0]);
  assert.equal(sessions.seq(), ['s1 dialing @0', 's1 ringing @1', 's1 connected @1', 's1 disconnected:Normal @1']);
});

tested('site A frozen under a call through it: the hold gets no response, the call ends SipError(408) after 64*T1 and connection 0 goes unavailable(408)', async () => {
  const started = await registeredPhone(a, b, { dialFailoverTimeoutMs: FAILOVER_MS }, { timers: { T1: 100 } });
  phone = started.phone;
  noteCalls(started);
  const { sessions, wire } = started;
  const connections = new Recorder(phone);
  const call = await phone.calls.dial(0, '1002');
  await sessions.status(call.id, 'connected', 5000);
  const marks = connections.events.length;
  a.freeze();
  const frozenAt = performance.now();
  const hold = phone.calls.hold(call.id).then(() => undefined, (e: unknown) => e);
  const ended = await sessions.status(call.id, 'disconnected', 15_000);
  assert.is(ended.reason, 'SipError');
  assert.is(ended.code, 408);
  const down = await connections.status(0, 'unavailable', 2000, marks);
  assert.is(down.code, 408);
  console.log(`  site A frozen under a call: SipError 408 after ${(ended.at - frozenAt).toFixed(0)} ms (64*T1 = 6400), connection 0 unavailable(408) ${(down.at - ended.at).toFixed(0)} ms later`);
  const reinvites = wire.requests('out', 'INVITE').filter((m) => m.message.to?.tag != null);
  assert.ok(reinvites.length > 0 && reinvites.every((m) => isSite(m.peer, a)), 'the hold went to site A (its Record-Route)');
  assert.is(((await hold) as { code?: string }).code, 'no-response');
  assert.equal(connections.events.slice(marks).filter((e) => e.connectionId === 1), [], 'connection 1 untouched');
});

tested('site A killed: a dial on connection 0 right away completes through B within 1 s (A refuses: 503); once 0 is unavailable, straight to B', async () => {
  const { phone, sessions, wire, connections } = await start();
  await a.kill();
  const started = performance.now();
  const first = await phone.calls.dial(0, '1002');
  const connected = await sessions.status(first.id, 'connected', 3000);
  const latency = connected.at - started;
  console.log(`  failover, site A killed (not yet noticed): connected through B ${latency.toFixed(0)} ms after dial()`);
  assert.is(connected.connectionId, 1);
  assert.equal(phone.sessions.session(first.id)?.triedConnections, [0, 1]);
  assert.ok(latency < 1000, `connected ${latency.toFixed(0)} ms after dial()`);
  assert.is((await connections.status(0, 'unavailable', 1000)).code, 503, 'connection 0 unavailable (503)');
  assert.is(callIdsTo(wire, a).length, 1, 'one INVITE went to A first');
  await phone.calls.hangup(first.id);
  await sessions.status(first.id, 'disconnected');

  const mark = sessions.events.length;
  const invitesToA = wire.requests('out', 'INVITE').filter((m) => isSite(m.peer, a)).length;
  const second = await phone.calls.dial(0, '1002');
  assert.equal(second.triedConnections, [1], 'connection 0 is known down: straight to connection 1');
  await sessions.status(second.id, 'connected', 3000, mark);
  assert.is(wire.requests('out', 'INVITE').filter((m) => isSite(m.peer, a)).length, invitesToA, 'nothing more to A');
  await phone.calls.hangup(second.id);
  await sessions.status(second.id, 'disconnected', 3000, mark);
  assert.equal(sessions.seq(), [
    's1 dialing @0', 's1 ringing @1', 's1 connected @1', 's1 disconnected:Normal @1',
    's2 dialing @1', 's2 ringing @1', 's2 connected @1', 's2 disconnected:Normal @1',
  ]);
  await sleep(200);
  assert.equal(await baresipCalls(), [0, 0], 'baresip has no call left');
});

test.run();
