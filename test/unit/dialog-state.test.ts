/**
 * DialogState (src/dialog/dialog-state.ts): the state of one dialog, RFC 3261
 * s12, on its own (no transport, no clock).
 *
 * Covers: the dialog built on the UAC side from our INVITE and its response
 * (s12.1.2) and on the UAS side from the INVITE (s12.1.1): dialog ID, local
 * and remote URIs, sequence numbers, remote target, route set (reversed on
 * the UAC side, in order on the UAS side; several values per Record-Route
 * field); requests built in the dialog (s12.2.1.1): To/From/Call-ID, CSeq
 * incremented by one, an ACK sharing its INVITE's number, loose routing
 * (s16.12.1.1 trapezoid), strict routing (the s12.2.1.1 example) and no route
 * set; the next hop of each; CSeq checks on requests received (s12.2.2); target
 * refresh (s12.2.1.2); the secure flag; the dialog key; refusal of messages
 * that cannot make a dialog.
 *
 * Does not cover: sending anything (dialog-session.test.ts and
 * dialog-uac-invite.test.ts send what these build), transport resolution
 * of a next hop (the layer's resolver), RFC 3263.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage, type MessageParts, type SipMessage } from '../../src/parser/index.ts';
import { DialogState, dialogKey, inviteKey } from '../../src/dialog/index.ts';

/** A message from its lines (CRLF added, Content-Length 0). */
function sip(...lines: string[]): SipMessage {
  return parseMessage(new TextEncoder().encode(`${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`));
}

/** The values of a header in built parts, in order. */
function values(parts: MessageParts, name: string): string[] {
  return parts.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

function one(parts: MessageParts, name: string): string {
  const found = values(parts, name);
  assert.is(found.length, 1, `one ${name} in ${JSON.stringify(parts.headers)}`);
  return found[0]!;
}

// RFC 3261 s16.12.1.1 (basic SIP trapezoid): U1 calls U2 through P1 and P2,
// both record-routing with lr. The INVITE as U2 receives it, and U2's 200.
const TRAPEZOID_INVITE_AT_U1 = sip(
  'INVITE sip:callee@domain.com SIP/2.0',
  'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1',
  'Max-Forwards: 70',
  'From: "Caller" <sip:caller@example.com>;tag=u1tag',
  'To: <sip:callee@domain.com>',
  'Call-ID: trapezoid-1@u1.example.com',
  'CSeq: 314 INVITE',
  'Contact: <sip:caller@u1.example.com>',
);
const TRAPEZOID_INVITE_AT_U2 = sip(
  'INVITE sip:callee@u2.domain.com SIP/2.0',
  'Via: SIP/2.0/UDP p2.domain.com;branch=z9hG4bKp2',
  'Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1',
  'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1',
  'Max-Forwards: 68',
  'Record-Route: <sip:p2.domain.com;lr>',
  'Record-Route: <sip:p1.example.com;lr>',
  'From: "Caller" <sip:caller@example.com>;tag=u1tag',
  'To: <sip:callee@domain.com>',
  'Call-ID: trapezoid-1@u1.example.com',
  'CSeq: 314 INVITE',
  'Contact: <sip:caller@u1.example.com>',
);
const TRAPEZOID_200_AT_U1 = sip(
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1',
  'Record-Route: <sip:p2.domain.com;lr>',
  'Record-Route: <sip:p1.example.com;lr>',
  'From: "Caller" <sip:caller@example.com>;tag=u1tag',
  'To: <sip:callee@domain.com>;tag=u2tag',
  'Call-ID: trapezoid-1@u1.example.com',
  'CSeq: 314 INVITE',
  'Contact: <sip:callee@u2.domain.com>',
);

test('UAC (s12.1.2): dialog ID, URIs, sequence numbers, target and the route set reversed', () => {
  const dialog = DialogState.forUac(TRAPEZOID_INVITE_AT_U1, TRAPEZOID_200_AT_U1);
  // "the call identifier ... MUST be set to the value of the Call-ID in the request. The local tag ... From ... and the remote tag ... To ... of the response"
  assert.is(dialog.callId, 'trapezoid-1@u1.example.com');
  assert.is(dialog.localTag, 'u1tag');
  assert.is(dialog.remoteTag, 'u2tag');
  assert.is(dialog.key, dialogKey('trapezoid-1@u1.example.com', 'u1tag', 'u2tag'));
  // "The local sequence number MUST be set to the value of the sequence number in the CSeq header field of the request. The remote sequence number MUST be empty"
  assert.is(dialog.localSeq, 314);
  assert.is(dialog.remoteSeq, undefined);
  // "The remote URI MUST be set to the URI in the To header field, and the local URI ... From"
  assert.is(dialog.local, '"Caller" <sip:caller@example.com>');
  assert.is(dialog.remote, '<sip:callee@domain.com>');
  // "The remote target MUST be set to the URI from the Contact header field of the response."
  assert.is(dialog.remoteTarget.toString(), 'sip:callee@u2.domain.com');
  // "The route set MUST be set to the list of URIs in the Record-Route header field from the response, taken in reverse order"
  assert.equal(dialog.routeSet, ['<sip:p1.example.com;lr>', '<sip:p2.domain.com;lr>']);
  assert.is(dialog.secure, false);
});

test('UAC BYE on the trapezoid (s16.12.1.1): loose routing through P1 then P2, CSeq + 1', () => {
  const dialog = DialogState.forUac(TRAPEZOID_INVITE_AT_U1, TRAPEZOID_200_AT_U1);
  const { parts, nextHop } = dialog.request('BYE');
  // s16.12.1.1: "BYE sip:callee@u2.domain.com SIP/2.0 / Route: <sip:p1.example.com;lr>,<sip:p2.domain.com;lr>"
  assert.is(parts.method, 'BYE');
  assert.is(parts.uri, 'sip:callee@u2.domain.com');
  assert.equal(values(parts, 'Route'), ['<sip:p1.example.com;lr>', '<sip:p2.domain.com;lr>']);
  // s12.2.1.1: To = remote URI + remote tag, From = local URI + local tag, the dialog's Call-ID.
  assert.is(one(parts, 'To'), '<sip:callee@domain.com>;tag=u2tag');
  assert.is(one(parts, 'From'), '"Caller" <sip:caller@example.com>;tag=u1tag');
  assert.is(one(parts, 'Call-ID'), 'trapezoid-1@u1.example.com');
  // "the local sequence number MUST be incremented by one": 314 -> 315.
  assert.is(one(parts, 'CSeq'), '315 BYE');
  assert.is(dialog.localSeq, 315);
  // s8.1.2: unless the first route is a strict router, the destination comes from "the first Route header field value in the request".
  assert.is(nextHop.toString(), 'sip:p1.example.com;lr');
  // The next request takes the next number.
  assert.is(one(dialog.request('INFO').parts, 'CSeq'), '316 INFO');
});

test('UAS (s12.1.1): route set in order, remote sequence number from the INVITE; BYE through P2 then P1', () => {
  const dialog = DialogState.forUas(TRAPEZOID_INVITE_AT_U2, 'u2tag', 7000, false);
  assert.is(dialog.key, dialogKey('trapezoid-1@u1.example.com', 'u2tag', 'u1tag'));
  // "The remote sequence number MUST be set to the value of the sequence number in the CSeq header field of the request."
  assert.is(dialog.remoteSeq, 314);
  assert.is(dialog.localSeq, 7000);
  // "The remote URI MUST be set to the URI in the From field, and the local URI MUST be set to the URI in the To field."
  assert.is(dialog.remote, '"Caller" <sip:caller@example.com>');
  assert.is(dialog.local, '<sip:callee@domain.com>');
  // "The route set MUST be set to the list of URIs in the Record-Route header field from the request, taken in order"
  assert.equal(dialog.routeSet, ['<sip:p2.domain.com;lr>', '<sip:p1.example.com;lr>']);
  assert.is(dialog.remoteTarget.toString(), 'sip:caller@u1.example.com');
  const { parts, nextHop } = dialog.request('BYE');
  // s16.12.1.1: "BYE sip:caller@u1.example.com SIP/2.0 / Route: <sip:p2.domain.com;lr>,<sip:p1.example.com;lr>"
  assert.is(parts.uri, 'sip:caller@u1.example.com');
  assert.equal(values(parts, 'Route'), ['<sip:p2.domain.com;lr>', '<sip:p1.example.com;lr>']);
  assert.is(one(parts, 'From'), '<sip:callee@domain.com>;tag=u2tag');
  assert.is(one(parts, 'To'), '"Caller" <sip:caller@example.com>;tag=u1tag');
  assert.is(one(parts, 'CSeq'), '7001 BYE');
  assert.is(nextHop.toString(), 'sip:p2.domain.com;lr');
});

test('Record-Route with several values in one field (and a comma inside a quoted name) splits into the same route set', () => {
  const invite = sip(
    'INVITE sip:callee@u2.domain.com SIP/2.0',
    'Via: SIP/2.0/UDP p2.domain.com;branch=z9hG4bKp2',
    'Record-Route: "Proxy, two" <sip:p2.domain.com;lr>, <sip:p1.example.com;lr>',
    'Record-Route: <sip:p0.example.net;lr>',
    'From: <sip:caller@example.com>;tag=a',
    'To: <sip:callee@domain.com>',
    'Call-ID: rr-split',
    'CSeq: 1 INVITE',
    'Contact: <sip:caller@u1.example.com>',
  );
  const dialog = DialogState.forUas(invite, 'b', 1, false);
  assert.equal(dialog.routeSet, ['"Proxy, two" <sip:p2.domain.com;lr>', '<sip:p1.example.com;lr>', '<sip:p0.example.net;lr>']);
  assert.equal(values(dialog.request('BYE').parts, 'Route'), ['"Proxy, two" <sip:p2.domain.com;lr>', '<sip:p1.example.com;lr>', '<sip:p0.example.net;lr>']);
});

test('strict routing: the s12.2.1.1 example (proxy1 without lr goes into the Request-URI, the remote target last in Route)', () => {
  // s12.2.1.1: "if the remote target is sip:user@remoteua and the route set contains
  // <sip:proxy1>,<sip:proxy2>,<sip:proxy3;lr>,<sip:proxy4> The request will be formed with the
  // following Request-URI and Route header field: METHOD sip:proxy1
  // Route: <sip:proxy2>,<sip:proxy3;lr>,<sip:proxy4>,<sip:user@remoteua>"
  // UAS side: the INVITE's Record-Route in order is that route set.
  const invite = sip(
    'INVITE sip:me@192.0.2.10 SIP/2.0',
    'Via: SIP/2.0/UDP proxy1;branch=z9hG4bK1',
    'Record-Route: <sip:proxy1>, <sip:proxy2>, <sip:proxy3;lr>, <sip:proxy4>',
    'From: <sip:user@example.com>;tag=r',
    'To: <sip:me@example.com>',
    'Call-ID: strict-1',
    'CSeq: 10 INVITE',
    'Contact: <sip:user@remoteua>',
  );
  const uas = DialogState.forUas(invite, 'l', 100, false);
  const built = uas.request('BYE');
  assert.is(built.parts.uri, 'sip:proxy1');
  assert.equal(values(built.parts, 'Route'), ['<sip:proxy2>', '<sip:proxy3;lr>', '<sip:proxy4>', '<sip:user@remoteua>']);
  // s8.1.2: "If the first element in the route set indicated a strict router ..., the procedures MUST be applied to the Request-URI".
  assert.is(built.nextHop.toString(), 'sip:proxy1');
  assert.is(uas.requestUri, 'sip:proxy1');

  // UAC side: the 2xx carries the same proxies in the opposite order.
  const ours = sip(
    'INVITE sip:user@example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx',
    'From: <sip:me@example.com>;tag=l',
    'To: <sip:user@example.com>',
    'Call-ID: strict-2',
    'CSeq: 20 INVITE',
    'Contact: <sip:me@192.0.2.10>',
  );
  const ok = sip(
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx',
    'Record-Route: <sip:proxy4>',
    'Record-Route: <sip:proxy3;lr>, <sip:proxy2>',
    'Record-Route: <sip:proxy1>',
    'From: <sip:me@example.com>;tag=l',
    'To: <sip:user@example.com>;tag=r',
    'Call-ID: strict-2',
    'CSeq: 20 INVITE',
    'Contact: <sip:user@remoteua>',
  );
  const uac = DialogState.forUac(ours, ok);
  const bye = uac.request('BYE');
  assert.is(bye.parts.uri, 'sip:proxy1');
  assert.equal(values(bye.parts, 'Route'), ['<sip:proxy2>', '<sip:proxy3;lr>', '<sip:proxy4>', '<sip:user@remoteua>']);
  assert.is(bye.nextHop.toString(), 'sip:proxy1');
});

test('strict routing keeps URI parameters and drops ?headers from the Request-URI (s19.1.1 Table 1: headers not allowed there)', () => {
  const invite = sip(
    'INVITE sip:me@192.0.2.10 SIP/2.0',
    'Via: SIP/2.0/UDP old.example.com;branch=z9hG4bK1',
    'Record-Route: <sip:old.example.com;transport=tcp?X-Foo=bar>',
    'From: <sip:user@example.com>;tag=r',
    'To: <sip:me@example.com>',
    'Call-ID: strict-3',
    'CSeq: 10 INVITE',
    'Contact: <sip:user@198.51.100.7:5070>',
  );
  const built = DialogState.forUas(invite, 'l', 1, false).request('BYE');
  assert.is(built.parts.uri, 'sip:old.example.com;transport=tcp');
  assert.equal(values(built.parts, 'Route'), ['<sip:user@198.51.100.7:5070>']);
});

test('no route set: the remote target in the Request-URI, no Route (s12.2.1.1), next hop the target', () => {
  const invite = sip(
    'INVITE sip:me@192.0.2.10 SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK1',
    'From: <sip:user@example.com>;tag=r',
    'To: <sip:me@example.com>',
    'Call-ID: direct-1',
    'CSeq: 1 INVITE',
    'Contact: <sip:user@198.51.100.7:5070;transport=udp>',
  );
  const dialog = DialogState.forUas(invite, 'l', 1, false);
  const { parts, nextHop } = dialog.request('OPTIONS', { headers: [['Accept', 'application/sdp']], body: new Uint8Array([1]) });
  assert.is(parts.uri, 'sip:user@198.51.100.7:5070;transport=udp');
  assert.equal(values(parts, 'Route'), []);
  assert.is(nextHop.toString(), 'sip:user@198.51.100.7:5070;transport=udp');
  // Extra headers come after the dialog's own, the body as given.
  assert.equal(parts.headers.map(([n]) => n), ['Max-Forwards', 'From', 'To', 'Call-ID', 'CSeq', 'Accept']);
  assert.equal([...(parts.body as Uint8Array)], [1]);
});

test('ACK for a 2xx takes its INVITE\'s CSeq number without moving the local sequence number (s13.2.2.4)', () => {
  const dialog = DialogState.forUac(TRAPEZOID_INVITE_AT_U1, TRAPEZOID_200_AT_U1);
  // "The sequence number of the CSeq header field MUST be the same as the INVITE being acknowledged, but the CSeq method MUST be ACK."
  assert.is(one(dialog.request('ACK', { cseq: 314 }).parts, 'CSeq'), '314 ACK');
  assert.is(dialog.localSeq, 314);
  assert.is(one(dialog.request('BYE').parts, 'CSeq'), '315 BYE');
});

test('the local CSeq stops at 2^32 - 1 (s8.1.1.5: "MUST be expressible as a 32-bit unsigned integer")', () => {
  const dialog = DialogState.forUas(TRAPEZOID_INVITE_AT_U2, 'u2tag', 4294967294, false);
  assert.is(one(dialog.request('INFO').parts, 'CSeq'), '4294967295 INFO');
  assert.throws(() => dialog.request('INFO'), (e: unknown) => e instanceof RangeError);
  assert.is(dialog.localSeq, 4294967295);
});

test('CSeq of requests received (s12.2.2): empty remote number takes any; lower is out of order; higher is in order', () => {
  const uac = DialogState.forUac(TRAPEZOID_INVITE_AT_U1, TRAPEZOID_200_AT_U1);
  // "If the remote sequence number is empty, it MUST be set to the value of the sequence number in the CSeq header field value in the request."
  assert.ok(uac.acceptRemoteCSeq(9));
  assert.is(uac.remoteSeq, 9);
  // "... the sequence number of the request is lower than the remote sequence number, the request is out of order and MUST be rejected with a 500"
  assert.not.ok(uac.acceptRemoteCSeq(8));
  assert.is(uac.remoteSeq, 9, 'an out-of-order request leaves the number as it was');
  // "... greater than the remote sequence number, the request is in order" (numbers may jump).
  assert.ok(uac.acceptRemoteCSeq(40));
  assert.is(uac.remoteSeq, 40);
  assert.not.ok(uac.acceptRemoteCSeq(39));

  const uas = DialogState.forUas(TRAPEZOID_INVITE_AT_U2, 'u2tag', 1, false);
  assert.not.ok(uas.acceptRemoteCSeq(313), 'below the INVITE\'s 314');
  assert.ok(uas.acceptRemoteCSeq(315));
});

test('target refresh (s12.2.1.2): a Contact moves the remote target; a message without one leaves it', () => {
  const dialog = DialogState.forUac(TRAPEZOID_INVITE_AT_U1, TRAPEZOID_200_AT_U1);
  dialog.refreshTarget(
    sip(
      'INVITE sip:caller@u1.example.com SIP/2.0',
      'Via: SIP/2.0/UDP p2.domain.com;branch=z9hG4bKre',
      'From: <sip:callee@domain.com>;tag=u2tag',
      'To: "Caller" <sip:caller@example.com>;tag=u1tag',
      'Call-ID: trapezoid-1@u1.example.com',
      'CSeq: 1 INVITE',
      'Contact: <sip:callee@u2-new.domain.com:5080>',
    ),
  );
  assert.is(dialog.remoteTarget.toString(), 'sip:callee@u2-new.domain.com:5080');
  const bye = dialog.request('BYE');
  assert.is(bye.parts.uri, 'sip:callee@u2-new.domain.com:5080');
  // s12.2: requests within a dialog "do not cause the dialog's route set to be modified, although they may modify the remote target URI".
  assert.equal(values(bye.parts, 'Route'), ['<sip:p1.example.com;lr>', '<sip:p2.domain.com;lr>']);
  dialog.refreshTarget(
    sip(
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKq',
      'From: "Caller" <sip:caller@example.com>;tag=u1tag',
      'To: <sip:callee@domain.com>;tag=u2tag',
      'Call-ID: trapezoid-1@u1.example.com',
      'CSeq: 316 INVITE',
    ),
  );
  assert.is(dialog.remoteTarget.toString(), 'sip:callee@u2-new.domain.com:5080');
});

test('secure flag (s12.1.1): a sips Request-URI received over TLS; not over UDP', () => {
  const invite = sip(
    'INVITE sips:me@example.com SIP/2.0',
    'Via: SIP/2.0/TLS 198.51.100.7:5061;branch=z9hG4bK1',
    'From: <sips:user@example.com>;tag=r',
    'To: <sips:me@example.com>',
    'Call-ID: tls-1',
    'CSeq: 1 INVITE',
    'Contact: <sips:user@198.51.100.7:5061>',
  );
  assert.is(DialogState.forUas(invite, 'l', 1, true).secure, true);
  assert.is(DialogState.forUas(invite, 'l', 1, false).secure, false);
  const plain = sip(
    'INVITE sip:me@example.com SIP/2.0',
    'Via: SIP/2.0/TLS 198.51.100.7:5061;branch=z9hG4bK1',
    'From: <sip:user@example.com>;tag=r',
    'To: <sip:me@example.com>',
    'Call-ID: tls-2',
    'CSeq: 1 INVITE',
    'Contact: <sip:user@198.51.100.7:5061>',
  );
  assert.is(DialogState.forUas(plain, 'l', 1, true).secure, false);
});

test('From/To parameters other than the tag are kept in the dialog\'s URIs', () => {
  const invite = sip(
    'INVITE sip:me@192.0.2.10 SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK1',
    'From: <sip:user@example.com>;tag=r;x-mark=1',
    'To: "Me" <sip:me@example.com>;x-to=2',
    'Call-ID: params-1',
    'CSeq: 1 INVITE',
    'Contact: <sip:user@198.51.100.7:5070>',
  );
  const dialog = DialogState.forUas(invite, 'l', 1, false);
  assert.is(dialog.remote, '<sip:user@example.com>;x-mark=1');
  assert.is(dialog.local, '"Me" <sip:me@example.com>;x-to=2');
  assert.is(one(dialog.request('BYE').parts, 'To'), '<sip:user@example.com>;x-mark=1;tag=r');
});

test('messages that cannot make a dialog are refused; a 2xx without Contact falls back to the Request-URI', () => {
  const noToTag = sip(
    'SIP/2.0 180 Ringing',
    'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1',
    'From: "Caller" <sip:caller@example.com>;tag=u1tag',
    'To: <sip:callee@domain.com>',
    'Call-ID: trapezoid-1@u1.example.com',
    'CSeq: 314 INVITE',
  );
  assert.throws(() => DialogState.forUac(TRAPEZOID_INVITE_AT_U1, noToTag), (e: unknown) => e instanceof TypeError);
  const noContact = sip(
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP u1.example.com;branch=z9hG4bKu1',
    'From: "Caller" <sip:caller@example.com>;tag=u1tag',
    'To: <sip:callee@domain.com>;tag=u2tag',
    'Call-ID: trapezoid-1@u1.example.com',
    'CSeq: 314 INVITE',
  );
  assert.is(DialogState.forUac(TRAPEZOID_INVITE_AT_U1, noContact).remoteTarget.toString(), 'sip:callee@domain.com');
  const inviteWithoutContact = sip(
    'INVITE sip:me@192.0.2.10 SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK1',
    'From: <sip:user@example.com>;tag=r',
    'To: <sip:me@example.com>',
    'Call-ID: nocontact-1',
    'CSeq: 1 INVITE',
  );
  assert.throws(() => DialogState.forUas(inviteWithoutContact, 'l', 1, false), (e: unknown) => e instanceof TypeError);
  const inviteWithoutFromTag = sip(
    'INVITE sip:me@192.0.2.10 SIP/2.0',
    'Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK1',
    'From: <sip:user@example.com>',
    'To: <sip:me@example.com>',
    'Call-ID: notag-1',
    'CSeq: 1 INVITE',
    'Contact: <sip:user@198.51.100.7:5070>',
  );
  assert.throws(() => DialogState.forUas(inviteWithoutFromTag, 'l', 1, false), (e: unknown) => e instanceof TypeError);
});

test('dialog keys: Call-ID, local tag and remote tag each tell dialogs apart; Call-IDs compare byte by byte (s20.8)', () => {
  const base = dialogKey('abc@host', 'x', 'y');
  assert.is.not(base, dialogKey('ABC@host', 'x', 'y'));
  assert.is.not(base, dialogKey('abc@host', 'y', 'x'));
  assert.is.not(base, dialogKey('abc@host', 'x', 'y2'));
  // A separator that cannot occur in the fields: moving characters between fields gives another key.
  assert.is.not(dialogKey('a', 'bc', 'd'), dialogKey('ab', 'c', 'd'));
  assert.is.not(inviteKey('a', 'bc'), inviteKey('ab', 'c'));
  assert.is(inviteKey('abc@host', 'x'), inviteKey('abc@host', 'x'));
});

test.run();
