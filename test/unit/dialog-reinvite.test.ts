/**
 * re-INVITE both ways (RFC 3261 s14, RFC 3264 s8): ReinviteClient
 * (src/dialog/reinvite-client.ts) for ours, SessionDialog's server side for
 * the peer's, glare.ts for the waits; through the DialogLayer and a real
 * TransactionLayer on the FakeClock, with a scripted peer (uaRig) and, for
 * glare, two UAs of this stack (pairRig).
 *
 * Covers: hold and resume from our side (sendonly offer, the answer, the
 * ACK with the re-INVITE's CSeq, target refresh from the 2xx's Contact) and
 * from the peer's (our answer, our 2xx re-sent until its ACK, target refresh
 * from the re-INVITE's Contact); a re-INVITE without SDP (our offer in the
 * 2xx, the answer in the ACK); an offer we cannot take (488/400, the session
 * unchanged); 491 to the peer's re-INVITE while ours is in progress and 500
 * with Retry-After to one with an offer while our 2xx offer waits for its
 * ACK (s14.2); a re-INVITE that overtakes the ACK of our 2xx (a proxy with
 * several workers): served at once when the 2xx carried the answer, after
 * the ACK when it carried our offer, answered 481 when the ACK never comes;
 * no re-INVITE
 * of ours while another INVITE transaction is in progress (s14.1); glare: a
 * 491 answered by a retry after the s14.1 random wait (owner of the Call-ID
 * 2.1-4 s, else 0-2 s, in units of 10 ms), checked on the clock, at most
 * MAX_GLARE_RETRIES times, and both sides colliding for real; 481, 408 and
 * other failures of our re-INVITE (s14.1 via s12.2.1.2); digest on a
 * re-INVITE; an unusable answer; 2xx retransmissions ACKed again (during and
 * after Timer M); the dialog ending under a re-INVITE or a glare wait; a
 * re-INVITE left in Proceeding (CANCEL 64*T1 after the provisional, given up
 * 64*T1 after the CANCEL); a 2xx whose Contact does not parse.
 *
 * Does not cover: the SDP of hold and resume in detail (dialog-sdp-hold and
 * dialog-offer-answer tests), UPDATE (RFC 3311: not implemented), re-INVITEs
 * inside early dialogs (s14: not allowed before the dialog is confirmed).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_GLARE_RETRIES, glareWaitMs, retryAfterSeconds, type NegotiatedMedia, type ReinviteResult, type SessionDialog, type Termination } from '../../src/dialog/index.ts';
import type { SipMessage } from '../../src/parser/index.ts';
import { assertIdle, callIn, directionOf, fakeAuth, inDialog, incomingSession, outgoingSession, pairRig, peerAck, peerSdp, reply, uaRig, type PairRig, type UaRig } from './dialog-fakes.ts';

function deliver(rig: UaRig, parts: Parameters<UaRig['ua']['transport']['deliver']>[0]): void {
  rig.ua.transport.deliver(parts, rig.peer);
}

/** Lets a promise settle on the scripted rig without moving the clock much. */
async function settled<T>(rig: UaRig, promise: Promise<T>): Promise<T> {
  let done = false;
  let value: T | undefined;
  void promise.then((v) => {
    done = true;
    value = v;
  });
  await rig.advance(0);
  assert.ok(done, 'settled');
  return value as T;
}

/** Ends a session and waits out every transaction (Timer M, D, K, F). */
/** The peer calls (without SDP when `sdp` is null: our offer rides in the 2xx) and we answer: the session, the INVITE and our 2xx, ACK not yet come. */
function answeredCall(rig: UaRig, options: { sdp?: null } = {}): { session: SessionDialog; request: SipMessage; ok: SipMessage } {
  const { incoming, request } = callIn(rig, options);
  const session = incoming!.accept({ contact: '<sip:ua@192.0.2.10:5060>' });
  return { session, request, ok: rig.ua.transport.last('200 INVITE') };
}

async function hangUpAndIdle(rig: UaRig, session: SessionDialog): Promise<void> {
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
}

test('we hold then resume (caller): sendonly then sendrecv offers in the dialog, the answers taken, each 2xx ACKed with its CSeq; target refreshed by the 2xx', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session, invite } = outgoingSession(rig);
  const media: Array<NegotiatedMedia | undefined> = [];
  session.events.onMedia = (m) => media.push(m);

  const held = session.reinvite(true);
  const reinvite = t.last('INVITE');
  assert.is(reinvite.to?.tag, 'peertag');
  assert.is(reinvite.from?.tag, invite.from?.tag);
  assert.is(reinvite.callId, invite.callId);
  assert.is(reinvite.uri?.toString(), 'sip:peer@198.51.100.7:5070');
  // s12.2.1.1: the local sequence number incremented by one.
  assert.equal([reinvite.cseq?.seq, reinvite.cseq?.method], [invite.cseq!.seq + 1, 'INVITE']);
  assert.is(reinvite.header('contact'), '<sip:ua@192.0.2.10:5060>');
  // RFC 3264 s8.4: "If the stream to be placed on hold was previously a sendrecv media stream, it is placed on hold by marking it sendonly."
  assert.is(directionOf(reinvite.body), 'sendonly');
  assert.is(session.media.state, 'have-local-offer');
  // The peer answers recvonly from a new Contact: s12.2.1.2 target refresh.
  deliver(rig, reply(reinvite, 200, { contact: '<sip:peer@198.51.100.7:5072>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) }));
  const result = await settled(rig, held);
  assert.ok(result.ok);
  assert.is(session.media.localHold, true);
  assert.is(media.length, 1);
  const ack = t.last('ACK');
  assert.equal([ack.cseq?.seq, ack.cseq?.method], [reinvite.cseq?.seq, 'ACK']);
  assert.is(ack.uri?.toString(), 'sip:peer@198.51.100.7:5072');
  assert.is(session.dialog.remoteTarget.toString(), 'sip:peer@198.51.100.7:5072');

  const resumed = session.reinvite(false);
  const second = t.last('INVITE');
  assert.is(second.uri?.toString(), 'sip:peer@198.51.100.7:5072');
  assert.is(second.cseq?.seq, reinvite.cseq!.seq + 1);
  assert.is(directionOf(second.body), 'sendrecv');
  deliver(rig, reply(second, 200, { contact: '<sip:peer@198.51.100.7:5072>', sdp: peerSdp({ direction: 'sendrecv', version: 3 }) }));
  assert.ok((await settled(rig, resumed)).ok);
  assert.is(session.media.localHold, false);
  assert.is(session.media.media?.direction, 'sendrecv');
  assert.is(media.length, 2);
  await hangUpAndIdle(rig, session);
});

test('the peer holds us: our 200 answers recvonly, re-sent until its ACK; its Contact refreshes the target (s12.2.2)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = incomingSession(rig);
  const media: Array<NegotiatedMedia | undefined> = [];
  session.events.onMedia = (m) => media.push(m);
  const start = rig.clock.now();
  deliver(rig, inDialog(session, 'INVITE', 2, { sdp: peerSdp({ direction: 'sendonly', version: 2 }), contact: '<sip:peer@198.51.100.7:5090>' }));
  const ok = t.last('200 INVITE');
  assert.is(ok.cseq?.seq, 2);
  assert.is(ok.header('contact'), '<sip:ua@192.0.2.10:5060>');
  assert.is(directionOf(ok.body), 'recvonly');
  assert.is(session.media.media?.remoteHold, true);
  assert.is(media.length, 1);
  assert.is(session.dialog.remoteTarget.toString(), 'sip:peer@198.51.100.7:5090');
  // s13.3.1.4 applies to the 2xx of a re-INVITE too: re-sent at T1, 2*T1 ... until the ACK.
  await rig.advance(2_000);
  assert.equal(t.sent.filter((s) => s.message.status === 200 && s.message.cseq?.seq === 2).map((s) => s.at - start), [0, 500, 1500]);
  deliver(rig, inDialog(session, 'ACK', 2));
  await rig.advance(10_000);
  assert.is(t.sent.filter((s) => s.message.status === 200 && s.message.cseq?.seq === 2).length, 3);
  // Later requests go to the new target.
  void session.sendOptions();
  assert.is(t.last('OPTIONS').uri?.toString(), 'sip:peer@198.51.100.7:5090');
  await hangUpAndIdle(rig, session);
});

test('the peer\'s re-INVITE without SDP: our offer in the 200, the answer in the ACK (s14.2)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const media: Array<NegotiatedMedia | undefined> = [];
  session.events.onMedia = (m) => media.push(m);
  deliver(rig, inDialog(session, 'INVITE', 1));
  const ok = t.last('200 INVITE');
  assert.is(directionOf(ok.body), 'sendrecv');
  assert.is(session.media.state, 'have-local-offer');
  assert.equal(media, [], 'nothing agreed until the ACK');
  deliver(rig, inDialog(session, 'ACK', 1, { sdp: peerSdp({ port: 30500, version: 2 }) }));
  assert.is(session.media.state, 'stable');
  assert.is(media.length, 1);
  assert.is(session.media.media?.remote.port, 30500);
  await hangUpAndIdle(rig, session);
});

test('an offer in a re-INVITE we cannot take: 488 (no common codec) or 400 (not SDP) with a Warning; the session is unchanged', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const before = session.media.media;
  deliver(rig, inDialog(session, 'INVITE', 1, { sdp: peerSdp({ codecs: '18', version: 2 }).replace(/a=rtpmap:(0|8|101) [^\r]*\r\n/g, '') }));
  const refused = t.last('488 INVITE');
  assert.match(refused.header('warning') ?? '', /^399 /);
  deliver(rig, inDialog(session, 'ACK', 1));
  deliver(rig, inDialog(session, 'INVITE', 2, { sdp: 'this is not SDP' }));
  assert.is(t.count('400 INVITE'), 1);
  deliver(rig, inDialog(session, 'ACK', 2));
  assert.is(session.state, 'confirmed');
  assert.is(session.media.state, 'stable');
  assert.is(session.media.media, before);
  // The dialog still works: a hold goes through.
  const held = session.reinvite(true);
  deliver(rig, reply(t.last('INVITE'), 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) }));
  assert.ok((await settled(rig, held)).ok);
  await hangUpAndIdle(rig, session);
});

test('the peer\'s re-INVITE while ours is in progress: 491 (s14.2); our re-INVITE goes on', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const held = session.reinvite(true);
  deliver(rig, inDialog(session, 'INVITE', 1, { sdp: peerSdp({ direction: 'sendonly', version: 2 }) }));
  // s14.2: "A UAS that receives an INVITE on a dialog while an INVITE it had sent on that dialog is in progress MUST return a 491 (Request Pending)".
  assert.is(t.count('491 INVITE'), 1);
  assert.is(session.media.state, 'have-local-offer', 'our offer is still the pending one');
  deliver(rig, reply(t.last('INVITE'), 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) }));
  assert.ok((await settled(rig, held)).ok);
  await hangUpAndIdle(rig, session);
});

test('a re-INVITE while our 2xx offer still waits for its ACK: 500 with Retry-After 0-10 s (s14.2)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  // The peer calls without SDP: our offer rides in the 2xx and its answer will come in the ACK.
  const { session, request, ok } = answeredCall(rig, { sdp: null });
  deliver(rig, inDialog(session, 'INVITE', 2, { sdp: peerSdp({ version: 2 }) }));
  // s14.2: "A UAS that receives a second INVITE before it sends the final response to a first INVITE with a lower
  // CSeq sequence number on the same dialog MUST return a 500 (Server Internal Error) response to the second INVITE
  // and MUST include a Retry-After header field with a randomly chosen value of between 0 and 10 seconds." Until
  // the ACK the first INVITE's exchange is not over (s14.1: no new INVITE "while another INVITE transaction is in progress in either direction").
  const refused = t.last('500 INVITE');
  const retryAfter = Number(refused.header('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 0 && retryAfter <= 10, `Retry-After ${retryAfter}`);
  assert.is(session.media.state, 'have-local-offer');
  // Our own re-INVITE is refused too before the ACK (s14.1), and nothing is sent.
  const ours = await settled(rig, session.reinvite(true));
  assert.equal(ours, { ok: false, status: 491, reason: 'another INVITE transaction is in progress in this dialog', cause: 'local' });
  assert.is(t.count('INVITE'), 0);
  deliver(rig, peerAck(request, ok, peerSdp()));
  assert.is(session.media.state, 'stable');
  // After the ACK the same re-INVITE is served.
  deliver(rig, inDialog(session, 'INVITE', 3, { sdp: peerSdp({ version: 2 }) }));
  assert.is(t.sent.filter((s) => s.message.status === 200 && s.message.cseq?.seq === 3).length, 1);
  deliver(rig, inDialog(session, 'ACK', 3));
  await hangUpAndIdle(rig, session);
});

test('a re-INVITE that overtakes the ACK of our 2xx (which carried the answer) is served at once; the late ACK changes nothing', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session, request, ok } = answeredCall(rig);
  let confirmed = 0;
  session.events = { onConfirmed: () => confirmed++ };
  // The peer has our 2xx (it sends in the confirmed dialog): its hold re-INVITE came before its ACK.
  deliver(rig, inDialog(session, 'INVITE', 2, { sdp: peerSdp({ direction: 'sendonly', version: 2 }) }));
  const answered = t.sent.filter((s) => s.message.status === 200 && s.message.cseq?.seq === 2);
  assert.is(answered.length, 1);
  assert.is(directionOf(answered[0]!.message.body), 'recvonly');
  assert.is(confirmed, 1, 'the first 2xx counts as received');
  const start = rig.clock.now();
  await rig.advance(2_000);
  assert.equal(t.sent.filter((s) => s.message.status === 200 && s.message.cseq?.seq === 1 && s.at > start).length, 0, 'the first 2xx is not re-sent any more');
  deliver(rig, peerAck(request, ok));
  assert.is(confirmed, 1, 'its late ACK settles nothing more');
  deliver(rig, inDialog(session, 'ACK', 2));
  assert.is(confirmed, 2);
  await hangUpAndIdle(rig, session);
});

test('an offerless re-INVITE that overtakes the ACK carrying the answer to our 2xx offer waits for that ACK, then gets our new offer', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session, request, ok } = answeredCall(rig, { sdp: null });
  deliver(rig, inDialog(session, 'INVITE', 2));
  assert.equal(t.sent.filter((s) => s.message.cseq?.seq === 2 && s.message.status !== undefined && s.message.status >= 200).length, 0, 'no final response before the ACK');
  // A second one meanwhile is refused (one waits at a time).
  deliver(rig, inDialog(session, 'INVITE', 3));
  assert.ok(t.last('500 INVITE').header('retry-after') !== undefined);
  deliver(rig, peerAck(request, ok, peerSdp()));
  assert.is(session.media.state, 'have-local-offer', 'the ACK took the answer, and the waiting re-INVITE got our new offer');
  const offer = t.sent.filter((s) => s.message.status === 200 && s.message.cseq?.seq === 2);
  assert.is(offer.length, 1);
  assert.ok(offer[0]!.message.body.length > 0);
  deliver(rig, inDialog(session, 'ACK', 2, { sdp: peerSdp({ version: 3 }) }));
  assert.is(session.media.state, 'stable');
  await hangUpAndIdle(rig, session);
});

test('an offerless re-INVITE waiting for an ACK that never comes: 481 when the session ends at 64*T1', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = answeredCall(rig, { sdp: null });
  deliver(rig, inDialog(session, 'INVITE', 2));
  await rig.advance(32_000);
  assert.is(session.state, 'terminated');
  assert.equal(t.sent.filter((s) => s.message.cseq?.seq === 2 && s.message.status !== undefined && s.message.status >= 200).map((s) => s.message.status), [481]);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('no re-INVITE of ours while ours is in progress (s14.1): the second settles at once with 491, nothing sent', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const first = session.reinvite(true);
  const second = await settled(rig, session.reinvite(false));
  assert.equal([second.ok, (second as { status: number }).status], [false, 491]);
  assert.is(t.count('INVITE'), 2, 'the initial INVITE and the first re-INVITE only');
  deliver(rig, reply(t.last('INVITE'), 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) }));
  assert.ok((await settled(rig, first)).ok);
  await hangUpAndIdle(rig, session);
});

test('the s14.1 glare waits: owner of the Call-ID 2.1-4 s, else 0-2 s, in units of 10 ms, both ends reachable; Retry-After 0-10 s', () => {
  for (const [owns, low, high] of [[true, 2100, 4000], [false, 0, 2000]] as const) {
    const seen = new Set<number>();
    for (let k = 0; k < 10_000; k++) {
      const ms = glareWaitMs(owns, () => k / 10_000);
      assert.ok(ms >= low && ms <= high, `${ms} in [${low}, ${high}]`);
      assert.is(ms % 10, 0);
      seen.add(ms);
    }
    assert.ok(seen.has(low) && seen.has(high), 'both bounds reached');
    // Every 10 ms step of the window is possible: (high - low) / 10 + 1 values.
    assert.is(seen.size, (high - low) / 10 + 1);
    assert.is(glareWaitMs(owns, () => 0.9999999999), high);
  }
  const afters = new Set<number>();
  for (let k = 0; k < 1000; k++) afters.add(retryAfterSeconds(() => k / 1000));
  assert.equal([...afters].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

/** Our re-INVITE answered 491: returns the clock time of the 491 and of the retry that follows. */
async function glareOnce(rig: UaRig): Promise<{ at491: number; retryAt: number }> {
  const t = rig.ua.transport;
  const count = t.count('INVITE');
  deliver(rig, reply(t.last('INVITE'), 491));
  const at491 = rig.clock.now();
  while (t.count('INVITE') === count && rig.clock.now() - at491 <= 5_000) await rig.advance(10);
  const retry = t.sent.filter((s) => s.message.method === 'INVITE').at(-1)!;
  return { at491, retryAt: retry.at };
}

test('491 to our re-INVITE (caller, owner of the Call-ID): offer withdrawn, retried 2.1-4 s later in 10 ms units (s14.1)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const held = session.reinvite(true);
  const first = t.last('INVITE');
  const { at491, retryAt } = await glareOnce(rig);
  const wait = retryAt - at491;
  // s14.1: "If the UAC is the owner of the Call-ID of the dialog ID (meaning it generated the value), T has a
  // randomly chosen value between 2.1 and 4 seconds in units of 10 ms."
  assert.ok(wait >= 2100 && wait <= 4000, `retried after ${wait} ms`);
  assert.is(wait % 10, 0);
  const retry = t.last('INVITE');
  assert.is(retry.cseq?.seq, first.cseq!.seq + 1, 'a new transaction with the next CSeq');
  assert.is(directionOf(retry.body), 'sendonly', '"the UAC SHOULD attempt the re-INVITE once more"');
  deliver(rig, reply(retry, 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) }));
  assert.ok((await settled(rig, held)).ok);
  await hangUpAndIdle(rig, session);
});

test('491 to our re-INVITE (callee, not the owner of the Call-ID): retried 0-2 s later in 10 ms units (s14.1)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = incomingSession(rig);
  const held = session.reinvite(true);
  // While waiting out the 491 the session has no INVITE in flight, but the re-INVITE is still ours to finish.
  const { at491, retryAt } = await glareOnce(rig);
  const wait = retryAt - at491;
  // s14.1: "If the UAC is not the owner of the Call-ID of the dialog ID, T has a randomly chosen value of between 0 and 2 seconds in units of 10 ms."
  assert.ok(wait >= 0 && wait <= 2000, `retried after ${wait} ms`);
  assert.is(wait % 10, 0);
  deliver(rig, reply(t.last('INVITE'), 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) }));
  assert.ok((await settled(rig, held)).ok);
  await hangUpAndIdle(rig, session);
});

test(`491 after every retry: the re-INVITE gives up with 491 after ${MAX_GLARE_RETRIES} retries; the session goes on`, async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const held = session.reinvite(true);
  for (let i = 0; i < MAX_GLARE_RETRIES; i++) await glareOnce(rig);
  deliver(rig, reply(t.last('INVITE'), 491));
  const result = await settled(rig, held);
  assert.equal([result.ok, (result as { status: number }).status], [false, 491]);
  assert.is(t.count('INVITE'), 1 + 1 + MAX_GLARE_RETRIES);
  assert.is(session.state, 'confirmed');
  assert.is(session.media.state, 'stable');
  assert.is(session.media.localHold, false, 'the session parameters unchanged (s14.1)');
  await hangUpAndIdle(rig, session);
});

test('the peer\'s re-INVITE during our glare wait is served; the dialog ending during the wait cancels the retry', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const held = session.reinvite(true);
  deliver(rig, reply(t.last('INVITE'), 491));
  // Not in flight any more: the peer's re-INVITE gets a 200, not a 491.
  deliver(rig, inDialog(session, 'INVITE', 1, { sdp: peerSdp({ direction: 'sendonly', version: 2 }) }));
  assert.is(t.count('491 INVITE'), 0);
  assert.is(directionOf(t.last('200 INVITE').body), 'recvonly');
  deliver(rig, inDialog(session, 'ACK', 1));
  // Then the peer hangs up before our retry.
  const invitesBefore = t.count('INVITE');
  deliver(rig, inDialog(session, 'BYE', 2));
  const result = await settled(rig, held);
  assert.equal([result.ok, (result as { status: number }).status], [false, 481]);
  await rig.advance(5_000);
  assert.is(t.count('INVITE'), invitesBefore, 'no retry after the end');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('our glare retry is not sent while the peer\'s re-INVITE, answered during the wait, still waits for its ACK (s14.1)', async () => {
  for (const withOffer of [true, false]) {
    const rig = uaRig();
    const t = rig.ua.transport;
    const { session } = incomingSession(rig);
    const held = session.reinvite(true);
    deliver(rig, reply(t.last('INVITE'), 491));
    // The peer's own re-INVITE arrives at once (with an offer, or without: then our offer rides in the 2xx); its ACK is late.
    deliver(rig, inDialog(session, 'INVITE', 2, withOffer ? { sdp: peerSdp({ version: 2 }) } : {}));
    const invites = t.count('INVITE');
    // s14.1: "a UAC MUST NOT initiate a new INVITE transaction within a dialog while another INVITE transaction is
    // in progress in either direction" (the longest non-owner wait is 2 s).
    await rig.advance(3_000);
    assert.is(t.count('INVITE'), invites, `no retry before the ACK (${withOffer ? 'offer in the re-INVITE' : 'offer in our 2xx'})`);
    deliver(rig, inDialog(session, 'ACK', 2, withOffer ? {} : { sdp: peerSdp({ version: 2 }) }));
    const ackAt = rig.clock.now();
    while (t.count('INVITE') === invites && rig.clock.now() - ackAt <= 5_000) await rig.advance(10);
    assert.is(t.count('INVITE'), invites + 1, 'retried once the ACK came');
    const retry = t.last('INVITE');
    assert.ok(t.sent.at(-1)!.at - ackAt <= 2_000, 'within one more non-owner wait');
    assert.is(directionOf(retry.body), 'sendonly');
    deliver(rig, reply(retry, 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp({ direction: 'recvonly', version: 3 }) }));
    const result = await settled(rig, held);
    assert.ok(result.ok, JSON.stringify(result));
    await hangUpAndIdle(rig, session);
  }
});

test('our re-INVITE answered 481: the dialog ends, no BYE; a 408 timeout: the dialog ends with a BYE; a 488: the session unchanged (s14.1)', async () => {
  // 481
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const ends: Termination[] = [];
  session.events.onTerminated = (end) => ends.push(end);
  const gone = session.reinvite(true);
  deliver(rig, reply(t.last('INVITE'), 481));
  assert.equal((await settled(rig, gone)).ok, false);
  // s14.1: "if the non-2xx final response is a 481 (Call/Transaction Does Not Exist), or a 408 (Request Timeout),
  // or no response at all is received for the re-INVITE ..., the UAC will terminate the dialog."
  assert.equal(ends.map((e) => [e.by, e.cause, e.code]), [['remote', 'error', 481]]);
  assert.is(t.count('BYE'), 0, 'the peer has no dialog to BYE');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);

  // No answer at all: Timer B (64*T1) -> 408; we end the dialog with a BYE.
  const quiet = uaRig();
  const q = outgoingSession(quiet).session;
  const qEnds: Termination[] = [];
  q.events.onTerminated = (end) => qEnds.push(end);
  const timedOut = q.reinvite(true);
  await quiet.advance(32_000);
  const r = await settled(quiet, timedOut);
  assert.equal([r.ok, (r as { status: number }).status], [false, 408]);
  assert.equal(qEnds.map((e) => [e.by, e.cause, e.code]), [['local', 'error', 408]]);
  assert.is(quiet.ua.transport.count('BYE'), 1);
  await quiet.advance(32_000);
  assertIdle(quiet.clock, quiet.ua);

  // 488: "the session parameters MUST remain unchanged, as if no re-INVITE had been issued."
  const picky = uaRig();
  const p = outgoingSession(picky).session;
  const mediaBefore = p.media.media;
  const refused = p.reinvite(true);
  picky.ua.transport.deliver(reply(picky.ua.transport.last('INVITE'), 488), picky.peer);
  const rr = await settled(picky, refused);
  assert.equal([rr.ok, (rr as { status: number }).status], [false, 488]);
  assert.is(p.state, 'confirmed');
  assert.is(p.media.state, 'stable');
  assert.is(p.media.media, mediaBefore);
  assert.is(p.media.localHold, false);
  await hangUpAndIdle(picky, p);
});

test('digest on a re-INVITE: a 407 answered once with credentials and CSeq + 1; the ACK carries the same credentials', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const auth = fakeAuth();
  const { session } = incomingSession(rig, { auth });
  const held = session.reinvite(true);
  const first = t.last('INVITE');
  assert.is(first.header('proxy-authorization'), undefined);
  deliver(rig, reply(first, 407, { headers: [['Proxy-Authenticate', 'Digest realm="r", nonce="n"']] }));
  const second = t.last('INVITE');
  assert.is(second.cseq?.seq, first.cseq!.seq + 1);
  assert.ok(second.header('proxy-authorization'));
  assert.is(directionOf(second.body), 'sendonly', 'the same offer');
  deliver(rig, reply(second, 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) }));
  assert.ok((await settled(rig, held)).ok);
  const ack = t.last('ACK');
  // s13.2.2.4 "The ACK MUST contain the same credentials as the INVITE."
  assert.is(ack.header('proxy-authorization'), second.header('proxy-authorization'));
  assert.is(ack.cseq?.seq, second.cseq?.seq);
  assert.is(auth.challenges, 1);
  await hangUpAndIdle(rig, session);
});

test('an unusable answer in the 2xx to our re-INVITE: ACK, then BYE; the dialog ends', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const ends: Termination[] = [];
  session.events.onTerminated = (end) => ends.push(end);
  const held = session.reinvite(true);
  const before = t.sent.length;
  deliver(rig, reply(t.last('INVITE'), 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: 'v=0\r\nnot really\r\n' }));
  const result = await settled(rig, held);
  assert.equal([result.ok, (result as { status: number }).status], [false, 488]);
  assert.equal(t.labels(before), ['ACK', 'BYE']);
  assert.equal(ends.map((e) => [e.by, e.cause, e.code]), [['local', 'error', 488]]);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a retransmitted 2xx to our re-INVITE gets the same ACK, during Timer M and after it', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const held = session.reinvite(true);
  const reinvite = t.last('INVITE');
  const ok = reply(reinvite, 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) });
  deliver(rig, ok);
  assert.ok((await settled(rig, held)).ok);
  const ack = t.last('ACK');
  deliver(rig, ok);
  assert.is(t.count('ACK'), 3, 'the initial ACK, the re-INVITE\'s ACK and its repeat');
  assert.is(t.last('ACK').topVia?.branch, ack.topVia?.branch);
  await rig.advance(32_000);
  deliver(rig, ok);
  assert.is(t.count('ACK'), 4);
  assert.is(t.last('ACK').topVia?.branch, ack.topVia?.branch);
  assert.is(t.last('ACK').cseq?.seq, reinvite.cseq?.seq);
  await hangUpAndIdle(rig, session);
});

test('the dialog ends while our re-INVITE is in flight: the re-INVITE settles; a 2xx that still comes is ACKed', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const held = session.reinvite(true);
  const reinvite = t.last('INVITE');
  deliver(rig, inDialog(session, 'BYE', 1));
  const result = await settled(rig, held);
  assert.equal([result.ok, (result as { status: number }).status], [false, 481]);
  assert.is(session.media.state, 'stable');
  const acks = t.count('ACK');
  deliver(rig, reply(reinvite, 200, { contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) }));
  assert.is(t.count('ACK'), acks + 1);
  assert.is(t.last('ACK').cseq?.seq, reinvite.cseq?.seq);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

/** Our call with a re-INVITE (hold) that the peer answered 183 and nothing more. */
function reinviteAt183(rig: UaRig): { session: SessionDialog; held: Promise<ReinviteResult>; reinvite: SipMessage } {
  const { session } = outgoingSession(rig);
  const held = session.reinvite(true);
  const reinvite = rig.ua.transport.last('INVITE');
  deliver(rig, reply(reinvite, 183, { contact: '<sip:peer@198.51.100.7:5070>' }));
  return { session, held, reinvite };
}

test('our re-INVITE answered 183 and then nothing: CANCEL 64*T1 after the provisional; 487 leaves the session as it was', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session, held, reinvite } = reinviteAt183(rig);
  // RFC 3261 gives Proceeding no timer: without ours the promise, the slot and the transaction would wait for ever.
  await rig.advance(31_999);
  assert.is(t.count('CANCEL'), 0);
  await rig.advance(1);
  const cancel = t.last('CANCEL');
  assert.equal([cancel.topVia?.branch, cancel.cseq?.seq, cancel.cseq?.method], [reinvite.topVia?.branch, reinvite.cseq?.seq, 'CANCEL']);
  deliver(rig, reply(cancel, 200));
  deliver(rig, reply(reinvite, 487));
  const result = await settled(rig, held);
  assert.equal([result.ok, (result as { status: number }).status], [false, 487]);
  assert.is(session.state, 'confirmed');
  assert.is(session.media.state, 'stable');
  assert.is(session.media.localHold, false);
  await hangUpAndIdle(rig, session);
});

test('our re-INVITE answered 183, its CANCEL unanswered: given up 64*T1 after the CANCEL (s9.1), as no answer: 408, the dialog ends with a BYE', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session, held } = reinviteAt183(rig);
  const ends: Termination[] = [];
  session.events.onTerminated = (end) => ends.push(end);
  await rig.advance(32_000);
  assert.is(t.count('CANCEL'), 1);
  assert.is(rig.ua.dialogs.stats().timers, 1, 'the session counts its re-INVITE\'s give-up timer');
  await rig.advance(32_000);
  const result = await settled(rig, held);
  assert.equal([result.ok, (result as { status: number }).status], [false, 408]);
  assert.equal(ends.map((e) => [e.by, e.cause, e.code]), [['local', 'error', 408]]);
  assert.is(t.count('BYE'), 1);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('the dialog ends while our re-INVITE waits after a 183: the re-INVITE settles, its CANCEL goes at once, its transaction is freed', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session, held } = reinviteAt183(rig);
  deliver(rig, inDialog(session, 'BYE', 1));
  const result = await settled(rig, held);
  assert.equal([result.ok, (result as { status: number }).status], [false, 481]);
  assert.is(t.count('CANCEL'), 1);
  await rig.advance(64_000);
  assertIdle(rig.clock, rig.ua);
});

test('a re-INVITE cancelled after its dialog ended lingers in the layer: its give-up timer counted in stats, and destroy() ends it with nothing left', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = reinviteAt183(rig);
  deliver(rig, inDialog(session, 'BYE', 1));
  await rig.advance(0);
  assert.is(t.count('CANCEL'), 1);
  assert.equal(rig.ua.dialogs.stats(), { dialogs: 0, incomingInvites: 0, outgoingInvites: 0, timers: 1 }, 'the give-up timer is the layer\'s');
  rig.ua.transactions.close();
  rig.ua.dialogs.destroy();
  assert.equal(rig.ua.dialogs.stats(), { dialogs: 0, incomingInvites: 0, outgoingInvites: 0, timers: 0 });
  assert.is(rig.clock.pending, 0, 'no timer left');
});

test('our re-INVITE after a 183 whose CANCEL cannot be sent (the transaction layer closed) is given up at once: 408, no timer', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { held } = reinviteAt183(rig);
  rig.ua.transactions.close();
  await rig.advance(32_000);
  const result = await settled(rig, held);
  assert.equal([result.ok, (result as { status: number }).status], [false, 408]);
  assert.is(t.count('CANCEL'), 0);
  rig.ua.dialogs.destroy();
  assert.is(rig.clock.pending, 0, 'no timer left');
});

test('a 2xx to our re-INVITE whose Contact does not parse: ACKed at the old target, which stays; the answer is taken', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const target = session.dialog.remoteTarget.toString();
  const held = session.reinvite(true);
  deliver(rig, reply(t.last('INVITE'), 200, { contact: '<>', sdp: peerSdp({ direction: 'recvonly', version: 2 }) }));
  assert.ok((await settled(rig, held)).ok);
  assert.is(session.dialog.remoteTarget.toString(), target);
  assert.is(t.last('ACK').uri?.toString(), target);
  await hangUpAndIdle(rig, session);
});

// ------------------------------------------------------------------ glare for real: two UAs

async function establish(rig: PairRig): Promise<{ caller: SessionDialog; callee: SessionDialog }> {
  const { a, b } = rig;
  let caller: SessionDialog | undefined;
  a.dialogs.invite(
    {
      requestUri: `sip:bob@${b.endpoint.host}:${b.endpoint.port}`,
      from: `<sip:alice@${a.endpoint.host}>`,
      to: `<sip:bob@${b.endpoint.host}>`,
      contact: `<sip:alice@${a.endpoint.host}:${a.endpoint.port}>`,
      nextHop: b.endpoint,
      media: a.media(),
    },
    { onAnswered: (session) => (caller = session) },
  );
  await rig.advance(20);
  const callee = b.invites[0]!.accept({ contact: `<sip:bob@${b.endpoint.host}:${b.endpoint.port}>` });
  await rig.advance(40);
  assert.ok(caller);
  return { caller: caller!, callee };
}

test('glare between two UAs: both re-INVITE at once, both get 491, the callee retries within 0-2 s and the caller within 2.1-4 s; both end on hold', async () => {
  const rig = pairRig();
  const { a, b } = rig;
  const { caller, callee } = await establish(rig);
  const start = rig.clock.now();
  const fromA = caller.reinvite(true);
  const fromB = callee.reinvite(true);
  const [ra, rb] = await Promise.all([rig.settle(fromA), rig.settle(fromB)]);
  assert.ok(ra.ok, JSON.stringify(ra));
  assert.ok(rb.ok, JSON.stringify(rb));
  // Each side answered the other's first re-INVITE with 491.
  assert.is(a.transport.count('491 INVITE'), 1);
  assert.is(b.transport.count('491 INVITE'), 1);
  const got491 = (ua: typeof a): number => ua.transport.sent.find((s) => s.message.method === 'INVITE' && s.at >= start)!.at + 2 * rig.latency;
  const retryOf = (ua: typeof a): number => ua.transport.sent.filter((s) => s.message.method === 'INVITE' && s.at >= start)[1]!.at;
  const waitA = retryOf(a) - got491(a);
  const waitB = retryOf(b) - got491(b);
  assert.ok(waitA >= 2100 && waitA <= 4000, `caller (owner of the Call-ID) waited ${waitA} ms`);
  assert.ok(waitB >= 0 && waitB <= 2000, `callee waited ${waitB} ms`);
  assert.is(waitA % 10, 0);
  assert.is(waitB % 10, 0);
  // B's retry came first and held A (A answered recvonly); A's retry then holds B too: inactive both ways.
  assert.is(directionOf(b.transport.sent.filter((s) => s.message.method === 'INVITE' && s.at >= start)[1]!.message.body), 'sendonly');
  assert.is(directionOf(a.transport.sent.filter((s) => s.message.method === 'INVITE' && s.at >= start)[1]!.message.body), 'inactive');
  assert.is(caller.media.media?.direction, 'inactive');
  assert.is(callee.media.media?.direction, 'inactive');
  await rig.advance(20);
  await rig.settle(caller.bye());
  await rig.advance(40_000);
  assertIdle(rig.clock, a, b);
});

test.run();
