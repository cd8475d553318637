/**
 * RFC 3665 (s2.1 registration with digest, s3.1 basic call) and RFC 3261
 * s24.1/s24.2 call flows against parseMessage and serializeMessage, driven
 * by rfc3665/INDEX.tsv.
 *
 * Covers: every .sip parses (the four RFC 3261 s24.2 messages whose SDP the
 * RFC never printed only with allowIncompleteBody, and throw without it);
 * Content-Length and body sizes as the INDEX gives them; a serialize/parse
 * round trip keeps the meaning (kind, method, Request-URI, status, reason,
 * every header's canonical name and value in order, body bytes) with
 * Content-Length recomputed; the facts the INDEX notes name (F02-401
 * WWW-Authenticate digest params and the folded ;received, F03 Authorization
 * with its missing comma, F04 Contact expires=3600, dialog tags, CSeq methods).
 * Not covered: digest arithmetic, transaction or dialog behaviour.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDigest, isWildcard, parseMessage, serializeMessage } from '../../src/parser/index.ts';
import type { NameAddr, SipMessage } from '../../src/parser/index.ts';
import { parseError, readFixture, readIndex } from './fixtures.ts';

const rows = readIndex('rfc3665/INDEX.tsv');
const bodyOmitted = (row: Record<string, string>): boolean => row['content_length_check']!.startsWith('body omitted');
const load = (file: string): SipMessage => parseMessage(readFixture(`rfc3665/${file}`));

/** The meaning a round trip must keep. Content-Length is compared separately (it is recomputed). */
function meaning(m: SipMessage): unknown {
  return {
    kind: m.kind,
    method: m.method,
    uri: m.uri === undefined ? undefined : String(m.uri),
    status: m.status,
    reason: m.reasonPhrase,
    headers: m.headers.filter((field) => field.canonical !== 'content-length').map((field) => [field.canonical, field.value]),
    body: [...m.body],
  };
}

test('INDEX.tsv: 27 messages, the four s24.2 ones with an omitted body flagged', () => {
  assert.is(rows.length, 27);
  assert.equal(
    rows.filter(bodyOmitted).map((row) => row['file']),
    ['F01-INVITE', 'F03-INVITE', 'F05-INVITE', 'F09-200-OK', 'F10-200-OK', 'F11-200-OK'].map((name) => `rfc3261-24.2-session-setup/${name}.sip`),
  );
});

for (const row of rows) {
  const file = row['file']!;
  test(`${row['source']} s${row['section']} ${row['label']} (${file})`, () => {
    const bytes = readFixture(`rfc3665/${file}`);
    let m: SipMessage;
    if (bodyOmitted(row)) {
      // The RFC printed "(Alice's SDP not shown)": Content-Length says more than is there.
      const error = parseError(() => parseMessage(bytes), file);
      assert.is(error.status, 400);
      assert.match(error.reason, /Content-Length/);
      m = parseMessage(bytes, { allowIncompleteBody: true });
      assert.is(m.contentLength, Number(row['content_length']));
      assert.is(m.body.length, 0);
    } else {
      m = parseMessage(bytes);
      assert.is(m.contentLength, Number(row['content_length']));
      assert.is(m.body.length, Number(row['body_bytes']));
      assert.ok(Buffer.from(m.body).equals(bytes.subarray(bytes.length - m.body.length)));
    }
    // Every message has the headers RFC 3261 s8.1.1 requires of a request (and a response echoes).
    assert.ok(m.callId !== undefined && m.from !== undefined && m.to !== undefined && m.cseq !== undefined, 'mandatory headers');
    assert.ok(m.via.length >= 1);
    assert.ok(m.from.tag !== null, 'From tag');
    if (m.kind === 'request') {
      assert.is(m.cseq.method, m.method);
      assert.is(m.maxForwards !== undefined, true);
    }

    // Round trip: same meaning, Content-Length recomputed from the body.
    const again = parseMessage(serializeMessage(m));
    assert.equal(meaning(again), meaning(m));
    assert.is(again.contentLength, m.body.length);
    assert.is(again.count('content-length'), 1);
    assert.is(again.header('content-length'), String(m.body.length));
    // Content-Length stays where it was.
    const position = (message: SipMessage): number => message.headers.findIndex((field) => field.canonical === 'content-length');
    assert.is(position(again), position(m));
    // And a second round trip is byte-stable.
    assert.ok(Buffer.from(serializeMessage(again)).equals(Buffer.from(serializeMessage(m))));
  });
}

test('s2.1 F02 401: WWW-Authenticate digest params; the folded ;received is unfolded', () => {
  const m = load('registration-2.1/F02-401-Unauthorized.sip');
  assert.is(m.status, 401);
  assert.is(m.reasonPhrase, 'Unauthorized');
  assert.is(m.wwwAuthenticate.length, 1);
  const challenge = m.wwwAuthenticate[0]!;
  assert.ok(isDigest(challenge));
  assert.is(challenge.scheme, 'Digest');
  assert.equal(Object.fromEntries(challenge.params), {
    realm: 'atlanta.example.com',
    qop: 'auth',
    nonce: 'ea9c8e88df84f1cec4341ae6cbe5a359',
    opaque: '',
    stale: 'FALSE',
    algorithm: 'MD5',
  });
  assert.is(m.header('WWW-Authenticate'), 'Digest realm="atlanta.example.com", qop="auth", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, algorithm=MD5');
  const via = m.via[0]!;
  assert.equal([via.transport, via.host, via.port, via.branch, via.received], ['TLS', 'client.biloxi.example.com', 5061, 'z9hG4bKnashds7', '192.0.2.201']);
  assert.is(m.to!.tag, '1410948204');
});

test('s2.1 F03 REGISTER as printed: Authorization without the comma after realm parses leniently', () => {
  const printed = load('registration-2.1/F03-REGISTER.sip');
  const fixed = load('registration-2.1/F03-REGISTER.comma-fixed.sip');
  const expected = {
    username: 'bob',
    realm: 'atlanta.example.com',
    nonce: 'ea9c8e88df84f1cec4341ae6cbe5a359',
    opaque: '',
    uri: 'sips:ss2.biloxi.example.com',
    response: 'dfe56131d1958046689d83306477ecc', // 31 hex digits as printed (RFC 3665 s1.3)
  };
  for (const m of [printed, fixed]) {
    assert.is(m.authorization.length, 1);
    assert.is(m.authorization[0]!.scheme, 'Digest');
    assert.equal(Object.fromEntries(m.authorization[0]!.params), expected);
  }
  assert.is(printed.method, 'REGISTER');
  assert.equal(printed.cseq, { seq: 2, method: 'REGISTER' });
  assert.is(printed.uri!.scheme, 'sips');
  assert.is(printed.proxyAuthorization.length, 0);
});

test('s2.1 F04 200: Contact expires=3600', () => {
  const m = load('registration-2.1/F04-200-OK.sip');
  assert.is(m.contact.length, 1);
  const contact = m.contact[0]!;
  assert.not.ok(isWildcard(contact));
  assert.is((contact as NameAddr).params.get('expires'), '3600');
  assert.is(String((contact as NameAddr).uri), 'sips:bob@client.biloxi.example.com');
  assert.is(m.via[0]!.received, '192.0.2.201');
});

test('s3.1 basic call: dialog identifiers, tags and CSeq spaces', () => {
  const invite = load('basic-call-3.1/F01-INVITE.sip');
  const ringing = load('basic-call-3.1/F02-180-Ringing.sip');
  const ok = load('basic-call-3.1/F03-200-OK.sip');
  const ack = load('basic-call-3.1/F04-ACK.sip');
  const bye = load('basic-call-3.1/F05-BYE.sip');
  const byeOk = load('basic-call-3.1/F06-200-OK.sip');
  const callId = '3848276298220188511@atlanta.example.com';
  for (const m of [invite, ringing, ok, ack, bye, byeOk]) assert.is(m.callId, callId);
  assert.is(invite.to!.tag, null);
  assert.is(ringing.to!.tag, '8321234356');
  assert.is(ringing.via[0]!.received, '192.0.2.101');
  assert.is(ok.contentType!.essence, 'application/sdp');
  assert.is(ok.body.length, 147);
  assert.equal(ack.cseq, { seq: 1, method: 'ACK' });
  assert.is.not(ack.via[0]!.branch, invite.via[0]!.branch); // ACK for a 2xx is a new transaction
  assert.is(String(ack.uri), 'sip:bob@client.biloxi.example.com');
  // BYE from the callee: From/To swapped, its own CSeq space.
  assert.is(bye.from!.tag, '8321234356');
  assert.is(bye.to!.tag, '9fxced76sl');
  assert.equal(bye.cseq, { seq: 1, method: 'BYE' });
  assert.equal(byeOk.cseq, { seq: 1, method: 'BYE' });
  const contact = invite.contact[0] as NameAddr;
  assert.is(contact.uri.params.get('transport'), 'tcp');
  assert.is(new TextDecoder().decode(invite.body).split('\r\n')[0], 'v=0');
});

test('s24.1 and s24.2: Expires, Via stacks as proxies add them', () => {
  const register = load('rfc3261-24.1-registration/F01-REGISTER.sip');
  assert.is(register.expires, 7200);
  assert.is(register.uri!.host, 'registrar.biloxi.com');
  const invite5 = parseMessage(readFixture('rfc3665/rfc3261-24.2-session-setup/F05-INVITE.sip'), { allowIncompleteBody: true });
  assert.is(invite5.maxForwards, 68);
  assert.equal(
    invite5.via.map((via) => [via.host, via.branch, via.received]),
    [
      ['server10.biloxi.com', 'z9hG4bK4b43c2ff8.1', null],
      ['bigbox3.site3.atlanta.com', 'z9hG4bK77ef4c2312983.1', '192.0.2.2'],
      ['pc33.atlanta.com', 'z9hG4bKnashds8', '192.0.2.1'],
    ],
  );
  const ringing = load('rfc3261-24.2-session-setup/F06-180-Ringing.sip');
  assert.equal(ringing.via.map((via) => via.received), ['192.0.2.3', '192.0.2.2', '192.0.2.1']);
  assert.is(ringing.to!.tag, 'a6c85cf');
});

test.run();
