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

/** Nothing left in our UA once every transaction ran out its timers, and the sockets close clean. */
async function assertIdle(ua: DialogUa): Promise<void> {
  await ua.settled(SETTLE_MS);
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
