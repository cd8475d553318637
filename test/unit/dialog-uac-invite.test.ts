/**
 * OutgoingInvite (src/dialog/uac-invite.ts): an INVITE we send, RFC 3261
 * s13.2 with RFC 6026, driven through the DialogLayer and a real
 * TransactionLayer on the FakeClock; the peer is scripted (dialog-fakes.ts
 * uaRig), so forks, races and losses are set up message by message.
 *
 * Covers: the INVITE as sent; early dialogs per To tag (forking, a 100
 * without tag opens none, the cap); early media previewed from a 1xx; the
 * first 2xx wins and is ACKed by the dialog (CSeq, Request-URI, To tag, a
 * branch of its own); a later fork's 2xx ACKed then BYEd (kept for its
 * retransmissions up to a cap of forks); the same ACK re-sent
 * for each 2xx retransmission, during Timer M (the transaction) and after it
 * (the layer's stray-response path); CANCEL only after a provisional (asked
 * earlier, sent when the first one comes; never sent when none comes), its
 * fields (s9.1), the 487; a 2xx crossing our CANCEL ACKed and BYEd; a CANCEL
 * that gets no final response in 64*T1 (s9.1); non-2xx, timeout and
 * transport error endings; digest on a 401/407 (a fake authenticator and the
 * real DigestClient, once per challenge, never a loop); an unusable answer
 * in the 2xx (ACK, BYE); a 2xx that cannot make a dialog; a request that
 * cannot be sent; nothing left afterwards.
 *
 * Does not cover: the session after the answer (dialog-session.test.ts,
 * dialog-reinvite.test.ts), the SDP rules themselves (dialog-offer-answer
 * and dialog-sdp-* tests), the transaction machines' own timers
 * (transaction-client-invite.test.ts), RFC 3263 resolution.
 */
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage, type SipMessage } from '../../src/parser/index.ts';
import { DialogLayer, MAX_EARLY_DIALOGS, MAX_OTHER_FORK_ACKS, type DialogTransactions } from '../../src/dialog/index.ts';
import { DigestClient } from '../../src/registrar-client/digest-client.ts';
import { FakeClock } from '../../src/transaction/clock.ts';
import { assertIdle, dial, fakeAuth, peerSdp, reply, seeded, uaRig, type UaRig } from './dialog-fakes.ts';

const A = '<sip:a@198.51.100.7:5070>';
const B = '<sip:b@198.51.100.7:5070>';

function deliver(rig: UaRig, parts: Parameters<UaRig['ua']['transport']['deliver']>[0]): void {
  rig.ua.transport.deliver(parts, rig.peer);
}

/** Everything after the first `from` sends, as labels. */
function labelsSince(rig: UaRig, from: number): string[] {
  return rig.ua.transport.labels(from);
}

/** The last message sent with that label, as bytes (to compare retransmissions). */
function bytesOf(message: SipMessage): string {
  return new TextDecoder().decode(formatMessage({ method: message.method, uri: message.uri?.toString(), headers: message.headers.map((h) => [h.name, h.value]), body: message.body }));
}

/** Answers the UA's last BYE with 200 (so its transaction ends in Timer K, not F). */
function answerBye(rig: UaRig): void {
  deliver(rig, reply(rig.ua.transport.last('BYE'), 200));
}

test('the INVITE as sent: From tag, Call-ID, first CSeq below 2^31, Contact, our offer', async () => {
  const rig = uaRig();
  const d = dial(rig, { headers: [['X-Trace', 'abc']] });
  const invite = rig.ua.transport.last('INVITE');
  assert.is(invite.uri?.toString(), 'sip:peer@198.51.100.7:5070');
  assert.is(invite.from?.tag, d.call.localTag);
  assert.ok(d.call.localTag.length >= 8, 's19.3: a tag with at least 32 bits of randomness');
  assert.is(invite.to?.tag, null);
  assert.is(invite.callId, d.call.callId);
  // s8.1.1.5: "The sequence number value MUST be expressible as a 32-bit unsigned integer and MUST be less than 2**31."
  assert.ok(invite.cseq!.seq >= 1 && invite.cseq!.seq < 2 ** 31);
  assert.is(invite.cseq?.method, 'INVITE');
  assert.is(invite.maxForwards, 70);
  assert.is(invite.header('contact'), `<sip:ua@192.0.2.10:5060>`);
  assert.is(invite.contentType?.essence, 'application/sdp');
  assert.match(new TextDecoder().decode(invite.body), /^v=0\r\n/);
  assert.is(invite.header('x-trace'), 'abc');
  assert.is(d.media.state, 'have-local-offer');
  assert.is(d.call.state, 'calling');
  assert.equal(rig.ua.dialogs.stats(), { dialogs: 0, incomingInvites: 0, outgoingInvites: 1, timers: 0 });
  deliver(rig, reply(invite, 603));
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('forking: an early dialog per To tag; the first 2xx wins; a later fork\'s 2xx is ACKed then BYEd; every 2xx retransmission gets the same ACK again', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const d = dial(rig);
  const invite = t.last('INVITE');
  const seq = invite.cseq!.seq;

  deliver(rig, reply(invite, 100));
  deliver(rig, reply(invite, 180, { toTag: 'fork-a', contact: A }));
  deliver(rig, reply(invite, 183, { toTag: 'fork-b', contact: B, sdp: peerSdp({ port: 31000 }) }));
  deliver(rig, reply(invite, 180, { toTag: 'fork-a', contact: A }));
  // s13.2.2.1: "If a provisional response has a tag in the To field, and if the dialog ID of the response does not
  // match an existing dialog, one is constructed": one per tag; a 100 without tag makes none.
  assert.equal(d.provisionals.map((p) => `${p.status}:${p.tag}`), ['100:null', '180:fork-a', '183:fork-b', '180:fork-a']);
  assert.is(d.call.earlyDialogs, 2);
  assert.is(d.call.state, 'proceeding');
  // The 183's SDP is early media, read against our offer; the offer stays pending (the 2xx's answer counts).
  assert.is(d.provisionals[2]!.media?.remote.port, 31000);
  assert.is(d.provisionals[1]!.media, undefined);
  assert.is(d.media.state, 'have-local-offer');

  const before = t.sent.length;
  deliver(rig, reply(invite, 200, { toTag: 'fork-a', contact: A, sdp: peerSdp({ port: 32000 }) }));
  assert.ok(d.answered, 'answered by the first 2xx');
  assert.is(d.answered!.dialog.remoteTag, 'fork-a');
  assert.is(d.answered!.state, 'confirmed');
  assert.is(d.answered!.media.media?.remote.port, 32000);
  assert.is(d.call.state, 'ended');
  assert.equal(labelsSince(rig, before), ['ACK']);
  const ack = t.last('ACK');
  // s13.2.2.4: the ACK is built like a request in the dialog: Request-URI = the 2xx's Contact, To with its tag,
  // "The sequence number of the CSeq header field MUST be the same as the INVITE being acknowledged, but the CSeq method MUST be ACK."
  assert.is(ack.uri?.toString(), 'sip:a@198.51.100.7:5070');
  assert.is(ack.to?.tag, 'fork-a');
  assert.is(ack.from?.tag, d.call.localTag);
  assert.is(ack.callId, d.call.callId);
  assert.equal([ack.cseq?.seq, ack.cseq?.method], [seq, 'ACK']);
  // s8.1.1.7: the branch "MUST be unique across space and time for all requests sent by the UA. The exceptions to
  // this rule are CANCEL and ACK for non-2xx responses": the ACK for a 2xx has a branch of its own.
  assert.is.not(ack.topVia?.branch, invite.topVia?.branch);
  assert.equal(rig.ua.dialogs.stats(), { dialogs: 1, incomingInvites: 0, outgoingInvites: 0, timers: 0 });

  // Another fork answers. s13.2.2.4: "The UAC core MUST generate an ACK request for each 2xx received from the
  // transaction layer" and "If, after acknowledging any 2xx response to an INVITE, the UAC does not want to continue
  // with that dialog, then the dialog MUST be terminated by sending a BYE request".
  const beforeFork = t.sent.length;
  deliver(rig, reply(invite, 200, { toTag: 'fork-b', contact: B, sdp: peerSdp() }));
  assert.equal(labelsSince(rig, beforeFork), ['ACK', 'BYE']);
  const forkAck = t.sent[beforeFork]!.message;
  const forkBye = t.sent[beforeFork + 1]!.message;
  assert.is(forkAck.uri?.toString(), 'sip:b@198.51.100.7:5070');
  assert.is(forkAck.to?.tag, 'fork-b');
  assert.equal([forkAck.cseq?.seq, forkAck.cseq?.method], [seq, 'ACK']);
  assert.is(forkBye.uri?.toString(), 'sip:b@198.51.100.7:5070');
  assert.is(forkBye.to?.tag, 'fork-b');
  // The fork's dialog starts at the INVITE's CSeq: its BYE takes the next number (s12.2.1.1).
  assert.equal([forkBye.cseq?.seq, forkBye.cseq?.method], [seq + 1, 'BYE']);
  assert.is(rig.ua.dialogs.stats().dialogs, 1, 'the BYEd fork is not a live dialog');
  assert.is(d.answered!.state, 'confirmed', 'the winner is untouched');
  answerBye(rig);

  // Retransmissions of both 2xx within Timer M: the same ACKs again (same branch), no second BYE.
  const beforeRetrans = t.sent.length;
  deliver(rig, reply(invite, 200, { toTag: 'fork-a', contact: A, sdp: peerSdp({ port: 32000 }) }));
  deliver(rig, reply(invite, 200, { toTag: 'fork-b', contact: B, sdp: peerSdp() }));
  assert.equal(labelsSince(rig, beforeRetrans), ['ACK', 'ACK']);
  assert.is(bytesOf(t.sent[beforeRetrans]!.message), bytesOf(ack));
  assert.is(bytesOf(t.sent[beforeRetrans + 1]!.message), bytesOf(forkAck));

  // RFC 6026 Timer M (64*T1) ends the INVITE transaction; a 2xx retransmitted later reaches the layer as a
  // stray response and the dialog sends its ACK again.
  await rig.advance(32_000);
  assert.is(rig.ua.transactions.stats().clientInvite, 0, 'Timer M ended the INVITE transaction');
  const afterM = t.sent.length;
  deliver(rig, reply(invite, 200, { toTag: 'fork-a', contact: A, sdp: peerSdp({ port: 32000 }) }));
  assert.equal(labelsSince(rig, afterM), ['ACK']);
  assert.is(bytesOf(t.sent[afterM]!.message), bytesOf(ack));

  void d.answered!.bye();
  answerBye(rig);
  await rig.advance(5_000);
  assertIdle(rig.clock, rig.ua);
});

test(`other forks' ACKs are kept for at most ${MAX_OTHER_FORK_ACKS} To tags; a fork's 2xx beyond gets ACK and BYE each time, nothing kept`, async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const d = dial(rig);
  const invite = t.last('INVITE');
  deliver(rig, reply(invite, 200, { toTag: 'winner', contact: A, sdp: peerSdp() }));
  assert.ok(d.answered);
  const forks = MAX_OTHER_FORK_ACKS + 2;
  for (let i = 0; i < forks; i++) {
    deliver(rig, reply(invite, 200, { toTag: `f${i}`, contact: B, sdp: peerSdp() }));
    answerBye(rig);
  }
  // Retransmissions: a kept fork gets its same ACK (no BYE); one beyond the cap is answered as new (ACK and BYE).
  const kept = t.sent.length;
  deliver(rig, reply(invite, 200, { toTag: `f${MAX_OTHER_FORK_ACKS - 1}`, contact: B, sdp: peerSdp() }));
  assert.equal(labelsSince(rig, kept), ['ACK']);
  const beyond = t.sent.length;
  deliver(rig, reply(invite, 200, { toTag: `f${MAX_OTHER_FORK_ACKS}`, contact: B, sdp: peerSdp() }));
  assert.equal(labelsSince(rig, beyond), ['ACK', 'BYE']);
  assert.is(t.last('BYE').to?.tag, `f${MAX_OTHER_FORK_ACKS}`);
  answerBye(rig);
  assert.is(rig.ua.dialogs.stats().dialogs, 1, 'only the winner is a live dialog');
  void d.answered!.bye();
  answerBye(rig);
  await rig.advance(40_000);
  assertIdle(rig.clock, rig.ua);
});

test(`early dialogs are kept for at most ${MAX_EARLY_DIALOGS} To tags; a 1xx beyond is still reported`, async () => {
  const rig = uaRig();
  const d = dial(rig);
  const invite = rig.ua.transport.last('INVITE');
  for (let i = 0; i < MAX_EARLY_DIALOGS + 3; i++) deliver(rig, reply(invite, 180, { toTag: `t${i}`, contact: A }));
  assert.is(d.call.earlyDialogs, 16);
  assert.is(d.provisionals.length, 19);
  deliver(rig, reply(invite, 486));
  assert.is(d.call.earlyDialogs, 0, 'early dialogs end with the INVITE');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a 1xx with an SDP that cannot be read is reported without early media', async () => {
  const rig = uaRig();
  const d = dial(rig);
  const invite = rig.ua.transport.last('INVITE');
  deliver(rig, reply(invite, 183, { toTag: 'x', contact: A, sdp: 'v=0\r\nthis is not SDP\r\n' }));
  assert.equal(d.provisionals.map((p) => [p.status, p.tag, p.media]), [[183, 'x', undefined]]);
  assert.is(d.media.state, 'have-local-offer');
  deliver(rig, reply(invite, 480, { toTag: 'x' }));
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('CANCEL asked before any provisional waits for one (s9.1), then goes with the INVITE\'s fields; the 487 ends the call', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const d = dial(rig);
  d.call.cancel();
  // s9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent".
  await rig.advance(1_000);
  assert.equal(t.labels(), ['INVITE', 'INVITE'], 'Timer A retransmits the INVITE; no CANCEL');
  const invite = t.last('INVITE');
  deliver(rig, reply(invite, 100));
  assert.equal(t.labels().slice(2), ['CANCEL'], 'sent as the first provisional arrives');
  const cancel = t.last('CANCEL');
  // s9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the CANCEL request
  // MUST be identical to those in the request being cancelled, including tags. A CANCEL constructed by a client
  // MUST have only a single Via header field value matching the top Via value in the request being cancelled."
  assert.is(cancel.uri?.toString(), invite.uri?.toString());
  assert.is(cancel.callId, invite.callId);
  assert.is(cancel.header('to'), invite.header('to'));
  assert.is(cancel.header('from'), invite.header('from'));
  assert.equal([cancel.cseq?.seq, cancel.cseq?.method], [invite.cseq?.seq, 'CANCEL']);
  assert.is(cancel.via.length, 1);
  assert.is(cancel.topVia?.branch, invite.topVia?.branch);
  d.call.cancel();
  assert.is(t.count('CANCEL'), 1, 'asked twice, sent once');

  deliver(rig, reply(cancel, 200));
  deliver(rig, reply(invite, 487, { toTag: 'x' }));
  assert.equal(d.failures.map((f) => [f.status, f.cause]), [[487, 'response']]);
  assert.is(d.answered, undefined);
  assert.is(d.media.state, 'stable', 'our offer is withdrawn');
  // The 487 is ACKed by the INVITE transaction; s17.1.1.3: its Via "MUST be equal to the top Via header field of the original request".
  assert.is(t.last('ACK').topVia?.branch, invite.topVia?.branch);
  assert.is(rig.ua.dialogs.stats().outgoingInvites, 0);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('CANCEL after a 180 goes at once', async () => {
  const rig = uaRig();
  const d = dial(rig);
  const invite = rig.ua.transport.last('INVITE');
  deliver(rig, reply(invite, 180, { toTag: 'x', contact: A }));
  await rig.advance(100);
  d.call.cancel();
  assert.equal(rig.ua.transport.labels(), ['INVITE', 'CANCEL']);
  assert.is(rig.ua.transport.last('CANCEL').topVia?.branch, invite.topVia?.branch);
  deliver(rig, reply(rig.ua.transport.last('CANCEL'), 200));
  deliver(rig, reply(invite, 487, { toTag: 'x' }));
  assert.equal(d.failures.map((f) => f.status), [487]);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('cancel() when no provisional ever comes: no CANCEL is sent, Timer B (64*T1) ends the call with 408', async () => {
  const rig = uaRig();
  const d = dial(rig);
  d.call.cancel();
  await rig.advance(31_999);
  assert.equal(d.failures, []);
  await rig.advance(1);
  assert.equal(d.failures.map((f) => [f.status, f.cause]), [[408, 'timeout']]);
  assert.is(rig.ua.transport.count('CANCEL'), 0);
  assertIdle(rig.clock, rig.ua);
});

test('a CANCEL that gets no final response for the INVITE: the INVITE is given up 64*T1 after it (s9.1)', async () => {
  const rig = uaRig();
  const d = dial(rig);
  const invite = rig.ua.transport.last('INVITE');
  deliver(rig, reply(invite, 180, { toTag: 'x', contact: A }));
  await rig.advance(1_000);
  d.call.cancel();
  const cancelAt = rig.clock.now();
  // The peer answers neither the CANCEL nor the INVITE.
  // s9.1: "If there is no final response for the original request in 64*T1 seconds ..., the client SHOULD then
  // consider the original transaction cancelled and SHOULD destroy the client transaction handling the original request."
  await rig.advance(64 * 500 - 1);
  assert.equal(d.failures, [], 'not before 64*T1');
  await rig.advance(1);
  assert.is(rig.clock.now() - cancelAt, 32_000);
  assert.equal(d.failures.map((f) => [f.status, f.cause]), [[487, 'cancelled']]);
  assert.is(d.media.state, 'stable');
  assertIdle(rig.clock, rig.ua);
});

test('a 2xx crossing our CANCEL is ACKed and BYEd; the call ends cancelled, not answered', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const d = dial(rig);
  const invite = t.last('INVITE');
  deliver(rig, reply(invite, 180, { toTag: 'x', contact: A }));
  d.call.cancel();
  const cancel = t.last('CANCEL');
  const before = t.sent.length;
  // The callee answered before our CANCEL reached it.
  deliver(rig, reply(invite, 200, { toTag: 'x', contact: A, sdp: peerSdp() }));
  assert.equal(labelsSince(rig, before), ['ACK', 'BYE']);
  const ack = t.sent[before]!.message;
  const bye = t.sent[before + 1]!.message;
  assert.equal([ack.to?.tag, ack.cseq?.seq, ack.cseq?.method, ack.uri?.toString()], ['x', invite.cseq?.seq, 'ACK', 'sip:a@198.51.100.7:5070']);
  assert.equal([bye.to?.tag, bye.cseq?.seq, bye.cseq?.method], ['x', invite.cseq!.seq + 1, 'BYE']);
  assert.equal(d.failures.map((f) => [f.status, f.cause]), [[487, 'cancelled']]);
  assert.is(d.answered, undefined);
  assert.is(rig.ua.dialogs.stats().dialogs, 0);
  // s9.2: the UAS answers a CANCEL for an answered INVITE with 200; nothing changes here.
  deliver(rig, reply(cancel, 200));
  answerBye(rig);
  // A retransmission of that 2xx gets the same ACK, and no second BYE.
  const again = t.sent.length;
  deliver(rig, reply(invite, 200, { toTag: 'x', contact: A, sdp: peerSdp() }));
  assert.equal(labelsSince(rig, again), ['ACK']);
  assert.is(bytesOf(t.sent[again]!.message), bytesOf(ack));
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a 2xx after cancel() asked before any provisional: ACK and BYE (the CANCEL was never sent)', async () => {
  const rig = uaRig();
  const d = dial(rig);
  d.call.cancel();
  const invite = rig.ua.transport.last('INVITE');
  deliver(rig, reply(invite, 200, { toTag: 'x', contact: A, sdp: peerSdp() }));
  assert.equal(rig.ua.transport.labels(), ['INVITE', 'ACK', 'BYE']);
  assert.equal(d.failures.map((f) => f.cause), ['cancelled']);
  answerBye(rig);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a non-2xx final response ends the call: the status and reason reported, the offer withdrawn', async () => {
  const rig = uaRig();
  const d = dial(rig);
  const invite = rig.ua.transport.last('INVITE');
  deliver(rig, reply(invite, 180, { toTag: 'x', contact: A }));
  deliver(rig, reply(invite, 486, { toTag: 'x', reason: 'Busy Here' }));
  assert.equal(d.failures.map((f) => [f.status, f.reason, f.cause, f.response?.status]), [[486, 'Busy Here', 'response', 486]]);
  assert.is(d.media.state, 'stable');
  assert.is(d.call.state, 'ended');
  d.call.cancel();
  assert.is(rig.ua.transport.count('CANCEL'), 0, 'cancel() after the end does nothing');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('no response at all: 408 after Timer B (s8.1.3.1); a transport error: 503', async () => {
  const rig = uaRig();
  const d = dial(rig);
  await rig.advance(32_000);
  assert.equal(d.failures.map((f) => [f.status, f.cause, f.reason]), [[408, 'timeout', 'Request Timeout']]);
  assertIdle(rig.clock, rig.ua);

  const refused = uaRig();
  refused.ua.transport.refusePort = refused.peer.port;
  const e = dial(refused);
  await refused.advance(0);
  // s8.1.3.1: "a transport failure ... MUST be treated as if a 503 (Service Unavailable) status code had been received".
  assert.equal(e.failures.map((f) => [f.status, f.cause]), [[503, 'transportError']]);
  assert.is(e.media.state, 'stable');
  await refused.advance(32_000);
  assertIdle(refused.clock, refused.ua);
});

test('digest (s22.2): a 407 is answered once with credentials, same Call-ID and From tag, CSeq + 1; the ACK carries the same credentials', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const auth = fakeAuth();
  const d = dial(rig, { auth });
  const first = t.last('INVITE');
  assert.is(first.header('proxy-authorization'), undefined);
  deliver(rig, reply(first, 407, { toTag: 'proxy', headers: [['Proxy-Authenticate', 'Digest realm="r", nonce="n"']] }));
  assert.is(t.count('INVITE'), 2);
  const second = t.last('INVITE');
  assert.is(second.callId, first.callId);
  assert.is(second.from?.tag, first.from?.tag);
  assert.is(second.to?.tag, null);
  assert.is(second.cseq?.seq, first.cseq!.seq + 1);
  assert.is.not(second.topVia?.branch, first.topVia?.branch, 'a new transaction');
  assert.ok(second.header('proxy-authorization'));
  assert.equal([...second.body], [...first.body], 'the same offer');
  assert.is(auth.challenges, 1);
  assert.is(d.call.state, 'calling');

  deliver(rig, reply(second, 200, { toTag: 'x', contact: A, sdp: peerSdp() }));
  assert.ok(d.answered);
  const ack = t.last('ACK');
  // s13.2.2.4: "The ACK MUST contain the same credentials as the INVITE." and the INVITE's CSeq number.
  assert.is(ack.header('proxy-authorization'), second.header('proxy-authorization'));
  assert.is(ack.cseq?.seq, second.cseq?.seq);
  assert.is(auth.answered, 1);
  // The 2xx again (Accepted): the ACK is re-sent from what was kept of it, byte for byte, credentials included.
  const beforeRetrans = t.sent.length;
  deliver(rig, reply(second, 200, { toTag: 'x', contact: A, sdp: peerSdp() }));
  assert.equal(labelsSince(rig, beforeRetrans), ['ACK']);
  assert.is(bytesOf(t.last('ACK')), bytesOf(ack));
  void d.answered!.bye();
  answerBye(rig);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('digest never loops: a challenge to the answered challenge ends the call with it', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const auth = fakeAuth();
  const d = dial(rig, { auth });
  deliver(rig, reply(t.last('INVITE'), 407, { toTag: 'p', headers: [['Proxy-Authenticate', 'Digest realm="r", nonce="n"']] }));
  deliver(rig, reply(t.last('INVITE'), 407, { toTag: 'p', headers: [['Proxy-Authenticate', 'Digest realm="r", nonce="n"']] }));
  assert.is(t.count('INVITE'), 2);
  assert.equal(d.failures.map((f) => [f.status, f.cause]), [[407, 'response']]);
  assert.is(d.media.state, 'stable');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a challenge without an authenticator, or after cancel(), ends the call with it', async () => {
  const rig = uaRig();
  const d = dial(rig);
  deliver(rig, reply(rig.ua.transport.last('INVITE'), 401, { toTag: 'p', headers: [['WWW-Authenticate', 'Digest realm="r", nonce="n"']] }));
  assert.equal(d.failures.map((f) => f.status), [401]);
  assert.is(rig.ua.transport.count('INVITE'), 1);

  const auth = fakeAuth();
  const e = dial(rig, { auth });
  e.call.cancel();
  deliver(rig, reply(rig.ua.transport.last('INVITE'), 407, { toTag: 'p', headers: [['Proxy-Authenticate', 'Digest realm="r", nonce="n"']] }));
  assert.equal(e.failures.map((f) => f.status), [407]);
  assert.is(auth.challenges, 0, 'a cancelled call is not re-sent with credentials');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

/** RFC 2617 s3.2.2.1 with qop=auth (RFC 3261 s22.4): MD5(HA1:nonce:nc:cnonce:qop:HA2). */
function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

function param(header: string, name: string): string | undefined {
  const match = new RegExp(`${name}="?([^",]+)"?`).exec(header);
  return match?.[1];
}

test('digest with the real DigestClient: the 401 answered with an MD5 response worked out by RFC 2617; a second 401 without stale ends the call', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const auth = new DigestClient({ username: 'ua', password: 'secret' }, seeded(5));
  const d = dial(rig, { auth });
  const first = t.last('INVITE');
  deliver(rig, reply(first, 401, { toTag: 'reg', headers: [['WWW-Authenticate', 'Digest realm="example.com", nonce="abc123", qop="auth"']] }));
  const second = t.last('INVITE');
  const authorization = second.header('authorization')!;
  assert.ok(authorization, 'Authorization on the second INVITE');
  const cnonce = param(authorization, 'cnonce')!;
  assert.is(param(authorization, 'nc'), '00000001');
  assert.is(param(authorization, 'uri'), 'sip:peer@198.51.100.7:5070');
  const ha1 = md5('ua:example.com:secret');
  const ha2 = md5('INVITE:sip:peer@198.51.100.7:5070');
  assert.is(param(authorization, 'response'), md5(`${ha1}:abc123:00000001:${cnonce}:auth:${ha2}`));

  // The same nonce refused again (no stale=true): RFC 7616 s3.3, the credentials are wrong; no third INVITE.
  deliver(rig, reply(second, 401, { toTag: 'reg', headers: [['WWW-Authenticate', 'Digest realm="example.com", nonce="abc123", qop="auth"']] }));
  assert.is(t.count('INVITE'), 2);
  assert.equal(d.failures.map((f) => f.status), [401]);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('an answer in the 2xx that cannot be used: ACKed, then BYEd; the call fails with 488', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const d = dial(rig);
  const invite = t.last('INVITE');
  // G.729 only: no codec in common with our offer (PCMU, PCMA).
  deliver(rig, reply(invite, 200, { toTag: 'x', contact: A, sdp: peerSdp({ codecs: '18' }).replace(/a=rtpmap:(0|8|101) [^\r]*\r\n/g, '') }));
  assert.equal(t.labels(), ['INVITE', 'ACK', 'BYE']);
  assert.equal(d.failures.map((f) => [f.status, f.cause]), [[488, 'unusable-answer']]);
  assert.is(d.answered, undefined);
  assert.is(rig.ua.dialogs.stats().dialogs, 0);
  answerBye(rig);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a 2xx without a To tag cannot make a dialog: the call fails with 502 and nothing is sent', async () => {
  const rig = uaRig();
  const d = dial(rig);
  deliver(rig, reply(rig.ua.transport.last('INVITE'), 200, { contact: A, sdp: peerSdp() }));
  assert.equal(d.failures.map((f) => [f.status, f.cause]), [[502, 'unusable-answer']]);
  assert.equal(rig.ua.transport.labels(), ['INVITE']);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('an INVITE the transaction layer refuses to send: 503 unsendable, reported once', () => {
  const clock = new FakeClock();
  const transactions: DialogTransactions = {
    sendRequest: () => {
      throw new Error('transaction limit reached');
    },
    sendStateless: () => parseMessage(new TextEncoder().encode('OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n')),
  };
  const layer = new DialogLayer({ transactions, clock, random: seeded(3) });
  const failures: Array<[number, string]> = [];
  const media = uaRig().ua.media();
  layer.invite(
    { requestUri: 'sip:peer@198.51.100.7', from: '<sip:ua@example.com>', to: '<sip:peer@example.com>', contact: '<sip:ua@192.0.2.10>', nextHop: { transport: 'udp', host: '198.51.100.7', port: 5060 }, media },
    { onFailed: (f) => failures.push([f.status, f.cause]) },
  );
  assert.equal(failures, [[503, 'unsendable']]);
  assert.is(media.state, 'stable');
  assert.equal(layer.stats(), { dialogs: 0, incomingInvites: 0, outgoingInvites: 0, timers: 0 });
  assert.is(clock.pending, 0);
});

test('a From the dialog could not be made of: 503 unsendable before anything is sent (s12.1.2 needs it)', async () => {
  const rig = uaRig();
  // An unterminated quoted display name: the INVITE would carry a From no dialog can be built from.
  const d = dial(rig, { from: '"UA <sip:ua@example.com>' });
  assert.equal(d.failures.map((f) => [f.status, f.cause]), [[503, 'unsendable']]);
  assert.equal(rig.ua.transport.labels(), [], 'nothing on the wire');
  assert.is(d.media.state, 'stable');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('an event handler that throws does not stop the call (the error is reported outside the stack)', async () => {
  const rig = uaRig();
  const thrown: unknown[] = [];
  const listener = (error: unknown): void => void thrown.push(error);
  process.on('uncaughtException', listener);
  try {
    const media = rig.ua.media();
    const call = rig.ua.dialogs.invite(
      { requestUri: 'sip:peer@198.51.100.7:5070', from: '<sip:ua@example.com>', to: '<sip:peer@example.com>', contact: '<sip:ua@192.0.2.10:5060>', nextHop: rig.peer, media },
      {
        onProvisional: () => {
          throw new Error('provisional handler');
        },
        onAnswered: () => {
          throw new Error('answered handler');
        },
      },
    );
    const invite = rig.ua.transport.last('INVITE');
    deliver(rig, reply(invite, 180, { toTag: 'x', contact: A }));
    deliver(rig, reply(invite, 200, { toTag: 'x', contact: A, sdp: peerSdp() }));
    assert.is(call.session?.state, 'confirmed');
    assert.equal(rig.ua.transport.labels(), ['INVITE', 'ACK']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(thrown.map((e) => (e as Error).message), ['provisional handler', 'answered handler']);
    void call.session!.bye();
    answerBye(rig);
    await rig.advance(32_000);
    assertIdle(rig.clock, rig.ua);
  } finally {
    process.off('uncaughtException', listener);
  }
});

test.run();
