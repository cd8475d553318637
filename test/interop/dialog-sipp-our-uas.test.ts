/**
 * SIPp as the caller against our dialog layer as the called party
 * (harness/dialog-ua.ts: SipTransportLayer + TransactionLayer + DialogLayer
 * on the real clock), directly on loopback, over UDP and TCP.
 *
 * Covers, asserted on our SIP trace and by SIPp's checks:
 * - INVITE with SDP -> our 180, 200 with the answer -> SIPp's ACK ending
 *   our 2xx retransmissions (the session's `confirmed`);
 * - re-INVITEs both ways with the RFC 3264 directions: SIPp holds
 *   (sendonly, our answer recvonly) and resumes (sendrecv), then we hold
 *   (our offer sendonly, SIPp answers recvonly) and resume; each completed
 *   exchange seen as a media event;
 * - INFO (application/dtmf-relay) and OPTIONS in the dialog both ways;
 * - BYE from SIPp (dialog-uac-hold.xml) and from us (dialog-uac-nosdp.xml);
 * - INVITE and re-INVITE without SDP: our offer in the 200, SIPp's answer
 *   in the ACK (RFC 3261 s13.2.1);
 * - CANCEL while we ring: 200 to the CANCEL and 487 to the INVITE with the
 *   same To tag as our 180 (s9.2), SIPp's ACK taken by the transaction;
 * - CSeq: ours start anywhere and go up by one; SIPp's echoed;
 * - nothing left afterwards (DialogLayer.stats(), TransactionLayer.stats(),
 *   the clock), every transaction ended on its own timers (T1 = 50 ms).
 * Not covered here: our side as the caller (dialog-sipp-our-uac), a proxy
 * in between (dialog-sipp-kamailio).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { requireSipp, startSipp, stopAllSipp } from './harness/sipp.ts';
import { SETTLE_MS, TIMERS, assertSippSucceeded } from './harness/sipp-suite.ts';
import { DialogUa, cseqOf, distinctMessages, label, sdpDirection, topBranch, type TraceEntry } from './harness/dialog-ua.ts';

const test = suite('dialog: SIPp UAC -> our UAS');

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

const labels = (entries: TraceEntry[]): string[] => entries.map(label);
const directions = (entries: TraceEntry[]): string[] => entries.filter((t) => sdpDirection(t.text) !== undefined).map((t) => `${label(t)} ${sdpDirection(t.text)}`);
const requestsOf = (entries: TraceEntry[]): TraceEntry[] => entries.filter((t) => !t.startLine.startsWith('SIP/2.0 '));

/** Our requests in the dialog: CSeq up by one each (s12.2.1.1), ACKs on their INVITE's number with a branch of their own (s13.2.2.4). */
function assertOurCSeqs(entries: TraceEntry[]): void {
  let last: number | undefined;
  let invite: { seq: number; branch: string | undefined } | undefined;
  for (const entry of requestsOf(entries)) {
    const { seq, method } = cseqOf(entry.text);
    if (method === 'ACK') {
      assert.is(seq, invite?.seq, 'ACK on its INVITE\'s number');
      assert.is.not(topBranch(entry.text), invite?.branch, 'the ACK for a 2xx has a branch of its own');
      continue;
    }
    if (last !== undefined) assert.is(seq, last + 1, `${method} ${seq} after ${last}`);
    last = seq;
    if (method === 'INVITE') invite = { seq, branch: topBranch(entry.text) };
  }
}

for (const kind of ['udp', 'tcp'] as const) {
  test(`${kind.toUpperCase()}: INVITE -> 180, 200; held, resumed by SIPp; we hold and resume; INFO and OPTIONS both ways; BYE from SIPp`, async () => {
    requireSipp();
    const ua = await ourUa();
    const sipp = await startSipp({ scenario: 'dialog-uac-hold.xml', transport: kind, remote: ua.endpoint(kind), timeoutSec: 30 });
    const call = await ua.nextIncoming();
    assert.equal(call.events[0]?.detail['offer'], true);
    call.ring();
    const session = call.accept();
    await call.waitFor('confirmed');
    // SIPp holds (sendonly): we answer recvonly; then it resumes.
    assert.equal((await call.waitForNth('media', 1)).detail, { direction: 'recvonly', remoteHold: true, localHold: false, codec: 'PCMU' });
    assert.equal((await call.waitForNth('media', 2)).detail, { direction: 'sendrecv', remoteHold: false, localHold: false, codec: 'PCMU' });
    assert.equal((await call.waitFor('info')).detail, { contentType: 'application/dtmf-relay', digit: '7', durationMs: 160 });
    await ua.waitForMessage('out', '200 OPTIONS');
    // s14.1: our re-INVITE only once SIPp's last one is ACKed.
    await call.waitForNth('confirmed', 3);
    const held = await call.hold();
    assert.equal(held.ok && held.media?.direction, 'sendonly', JSON.stringify(held));
    const resumed = await call.resume();
    assert.equal(resumed.ok && resumed.media?.direction, 'sendrecv', JSON.stringify(resumed));
    assert.is((await call.dtmf('9')).status, 200);
    const options = await call.options();
    assert.is(options.status, 200);
    assert.match(options.response?.header('Allow') ?? '', /INFO/);
    assert.equal((await call.waitFor('terminated')).detail, { by: 'remote', cause: 'bye', code: undefined });
    assertSippSucceeded(await sipp.exit());

    const trace = ua.traceOf(session.dialog.callId);
    const inbound = distinctMessages(trace, 'in');
    const outbound = distinctMessages(trace, 'out');
    assert.equal(labels(inbound), ['INVITE', 'ACK', 'INVITE', 'ACK', 'INVITE', 'ACK', 'INFO', 'OPTIONS', '200 INVITE', '200 INVITE', '200 INFO', '200 OPTIONS', 'BYE']);
    assert.equal(labels(outbound), ['180 INVITE', '200 INVITE', '200 INVITE', '200 INVITE', '200 INFO', '200 OPTIONS', 'INVITE', 'ACK', 'INVITE', 'ACK', 'INFO', 'OPTIONS', '200 BYE']);
    assert.equal(directions(inbound), ['INVITE sendrecv', 'INVITE sendonly', 'INVITE sendrecv', '200 INVITE recvonly', '200 INVITE sendrecv']);
    assert.equal(directions(outbound), ['200 INVITE sendrecv', '200 INVITE recvonly', '200 INVITE sendrecv', 'INVITE sendonly', 'INVITE sendrecv']);
    // Our responses echo SIPp's CSeq 1 ... 6; our own requests count up from our first number.
    assert.equal(outbound.filter((t) => t.startLine.startsWith('SIP/2.0 ')).map((t) => cseqOf(t.text).seq), [1, 1, 2, 3, 4, 5, 6]);
    assertOurCSeqs(outbound);
    // Our 180 and 200s carry one To tag, the dialog's, and our Contact.
    for (const t of outbound.filter((t) => /^SIP\/2\.0 (180|200)/.test(t.startLine) && cseqOf(t.text).method === 'INVITE')) {
      assert.match(t.text, new RegExp(`\\r\\nTo:[^\\r]*;tag=${session.dialog.localTag}`));
      assert.match(t.text, /\r\nContact: <sip:ua@127\.0\.0\.1:\d+/);
    }
    // Our requests go to SIPp's Contact (its own address).
    for (const t of requestsOf(outbound)) assert.equal([t.peer.host, t.peer.port, t.peer.transport], [sipp.host, sipp.port, kind], t.startLine);
    await assertIdle(ua);
  });

  test(`${kind.toUpperCase()}: INVITE and re-INVITE without SDP: our offer in the 200, SIPp's answer in the ACK; our BYE`, async () => {
    requireSipp();
    const ua = await ourUa();
    const sipp = await startSipp({ scenario: 'dialog-uac-nosdp.xml', transport: kind, remote: ua.endpoint(kind), timeoutSec: 30 });
    const call = await ua.nextIncoming();
    assert.equal(call.events[0]?.detail['offer'], false);
    call.ring();
    const session = call.accept();
    assert.is(call.media.state, 'have-local-offer', 'our offer waits for the answer in the ACK');
    await call.waitFor('confirmed');
    // The answer in the ACK completes the exchange.
    assert.equal((await call.waitForNth('media', 1)).detail, { direction: 'sendrecv', remoteHold: false, localHold: false, codec: 'PCMU' });
    // The offerless re-INVITE: our new offer, SIPp's answer recvonly (it will not send: we only send).
    assert.equal((await call.waitForNth('media', 2)).detail, { direction: 'sendonly', remoteHold: false, localHold: false, codec: 'PCMU' });
    await call.waitForNth('confirmed', 2);
    assert.is(call.media.state, 'stable');
    assert.is((await call.hangup())?.status, 200);
    assertSippSucceeded(await sipp.exit());

    const trace = ua.traceOf(session.dialog.callId);
    const inbound = distinctMessages(trace, 'in');
    const outbound = distinctMessages(trace, 'out');
    assert.equal(labels(inbound), ['INVITE', 'ACK', 'INVITE', 'ACK', '200 BYE']);
    assert.equal(labels(outbound), ['180 INVITE', '200 INVITE', '200 INVITE', 'BYE']);
    assert.equal(directions(inbound), ['ACK sendrecv', 'ACK recvonly']);
    assert.equal(directions(outbound), ['200 INVITE sendrecv', '200 INVITE sendrecv']);
    assert.is(inbound[0]!.text.endsWith('\r\n\r\n'), true, 'the INVITE had no body');
    await assertIdle(ua);
  });

  test(`${kind.toUpperCase()}: CANCEL while we ring -> 200 for the CANCEL, 487 for the INVITE with our 180's To tag; SIPp's ACK`, async () => {
    requireSipp();
    const ua = await ourUa();
    const sipp = await startSipp({ scenario: 'dialog-uac-cancel.xml', transport: kind, remote: ua.endpoint(kind), timeoutSec: 20 });
    const call = await ua.nextIncoming();
    call.ring();
    assert.equal((await call.waitFor('ended')).detail, { why: 'cancelled' });
    assert.is(call.session, undefined);
    assertSippSucceeded(await sipp.exit());
    await ua.waitForMessage('in', 'ACK');
    const callId = call.incoming!.request.callId!;
    const trace = ua.traceOf(callId);
    assert.equal(labels(distinctMessages(trace, 'in')), ['INVITE', 'CANCEL', 'ACK']);
    const outbound = distinctMessages(trace, 'out');
    assert.equal(labels(outbound), ['180 INVITE', '200 CANCEL', '487 INVITE']);
    // s9.2: "The To tag of the response to the CANCEL and the To tag in the response to the original request SHOULD be the same."
    const tags = outbound.map((t) => /\r\nTo:[^\r]*;tag=([^;\r]+)/.exec(t.text)?.[1]);
    assert.ok(tags[0]);
    assert.equal(tags, [tags[0], tags[0], tags[0]]);
    await assertIdle(ua);
  });
}

test.run();
