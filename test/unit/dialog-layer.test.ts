/**
 * DialogLayer (src/dialog/dialog-layer.ts) as the transaction user of
 * requests that no registration owns, and as the factory of calls: RFC 3261
 * s8.2, s9.2, s11.2, s12.2.2, with a real TransactionLayer on the FakeClock
 * and a scripted peer (dialog-fakes.ts uaRig).
 *
 * Covers: the UAS checks answered before anything else, in the s8.2 order
 * (405/501 with Allow, 416, 420 with Unsupported, 415 with Accept, 406, 400),
 * also inside a dialog; OPTIONS outside a dialog (200 with Allow, Accept,
 * Supported and a To tag); 481 for BYE and INFO outside a dialog, for a
 * request whose To tag matches no dialog, and for a CANCEL matching nothing;
 * 405 for other methods outside a dialog; a new INVITE refused before the
 * application sees it: past the dialog cap (503), with nobody listening
 * (480), without media (503), with an offer we cannot take (488/400), without
 * a Contact (400); an application handler that throws (500); ACKs and
 * responses that match nothing; the live-dialog count; User-Agent; close()
 * (BYE for confirmed dialogs, 480 for INVITEs waiting, our INVITEs
 * cancelled, nothing new taken); answerWithoutDialogs (what the linter
 * reports) equal to what a fresh layer sends; nothing left afterwards.
 *
 * Does not cover: the machines behind the layer (the dialog-uac-invite,
 * dialog-uas-invite, dialog-session and dialog-reinvite tests), the UAS
 * checks' full table (uas-checks.test.ts, CLI lint), parse errors (the
 * transport answers those before the layer), registrations (src/registrar-client).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage, type MessageParts } from '../../src/parser/index.ts';
import { answerWithoutDialogs, type IncomingInvite, type Termination } from '../../src/dialog/index.ts';
import { UA_URI, assertIdle, callIn, dial, inDialog, incomingSession, outgoingSession, peerAck, peerRequest, peerSdp, reply, uaRig, type UaRig } from './dialog-fakes.ts';

function deliver(rig: UaRig, parts: MessageParts): void {
  rig.ua.transport.deliver(parts, rig.peer);
}

/** A request of the peer outside any dialog. */
function outside(method: string, extra: { headers?: Array<[string, string]>; body?: string; contentType?: string; uri?: string; callId?: string; toTag?: string } = {}): MessageParts {
  return peerRequest(method, {
    uri: extra.uri ?? UA_URI,
    from: '<sip:peer@example.com>;tag=pt',
    to: `<sip:ua@example.com>${extra.toTag === undefined ? '' : `;tag=${extra.toTag}`}`,
    callId: extra.callId ?? `outside-${method}@198.51.100.7`,
    cseq: 1,
    contact: '<sip:peer@198.51.100.7:5070>',
    ...(extra.headers === undefined ? {} : { headers: extra.headers }),
    ...(extra.body === undefined ? {} : { body: extra.body }),
    ...(extra.contentType === undefined ? {} : { contentType: extra.contentType }),
  });
}

test('UAS checks first (s8.2): 405 and 501 with Allow, 416, 420 with Unsupported, 415 with Accept, 406, 400; the application sees nothing', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  // s8.2.1: "If the UAS recognizes but does not support the method of a request, it MUST generate a 405 (Method
  // Not Allowed) response ... The UAS MUST also add an Allow header field to the 405".
  deliver(rig, outside('SUBSCRIBE'));
  assert.match(t.last('405 SUBSCRIBE').header('allow') ?? '', /INVITE/);
  // s21.5.2: 501 "is the appropriate response when a UAS does not recognize the request method".
  deliver(rig, outside('FROB'));
  assert.ok(t.last('501 FROB'));
  // s8.2.2.1: "If the Request-URI uses a scheme not supported by the UAS, it SHOULD reject the request with a 416".
  deliver(rig, outside('INVITE', { uri: 'im:ua@example.com' }));
  assert.ok(t.last('416 INVITE'));
  // s8.2.2.3: "the UAS MUST generate a 420 (Bad Extension) response. The UAS MUST add an Unsupported header field".
  deliver(rig, outside('INVITE', { headers: [['Require', '100rel, foo']], callId: 'req-1' }));
  assert.is(t.last('420 INVITE').header('unsupported'), '100rel, foo');
  // s8.2.3: bodies whose type or encoding "are not understood ... the UAS MUST reject the request with a 415
  // (Unsupported Media Type) response. The response MUST contain an Accept header field listing the types of all
  // bodies it understands".
  deliver(rig, outside('INVITE', { body: 'hello', contentType: 'text/plain', callId: 'ct-1' }));
  assert.match(t.last('415 INVITE').header('accept') ?? '', /application\/sdp/);
  deliver(rig, outside('INVITE', { body: peerSdp(), contentType: 'application/sdp', headers: [['Content-Encoding', 'gzip']], callId: 'ce-1' }));
  assert.is(t.count('415 INVITE'), 2);
  // An INVITE whose Accept rules out SDP cannot be answered (s21.4.7).
  deliver(rig, outside('INVITE', { headers: [['Accept', 'text/html']], callId: 'acc-1' }));
  assert.ok(t.last('406 INVITE'));
  // A header that must appear once, twice: 400; a header read on demand that does not parse: 400.
  deliver(rig, outside('INVITE', { headers: [['Max-Forwards', '70']], callId: 'dup-1' }));
  assert.ok(t.last('400 INVITE'));
  deliver(rig, outside('INVITE', { headers: [['Accept', '@@@']], callId: 'bad-accept-1' }));
  assert.is(t.count('400 INVITE'), 2);
  assert.equal(rig.ua.invites, []);
  // Order (s8.2): the method before the headers before the body.
  deliver(rig, outside('SUBSCRIBE', { headers: [['Require', 'foo']], callId: 'order-1' }));
  assert.is(t.count('405 SUBSCRIBE'), 2);
  deliver(rig, outside('INVITE', { headers: [['Require', 'foo']], body: 'x', contentType: 'text/plain', callId: 'order-2' }));
  assert.is(t.count('420 INVITE'), 2);
  // Every answer to a request without To tag carries one (s8.2.6.2).
  for (const s of t.sent) assert.ok(s.message.to?.tag, `${s.message.status} has a To tag`);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('the UAS checks come before the dialog: a BYE in a dialog with an unknown Require gets 420 and the call goes on', async () => {
  const rig = uaRig();
  const { session } = incomingSession(rig);
  deliver(rig, inDialog(session, 'BYE', 2, { headers: [['Require', 'foo']] }));
  assert.ok(rig.ua.transport.last('420 BYE'));
  assert.is(session.state, 'confirmed');
  void session.bye();
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('OPTIONS outside a dialog: 200 with Allow, Accept and Supported (s11.2), and a To tag', async () => {
  const rig = uaRig();
  deliver(rig, outside('OPTIONS'));
  const ok = rig.ua.transport.last('200 OPTIONS');
  // s11.2: "Allow, Accept, Accept-Encoding, Accept-Language, and Supported header fields SHOULD be present in a response to an OPTIONS request."
  assert.equal(ok.allow, ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO']);
  assert.is(ok.header('accept'), 'application/sdp');
  assert.ok(ok.has('supported'));
  assert.ok(ok.to?.tag);
  assert.is(rig.ua.dialogs.stats().dialogs, 0, 'no dialog');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('481 for BYE and INFO outside a dialog and for a To tag that matches no dialog (s12.2.2); 405 for other methods outside one', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  deliver(rig, outside('BYE'));
  deliver(rig, outside('INFO', { body: 'Signal=1\r\n', contentType: 'application/dtmf-relay' }));
  assert.ok(t.last('481 BYE').to?.tag, 'a To tag is added (s8.2.6.2)');
  assert.ok(t.last('481 INFO'));
  // s12.2.2: "If the UAS receives a request with a To tag that does not match any existing dialog, it MUST respond with a 481".
  deliver(rig, outside('INVITE', { toTag: 'nosuchdialog', body: peerSdp(), contentType: 'application/sdp' }));
  assert.is(t.last('481 INVITE').to?.tag, 'nosuchdialog');
  deliver(rig, outside('OPTIONS', { toTag: 'nosuchdialog', callId: 'o-2' }));
  assert.ok(t.last('481 OPTIONS'));
  deliver(rig, outside('UPDATE'));
  assert.match(t.last('405 UPDATE').header('allow') ?? '', /INVITE/);
  assert.equal(rig.ua.invites, []);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('a CANCEL that matches no INVITE: 481 (s9.2)', async () => {
  const rig = uaRig();
  deliver(rig, outside('CANCEL'));
  // s9.2: "If the UAS did not find a matching transaction for the CANCEL ..., it SHOULD respond to the CANCEL with a 481".
  assert.ok(rig.ua.transport.last('481 CANCEL'));
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('answerWithoutDialogs (the linter\'s uasAnswer) is what a fresh layer sends, request by request', async () => {
  const requests: Array<[string, MessageParts]> = [
    ['OPTIONS', outside('OPTIONS')],
    ['BYE', outside('BYE')],
    ['a dialog it lacks', outside('INFO', { toTag: 'none', callId: 'w-1' })],
    ['CANCEL', outside('CANCEL', { callId: 'w-2' })],
    ['UPDATE', outside('UPDATE')],
    ['an unknown Require', outside('OPTIONS', { headers: [['Require', 'foo']], callId: 'w-3' })],
    ['INVITE without Contact', { ...outside('INVITE', { callId: 'w-4' }), headers: outside('INVITE', { callId: 'w-4' }).headers.filter(([name]) => name !== 'Contact') }],
    ['INVITE with no common codec', outside('INVITE', { body: peerSdp({ codecs: '18' }), contentType: 'application/sdp', callId: 'w-5' })],
    ['INVITE handed on', outside('INVITE', { body: peerSdp(), contentType: 'application/sdp', callId: 'w-6' })],
    // Answered by the transaction layer (statelessly) before the dialog layer: the same 400 (RFC 4475 insuf).
    ['INVITE without Call-ID', { ...outside('INVITE', { callId: 'w-7' }), headers: outside('INVITE', { callId: 'w-7' }).headers.filter(([name]) => name !== 'Call-ID') }],
  ];
  assert.equal(
    requests.map(([, parts]) => answerWithoutDialogs(parseMessage(formatMessage(parts)))?.status ?? null),
    [200, 481, 481, 481, 405, 420, 400, 488, null, 400],
  );
  for (const [name, parts] of requests) {
    const rig = uaRig();
    rig.ua.dialogs.onInvite = (invite: IncomingInvite) => invite.reject(486);
    const expected = answerWithoutDialogs(parseMessage(formatMessage(parts)));
    deliver(rig, parts);
    const finals = rig.ua.transport.sent.filter((s) => (s.message.status ?? 0) >= 200).map((s) => s.message.status);
    // Handed on: the application's own answer (486) is what goes out.
    assert.equal(finals, [expected?.status ?? 486], name);
    await rig.advance(32_000);
  }
});

test('the dialog cap: past maxDialogs a new INVITE gets 503 with Retry-After, and invite() throws; room again once a call ends', async () => {
  const rig = uaRig({ layer: { maxDialogs: 1 } });
  const t = rig.ua.transport;
  const first = callIn(rig, { callId: 'cap-1' });
  assert.ok(first.incoming);
  assert.equal(rig.ua.dialogs.stats(), { dialogs: 0, incomingInvites: 1, outgoingInvites: 0, timers: 1 });
  const second = callIn(rig, { callId: 'cap-2' });
  assert.is(second.incoming, undefined);
  const refused = t.last('503 INVITE');
  assert.is(refused.callId, 'cap-2');
  assert.ok(refused.header('retry-after'));
  assert.throws(() => dial(rig), /dialog limit/);
  first.incoming!.reject(486);
  deliver(rig, peerAck(first.request, t.last('486 INVITE')));
  const third = callIn(rig, { callId: 'cap-3' });
  assert.ok(third.incoming, 'taken once the first has ended');
  third.incoming!.reject(486);
  deliver(rig, peerAck(third.request, t.last('486 INVITE')));
  deliver(rig, peerAck(second.request, refused));
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('nobody listening: 480; no media for the call (mediaFor gives none): 503 with Retry-After', async () => {
  const rig = uaRig();
  rig.ua.dialogs.onInvite = undefined;
  const { request } = callIn(rig);
  const unavailable = rig.ua.transport.last('480 INVITE');
  assert.is(unavailable.callId, request.callId);
  deliver(rig, peerAck(request, unavailable));
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);

  const bare = uaRig({ mediaFor: false });
  const call = callIn(bare);
  assert.is(call.incoming, undefined);
  const busy = bare.ua.transport.last('503 INVITE');
  assert.ok(busy.header('retry-after'));
  bare.ua.transport.deliver(peerAck(call.request, busy), bare.peer);
  await bare.advance(32_000);
  assertIdle(bare.clock, bare.ua);
});

test('an offer we cannot take is refused before the application sees the call: 488 (no common codec), 400 (not SDP), with a Warning', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const g729 = callIn(rig, { callId: 'oa-1', sdp: peerSdp({ codecs: '18' }).replace(/a=rtpmap:(0|8|101) [^\r]*\r\n/g, '') });
  assert.is(g729.incoming, undefined);
  // s13.3.1.3: "A UAS rejecting an offer contained in an INVITE SHOULD return a 488 (Not Acceptable Here) response.
  // Such a response SHOULD include a Warning header field value explaining why the offer was rejected."
  assert.match(t.last('488 INVITE').header('warning') ?? '', /^399 - "no-common-codec"$/);
  const junk = callIn(rig, { callId: 'oa-2', sdp: 'this is not SDP' });
  assert.is(junk.incoming, undefined);
  assert.match(t.last('400 INVITE').header('warning') ?? '', /^399 - "malformed-sdp"$/);
  assert.equal(rig.ua.invites, []);
  deliver(rig, peerAck(g729.request, t.last('488 INVITE')));
  deliver(rig, peerAck(junk.request, t.last('400 INVITE')));
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('an INVITE without a Contact cannot make a dialog: 400 before the application sees it (s8.1.1.8)', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const parts = outside('INVITE', { body: peerSdp(), contentType: 'application/sdp', callId: 'nocontact-1' });
  parts.headers = parts.headers.filter(([name]) => name !== 'Contact');
  deliver(rig, parts);
  // s8.1.1.8: "The Contact header field MUST be present and contain exactly one SIP or SIPS URI in any request that
  // can result in the establishment of a dialog."
  const refused = t.last('400 INVITE');
  assert.equal(rig.ua.invites, []);
  const star = outside('INVITE', { body: peerSdp(), contentType: 'application/sdp', callId: 'nocontact-2' });
  star.headers = star.headers.map(([n, v]): [string, string] => (n === 'Contact' ? [n, '*'] : [n, v]));
  deliver(rig, star);
  assert.is(t.count('400 INVITE'), 2);
  assert.equal(rig.ua.invites, []);
  void refused;
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('an INVITE without a From tag (an RFC 2543 UAC) is refused with 400 before the application sees it', async () => {
  const rig = uaRig();
  const invite = outside('INVITE', { body: peerSdp(), contentType: 'application/sdp', callId: 'no-from-tag' });
  // s8.1.1.3 makes the From tag a MUST for RFC 3261 UACs; see ARCHITECTURE.md (Dialog, differences) for why we refuse the rest.
  invite.headers = invite.headers.map(([name, value]) => (name === 'From' ? [name, '<sip:peer@example.com>'] : [name, value]));
  deliver(rig, invite);
  assert.is(rig.ua.transport.last('400 INVITE').reasonPhrase, 'From tag required');
  assert.equal(rig.ua.invites, []);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('an onInvite handler that throws: the INVITE gets 500 and the error is reported outside the stack', async () => {
  const rig = uaRig();
  const thrown: unknown[] = [];
  const listener = (error: unknown): void => void thrown.push(error);
  process.on('uncaughtException', listener);
  try {
    rig.ua.dialogs.onInvite = () => {
      throw new Error('application bug');
    };
    const { request } = callIn(rig);
    const failed = rig.ua.transport.last('500 INVITE');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(thrown.map((e) => (e as Error).message), ['application bug']);
    assert.is(rig.ua.dialogs.stats().incomingInvites, 0);
    deliver(rig, peerAck(request, failed));
    // A handler that answers before throwing keeps its answer.
    let answered: IncomingInvite | undefined;
    rig.ua.dialogs.onInvite = (invite) => {
      answered = invite;
      invite.reject(486);
      throw new Error('after answering');
    };
    const second = callIn(rig, { callId: 'throws-2' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.is(answered?.end, 'rejected');
    assert.is(rig.ua.transport.count('500 INVITE'), 1);
    deliver(rig, peerAck(second.request, rig.ua.transport.last('486 INVITE')));
    await rig.advance(32_000);
    assertIdle(rig.clock, rig.ua);
  } finally {
    process.off('uncaughtException', listener);
  }
});

test('ACKs and responses that match nothing are dropped without an answer', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  deliver(rig, outside('ACK', { toTag: 'nobody' }));
  deliver(rig, outside('ACK'));
  // Responses to requests this UA never sent: a 2xx to an INVITE (no dialog to ACK it for), a 180, a 200 to a BYE.
  const foreignInvite = parseMessage(formatMessage(outside('INVITE', { callId: 'foreign-1' })));
  deliver(rig, reply(foreignInvite, 200, { toTag: 'x', contact: '<sip:peer@198.51.100.7:5070>', sdp: peerSdp() }));
  deliver(rig, reply(foreignInvite, 180, { toTag: 'x' }));
  deliver(rig, reply(parseMessage(formatMessage(outside('BYE', { toTag: 'x' }))), 200));
  const noTag = reply(foreignInvite, 200, { contact: '<sip:peer@198.51.100.7:5070>' });
  deliver(rig, noTag);
  assert.equal(t.labels(), []);
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('stats() counts live dialogs as calls come and go; dialog() finds one by its ID', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  assert.equal(rig.ua.dialogs.stats(), { dialogs: 0, incomingInvites: 0, outgoingInvites: 0, timers: 0 });
  const a = outgoingSession(rig);
  const b = incomingSession(rig, { callId: 'stats-2' });
  assert.equal(rig.ua.dialogs.stats(), { dialogs: 2, incomingInvites: 0, outgoingInvites: 0, timers: 0 });
  const d = a.session.dialog;
  assert.is(rig.ua.dialogs.dialog(d.callId, d.localTag, d.remoteTag), a.session);
  assert.is(rig.ua.dialogs.dialog(d.callId, d.remoteTag, d.localTag), undefined, 'tags the wrong way round');
  void a.session.bye();
  assert.is(rig.ua.dialogs.stats().dialogs, 1);
  deliver(rig, inDialog(b.session, 'BYE', 2));
  assert.is(rig.ua.dialogs.stats().dialogs, 0);
  assert.ok(t.last('200 BYE'));
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('User-Agent, when set, goes on the INVITE and on requests in the dialog', async () => {
  const rig = uaRig({ layer: { userAgent: 'sip-endpoint-test/1' } });
  const { session } = outgoingSession(rig);
  assert.is(rig.ua.transport.last('INVITE').header('user-agent'), 'sip-endpoint-test/1');
  void session.sendOptions();
  assert.is(rig.ua.transport.last('OPTIONS').header('user-agent'), 'sip-endpoint-test/1');
  void session.reinvite(true);
  assert.is(rig.ua.transport.last('INVITE').header('user-agent'), 'sip-endpoint-test/1');
  void session.bye();
  assert.is(rig.ua.transport.last('BYE').header('user-agent'), 'sip-endpoint-test/1');
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test('close(): BYE for confirmed dialogs, 480 for INVITEs waiting, our ringing INVITE cancelled; then nothing new is taken', async () => {
  const rig = uaRig();
  const t = rig.ua.transport;
  const confirmed = outgoingSession(rig);
  const ends: Termination[] = [];
  confirmed.session.events.onTerminated = (end) => ends.push(end);
  const waiting = callIn(rig, { callId: 'close-in' });
  const ended: string[] = [];
  waiting.incoming!.events.onEnded = (why) => ended.push(why);
  const ours = dial(rig);
  const oursInvite = t.last('INVITE');
  deliver(rig, reply(oursInvite, 180, { toTag: 'ring', contact: '<sip:peer@198.51.100.7:5070>' }));
  const before = t.sent.length;

  rig.ua.dialogs.close();
  assert.equal(t.labels(before).sort(), ['480 INVITE', 'BYE', 'CANCEL']);
  assert.equal(ends.map((e) => [e.by, e.cause]), [['local', 'bye']]);
  assert.equal(ended, ['closed']);
  assert.is(rig.ua.dialogs.stats().dialogs, 0);
  // Nothing new: an INVITE gets 503, invite() throws.
  const late = callIn(rig, { callId: 'close-late' });
  assert.is(late.incoming, undefined);
  assert.ok(t.last('503 INVITE').header('retry-after'));
  assert.throws(() => dial(rig), /closed/);
  // The peer settles what is left.
  deliver(rig, reply(t.last('BYE'), 200));
  deliver(rig, reply(t.last('CANCEL'), 200));
  deliver(rig, reply(oursInvite, 487, { toTag: 'ring' }));
  assert.equal(ours.failures.map((f) => f.status), [487]);
  deliver(rig, peerAck(waiting.request, t.last('480 INVITE')));
  deliver(rig, peerAck(late.request, t.last('503 INVITE')));
  await rig.advance(32_000);
  assertIdle(rig.clock, rig.ua);
});

test.run();
