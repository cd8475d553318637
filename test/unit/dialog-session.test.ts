/**
 * SessionDialog (src/dialog/session-dialog.ts) once confirmed, and the
 * non-INVITE requests it sends (in-dialog-request.ts): RFC 3261 s12.2, s15,
 * with the DialogLayer and a real TransactionLayer on the FakeClock; the peer
 * is scripted (dialog-fakes.ts uaRig), on the caller's side and the callee's.
 *
 * Covers: BYE both ways (the session over as the BYE is sent, s15.1.1; the
 * peer's BYE answered 200); a BYE that gets no response (retransmitted, 408
 * at 64*T1, nothing left); the callee's BYE held until the ACK of its 2xx
 * (s15); OPTIONS and INFO both ways (DTMF as application/dtmf-relay, other
 * INFO bodies); CSeq out of order answered 500 (s12.2.2); a method the
 * dialog does not serve answered 405; 481 and 408 to our requests ending the
 * dialog (s12.2.1.2); requests after the end; the route set in use: loose
 * routing through Record-Route (ACK, BYE to the first route's address, with a
 * transport param), strict routing, a next hop that cannot be resolved;
 * digest on in-dialog requests (once per challenge, never a loop); ACKs that
 * do not match the pending 2xx; handlers that throw.
 *
 * Does not cover: re-INVITEs (dialog-reinvite.test.ts), how the session is
 * created (dialog-uac-invite / dialog-uas-invite tests), the layer's answers
 * outside a dialog (dialog-layer.test.ts), the DialogState rules on their own
 * (dialog-state.test.ts), the non-INVITE transaction's timers beyond the
 * BYE that gets no answer (transaction-client-non-invite.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DtmfError, checkDigits, dtmfRelayBody, readDtmfRelay, type InfoReceived, type Termination } from '../../src/dialog/index.ts';
import { assertIdle, callIn, fakeAuth, inDialog, incomingSession, outgoingSession, peerAck, reply, times, uaRig, type UaRig } from './dialog-fakes.ts';

const T1 = 500;

function deliver(rig: UaRig, parts: Parameters<UaRig['ua']['transport']['deliver']>[0]): void {
  rig.ua.transport.deliver(parts, rig.peer);
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('our BYE (caller): in the dialog, the session over at once (s15.1.1); the promise gives the 200', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session, invite } = outgoingSession(rig);
  const ends: Termination[] = [];
  session.events.onTerminated = (end) => ends.push(end);
  const result = session.bye();
  // s15.1.1: "the UAC SHOULD consider the session terminated (and therefore stop sending or listening for
  // media) as soon as the BYE request is passed to the client transaction."
  assert.is(session.state, 'terminated');
  assert.equal(ends, [{ by: 'local', cause: 'bye', code: undefined, reason: undefined }]);
  assert.is(rig.ua.dialogs.stats().dialogs, 0);
  const bye = t.last('BYE');
  assert.is(bye.uri?.toString(), 'sip:peer@198.51.100.7:5070');
  assert.is(bye.from?.tag, invite.from?.tag);
  assert.is(bye.to?.tag, 'peertag');
  assert.is(bye.callId, invite.callId);
  assert.equal([bye.cseq?.seq, bye.cseq?.method], [invite.cseq!.seq + 1, 'BYE']);
  assert.equal(t.sent.at(-1)!.target, rig.peer);
  deliver(rig, reply(bye, 200));
  const outcome = await result;
  assert.equal([outcome.status, outcome.cause], [200, 'response']);
  // A second bye() has nothing to end.
  assert.equal((await session.bye()).cause, 'unsendable');
  assert.is(t.count('BYE'), 1);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('the peer\'s BYE (callee side): 200, the session ends; a request in that dialog afterwards gets 481', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = incomingSession(rig);
  const ends: Termination[] = [];
  session.events.onTerminated = (end) => ends.push(end);
  deliver(rig, inDialog(session, 'BYE', 2));
  assert.is(t.last('200 BYE').to?.tag, session.dialog.localTag);
  assert.equal(ends, [{ by: 'remote', cause: 'bye', code: undefined, reason: undefined }]);
  assert.is(rig.ua.dialogs.stats().dialogs, 0);
  // s12.2.2: "If the UAS receives a request with a To tag that does not match any existing dialog, it MUST respond with a 481".
  deliver(rig, inDialog(session, 'INFO', 3, { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' }));
  assert.is(t.count('481 INFO'), 1);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a BYE that gets no response: retransmitted T1 doubling to T2, 408 at 64*T1 (s17.1.2.2); the session was over at once', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const start = rig.clock.now();
  const result = session.bye();
  let outcome: Awaited<typeof result> | undefined;
  void result.then((r) => (outcome = r));
  await rig.advance(64 * T1 - 1);
  assert.is(outcome, undefined);
  await rig.advance(1);
  assert.equal(times(t, 'BYE').map((at) => at - start), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal([outcome?.status, outcome?.cause], [408, 'timeout']);
  assertIdle(rig.clock, rig.ua);
});

test('the callee hangs up before the ACK came: the BYE waits for the ACK (s15)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, request } = callIn(rig);
  const session = incoming!.accept({ contact: '<sip:ua@192.0.2.10:5060>' });
  const ends: Termination[] = [];
  session.events.onTerminated = (end) => ends.push(end);
  await rig.advance(100);
  const result = session.bye();
  // s15: "the callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an ACK for its 2xx
  // response or until the server transaction times out."
  assert.is(t.count('BYE'), 0, 'no BYE before the ACK');
  assert.equal(ends.map((e) => [e.by, e.cause]), [['local', 'bye']]);
  await rig.advance(500);
  assert.is(t.count('200 INVITE'), 2, 'the 2xx is still re-sent while the ACK is awaited');
  deliver(rig, peerAck(request, t.last('200 INVITE')));
  assert.is(t.count('BYE'), 1, 'the ACK came: now the BYE');
  deliver(rig, reply(t.last('BYE'), 200));
  assert.is((await result).status, 200);
  await rig.advance(32_000);
  assert.is(t.count('200 INVITE'), 2);
  assertIdle(rig.clock, rig.ua);
});

test('the callee hangs up before the ACK and none comes: the BYE goes when the 2xx is given up (64*T1)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming } = callIn(rig);
  const session = incoming!.accept({ contact: '<sip:ua@192.0.2.10:5060>' });
  await rig.advance(1_000);
  void session.bye();
  await rig.advance(64 * T1 - 1_000 - 1);
  assert.is(t.count('BYE'), 0);
  await rig.advance(1);
  assert.equal(times(t, 'BYE'), [32_000]);
  deliver(rig, reply(t.last('BYE'), 200));
  await rig.advance(5_000);
  assertIdle(rig.clock, rig.ua);
});

test('OPTIONS in the dialog: ours with Accept, answered 200; theirs answered 200 with Allow, Accept and Supported (s11.2)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const result = session.sendOptions();
  const options = t.last('OPTIONS');
  assert.is(options.header('accept'), 'application/sdp');
  assert.is(options.to?.tag, 'peertag');
  deliver(rig, reply(options, 200));
  assert.is((await result).status, 200);
  deliver(rig, inDialog(session, 'OPTIONS', 1));
  const answer = t.last('200 OPTIONS');
  assert.match(answer.header('allow') ?? '', /INVITE.*BYE.*INFO/);
  assert.is(answer.header('accept'), 'application/sdp');
  assert.ok(answer.has('supported'));
  assert.is(session.state, 'confirmed');
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('DTMF: ours as INFO application/dtmf-relay; theirs answered 200 and reported with the digit and duration', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = incomingSession(rig);
  const result = session.sendDtmf('#', 250);
  const info = t.last('INFO');
  assert.is(info.contentType?.essence, 'application/dtmf-relay');
  assert.is(new TextDecoder().decode(info.body), 'Signal=#\r\nDuration=250\r\n');
  deliver(rig, reply(info, 200));
  assert.is((await result).status, 200);
  assert.throws(() => session.sendDtmf('x'), (e: unknown) => e instanceof DtmfError);

  const infos: InfoReceived[] = [];
  session.events.onInfo = (i) => infos.push(i);
  deliver(rig, inDialog(session, 'INFO', 2, { body: 'Signal=7\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' }));
  deliver(rig, inDialog(session, 'INFO', 3, { body: 'Signal=7\r\n', contentType: 'application/dtmf' }));
  assert.is(t.count('200 INFO'), 2);
  assert.equal(infos.map((i) => [i.contentType, i.dtmf]), [
    ['application/dtmf-relay', { digit: '7', durationMs: 160 }],
    ['application/dtmf', undefined],
  ]);
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('dtmf-relay bodies: digits 0-9 * # A-D only, one per INFO; reading tolerates case, LF and a missing Duration', () => {
  assert.is(new TextDecoder().decode(dtmfRelayBody('a')), 'Signal=A\r\nDuration=160\r\n');
  assert.throws(() => dtmfRelayBody('12'), (e: unknown) => e instanceof DtmfError);
  assert.throws(() => checkDigits(''), (e: unknown) => e instanceof DtmfError);
  assert.throws(() => checkDigits('12e'), /"e" is not a DTMF digit/);
  assert.is(checkDigits('0123456789*#abcd'), '0123456789*#ABCD');
  assert.equal(readDtmfRelay(enc('signal= 9\nduration=100\n')), { digit: '9', durationMs: 100 });
  assert.equal(readDtmfRelay(enc('Signal=*\r\n')), { digit: '*', durationMs: undefined });
  assert.equal(readDtmfRelay(enc('Signal=5\r\nDuration=long\r\n')), { digit: '5', durationMs: undefined });
  assert.is(readDtmfRelay(enc('Signal=E\r\n')), undefined);
  assert.is(readDtmfRelay(enc('nothing here')), undefined);
});

test('CSeq out of order (s12.2.2): 500 with Retry-After, the request not acted on; the next in-order one is served', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = incomingSession(rig);
  const infos: InfoReceived[] = [];
  session.events.onInfo = (i) => infos.push(i);
  // The INVITE had CSeq 1 (the remote sequence number); 5 is in order, then 4 is not.
  deliver(rig, inDialog(session, 'INFO', 5, { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' }));
  deliver(rig, inDialog(session, 'BYE', 4));
  // "the request is out of order and MUST be rejected with a 500 (Server Internal Error) response"
  const refused = t.last('500 BYE');
  const retryAfter = Number(refused.header('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 0 && retryAfter <= 10);
  assert.is(session.state, 'confirmed', 'the out-of-order BYE did not end the session');
  assert.is(infos.length, 1);
  deliver(rig, inDialog(session, 'BYE', 6));
  assert.is(t.count('200 BYE'), 1);
  assert.is(session.state, 'terminated');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a method allowed by the UAS checks but not served in a dialog (UPDATE): 405 with Allow', async () => {
  const rig = uaRig();
  const { session } = outgoingSession(rig);
  deliver(rig, inDialog(session, 'UPDATE', 1));
  const refused = rig.ua.transport.last('405 UPDATE');
  assert.match(refused.header('allow') ?? '', /INVITE/);
  assert.is(session.state, 'confirmed');
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a 481 or a 408 to our request ends the dialog (s12.2.1.2); another final status does not', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig);
  const ends: Termination[] = [];
  session.events.onTerminated = (end) => ends.push(end);
  const refused = session.sendInfo('application/dtmf-relay', enc('Signal=1\r\n'));
  deliver(rig, reply(t.last('INFO'), 415));
  assert.is((await refused).status, 415);
  assert.is(session.state, 'confirmed');
  const gone = session.sendInfo('application/dtmf-relay', enc('Signal=2\r\n'));
  deliver(rig, reply(t.last('INFO'), 481));
  // s12.2.1.2: "If the response for a request within a dialog is a 481 (Call/Transaction Does Not Exist) or a
  // 408 (Request Timeout), the UAC SHOULD terminate the dialog."
  assert.is((await gone).status, 481);
  assert.equal(ends.map((e) => [e.by, e.cause, e.code]), [['remote', 'error', 481]]);
  assert.is(rig.ua.dialogs.stats().dialogs, 0);
  // Requests after the end are not sent.
  const late = await session.sendOptions();
  assert.equal([late.status, late.cause], [0, 'unsendable']);
  const reinvite = await session.reinvite(true);
  assert.is(reinvite.ok, false);

  const other = uaRig();
  const { session: s2 } = outgoingSession(other);
  const ends2: Termination[] = [];
  s2.events.onTerminated = (end) => ends2.push(end);
  const silent = s2.sendOptions();
  let outcome: Awaited<typeof silent> | undefined;
  void silent.then((r) => (outcome = r));
  await other.advance(64 * T1);
  assert.equal([outcome?.status, outcome?.cause], [408, 'timeout']);
  assert.equal(ends2.map((e) => [e.cause, e.code]), [['error', 408]]);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
  await other.advance(32_000);
  assertIdle(other.clock, other.ua);
});

test('loose routing (s12.2.1.1): the ACK and the BYE carry the reversed Record-Route and go to the first route\'s address', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig, {
    recordRoute: ['<sip:203.0.113.2:5090;lr>', '<sip:203.0.113.1:5080;lr;transport=tcp>'],
    contact: '<sip:peer@198.51.100.7:5070>',
  });
  const ack = t.last('ACK');
  assert.is(ack.uri?.toString(), 'sip:peer@198.51.100.7:5070');
  assert.equal(ack.headerFields('route'), ['<sip:203.0.113.1:5080;lr;transport=tcp>', '<sip:203.0.113.2:5090;lr>']);
  // s8.1.2: the destination comes from "the first Route header field value"; its transport param says TCP.
  assert.equal(t.sent.at(-1)!.target, { transport: 'tcp', host: '203.0.113.1', port: 5080 });
  void session.bye();
  const bye = t.last('BYE');
  assert.is(bye.uri?.toString(), 'sip:peer@198.51.100.7:5070');
  assert.equal(bye.headerFields('route'), ['<sip:203.0.113.1:5080;lr;transport=tcp>', '<sip:203.0.113.2:5090;lr>']);
  assert.equal(t.sent.at(-1)!.target, { transport: 'tcp', host: '203.0.113.1', port: 5080 });
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('loose routing on the callee\'s side: the INVITE\'s Record-Route in order', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = incomingSession(rig, { recordRoute: ['<sip:203.0.113.1:5080;lr>', '<sip:203.0.113.2:5090;lr>'] });
  // s12.1.1: "The route set MUST be set to the list of URIs in the Record-Route header field from the request, taken in order".
  void session.sendOptions();
  const options = t.last('OPTIONS');
  assert.is(options.uri?.toString(), 'sip:peer@198.51.100.7:5070');
  assert.equal(options.headerFields('route'), ['<sip:203.0.113.1:5080;lr>', '<sip:203.0.113.2:5090;lr>']);
  assert.equal(t.sent.at(-1)!.target, { transport: 'udp', host: '203.0.113.1', port: 5080 });
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('strict routing (s12.2.1.1): the route in the Request-URI, the remote target last in Route, sent to the strict router', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig, { recordRoute: ['<sip:203.0.113.1:5080>'] });
  void session.bye();
  const bye = t.last('BYE');
  assert.is(bye.uri?.toString(), 'sip:203.0.113.1:5080');
  assert.equal(bye.headerFields('route'), ['<sip:peer@198.51.100.7:5070>']);
  assert.equal(t.sent.at(-1)!.target, { transport: 'udp', host: '203.0.113.1', port: 5080 });
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a next hop the resolver cannot reach (a host name; the default resolver takes IP addresses): 503 unsendable, nothing sent', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { session } = outgoingSession(rig, { contact: '<sip:peer@phone.example.com>' });
  const before = t.sent.length;
  const result = await session.sendOptions();
  assert.equal([result.status, result.cause], [503, 'unsendable']);
  // A re-INVITE cannot go either: it fails at once and the offer is withdrawn.
  const reinvite = await session.reinvite(true);
  assert.equal([reinvite.ok, (reinvite as { status: number }).status], [false, 503]);
  assert.is(session.media.state, 'stable');
  assert.is(session.state, 'confirmed');
  assert.equal(t.labels(before), []);
  // The BYE cannot go either; the session still ends.
  const bye = await session.bye();
  assert.is(bye.status, 503);
  assert.is(session.state, 'terminated');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('digest in the dialog (s22.2): a 407 to our BYE is answered once with credentials and CSeq + 1; a second challenge ends it', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const auth = fakeAuth();
  const { session } = incomingSession(rig, { auth });
  const result = session.bye();
  const first = t.last('BYE');
  assert.is(first.header('proxy-authorization'), undefined);
  deliver(rig, reply(first, 407, { headers: [['Proxy-Authenticate', 'Digest realm="r", nonce="n"']] }));
  const second = t.last('BYE');
  assert.is(t.count('BYE'), 2);
  assert.is(second.cseq?.seq, first.cseq!.seq + 1);
  assert.ok(second.header('proxy-authorization'));
  assert.is(second.callId, first.callId);
  deliver(rig, reply(second, 407, { headers: [['Proxy-Authenticate', 'Digest realm="r", nonce="n"']] }));
  assert.is((await result).status, 407);
  assert.is(t.count('BYE'), 2, 'never a loop');
  assert.is(auth.challenges, 2);

  // An INFO challenged once and then answered: credentials on the retry, onAnswered told.
  const rig2 = uaRig();
  const auth2 = fakeAuth();
  const { session: s2 } = outgoingSession(rig2, { auth: auth2 });
  const info = s2.sendDtmf('1');
  rig2.ua.transport.deliver(reply(rig2.ua.transport.last('INFO'), 401, { headers: [['WWW-Authenticate', 'Digest realm="r", nonce="n"']] }), rig2.peer);
  assert.ok(rig2.ua.transport.last('INFO').header('proxy-authorization'));
  rig2.ua.transport.deliver(reply(rig2.ua.transport.last('INFO'), 200), rig2.peer);
  assert.is((await info).status, 200);
  assert.is(auth2.answered, 2, 'the 2xx to the INVITE, then the INFO');
  void s2.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
  await rig2.advance(32_000);
  assertIdle(rig2.clock, rig2.ua);
});

test('an ACK that does not match the pending 2xx (another CSeq) is ignored; the 2xx goes on until the right one', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const { incoming, request } = callIn(rig, { cseq: 7 });
  const session = incoming!.accept({ contact: '<sip:ua@192.0.2.10:5060>' });
  let confirmed = 0;
  session.events.onConfirmed = () => confirmed++;
  const ok = t.last('200 INVITE');
  const wrong = peerAck(request, ok);
  wrong.headers = wrong.headers.map(([n, v]): [string, string] => (n === 'CSeq' ? [n, '6 ACK'] : [n, v]));
  deliver(rig, wrong);
  assert.is(confirmed, 0);
  await rig.advance(500);
  assert.is(t.count('200 INVITE'), 2);
  deliver(rig, peerAck(request, ok));
  assert.is(confirmed, 1);
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a handler that throws does not stop the session (the error is reported outside the stack)', async () => {
  const rig = uaRig();
  const thrown: unknown[] = [];
  const listener = (error: unknown): void => void thrown.push(error);
  process.on('uncaughtException', listener);
  try {
    const { session } = incomingSession(rig);
    session.events.onInfo = () => {
      throw new Error('info handler');
    };
    session.events.onTerminated = () => {
      throw new Error('terminated handler');
    };
    deliver(rig, inDialog(session, 'INFO', 2, { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' }));
    assert.is(rig.ua.transport.count('200 INFO'), 1);
    deliver(rig, inDialog(session, 'BYE', 3));
    assert.is(session.state, 'terminated');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(thrown.map((e) => (e as Error).message), ['info handler', 'terminated handler']);
    await rig.advance(32_000);
    assertIdle(rig.clock, rig.ua);
  } finally {
    process.off('uncaughtException', listener);
  }
});

test.run();
