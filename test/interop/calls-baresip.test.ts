/**
 * Calls (issue 12) between the Phone (the public SDK: DN 1001 with one UDP
 * connection to each of two Kamailio sites that challenge initial INVITEs
 * with 407) and baresip, a real softphone (Debian package), registered as
 * 1002 at both sites (harness/baresip.ts: commands and events over its
 * ctrl_tcp module; it accepts each call 100 ms after it rings):
 *
 *   - we call baresip through site A: 407 answered, connected (baresip
 *     reports the call established on its site-A account), held (our
 *     a=sendonly, its a=recvonly) and retrieved, DTMF 1 and # (baresip
 *     reports each digit from our INFOs), our BYE (baresip: closed);
 *   - baresip hangs up: its BYE through site A, disconnected Normal;
 *   - CANCEL while baresip rings (its site-A account on manual answer);
 *   - baresip calls 1001 through site A, then site B: rings on the right
 *     connection, answered there, baresip holds and resumes (our answers
 *     a=recvonly then sendrecv, remoteHold and one remoteHoldChanged each),
 *     hang up by us (A) and by
 *     baresip (B);
 *   - a second call from baresip (through B) while its first (through A)
 *     is connected: rings on connection 1, answered, holds the first (our
 *     re-INVITE a=sendonly through A); then both end;
 *   - the Phone over TCP (baresip stays on UDP): our call through A held
 *     and retrieved, and baresip's call through B reaching us over the flow
 *     we registered on (Kamailio's received/alias), answered on
 *     connection 1.
 * The other tests run over UDP. After each test baresip has no call left.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Phone } from '../../src/sdk/index.ts';
import { startBaresip, stopAllBaresip, type Baresip } from './harness/baresip.ts';
import { direction, explained, isSite, proxyAuthorization, registeredPhone, sleep, startTwoSites, type SessionLog, type Wire } from './harness/calls-phone.ts';
import { DEFAULT_PASSWORD, stopAllSites, type KamailioSite } from './harness/kamailio.ts';
import { stopAllPeers } from './harness/process.ts';

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
/** baresip's AOR at site A and at site B. */
let atA: string;
let atB: string;

test.before(async () => {
  ({ a, b } = await startTwoSites('cb'));
  baresip = await startBaresip({
    name: 'calls',
    accounts: [a, b].map((site) => ({ user: '1002', password: DEFAULT_PASSWORD, host: site.uriHost, port: site.ports.udp })),
  });
  [atA, atB] = baresip.aors as [string, string];
});

test.after.each(async () => {
  await phone?.close();
  phone = undefined;
  // No call of baresip may outlive a test.
  assert.equal(await baresip.activeCalls(), { [atA]: 0, [atB]: 0 }, 'baresip has no call left');
});

test.after(async () => {
  await stopAllBaresip();
  await stopAllSites();
  await stopAllPeers();
});

async function start(): Promise<{ phone: Phone; sessions: SessionLog; wire: Wire }> {
  const started = await registeredPhone(a, b);
  phone = started.phone;
  noteCalls(started);
  return started;
}

/** baresip's call events of one call (by Call-ID), from index `since`: "CALL_ESTABLISHED", "CALL_DTMF_START(1)", ... (not DTMF_END, RTCP, SDP) */
function baresipCall(callId: string | undefined, since = 0): string[] {
  const kept = new Set(['CALL_INCOMING', 'CALL_RINGING', 'CALL_PROGRESS', 'CALL_ESTABLISHED', 'CALL_DTMF_START', 'CALL_CLOSED']);
  return baresip.events
    .slice(since)
    .filter((e) => e.id === callId && kept.has(e.type))
    .map((e) => (e.type === 'CALL_DTMF_START' ? `${e.type}(${e.param})` : e.type));
}

tested('we call baresip through site A: 407 answered; connected, held, retrieved, DTMF 1 and #, our BYE', async () => {
  const { phone, sessions, wire } = await start();
  const mark = baresip.events.length;
  const call = await phone.calls.dial(0, '1002');
  await sessions.status(call.id, 'connected');
  const callId = phone.sessions.session(call.id)!.callId;
  const established = await baresip.waitEvent('the call established', (e) => e.type === 'CALL_ESTABLISHED' && e.id === callId, 5000, mark);
  assert.is(established.accountaor, atA, 'baresip got it on its site-A account');
  assert.is(established.direction, 'incoming');

  assert.is((await phone.calls.hold(call.id)).status, 'held');
  assert.is((await phone.calls.retrieve(call.id)).status, 'connected');
  await phone.calls.sendDtmf(call.id, '1#');
  await baresip.waitEvent('digit #', (e) => e.type === 'CALL_DTMF_START' && e.param === '#' && e.id === callId, 5000, mark);
  await phone.calls.hangup(call.id);
  await baresip.waitEvent('the call closed', (e) => e.type === 'CALL_CLOSED' && e.id === callId, 5000, mark);

  assert.equal(sessions.seq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 held @0', 's1 connected @0', 's1 disconnected:Normal @0']);
  assert.equal(sessions.previousStatusesChain(), []);
  assert.equal(baresipCall(callId, mark), ['CALL_INCOMING', 'CALL_ESTABLISHED', 'CALL_DTMF_START(1)', 'CALL_DTMF_START(#)', 'CALL_CLOSED'], 'what baresip saw');

  const invites = wire.requests('out', 'INVITE', callId).filter((m) => m.message.to?.tag == null);
  assert.ok(invites.every((m) => isSite(m.peer, a)), 'the INVITEs went to site A');
  assert.is(wire.responses('in', 407, 'INVITE', callId).length >= 1, true, '407 from site A');
  assert.is(proxyAuthorization(invites.at(-1)!)?.get('username'), '1001', 'answered with Proxy-Authorization');
  const unique = <T extends { message: { cseq?: { seq: number } | undefined } }>(list: T[]): T[] =>
    list.filter((m, i, all) => all.findIndex((x) => x.message.cseq!.seq === m.message.cseq!.seq) === i);
  assert.equal(unique(wire.requests('out', 'INVITE', callId).filter((m) => m.message.to?.tag != null)).map(direction), ['sendonly', 'sendrecv']);
  assert.equal(unique(wire.responses('in', 200, 'INVITE', callId)).map(direction), ['sendrecv', 'recvonly', 'sendrecv'], "baresip's answers");
  assert.equal(unique(wire.requests('out', 'INFO', callId)).map((m) => /Signal=(\S+)/.exec(m.text)?.[1]), ['1', '#']);
  assert.equal(unique(wire.responses('in', 200, 'INFO', callId)).length, 2);
  assert.ok(wire.responses('in', 200, 'BYE', callId).length >= 1, 'baresip answered our BYE');
});

tested('baresip hangs up: its BYE through site A ends the call (Normal)', async () => {
  const { phone, sessions, wire } = await start();
  const mark = baresip.events.length;
  const call = await phone.calls.dial(0, '1002');
  await sessions.status(call.id, 'connected');
  const callId = phone.sessions.session(call.id)!.callId;
  await baresip.waitEvent('the call established', (e) => e.type === 'CALL_ESTABLISHED' && e.id === callId, 5000, mark);
  await baresip.on(atA, 'hangup');
  await sessions.status(call.id, 'disconnected');
  await sleep(100);

  assert.equal(sessions.seq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 disconnected:Normal @0']);
  const bye = wire.requests('in', 'BYE', callId);
  assert.ok(bye.length >= 1 && isSite(bye[0]!.peer, a), 'the BYE came through site A');
  assert.ok(wire.responses('out', 200, 'BYE', callId).length >= 1, 'we answered it 200');
  assert.is(wire.requests('out', 'BYE', callId).length, 0, 'no BYE of ours');
});

tested('CANCEL while baresip rings: baresip closes the call, we end Cancelled', async () => {
  const { phone, sessions, wire } = await start();
  await baresip.answer(atA, null); // rings until cancelled
  try {
    const mark = baresip.events.length;
    const call = await phone.calls.dial(0, '1002');
    await sessions.status(call.id, 'ringing');
    const callId = phone.sessions.session(call.id)!.callId;
    await baresip.waitEvent('the incoming call', (e) => e.type === 'CALL_INCOMING' && e.id === callId, 5000, mark);
    await phone.calls.hangup(call.id);
    await baresip.waitEvent('the call closed', (e) => e.type === 'CALL_CLOSED' && e.id === callId, 5000, mark);
    await wire.wait('the 487', (m) => m.direction === 'in' && m.message.status === 487 && m.message.callId === callId);
    await sleep(100);

    assert.equal(sessions.seq(), ['s1 dialing @0', 's1 ringing @0', 's1 disconnected:Cancelled @0']);
    assert.equal(baresipCall(callId, mark), ['CALL_INCOMING', 'CALL_CLOSED'], 'baresip never established it');
    const cancel = wire.requests('out', 'CANCEL', callId)[0]!;
    const invite = wire.requests('out', 'INVITE', callId).at(-1)!;
    assert.ok(isSite(cancel.peer, a));
    assert.is(cancel.message.topVia?.branch, invite.message.topVia?.branch, 'CANCEL on the INVITE branch');
    await wire.wait('the 200 to the CANCEL', (m) => m.direction === 'in' && m.message.status === 200 && m.message.cseq?.method === 'CANCEL' && m.message.callId === callId);
    assert.is(wire.requests('out', 'ACK', callId).at(-1)?.message.topVia?.branch, invite.message.topVia?.branch, 'the 487 ACKed');
  } finally {
    await baresip.answer(atA, 100);
  }
});

tested('baresip calls 1001 through site A, then site B: rings on that connection, answered, held and resumed by baresip; hung up by us, then by baresip', async () => {
  const { phone, sessions, wire } = await start();
  for (const [site, id, aor] of [[a, 0, atA], [b, 1, atB]] as const) {
    const mark = sessions.events.length;
    const bmark = baresip.events.length;
    await baresip.dial(aor, `sip:1001@${site.uriHost}:${site.ports.udp}`);
    const ring = await sessions.incoming(5000, mark);
    assert.is(ring.connectionId, id, `the call through site ${site.name} rings on connection ${id}`);
    assert.is(ring.remote, aor);
    const callId = phone.sessions.session(ring.sessionId)!.callId;
    const invite = wire.requests('in', 'INVITE', callId)[0]!;
    assert.ok(isSite(invite.peer, site), 'the INVITE came from that site');
    assert.is(invite.message.uri?.params.get('line'), phone.connections.lineOf(id));

    await phone.calls.answer(ring.sessionId);
    await baresip.waitEvent('the call established', (e) => e.type === 'CALL_ESTABLISHED' && e.id === callId, 5000, bmark);

    const remoteHolds: boolean[] = [];
    const offHold = phone.sessions.on('remoteHoldChanged', (e) => {
      if (e.sessionId === ring.sessionId && e.connectionId === id) remoteHolds.push(e.remoteHold);
    });
    const since = wire.messages.length;
    await baresip.on(aor, 'hold');
    await wire.wait('our answer to the hold', (m) => m.direction === 'out' && m.message.status === 200 && m.message.cseq?.method === 'INVITE' && m.message.callId === callId, 5000, since);
    assert.is(direction(wire.messages.slice(since).find((m) => m.direction === 'in' && m.message.method === 'INVITE')!), 'sendonly', "baresip's hold offer");
    assert.is(phone.sessions.session(ring.sessionId)?.remoteHold, true, 'remoteHold');
    const resumed = wire.messages.length;
    await baresip.on(aor, 'resume');
    await wire.wait('our answer to the resume', (m) => m.direction === 'out' && m.message.status === 200 && m.message.cseq?.method === 'INVITE' && m.message.callId === callId, 5000, resumed);
    assert.is(phone.sessions.session(ring.sessionId)?.remoteHold, false, 'not held any more');
    assert.is(phone.sessions.session(ring.sessionId)?.status, 'connected');
    assert.equal(remoteHolds, [true, false], 'remoteHoldChanged for the hold and the resume');
    offHold();

    if (id === 0) {
      await phone.calls.hangup(ring.sessionId);
      await baresip.waitEvent('the call closed', (e) => e.type === 'CALL_CLOSED' && e.id === callId, 5000, bmark);
      assert.ok(isSite(wire.requests('out', 'BYE', callId)[0]!.peer, a), 'our BYE through site A');
    } else {
      await baresip.on(aor, 'hangup');
      await sessions.status(ring.sessionId, 'disconnected', 5000, mark);
      assert.ok(isSite(wire.requests('in', 'BYE', callId)[0]!.peer, b), "baresip's BYE through site B");
    }
    const ours = wire.responses('out', 200, 'INVITE', callId).filter((m, i, all) => all.findIndex((x) => x.message.cseq!.seq === m.message.cseq!.seq) === i);
    assert.equal(ours.map(direction), ['sendrecv', 'recvonly', 'sendrecv'], 'our answers: RFC 3264 s6.1');
  }
  assert.equal(sessions.seq(), [
    's1 in ringing @0', 's1 in connected @0', 's1 in disconnected:Normal @0',
    's2 in ringing @1', 's2 in connected @1', 's2 in disconnected:Normal @1',
  ]);
});

tested('a second call from baresip (site B) while its first (site A) is connected: rings on connection 1; answered, it holds the first', async () => {
  const { phone, sessions, wire } = await start();
  await baresip.dial(atA, `sip:1001@${a.uriHost}:${a.ports.udp}`);
  const first = await sessions.incoming();
  assert.is(first.connectionId, 0);
  await phone.calls.answer(first.sessionId);
  const firstCallId = phone.sessions.session(first.sessionId)!.callId;
  await baresip.waitEvent('the first call established', (e) => e.type === 'CALL_ESTABLISHED' && e.id === firstCallId);

  const mark = sessions.events.length;
  await baresip.dial(atB, `sip:1001@${b.uriHost}:${b.ports.udp}`);
  const second = await sessions.incoming(5000, mark);
  assert.is(second.connectionId, 1, 'the second call rings on connection 1');
  await sleep(300);
  assert.is(phone.sessions.session(first.sessionId)?.status, 'connected', 'a ringing call holds nothing');
  assert.equal(wire.requests('out', 'INVITE', firstCallId), [], 'no re-INVITE of ours yet');

  await phone.calls.answer(second.sessionId);
  assert.is(phone.sessions.session(first.sessionId)?.status, 'held', 'answering the second held the first');
  const hold = wire.requests('out', 'INVITE', firstCallId)[0]!;
  assert.ok(isSite(hold.peer, a), 'the hold re-INVITE went through site A');
  const holdAnswer = await wire.wait("baresip's answer to the hold", (m) => m.direction === 'in' && m.message.status === 200 && m.message.cseq?.seq === hold.message.cseq?.seq && m.message.callId === firstCallId);
  assert.is(direction(hold), 'sendonly', 'our hold offer (baresip does not hold its own first call when it dials the second)');
  assert.is(direction(holdAnswer), 'recvonly', "baresip's answer (RFC 3264 s6.1)");

  await phone.calls.hangup(second.sessionId);
  await phone.calls.retrieve(first.sessionId);
  await phone.calls.hangup(first.sessionId);
  await baresip.waitEvent('the first call closed', (e) => e.type === 'CALL_CLOSED' && e.id === firstCallId);
  assert.equal(sessions.seq(), [
    's1 in ringing @0', 's1 in connected @0',
    's2 in ringing @1', 's1 in held @0', 's2 in connected @1',
    's2 in disconnected:Normal @1',
    's1 in connected @0', 's1 in disconnected:Normal @0',
  ]);
});

tested('over TCP: our call to baresip through site A (held, retrieved) and its call through site B over our flow, answered on connection 1', async () => {
  const started = await registeredPhone(a, b, { transport: 'tcp' });
  phone = started.phone;
  noteCalls(started);
  const { sessions, wire } = started;
  const bmark = baresip.events.length;
  const out = await phone.calls.dial(0, '1002');
  await sessions.status(out.id, 'connected');
  const outCallId = phone.sessions.session(out.id)!.callId;
  assert.is((await phone.calls.hold(out.id)).status, 'held');
  assert.is((await phone.calls.retrieve(out.id)).status, 'connected');
  await phone.calls.hangup(out.id);
  await baresip.waitEvent('our call closed', (e) => e.type === 'CALL_CLOSED' && e.id === outCallId, 5000, bmark);
  assert.ok(wire.call(outCallId).every((m) => m.peer.transport === 'tcp' && isSite(m.peer, a)), 'every message over TCP with site A');

  const mark = sessions.events.length;
  await baresip.dial(atB, `sip:1001@${b.uriHost}:${b.ports.udp}`);
  const ring = await sessions.incoming(5000, mark);
  assert.is(ring.connectionId, 1);
  const inCallId = phone.sessions.session(ring.sessionId)!.callId;
  await phone.calls.answer(ring.sessionId);
  await baresip.waitEvent('its call established', (e) => e.type === 'CALL_ESTABLISHED' && e.id === inCallId, 5000, bmark);
  await baresip.on(atB, 'hangup');
  await sessions.status(ring.sessionId, 'disconnected', 5000, mark);
  assert.ok(wire.call(inCallId).every((m) => m.peer.transport === 'tcp' && isSite(m.peer, b)), 'its INVITE came over our TCP flow with site B, and so did the rest');

  assert.equal(sessions.seq(), [
    's1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 held @0', 's1 connected @0', 's1 disconnected:Normal @0',
    's2 in ringing @1', 's2 in connected @1', 's2 in disconnected:Normal @1',
  ]);
});

test.run();
