/**
 * Our dialog layer as the caller (harness/dialog-ua.ts: SipTransportLayer +
 * TransactionLayer + DialogLayer on the real clock) against SIPp as the
 * called party, directly on loopback, over UDP and TCP.
 *
 * Covers, asserted on our SIP trace and by SIPp's checks:
 * - INVITE with an SDP offer -> 100, 180, 200 -> our ACK for the 2xx (its
 *   own branch, the INVITE's CSeq number with method ACK, sent to the
 *   Contact of the 2xx);
 * - re-INVITEs both ways with the RFC 3264 s8.4 directions: we hold
 *   (sendonly, answered recvonly), SIPp holds too (inactive offer, our
 *   answer inactive), we resume (sendrecv, SIPp still holding answers
 *   sendonly), SIPp resumes (sendrecv both); each completed exchange seen
 *   as a media event with the negotiated direction;
 * - INFO (application/dtmf-relay) and OPTIONS in the dialog both ways;
 * - BYE from SIPp (dialog-uas-hold.xml) and from us (dialog-uas-call.xml);
 * - CANCEL while ringing: 200 to the CANCEL, 487 to the INVITE, our ACK
 *   for the 487 on the INVITE's branch (dialog-uas-cancel.xml);
 * - a 407 from SIPp answered with digest (dialog-uas-auth.xml: SIPp checks
 *   the Proxy-Authorization with verifyauth);
 * - CSeq: ours strictly increasing in the dialog, ACKs on their INVITE's
 *   number; SIPp's numbers echoed in our responses;
 * - nothing left afterwards: no dialog, INVITE, transaction or timer
 *   (DialogLayer.stats(), TransactionLayer.stats()), all ended on their own
 *   timers (T1 = 50 ms, so 64*T1 = 3.2 s).
 * Not covered here: SIPp as the caller (dialog-sipp-our-uas), a proxy in
 * between (dialog-sipp-kamailio), timeouts and losses (unit tests).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { requireSipp, startSipp, stopAllSipp } from './harness/sipp.ts';
import { SETTLE_MS, TIMERS, assertSippSucceeded } from './harness/sipp-suite.ts';
import { DialogUa, cseqOf, digest, distinctMessages, label, sdpDirection, topBranch, type UaCall } from './harness/dialog-ua.ts';

const test = suite('dialog: our UAC -> SIPp UAS');

let uas: DialogUa[] = [];
test.after.each(async () => {
  for (const ua of uas) await ua.close();
  uas = [];
  await stopAllSipp();
});

async function ourUa(): Promise<DialogUa> {
  const ua = await DialogUa.start({ timers: TIMERS, userAgent: 'sip-endpoint-interop' });
  uas.push(ua);
  return ua;
}

/** The call's messages one way, retransmissions left out, as labels ("INVITE", "200 INVITE", ...). */
function flow(ua: DialogUa, call: UaCall, direction: 'in' | 'out'): string[] {
  return distinctMessages(ua.traceOf(callIdOf(ua, call)), direction).map(label);
}

function callIdOf(ua: DialogUa, call: UaCall): string {
  const id = call.session?.dialog.callId ?? call.outgoing?.callId;
  if (id !== undefined) return id;
  // A call that failed: its INVITE is the first one of the trace not taken by another call.
  const invite = ua.trace.find((t) => t.direction === 'out' && t.startLine.startsWith('INVITE '));
  return /\r\nCall-ID:\s*([^\r\n]+)/i.exec(invite?.text ?? '')?.[1] ?? '';
}

/**
 * Nothing left in our UA once every transaction ran out its timers, and the
 * sockets close clean. `timerD`: an INVITE of ours got a non-2xx over UDP,
 * so its transaction waits out Timer D, at least 32 s whatever T1 is
 * (s17.1.1.2: "an absolute minimum of 32s").
 */
async function assertIdle(ua: DialogUa, timerD = false): Promise<void> {
  await ua.settled(timerD ? 32_000 + SETTLE_MS : SETTLE_MS);
  assert.equal(ua.dialogs.stats(), { dialogs: 0, incomingInvites: 0, outgoingInvites: 0, timers: 0 });
  assert.equal(ua.transactions.stats(), { clientInvite: 0, clientNonInvite: 0, serverInvite: 0, serverNonInvite: 0, transactions: 0, timers: 0 });
  assert.equal(ua.diagnostics, [], 'transport diagnostics');
  await ua.close();
  assert.is(ua.clock.pending, 0, 'no timer left on the clock');
  const transport = ua.transport.stats();
  assert.is(transport.connections, 0);
  assert.is(transport.udpSockets, 0);
}

/** Our requests of the call in order (first copies), with their CSeq. */
function ourRequests(ua: DialogUa, callId: string): Array<{ method: string; seq: number; branch: string | undefined; text: string }> {
  return distinctMessages(ua.traceOf(callId), 'out')
    .filter((t) => !t.startLine.startsWith('SIP/2.0'))
    .map((t) => ({ method: t.startLine.split(' ')[0]!, seq: cseqOf(t.text).seq, branch: topBranch(t.text), text: t.text }));
}

for (const kind of ['udp', 'tcp'] as const) {
  test(`${kind.toUpperCase()}: INVITE, ACK; hold, held, resume, resumed with their SDP directions; INFO and OPTIONS both ways; BYE from SIPp`, async () => {
    requireSipp();
    const ua = await ourUa();
    const sipp = await startSipp({ scenario: 'dialog-uas-hold.xml', transport: kind, timeoutSec: 30 });
    const call = ua.dial({ nextHop: { transport: kind, host: sipp.host, port: sipp.port } });
    const session = await call.answered();
    // The 100 has no To tag (no early dialog); the 180 opens the early dialog the 200 confirms.
    const provisionals = call.events.filter((e) => e.type === 'provisional').map((e) => [e.detail['status'], e.detail['tag'] === session.dialog.remoteTag]);
    assert.equal(provisionals, [[100, false], [180, true]]);
    assert.is(call.events.find((e) => e.type === 'answered')?.detail['direction'], 'sendrecv');

    const held = await call.hold();
    assert.ok(held.ok, JSON.stringify(held));
    assert.equal(held.ok && { direction: held.media?.direction, localHold: held.media?.localHold, remoteHold: held.media?.remoteHold }, { direction: 'sendonly', localHold: true, remoteHold: false });
    // SIPp holds too: its offer says inactive; ours the same.
    const heldBoth = await call.waitForNth('media', 2);
    assert.equal(heldBoth.detail, { direction: 'inactive', remoteHold: true, localHold: true, codec: 'PCMU' });
    // s14.1: no new re-INVITE while SIPp's waits for its ACK.
    await call.waitForNth('confirmed', 1);
    const resumed = await call.resume();
    assert.ok(resumed.ok, JSON.stringify(resumed));
    // SIPp still holds: it answers sendonly, so we only receive.
    assert.equal(resumed.ok && { direction: resumed.media?.direction, localHold: resumed.media?.localHold, remoteHold: resumed.media?.remoteHold }, { direction: 'recvonly', localHold: false, remoteHold: true });
    const resumedBoth = await call.waitForNth('media', 4);
    assert.equal(resumedBoth.detail, { direction: 'sendrecv', remoteHold: false, localHold: false, codec: 'PCMU' });
    await call.waitForNth('confirmed', 2);

    const info = await call.dtmf('5');
    assert.is(info.status, 200);
    const options = await call.options();
    assert.is(options.status, 200);
    assert.match(options.response?.header('Allow') ?? '', /INVITE/);
    const theirInfo = await call.waitFor('info');
    assert.equal(theirInfo.detail, { contentType: 'application/dtmf-relay', digit: '#', durationMs: 200 });
    const end = await call.waitFor('terminated');
    assert.equal(end.detail, { by: 'remote', cause: 'bye', code: undefined });
    assertSippSucceeded(await sipp.exit());

    const callId = session.dialog.callId;
    assert.equal(flow(ua, call, 'out'), [
      'INVITE', 'ACK', 'INVITE', 'ACK', '200 INVITE', 'INVITE', 'ACK', '200 INVITE', 'INFO', 'OPTIONS', '200 INFO', '200 OPTIONS', '200 BYE',
    ]);
    assert.equal(flow(ua, call, 'in'), [
      '100 INVITE', '180 INVITE', '200 INVITE', '200 INVITE', 'INVITE', 'ACK', '200 INVITE', 'INVITE', 'ACK', '200 INFO', '200 OPTIONS', 'INFO', 'OPTIONS', 'BYE',
    ]);
    // Directions on the wire, in order: our offers and answers, SIPp's.
    const sdpOut = distinctMessages(ua.traceOf(callId), 'out').filter((t) => sdpDirection(t.text) !== undefined).map((t) => `${label(t)} ${sdpDirection(t.text)}`);
    assert.equal(sdpOut, ['INVITE sendrecv', 'INVITE sendonly', '200 INVITE inactive', 'INVITE sendrecv', '200 INVITE sendrecv']);
    const sdpIn = distinctMessages(ua.traceOf(callId), 'in').filter((t) => sdpDirection(t.text) !== undefined).map((t) => `${label(t)} ${sdpDirection(t.text)}`);
    assert.equal(sdpIn, ['200 INVITE sendrecv', '200 INVITE recvonly', 'INVITE inactive', '200 INVITE sendonly', 'INVITE sendrecv']);
    assertCSeqRules(ourRequests(ua, callId));
    // SIPp's requests are answered with their own CSeq (101 ... 105).
    const answers = distinctMessages(ua.traceOf(callId), 'out').filter((t) => t.startLine.startsWith('SIP/2.0 ')).map((t) => `${cseqOf(t.text).seq} ${cseqOf(t.text).method}`);
    assert.equal(answers, ['101 INVITE', '102 INVITE', '103 INFO', '104 OPTIONS', '105 BYE']);
    // Every in-dialog request of ours went to the Contact of SIPp's 2xx.
    for (const t of distinctMessages(ua.traceOf(callId), 'out').filter((t) => !t.startLine.startsWith('SIP/2.0'))) {
      assert.equal([t.peer.host, t.peer.port, t.peer.transport], [sipp.host, sipp.port, kind], t.startLine);
    }
    await assertIdle(ua);
  });
}

for (const kind of ['udp', 'tcp'] as const) {
  test(`${kind.toUpperCase()}: INVITE -> 100, 180, 200; ACK for the 2xx; our BYE -> 200`, async () => {
    requireSipp();
    const ua = await ourUa();
    const sipp = await startSipp({ scenario: 'dialog-uas-call.xml', transport: kind, timeoutSec: 20 });
    const call = ua.dial({ nextHop: { transport: kind, host: sipp.host, port: sipp.port } });
    const session = await call.answered();
    // SIPp answered PCMA only, out of our PCMU, PCMA.
    assert.equal(call.events.find((e) => e.type === 'answered')?.detail, { direction: 'sendrecv', codec: 'PCMA' });
    const bye = await call.hangup();
    assert.is(bye?.status, 200);
    assert.equal((await call.waitFor('terminated')).detail, { by: 'local', cause: 'bye', code: undefined });
    assertSippSucceeded(await sipp.exit());
    const callId = session.dialog.callId;
    assert.equal(flow(ua, call, 'out'), ['INVITE', 'ACK', 'BYE']);
    assert.equal(flow(ua, call, 'in'), ['100 INVITE', '180 INVITE', '200 INVITE', '200 BYE']);
    const [invite, ack, byeSent] = ourRequests(ua, callId);
    assert.is(ack!.seq, invite!.seq, 'the ACK for the 2xx has the INVITE CSeq number');
    assert.is.not(ack!.branch, invite!.branch, 'the ACK for a 2xx is a transaction of its own (s13.2.2.4)');
    assert.match(ack!.text, /\r\nCSeq:\s*\d+ ACK\r\n/);
    assert.is(byeSent!.seq, invite!.seq + 1);
    assert.match(ack!.text, new RegExp(`\\r\\nTo:[^\\r]*;tag=${session.dialog.remoteTag}`), 'the ACK carries the To tag of the 2xx');
    await assertIdle(ua);
  });

  test(`${kind.toUpperCase()}: CANCEL while ringing -> 200 for the CANCEL, 487 for the INVITE, our ACK on the INVITE's branch`, async () => {
    requireSipp();
    const ua = await ourUa();
    const sipp = await startSipp({ scenario: 'dialog-uas-cancel.xml', transport: kind, timeoutSec: 20 });
    const call = ua.dial({ nextHop: { transport: kind, host: sipp.host, port: sipp.port } });
    const callId = call.outgoing!.callId;
    await call.waitForNth('provisional', 2);
    await call.hangup();
    const failed = await call.waitFor('failed');
    assert.is(failed.detail['status'], 487);
    assert.is(call.session, undefined);
    assertSippSucceeded(await sipp.exit());
    assert.equal(distinctMessages(ua.traceOf(callId), 'out').map(label), ['INVITE', 'CANCEL', 'ACK']);
    assert.equal(distinctMessages(ua.traceOf(callId), 'in').map(label), ['100 INVITE', '180 INVITE', '200 CANCEL', '487 INVITE']);
    const [invite, cancel, ack] = ourRequests(ua, callId);
    // s9.1: the CANCEL has the INVITE's Request-URI, Call-ID, From, To, CSeq number and top Via (branch).
    assert.equal([cancel!.seq, cancel!.branch], [invite!.seq, invite!.branch]);
    // s17.1.1.3: the ACK for a non-2xx has the INVITE's branch and CSeq number, and the To of the response.
    assert.equal([ack!.seq, ack!.branch], [invite!.seq, invite!.branch]);
    assert.match(ack!.text, /\r\nTo:[^\r]*;tag=\d+UAS\d+/);
    await assertIdle(ua, kind === 'udp');
  });

  test(`${kind.toUpperCase()}: a 401 from SIPp answered with digest (SIPp's verifyauth checks the response); the ACK for the 2xx carries the same credentials`, async () => {
    requireSipp();
    const ua = await ourUa();
    const sipp = await startSipp({ scenario: 'dialog-uas-auth.xml', transport: kind, timeoutSec: 20 });
    const call = ua.dial({ nextHop: { transport: kind, host: sipp.host, port: sipp.port }, auth: digest('1001', 'secret') });
    const session = await call.answered();
    assert.is((await call.hangup())?.status, 200);
    assertSippSucceeded(await sipp.exit());
    const callId = session.dialog.callId;
    assert.equal(flow(ua, call, 'out'), ['INVITE', 'ACK', 'INVITE', 'ACK', 'BYE']);
    assert.equal(flow(ua, call, 'in'), ['401 INVITE', '100 INVITE', '180 INVITE', '200 INVITE', '200 BYE']);
    const [first, ack401, second, ack200, bye] = ourRequests(ua, callId);
    assert.not.match(first!.text, /\r\nAuthorization:/i);
    // s22.2: the same Call-ID and From tag, CSeq + 1; a new transaction.
    assert.is(second!.seq, first!.seq + 1);
    assert.is.not(second!.branch, first!.branch);
    assert.is(headerOf(second!.text, 'From'), headerOf(first!.text, 'From'));
    assert.equal([ack401!.seq, ack401!.branch], [first!.seq, first!.branch], 'the ACK for the 401 is on the first INVITE\'s transaction');
    const credentials = headerOf(second!.text, 'Authorization');
    assert.match(credentials, /^Digest /);
    assert.match(credentials, /username="1001"/);
    assert.match(credentials, /realm="sipp\.interop"/);
    assert.match(credentials, new RegExp(`uri="sip:service@${sipp.host}:${sipp.port}${kind === 'udp' ? '' : ';transport=tcp'}"`));
    assert.match(credentials, /qop=auth/);
    assert.match(credentials, /nc=00000001/);
    // s13.2.2.4: "The ACK MUST contain the same credentials as the INVITE."
    assert.is(headerOf(ack200!.text, 'Authorization'), credentials);
    assert.is(ack200!.seq, second!.seq);
    // Credentials are sent again pre-emptively in the dialog, with the next nonce count.
    assert.match(headerOf(bye!.text, 'Authorization'), /nc=00000002/);
    assert.is(bye!.seq, second!.seq + 1);
    await assertIdle(ua, kind === 'udp');
  });
}

/** A header's value in a raw message ('' when absent). */
function headerOf(text: string, name: string): string {
  return new RegExp(`\\r\\n${name}:[ \\t]*([^\\r\\n]*)`, 'i').exec(text)?.[1] ?? '';
}

/**
 * RFC 3261 s12.2.1.1: "Requests within a dialog MUST contain strictly
 * monotonically increasing and contiguous CSeq sequence numbers
 * (increasing-by-one) in each direction (excepting ACK and CANCEL of
 * course, whose numbers equal the requests being acknowledged or
 * cancelled)". s13.2.2.4: the ACK for a 2xx has the INVITE's number and its
 * own branch; s17.1.1.3: the ACK for a non-2xx (and a CANCEL, s9.1) the
 * INVITE's branch.
 */
function assertCSeqRules(requests: ReturnType<typeof ourRequests>): void {
  let last: { seq: number; branch: string | undefined; method: string } | undefined;
  let lastInvite: { seq: number; branch: string | undefined } | undefined;
  for (const request of requests) {
    if (request.method === 'ACK' || request.method === 'CANCEL') {
      assert.ok(lastInvite, `${request.method} without an INVITE before it`);
      assert.is(request.seq, lastInvite!.seq, `${request.method} CSeq number = its INVITE's`);
      continue;
    }
    if (last !== undefined) assert.is(request.seq, last.seq + 1, `${request.method} CSeq ${request.seq} follows ${last.method} ${last.seq} by one`);
    last = request;
    if (request.method === 'INVITE') lastInvite = request;
  }
}

test.run();
