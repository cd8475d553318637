/**
 * IncomingInvite (src/dialog/uas-invite.ts) and the 2xx it leaves waiting for
 * its ACK (uas-2xx.ts, held by the session): an INVITE we receive, RFC 3261
 * s13.3 with RFC 6026, through the DialogLayer and a real TransactionLayer on
 * the FakeClock; the caller is scripted (dialog-fakes.ts uaRig).
 *
 * Covers: 180 and 183 (the 183 with our answer as early media, the 2xx
 * repeating that exact answer); accept: the 200 with Contact and our answer,
 * the same To tag as the provisionals; the 2xx re-sent at T1, 2*T1, 4*T1,
 * then every T2 until the ACK, checked at the exact clock times (s13.3.1.4);
 * the session ended with a BYE when no ACK comes within 64*T1; a BYE that
 * overtakes the ACK; CANCEL before the answer (200 for the CANCEL with the
 * INVITE's To tag, 487 for the INVITE) and after it (200, no effect, s9.2);
 * the no-answer deadline (480); reject; an INVITE without SDP (our offer in
 * the 2xx, the answer in the ACK, and what happens when the ACK has none or
 * a bad one); hold from the start; a response that cannot be sent; an ACK
 * lost between two UAs of this stack (pairRig); nothing left afterwards.
 *
 * Does not cover: the UAS checks and refusals before the application sees
 * the call (dialog-layer.test.ts), requests in the confirmed dialog
 * (dialog-session.test.ts, dialog-reinvite.test.ts), the SDP answer's content
 * (dialog-sdp-answer.test.ts), the INVITE server transaction's own timers
 * (transaction-server-invite.test.ts), reliable provisionals (RFC 3262: not
 * implemented).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IncomingInvite, SessionDialog, Termination } from '../../src/dialog/index.ts';
import { assertIdle, callIn, directionOf, inDialog, pairRig, peerAck, peerSdp, reply, times, uaRig, type UaRig } from './dialog-fakes.ts';

const CONTACT = '<sip:ua@192.0.2.10:5060>';
const T1 = 500;
const T2 = 4000;

function ringing(rig: UaRig, options: Parameters<typeof callIn>[1] = {}): { incoming: IncomingInvite; invite: ReturnType<typeof callIn>['request'] } {
  const { incoming, request } = callIn(rig, options);
  assert.ok(incoming, 'the application got the call');
  return { incoming: incoming!, invite: request };
}

function text(body: Uint8Array): string {
  return new TextDecoder().decode(body);
}

test('180 then accept: the 200 carries Contact, Allow and our answer, with the To tag of the 180', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, invite } = ringing(rig);
  assert.equal(rig.ua.dialogs.stats(), { dialogs: 0, incomingInvites: 1, outgoingInvites: 0, timers: 1 });
  incoming.ring({ contact: CONTACT });
  const ringingResponse = t.last('180 INVITE');
  assert.is(ringingResponse.to?.tag, incoming.localTag);
  assert.is(ringingResponse.header('contact'), CONTACT);
  assert.is(ringingResponse.body.length, 0);
  const session = incoming.accept({ contact: CONTACT });
  const ok = t.last('200 INVITE');
  // s12.1.1: the To tag of the 2xx is the dialog's local tag; the provisional used the same one.
  assert.is(ok.to?.tag, incoming.localTag);
  assert.is(ok.header('contact'), CONTACT);
  assert.match(ok.header('allow') ?? '', /\bBYE\b/);
  assert.is(ok.contentType?.essence, 'application/sdp');
  assert.is(directionOf(ok.body), 'sendrecv');
  assert.is(session.state, 'confirmed');
  assert.is(session.role, 'uas');
  assert.is(session.media.state, 'stable');
  assert.is(session.media.media?.remote.port, 30000);
  assert.is(incoming.state, 'ended');
  assert.is(incoming.end, 'answered');
  assert.throws(() => incoming.accept({ contact: CONTACT }), /answered/);
  // The session is live; the 2xx holds a resend timer and the 64*T1 deadline.
  assert.equal(rig.ua.dialogs.stats(), { dialogs: 1, incomingInvites: 0, outgoingInvites: 0, timers: 2 });
  assert.is(rig.ua.dialogs.dialog(invite.callId!, incoming.localTag, 'peertag'), session);

  let confirmed = 0;
  session.events.onConfirmed = () => confirmed++;
  rig.ua.transport.deliver(peerAck(invite, ok), rig.peer);
  assert.is(confirmed, 1);
  assert.is(rig.ua.dialogs.stats().timers, 0);
  rig.ua.transport.deliver(peerAck(invite, ok), rig.peer);
  assert.is(confirmed, 1, 'a retransmitted ACK confirms nothing more');
  void session.bye();
  rig.ua.transport.deliver(reply(t.last('BYE'), 200), rig.peer);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('the 2xx is re-sent at T1, then doubling up to T2, until the ACK (s13.3.1.4); exact times on the clock', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, invite } = ringing(rig);
  const session = incoming.accept({ contact: CONTACT });
  // s13.3.1.4: "the 2xx response is passed to the transport with an interval that starts at T1 seconds and
  // doubles for each retransmission until it reaches T2 seconds". Sent at 0; again after 500, 1000, 2000,
  // then 4000, 4000: at 500, 1500, 3500, 7500, 11500.
  await rig.advance(12_000);
  assert.equal(times(t, '200 INVITE'), [0, T1, 3 * T1, 7 * T1, 7 * T1 + T2, 7 * T1 + 2 * T2]);
  // "Response retransmissions cease when an ACK request for the response is received."
  t.deliver(peerAck(invite, t.last('200 INVITE')), rig.peer);
  await rig.advance(40_000);
  assert.equal(times(t, '200 INVITE'), [0, 500, 1500, 3500, 7500, 11500]);
  assert.is(session.state, 'confirmed');
  assert.equal(t.labels().filter((l) => l === 'BYE'), []);
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('no ACK within 64*T1: the 2xx was re-sent until then, and a BYE ends the session (s13.3.1.4)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming } = ringing(rig);
  const session = incoming.accept({ contact: CONTACT });
  const ends: Termination[] = [];
  session.events.onTerminated = (end) => ends.push(end);
  await rig.advance(64 * T1 - 1);
  assert.equal(ends, []);
  assert.is(t.count('BYE'), 0);
  await rig.advance(1);
  // 0, then +500, +1000, +2000 and +4000 while below 64*T1 = 32000.
  assert.equal(times(t, '200 INVITE'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  // "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog is
  // confirmed, but the session SHOULD be terminated. This is accomplished with a BYE".
  assert.equal(times(t, 'BYE'), [32_000]);
  const bye = t.last('BYE');
  assert.is(bye.uri?.toString(), 'sip:peer@198.51.100.7:5070');
  assert.is(bye.from?.tag, incoming.localTag);
  assert.is(bye.to?.tag, 'peertag');
  assert.equal(ends, [{ by: 'local', cause: 'no-ack', code: 408, reason: 'no ACK for our 2xx within 64*T1' }]);
  assert.is(session.state, 'terminated');
  t.deliver(reply(bye, 200), rig.peer);
  await rig.advance(5_000);
  assertIdle(rig.clock, rig.ua);
});

test('183 with early media: our answer in the 183, and the 2xx repeats that exact answer (s13.2.1)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, invite } = ringing(rig);
  incoming.ring({ status: 183, contact: CONTACT, earlyMedia: true });
  const progress = t.last('183 INVITE');
  assert.is(progress.contentType?.essence, 'application/sdp');
  assert.match(text(progress.body), /^v=0\r\n/);
  assert.is(incoming.media.state, 'stable', 'the answer is given');
  // A second 183 with early media carries the same answer.
  incoming.ring({ status: 183, contact: CONTACT, earlyMedia: true });
  assert.is(text(t.last('183 INVITE').body), text(progress.body));
  // A 180 without early media carries no body.
  incoming.ring({ contact: CONTACT });
  assert.is(t.last('180 INVITE').body.length, 0);
  const session = incoming.accept({ contact: CONTACT });
  // s13.2.1: "That same exact answer MAY also be placed in any provisional responses sent prior to the answer."
  assert.is(text(t.last('200 INVITE').body), text(progress.body));
  t.deliver(peerAck(invite, t.last('200 INVITE')), rig.peer);
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('accept({ hold: true }): the answer to a sendrecv offer is sendonly (RFC 3264 s6.1)', async () => {
  const rig = uaRig();
  const { incoming, invite } = ringing(rig);
  const session = incoming.accept({ contact: CONTACT, hold: true });
  const ok = rig.ua.transport.last('200 INVITE');
  assert.is(directionOf(ok.body), 'sendonly');
  rig.ua.transport.deliver(peerAck(invite, ok), rig.peer);
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('CANCEL before the answer: 200 for the CANCEL and 487 for the INVITE, both with the INVITE\'s To tag (s9.2)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, invite } = ringing(rig);
  incoming.ring({ contact: CONTACT });
  const ended: string[] = [];
  incoming.events.onEnded = (why) => ended.push(why);
  t.deliver(cancelFor(invite), rig.peer);
  // s9.2: "the UAS answers the CANCEL request itself with a 200 (OK) response" and "the UAS SHOULD immediately
  // respond to the INVITE with a 487 (Request Terminated)".
  assert.equal(t.labels(), ['180 INVITE', '200 CANCEL', '487 INVITE']);
  // s9.2: "The To tag of the response to the CANCEL and the To tag in the response to the original request SHOULD be the same."
  assert.is(t.last('200 CANCEL').to?.tag, incoming.localTag);
  assert.is(t.last('487 INVITE').to?.tag, incoming.localTag);
  assert.equal(ended, ['cancelled']);
  assert.is(incoming.end, 'cancelled');
  assert.is(incoming.media.state, 'stable', 'the offer is dropped');
  assert.throws(() => incoming.accept({ contact: CONTACT }), /cancelled/);
  assert.is(rig.ua.dialogs.stats().incomingInvites, 0);
  // The peer ACKs the 487 (its INVITE transaction does); the server transaction ends on Timer I.
  t.deliver(peerAck(invite, t.last('487 INVITE')), rig.peer);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('CANCEL before any provisional: the 200 for the CANCEL and the 487 still share one To tag (s9.2)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { invite } = ringing(rig);
  t.deliver(cancelFor(invite), rig.peer);
  assert.equal(t.labels(), ['200 CANCEL', '487 INVITE']);
  const tag = t.last('487 INVITE').to?.tag;
  assert.ok(tag);
  assert.is(t.last('200 CANCEL').to?.tag, tag);
  t.deliver(peerAck(invite, t.last('487 INVITE')), rig.peer);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

function cancelFor(invite: ReturnType<typeof callIn>['request']): Parameters<UaRig['ua']['transport']['deliver']>[0] {
  return {
    method: 'CANCEL',
    uri: invite.uri!.toString(),
    headers: [
      ['Via', invite.header('via')!],
      ['Max-Forwards', '70'],
      ['From', invite.header('from')!],
      ['To', invite.header('to')!],
      ['Call-ID', invite.callId!],
      ['CSeq', `${invite.cseq!.seq} CANCEL`],
    ],
  };
}

test('CANCEL after the 2xx: 200 for the CANCEL, no effect on the call or on the 2xx (s9.2)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, invite } = ringing(rig);
  const session = incoming.accept({ contact: CONTACT });
  await rig.advance(100);
  t.deliver(cancelFor(invite), rig.peer);
  // s9.2: "Regardless of the method of the original request, as long as the CANCEL matched an existing
  // transaction, the UAS answers the CANCEL request itself with a 200 (OK) response." and, a final response
  // having been sent, "the CANCEL request has no effect on the processing of the original request, no effect
  // on any session state, and no effect on the responses generated for the original request."
  assert.equal(t.labels(), ['200 INVITE', '200 CANCEL']);
  assert.is(t.last('200 CANCEL').to?.tag, incoming.localTag);
  assert.is(session.state, 'confirmed');
  assert.is(t.count('487 INVITE'), 0);
  await rig.advance(500);
  assert.is(t.count('200 INVITE'), 2, 'the 2xx retransmission goes on');
  t.deliver(peerAck(invite, t.last('200 INVITE')), rig.peer);
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('CANCEL after a reject: 200 for the CANCEL, the 486 stands', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, invite } = ringing(rig);
  incoming.reject(486);
  t.deliver(cancelFor(invite), rig.peer);
  assert.equal(t.labels(), ['486 INVITE', '200 CANCEL']);
  assert.is(t.last('200 CANCEL').to?.tag, incoming.localTag);
  t.deliver(peerAck(invite, t.last('486 INVITE')), rig.peer);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('no answer in time: 480 at the no-answer deadline (default 180 s)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, invite } = ringing(rig);
  incoming.ring({ contact: CONTACT });
  const ended: string[] = [];
  incoming.events.onEnded = (why) => ended.push(why);
  await rig.advance(179_999);
  assert.is(t.count('480 INVITE'), 0);
  await rig.advance(1);
  assert.equal(times(t, '480 INVITE'), [180_000]);
  assert.is(t.last('480 INVITE').to?.tag, incoming.localTag);
  assert.equal(ended, ['expired']);
  assert.is(incoming.end, 'expired');
  t.deliver(peerAck(invite, t.last('480 INVITE')), rig.peer);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('reject: the status and reason given, with our To tag; a status outside 300-699 is refused', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, invite } = ringing(rig);
  assert.throws(() => incoming.reject(200), (e: unknown) => e instanceof RangeError);
  assert.throws(() => incoming.reject(700), (e: unknown) => e instanceof RangeError);
  const ended: string[] = [];
  incoming.events.onEnded = (why) => ended.push(why);
  incoming.reject(603, 'Decline', [['Retry-After', '60']]);
  const declined = t.last('603 INVITE');
  assert.is(declined.reasonPhrase, 'Decline');
  assert.is(declined.header('retry-after'), '60');
  assert.is(declined.to?.tag, incoming.localTag);
  assert.is(incoming.end, 'rejected');
  assert.equal(ended, [], 'onEnded is for endings the application did not choose');
  incoming.reject(486);
  incoming.ring({ contact: CONTACT });
  assert.equal(t.labels(), ['603 INVITE'], 'nothing after the final response');
  t.deliver(peerAck(invite, declined), rig.peer);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('an INVITE without SDP: our offer in the 2xx, the answer taken from the ACK', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, invite } = ringing(rig, { sdp: null });
  const session = incoming.accept({ contact: CONTACT });
  const ok = t.last('200 INVITE');
  assert.is(directionOf(ok.body), 'sendrecv');
  assert.is(session.media.state, 'have-local-offer');
  const media: unknown[] = [];
  session.events.onMedia = (m) => media.push(m);
  t.deliver(peerAck(invite, ok, peerSdp({ port: 31234 })), rig.peer);
  assert.is(session.media.state, 'stable');
  assert.is(media.length, 1);
  assert.is(session.media.media?.remote.port, 31234);
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('an INVITE without SDP whose ACK brings no answer, or one we cannot use: the session ends with a BYE', async () => {
  for (const [ackSdp, code] of [[undefined, 400], [peerSdp({ codecs: '18' }).replace(/a=rtpmap:(0|8|101) [^\r]*\r\n/g, ''), 488]] as const) {
    const rig = uaRig();
    const t = rig.ua.transport;
    const { incoming, invite } = ringing(rig, { sdp: null });
    const session = incoming.accept({ contact: CONTACT });
    const ends: Termination[] = [];
    session.events.onTerminated = (end) => ends.push(end);
    // s13.2.1: "If the initial offer is in the first reliable non-failure message from the UAS back to the UAC, the
    // answer MUST be in the acknowledgement for that message (in this specification, ACK for a 2xx response)."
    t.deliver(peerAck(invite, t.last('200 INVITE'), ackSdp), rig.peer);
    assert.equal(t.labels(), ['200 INVITE', 'BYE']);
    assert.equal(ends.map((e) => [e.by, e.cause, e.code]), [['local', 'error', code]]);
    assert.is(session.media.state, 'stable');
    t.deliver(reply(t.last('BYE'), 200), rig.peer);
    await rig.advance(32_000);
    assertIdle(rig.clock, rig.ua);
  }
});

test('a BYE that overtakes the ACK ends the session and the 2xx retransmissions', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming } = ringing(rig);
  const session: SessionDialog = incoming.accept({ contact: CONTACT });
  const ends: Termination[] = [];
  session.events.onTerminated = (end) => ends.push(end);
  await rig.advance(600);
  t.deliver(inDialog(session, 'BYE', 2), rig.peer);
  assert.equal(t.labels(), ['200 INVITE', '200 INVITE', '200 BYE']);
  assert.equal(ends.map((e) => [e.by, e.cause]), [['remote', 'bye']]);
  await rig.advance(40_000);
  assert.is(t.count('200 INVITE'), 2, 'no retransmission after the BYE');
  assertIdle(rig.clock, rig.ua);
});

test('a provisional that cannot be sent ends the INVITE (transport-error) and nothing is left behind', async () => {
  const rig = uaRig();
  rig.ua.transport.refusePort = rig.peer.port;
  const { incoming } = ringing(rig);
  const ended: string[] = [];
  incoming.events.onEnded = (why) => ended.push(why);
  incoming.ring({ contact: CONTACT });
  await rig.advance(0);
  assert.equal(ended, ['transport-error']);
  assert.is(incoming.end, 'transport-error');
  // A final response is tried, so that the server transaction leaves Proceeding and ends (Timer H).
  assert.equal(rig.ua.transport.labels(), ['180 INVITE', '500 INVITE']);
  assert.is(incoming.media.state, 'stable');
  assert.is(rig.ua.dialogs.stats().incomingInvites, 0);
  await rig.advance(64 * T1);
  assertIdle(rig.clock, rig.ua);
});

test('a lost ACK between two UAs: the 2xx re-sent at T1 brings the same ACK again, and the callee is confirmed then', async () => {
  const rig = pairRig();
  const { a, b } = rig;
  let dropped = 0;
  // The network loses A's first ACK.
  rig.drop = (message, from) => from === 'a' && message.method === 'ACK' && dropped++ === 0;
  let caller: SessionDialog | undefined;
  a.dialogs.invite(
    { requestUri: 'sip:bob@192.0.2.20:5060', from: '<sip:alice@192.0.2.10>', to: '<sip:bob@192.0.2.20>', contact: '<sip:alice@192.0.2.10:5060>', nextHop: b.endpoint, media: a.media() },
    { onAnswered: (session) => (caller = session) },
  );
  await rig.advance(10);
  const callee = b.invites[0]!.accept({ contact: '<sip:bob@192.0.2.20:5060>' });
  const acceptedAt = rig.clock.now();
  let confirmedAt: number | undefined;
  callee.events.onConfirmed = () => (confirmedAt = rig.clock.now());
  await rig.advance(T1 + 2 * rig.latency + 5);
  assert.ok(caller);
  // The 2xx: at 0 and again at T1 (s13.3.1.4); each reaches A after the latency and A ACKs each (s13.2.2.4).
  assert.equal(times(b.transport, '200 INVITE').map((at) => at - acceptedAt), [0, T1]);
  assert.equal(times(a.transport, 'ACK').map((at) => at - acceptedAt), [rig.latency, T1 + rig.latency]);
  assert.is(a.transport.sent.filter((s) => s.message.method === 'ACK')[0]!.message.topVia?.branch, a.transport.last('ACK').topVia?.branch, 'the same ACK');
  assert.is(confirmedAt! - acceptedAt, T1 + 2 * rig.latency);
  await rig.advance(5_000);
  assert.equal(times(b.transport, '200 INVITE').map((at) => at - acceptedAt), [0, T1], 'no more retransmissions');
  await rig.settle(caller!.bye());
  await rig.advance(40_000);
  assertIdle(rig.clock, a, b);
});

test.run();
