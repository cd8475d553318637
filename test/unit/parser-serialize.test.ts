/**
 * serializeMessage, formatMessage and defaultReason (src/parser/serialize.ts),
 * plus the small formatting helpers the parser exports (quote, unquote,
 * formatParams, canonicalName).
 *
 * Covers: a parsed message written back with CRLF, names as received, folded
 * values unfolded, Content-Length recomputed (replaced in place, appended when
 * absent, one line even when the input had several), binary bodies, UTF-8
 * reason phrases and header values; round trips that keep the meaning;
 * formatMessage for requests and responses, string and byte bodies, dropping
 * any Content-Length given in the parts; the default reason phrases.
 * Not covered: SDP serialization (src/parser/sdp, tested elsewhere).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalName, COMPACT_FORMS, defaultReason, findHeader, formatMessage, isHeaderName, formatParams, parseMessage, quote, serializeMessage, unquote } from '../../src/parser/index.ts';
import type { SipMessage } from '../../src/parser/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const parse = (text: string | Uint8Array): SipMessage => parseMessage(typeof text === 'string' ? encoder.encode(text) : text);
const text = (bytes: Uint8Array): string => decoder.decode(bytes);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** What a round trip must keep. */
function meaning(m: SipMessage): unknown {
  return {
    startLine: m.startLine,
    headers: m.headers.filter((field) => field.canonical !== 'content-length').map((field) => [field.canonical, field.value]),
    body: [...m.body],
  };
}

test('serializeMessage writes the start line, the headers in order with their names as received, and the body', () => {
  const input = [
    'INVITE sip:bob@biloxi.com SIP/2.0',
    'v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds',
    'To: Bob <sip:bob@biloxi.com>',
    'f: Alice <sip:alice@atlanta.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710',
    'CSeq: 314159 INVITE',
    'Subject: folded\r\n  over lines',
    'l: 5',
    'Max-Forwards: 70',
    '',
    'hello',
  ].join('\r\n');
  const out = text(serializeMessage(parse(input)));
  assert.is(
    out,
    [
      'INVITE sip:bob@biloxi.com SIP/2.0',
      'v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds',
      'To: Bob <sip:bob@biloxi.com>',
      'f: Alice <sip:alice@atlanta.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710',
      'CSeq: 314159 INVITE',
      'Subject: folded over lines',
      'Content-Length: 5',
      'Max-Forwards: 70',
      '',
      'hello',
    ].join('\r\n'),
  );
});

test('Content-Length is recomputed: replaced in place, appended when absent, written once', () => {
  const withWrong = parse('OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 3\r\nX-After: y\r\n\r\nabcdef');
  assert.is(text(serializeMessage(withWrong)), 'OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 3\r\nX-After: y\r\n\r\nabc');
  const absent = parse('OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\nrest of datagram');
  assert.is(text(serializeMessage(absent)), 'OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 16\r\n\r\nrest of datagram');
  const repeated = parse('SIP/2.0 200 OK\r\nl: 2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 2\r\n\r\nok');
  assert.is(text(serializeMessage(repeated)), 'SIP/2.0 200 OK\r\nContent-Length: 2\r\nCSeq: 1 OPTIONS\r\n\r\nok');
  const incomplete = parseMessage(encoder.encode('SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 142\r\n\r\n'), { allowIncompleteBody: true });
  assert.is(text(serializeMessage(incomplete)), 'SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');
});

test('LF-only input is written with CRLF', () => {
  const m = parse('SIP/2.0 180 Ringing\nCSeq: 1 INVITE\nContent-Length: 0\n\n');
  assert.is(text(serializeMessage(m)), 'SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');
});

test('an empty reason phrase keeps the SP after the code', () => {
  assert.is(text(serializeMessage(parse('SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n'))), 'SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n');
});

test('binary bodies and UTF-8 text survive byte for byte', () => {
  const body = Uint8Array.from([0, 255, 13, 10, 13, 0x80, 0xc3]);
  const head = encoder.encode(`SIP/2.0 200 Ça va\r\nSubject: café\r\nCSeq: 1 MESSAGE\r\nContent-Length: ${body.length}\r\n\r\n`);
  const input = concat(head, body);
  const out = serializeMessage(parse(input));
  assert.equal([...out], [...input]);
});

test('round trips keep the meaning and are stable from the second write on', () => {
  const inputs = [
    'INVITE sip:bob@biloxi.com;transport=tcp SIP/2.0\r\nVia: SIP / 2.0 / UDP h ; branch = z9hG4bK1\r\nTo: <sip:bob@biloxi.com>\r\nFrom: "A \\"B\\"" <sip:a@b>;tag=1\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:a@b>, <sip:c@d>\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n',
    'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/TLS h:5061;branch=z9hG4bK2\r\n ;received=192.0.2.201\r\nWWW-Authenticate: Digest realm="a", qop="auth",\r\n nonce="n"\r\nCSeq: 1 REGISTER\r\n\r\n',
    'MESSAGE sip:x SIP/2.0\nCSeq: 2 MESSAGE\nl: 3\n\nabc',
  ];
  for (const input of inputs) {
    const m = parse(input);
    const once = serializeMessage(m);
    const again = parse(once);
    assert.equal(meaning(again), meaning(m));
    assert.is(again.contentLength, m.body.length);
    assert.equal([...serializeMessage(again)], [...once]);
  }
});

test('formatMessage: a request with a string body; Content-Length computed in bytes', () => {
  const out = formatMessage({
    method: 'MESSAGE',
    uri: 'sip:bob@biloxi.com',
    headers: [
      ['Via', 'SIP/2.0/UDP h;branch=z9hG4bK1'],
      ['CSeq', '1 MESSAGE'],
      ['Content-Type', 'text/plain;charset=utf-8'],
    ],
    body: 'héllo',
  });
  assert.is(text(out), 'MESSAGE sip:bob@biloxi.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain;charset=utf-8\r\nContent-Length: 6\r\n\r\nhéllo');
  const m = parseMessage(out);
  assert.is(m.method, 'MESSAGE');
  assert.is(text(m.body), 'héllo');
});

test('formatMessage: a response with the default or a given reason, no body, byte body', () => {
  assert.is(text(formatMessage({ status: 486, headers: [] })), 'SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n');
  assert.is(text(formatMessage({ status: 200, reason: 'Fine', headers: [['CSeq', '1 BYE']] })), 'SIP/2.0 200 Fine\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n');
  const body = Uint8Array.from([0, 1, 2]);
  const out = formatMessage({ status: 200, headers: [], body });
  assert.equal([...out.subarray(out.length - 3)], [0, 1, 2]);
  assert.is(parseMessage(out).body.length, 3);
});

test('formatMessage drops any Content-Length given in the parts (full name, any case, compact l)', () => {
  const out = text(formatMessage({ method: 'OPTIONS', uri: 'sip:x', headers: [['Content-Length', '99'], ['content-length', '98'], ['l', '97'], ['CSeq', '1 OPTIONS']], body: 'abc' }));
  assert.is(out, 'OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 3\r\n\r\nabc');
});

test('defaultReason: the RFC 3261 phrases, and class defaults for unknown codes', () => {
  const cases: Array<[number, string]> = [
    [100, 'Trying'],
    [180, 'Ringing'],
    [183, 'Session Progress'],
    [200, 'OK'],
    [202, 'Accepted'],
    [302, 'Moved Temporarily'],
    [400, 'Bad Request'],
    [401, 'Unauthorized'],
    [407, 'Proxy Authentication Required'],
    [408, 'Request Timeout'],
    [413, 'Request Entity Too Large'],
    [415, 'Unsupported Media Type'],
    [416, 'Unsupported URI Scheme'],
    [420, 'Bad Extension'],
    [423, 'Interval Too Brief'],
    [481, 'Call/Transaction Does Not Exist'],
    [483, 'Too Many Hops'],
    [487, 'Request Terminated'],
    [488, 'Not Acceptable Here'],
    [500, 'Server Internal Error'],
    [501, 'Not Implemented'],
    [503, 'Service Unavailable'],
    [505, 'Version Not Supported'],
    [603, 'Decline'],
    [199, 'Progress'],
    [299, 'OK'],
    [399, 'Error'],
    [499, 'Error'],
    [699, 'Error'],
  ];
  for (const [status, reason] of cases) assert.is(defaultReason(status), reason, String(status));
});

test('quote and unquote are inverse; unquote leaves unquoted text alone', () => {
  const cases: Array<[string, string]> = [
    ['plain', '"plain"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['', '""'],
    ['J Rosenberg \\"', '"J Rosenberg \\\\\\""'],
  ];
  for (const [raw, quoted] of cases) {
    assert.is(quote(raw), quoted);
    assert.is(unquote(quoted), raw);
  }
  assert.is(unquote('abc'), 'abc');
  assert.is(unquote('"'), '"');
  assert.is(unquote('"open'), '"open');
});

test('formatParams writes ;name and ;name=value in map order', () => {
  assert.is(formatParams(new Map()), '');
  assert.is(formatParams(new Map<string, string | null>([['lr', null], ['transport', 'tcp'], ['x', '"q v"']])), ';lr;transport=tcp;x="q v"');
});

test('canonicalName: lower case, trimmed, compact forms expanded', () => {
  const cases: Array<[string, string]> = [
    ['Call-ID', 'call-id'],
    [' V ', 'via'],
    ['m', 'contact'],
    ['L', 'content-length'],
    ['c', 'content-type'],
    ['k', 'supported'],
    ['q', 'q'],
    ['X-Custom', 'x-custom'],
  ];
  for (const [name, canonical] of cases) assert.is(canonicalName(name), canonical);
  assert.is(COMPACT_FORMS['i'], 'call-id');
  assert.is(COMPACT_FORMS['f'], 'from');
  assert.is(COMPACT_FORMS['t'], 'to');
});

test('formatMessage: a topVia goes first, before the parts\' own headers, which stay untouched', () => {
  const headers: Array<[string, string]> = [
    ['Via', 'SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKold'],
    ['Call-ID', 'v1'],
    ['CSeq', '1 OPTIONS'],
  ];
  const bytes = formatMessage({ method: 'OPTIONS', uri: 'sip:b@example.com', headers }, 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnew;rport');
  const text = new TextDecoder().decode(bytes);
  assert.ok(text.startsWith('OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnew;rport\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKold\r\n'), text);
  const message = parseMessage(bytes);
  assert.is(message.topVia?.branch, 'z9hG4bKnew');
  assert.is(message.via.length, 2);
  assert.is(headers.length, 3, 'the parts are not copied or changed');
});

test('isHeaderName / findHeader: any case, compact forms, first match only', () => {
  assert.ok(isHeaderName('Content-Length', 'content-length'));
  assert.ok(isHeaderName('CONTENT-LENGTH', 'content-length'));
  assert.ok(isHeaderName('l', 'content-length'));
  assert.ok(isHeaderName('L', 'content-length'));
  assert.ok(isHeaderName('v', 'via'));
  assert.not.ok(isHeaderName('Content-Type', 'content-length'));
  assert.not.ok(isHeaderName('c', 'content-length'));
  assert.not.ok(isHeaderName('Vias', 'via'));
  const headers: Array<[string, string]> = [['From', 'a'], ['V', 'first'], ['Via', 'second'], ['t', 'to']];
  assert.is(findHeader(headers, 'via'), 1);
  assert.is(findHeader(headers, 'to'), 3);
  assert.is(findHeader(headers, 'cseq'), -1);
});

test.run();
