/**
 * Calls (issue 12) between the Phone (the public SDK: DN 1001 with one UDP
 * connection to each of two Kamailio sites that challenge initial INVITEs
 * with 407) and SIPp, registered at both sites as 1003 or calling 1001
 * through one of them (test/interop/sipp/calls-*.xml, digest done by SIPp).
 *
 *   - we call SIPp through site A: the 407 answered with Proxy-Authorization
 *     (the site's nonce and realm, the Request-URI); connected, held
 *     (a=sendonly, answered recvonly), retrieved (sendrecv); DTMF as INFO
 *     application/dtmf-relay; our BYE;
 *   - SIPp hangs up (its BYE through site A);
 *   - CANCEL while SIPp rings: the INVITE's branch and CSeq number, 200 and
 *     487 from the site, our ACK; disconnected Cancelled;
 *   - SIPp calls 1001 through site A, then through site B: each rings on
 *     the connection of that site (the `line=` of our Contact in the
 *     Request-URI), is answered there, SIPp holds and resumes (our answers
 *     a=recvonly then a=sendrecv, remoteHold true then false), we hang up;
 *   - a second call (through B) while the first (through A) is connected:
 *     it rings without touching the first; answered, it holds the first
 *     (re-INVITE a=sendonly to A); the first retrieved once the second ends.
 *
 * Every test asserts the exact sessionStatusChanged sequence, the call's
 * messages on our side (phone.onSipMessage) and SIPp's side (its message
 * log, its error file empty, or its exit status for the callers).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Phone } from '../../src/sdk/index.ts';
import { bodyOf, direction, explained, isSite, proxyAuthorization, registeredPhone, sleep, startTwoSites, type SessionLog, type Wire } from './harness/calls-phone.ts';
import { assertCallerSucceeded, callingSipp as startCallingSipp, describeSipp, forgetBindings, registeredSipp as startRegisteredSipp, sippErrors, sippLadder } from './harness/calls-sipp.ts';
import type { Sipp } from './harness/sipp.ts';
import { stopAllSites, type KamailioSite } from './harness/kamailio.ts';
import { stopAllPeers } from './harness/process.ts';
import { stopAllSipp } from './harness/sipp.ts';

let a: KamailioSite;
let b: KamailioSite;
let phone: Phone | undefined;
const { tested, note } = explained(test);

async function registeredSipp(options: Parameters<typeof startRegisteredSipp>[0]): Promise<Sipp> {
  const sipp = await startRegisteredSipp(options);
  note(() => describeSipp(sipp));
  return sipp;
}

async function callingSipp(options: Parameters<typeof startCallingSipp>[0]): Promise<Sipp> {
  const sipp = await startCallingSipp(options);
  note(() => describeSipp(sipp));
  return sipp;
}

test.before(async () => {
  ({ a, b } = await startTwoSites('cs'));
});

test.after.each(async () => {
  await phone?.close();
  phone = undefined;
  await stopAllSipp();
  // SIPp's bindings would outlive it (the next SIPp registers from another port).
  await forgetBindings([a, b], '1003');
});

test.after(async () => {
  await stopAllSites();
  await stopAllPeers();
});

async function start(): Promise<{ phone: Phone; sessions: SessionLog; wire: Wire }> {
  const started = await registeredPhone(a, b);
  phone = started.phone;
  note(() => started.wire.summary());
  note(() => `our sessions: ${started.sessions.seq().join(', ')}`);
  return started;
}

tested('we call SIPp through site A: 407 answered with Proxy-Authorization; connected, held, retrieved, DTMF as INFO, our BYE', async () => {
  const sipp = await registeredSipp({ a, b, user: '1003', answer: 'calls-uas-answer.xml' });
  const { phone, sessions, wire } = await start();

  const call = await phone.calls.dial(0, '1003');
  await sessions.status(call.id, 'connected');
  // Our hold leaves right behind our ACK, and the site's workers relay them in parallel: once in a CI
  // run (2026-12-07) the re-INVITE overtook the ACK and this SIPp scenario aborted the call at the
  // re-INVITE's 200 (SIPp's doing: RFC 3261 allows the order). Our ACK is out by `connected`: let it
  // through the site first.
  await sleep(100);
  assert.is((await phone.calls.hold(call.id)).status, 'held');
  assert.is((await phone.calls.retrieve(call.id)).status, 'connected');
  await phone.calls.sendDtmf(call.id, '12#');
  const callId = phone.sessions.session(call.id)!.callId;
  await phone.calls.hangup(call.id);
  await wire.wait('the 200 to our BYE', (m) => m.direction === 'in' && m.message.status === 200 && m.message.cseq?.method === 'BYE');

  assert.equal(sessions.seq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 held @0', 's1 connected @0', 's1 disconnected:Normal @0']);
  assert.equal(sessions.previousStatusesChain(), []);
  assert.equal(wire.ladder(callId), [
    'out INVITE', 'in 407 INVITE', 'out ACK',
    'out INVITE', 'in 100 INVITE', 'in 180 INVITE', 'in 200 INVITE', 'out ACK',
    'out INVITE', 'in 100 INVITE', 'in 200 INVITE', 'out ACK',
    'out INVITE', 'in 100 INVITE', 'in 200 INVITE', 'out ACK',
    'out INFO', 'in 200 INFO', 'out INFO', 'in 200 INFO', 'out INFO', 'in 200 INFO',
    'out BYE', 'in 200 BYE',
  ]);
  // Through site A only.
  assert.ok(wire.call(callId).every((m) => isSite(m.peer, a)), 'every message of the call went to or came from site A');
  assert.is(wire.requests('out', 'INVITE').filter((m) => isSite(m.peer, b)).length, 0, 'nothing sent to site B');

  // The 407 and the credentials (RFC 3261 s22.3): realm and nonce of the challenge, uri = Request-URI, qop auth.
  const [unauthenticated, authenticated] = wire.requests('out', 'INVITE', callId).filter((m) => m.message.to?.tag == null);
  const challenge = wire.responses('in', 407, 'INVITE', callId)[0]!;
  assert.is(proxyAuthorization(unauthenticated!), undefined, 'the first INVITE carries no credentials');
  const offered = challenge.message.proxyAuthenticate[0]!.params;
  assert.is(offered.get('realm'), '127.0.0.1');
  const credentials = proxyAuthorization(authenticated!)!;
  assert.ok(credentials !== undefined, 'the INVITE after the 407 carries Proxy-Authorization');
  assert.is(credentials.get('username'), '1001');
  assert.is(credentials.get('realm'), offered.get('realm'));
  assert.is(credentials.get('nonce'), offered.get('nonce'));
  assert.is(credentials.get('uri'), authenticated!.message.uri!.toString());
  assert.is(credentials.get('qop'), 'auth');
  assert.is(authenticated!.message.cseq!.seq, unauthenticated!.message.cseq!.seq + 1, 'CSeq + 1 for the new INVITE');

  // Hold and retrieve on the wire (RFC 3264 s8.4).
  const reinvites = wire.requests('out', 'INVITE', callId).filter((m) => m.message.to?.tag != null);
  assert.equal(reinvites.map(direction), ['sendonly', 'sendrecv']);
  const answers = wire.responses('in', 200, 'INVITE', callId).filter((m, i, all) => all.findIndex((x) => x.message.cseq!.seq === m.message.cseq!.seq) === i);
  assert.equal(answers.map(direction), ['sendrecv', 'recvonly', 'sendrecv']);

  // DTMF: one INFO per digit, application/dtmf-relay.
  const infos = wire.requests('out', 'INFO', callId).filter((m, i, all) => all.findIndex((x) => x.message.cseq!.seq === m.message.cseq!.seq) === i);
  assert.equal(infos.map((m) => /\r\nContent-Type:[ \t]*([^\r;]*)/i.exec(m.text)?.[1]?.toLowerCase()), ['application/dtmf-relay', 'application/dtmf-relay', 'application/dtmf-relay']);
  assert.equal(infos.map((m) => /^Signal=(.*)\r\n/m.exec(bodyOf(m))?.[1]), ['1', '2', '#']);

  // SIPp's side (it logs a message after sending it: wait for its last one); our ACKs may come after the next
  // request (the site relays with two workers), so they are counted apart.
  await sipp.waitForMessage('its 200 to our BYE', (m) => m.direction === 'out' && m.startLine.startsWith('SIP/2.0 200') && /\nCSeq:\s*\d+ BYE/i.test(m.text));
  const seenBySipp = sippLadder(sipp).filter((line) => !line.endsWith('REGISTER'));
  assert.equal(seenBySipp.filter((line) => line !== 'in ACK'), [
    'in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'out 200 INVITE',
    'in INVITE', 'out 200 INVITE',
    'in INVITE', 'out 200 INVITE',
    'in INFO', 'out 200 INFO', 'in INFO', 'out 200 INFO', 'in INFO', 'out 200 INFO',
    'in BYE', 'out 200 BYE',
  ]);
  assert.is(seenBySipp.filter((line) => line === 'in ACK').length, 3, 'SIPp got the 3 ACKs');
  assert.is(sippErrors(sipp), '', 'SIPp error log');
});

tested('SIPp hangs up: its BYE through site A ends the call (Normal)', async () => {
  const sipp = await registeredSipp({ a, b, user: '1003', answer: 'calls-uas-bye.xml' });
  const { phone, sessions, wire } = await start();

  const call = await phone.calls.dial(0, '1003');
  await sessions.status(call.id, 'connected');
  const callId = phone.sessions.session(call.id)!.callId;
  await sessions.status(call.id, 'disconnected', 5000);
  await sleep(100); // our 200 to the BYE is traced as it goes

  assert.equal(sessions.seq(), ['s1 dialing @0', 's1 ringing @0', 's1 connected @0', 's1 disconnected:Normal @0']);
  const bye = wire.requests('in', 'BYE', callId);
  assert.ok(bye.length >= 1 && isSite(bye[0]!.peer, a), 'the BYE came through site A');
  assert.ok(wire.responses('out', 200, 'BYE', callId).length >= 1, 'we answered the BYE 200');
  assert.is(wire.requests('out', 'BYE', callId).length, 0, 'no BYE of ours');
  await sipp.waitForMessage('our 200 to its BYE', (m) => m.direction === 'in' && m.startLine.startsWith('SIP/2.0 200') && /\nCSeq:\s*\d+ BYE/i.test(m.text));
  assert.equal(sippLadder(sipp).filter((line) => !line.endsWith('REGISTER')), ['in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'out 200 INVITE', 'in ACK', 'out BYE', 'in 200 BYE']);
  assert.is(sippErrors(sipp), '', 'SIPp error log');
});

tested('CANCEL while SIPp rings: the INVITE branch and CSeq, 200 and 487 from the site, our ACK; disconnected Cancelled', async () => {
  const sipp = await registeredSipp({ a, b, user: '1003', answer: 'calls-uas-ring.xml' });
  const { phone, sessions, wire } = await start();

  const call = await phone.calls.dial(0, '1003');
  await sessions.status(call.id, 'ringing');
  const callId = phone.sessions.session(call.id)!.callId;
  await phone.calls.hangup(call.id);
  await wire.wait('the ACK for the 487', (m) => m.direction === 'out' && m.message.method === 'ACK' && m.message.callId === callId && m.message.cseq?.seq === wire.requests('out', 'CANCEL', callId)[0]?.message.cseq?.seq).catch((error) => {
    throw new Error(`${(error as Error).message}: ${wire.ladder(callId).join(', ')}`);
  });

  assert.equal(sessions.seq(), ['s1 dialing @0', 's1 ringing @0', 's1 disconnected:Cancelled @0']);
  const invite = wire.requests('out', 'INVITE', callId).at(-1)!;
  const cancel = wire.requests('out', 'CANCEL', callId)[0]!;
  assert.ok(isSite(cancel.peer, a), 'the CANCEL went to site A');
  assert.is(cancel.message.topVia?.branch, invite.message.topVia?.branch, 'the CANCEL has the INVITE branch (RFC 3261 s9.1)');
  assert.is(cancel.message.cseq?.seq, invite.message.cseq?.seq, 'and its CSeq number');
  assert.is(cancel.message.uri?.toString(), invite.message.uri?.toString(), 'and its Request-URI');
  // The site's 200 to the CANCEL and its 487 come from different workers: either may come first.
  await wire.wait('the 200 to the CANCEL', (m) => m.direction === 'in' && m.message.status === 200 && m.message.cseq?.method === 'CANCEL' && m.message.callId === callId);
  assert.ok(wire.responses('in', 487, 'INVITE', callId).length >= 1, '487 to the INVITE');
  const ack = wire.requests('out', 'ACK', callId).at(-1)!;
  assert.is(ack.message.topVia?.branch, invite.message.topVia?.branch, 'the ACK for the 487 has the INVITE branch (s17.1.1.3)');
  await sipp.waitForMessage("the site's ACK for the 487", (m) => m.direction === 'in' && m.startLine.startsWith('ACK '));
  assert.equal(sippLadder(sipp).filter((line) => !line.endsWith('REGISTER')), ['in INVITE', 'out 100 INVITE', 'out 180 INVITE', 'in CANCEL', 'out 200 CANCEL', 'out 487 INVITE', 'in ACK']);
  assert.is(sippErrors(sipp), '', 'SIPp error log');
});

tested('SIPp calls 1001 through site A, then site B: rings on that connection, answered there, held and resumed by SIPp, our BYE', async () => {
  const { phone, sessions, wire } = await start();
  for (const [site, id] of [[a, 0], [b, 1]] as const) {
    const mark = sessions.events.length;
    const sipp = await callingSipp({ site, caller: '1003', callee: '1001', scenario: 'calls-uac-hold.xml' });
    const ring = await sessions.incoming(5000, mark);
    assert.is(ring.connectionId, id, `the call through site ${site.name} rings on connection ${id}`);
    assert.is(ring.remote, `sip:1003@${site.address}:${site.ports.udp}`);
    const callId = phone.sessions.session(ring.sessionId)!.callId;
    const invite = wire.requests('in', 'INVITE', callId)[0]!;
    assert.ok(isSite(invite.peer, site), 'the INVITE came from that site');
    assert.is(invite.message.uri?.params.get('line'), phone.connections.lineOf(id), "the Request-URI carries that connection's line= token");

    // A person answers after a ring: a 200 right behind our 180 can overtake it in a two-worker Kamailio, and SIPp aborts on that.
    await sleep(150);
    await phone.calls.answer(ring.sessionId);
    // SIPp holds 300 ms after its ACK and resumes 300 ms later.
    const held = { seen: false };
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline && wire.responses('out', 200, 'INVITE', callId).filter((m) => direction(m) === 'sendrecv').length < 2) {
      if (phone.sessions.session(ring.sessionId)?.remoteHold === true) held.seen = true;
      await sleep(5);
    }
    assert.ok(held.seen, 'remoteHold while SIPp held us');
    assert.is(phone.sessions.session(ring.sessionId)?.remoteHold, false, 'not after SIPp resumed');
    assert.is(phone.sessions.session(ring.sessionId)?.status, 'connected', 'a remote hold is no status change');
    // Our BYE only once SIPp has ACKed our answer to its resume: sent right behind that 200, the BYE could
    // overtake it in the site (two workers), and SIPp's script would not take it.
    const resumeCSeq = wire.responses('out', 200, 'INVITE', callId).at(-1)!.message.cseq!.seq;
    await wire.wait("SIPp's ACK of our answer to its resume", (m) => m.direction === 'in' && m.message.method === 'ACK' && m.message.callId === callId && m.message.cseq?.seq === resumeCSeq);
    await phone.calls.hangup(ring.sessionId);
    assertCallerSucceeded(await sipp.exit(10_000));

    const ours = wire.responses('out', 200, 'INVITE', callId).filter((m, i, all) => all.findIndex((x) => x.message.cseq!.seq === m.message.cseq!.seq) === i);
    assert.equal(ours.map(direction), ['sendrecv', 'recvonly', 'sendrecv'], 'our answers: RFC 3264 s6.1');
    const byes = wire.requests('out', 'BYE', callId);
    assert.ok(byes.length >= 1 && isSite(byes[0]!.peer, site), 'our BYE went through that site');
  }
  assert.equal(sessions.seq(), [
    's1 in ringing @0', 's1 in connected @0', 's1 in disconnected:Normal @0',
    's2 in ringing @1', 's2 in connected @1', 's2 in disconnected:Normal @1',
  ]);
  assert.equal(sessions.previousStatusesChain(), []);
});

tested('a second call (site B) while the first (site A) is connected rings without touching it; answered, it holds the first', async () => {
  const { phone, sessions, wire } = await start();
  const firstSipp = await callingSipp({ site: a, caller: '1003', callee: '1001', scenario: 'calls-uac-answered.xml' });
  const first = await sessions.incoming();
  assert.is(first.connectionId, 0);
  await sleep(150); // see above: let the 180 through before the 200
  await phone.calls.answer(first.sessionId);
  const firstCallId = phone.sessions.session(first.sessionId)!.callId;

  const mark = sessions.events.length;
  const secondSipp = await callingSipp({ site: b, caller: '1003', callee: '1001', scenario: 'calls-uac-answered.xml' });
  const second = await sessions.incoming(5000, mark);
  assert.is(second.connectionId, 1, 'the second call rings on connection 1');
  await sleep(300);
  assert.is(phone.sessions.session(first.sessionId)?.status, 'connected', 'a ringing call holds nothing');
  assert.equal(wire.requests('out', 'INVITE', firstCallId), [], 'no re-INVITE yet');

  await phone.calls.answer(second.sessionId);
  assert.is(phone.sessions.session(first.sessionId)?.status, 'held', 'answering the second held the first');
  const hold = wire.requests('out', 'INVITE', firstCallId);
  assert.is(hold.length >= 1 && direction(hold[0]!), 'sendonly', 'the first call got a re-INVITE a=sendonly');
  assert.ok(isSite(hold[0]!.peer, a), 'through site A');

  await phone.calls.hangup(second.sessionId);
  assertCallerSucceeded(await secondSipp.exit(10_000));
  await phone.calls.retrieve(first.sessionId);
  await phone.calls.hangup(first.sessionId);
  assertCallerSucceeded(await firstSipp.exit(10_000));

  const reinvites = wire.requests('out', 'INVITE', firstCallId).filter((m, i, all) => all.findIndex((x) => x.message.cseq!.seq === m.message.cseq!.seq) === i);
  assert.equal(reinvites.map(direction), ['sendonly', 'sendrecv']);
  const answers = wire.responses('in', 200, 'INVITE', firstCallId).filter((m, i, all) => all.findIndex((x) => x.message.cseq!.seq === m.message.cseq!.seq) === i);
  assert.equal(answers.map(direction), ['recvonly', 'sendrecv'], "SIPp's answers");
  assert.equal(sessions.seq(), [
    's1 in ringing @0', 's1 in connected @0',
    's2 in ringing @1', 's1 in held @0', 's2 in connected @1',
    's2 in disconnected:Normal @1',
    's1 in connected @0', 's1 in disconnected:Normal @0',
  ]);
});

test.run();
