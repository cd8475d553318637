/**
 * Typed header accessors of SipMessage, table-driven: CSeq, Max-Forwards,
 * Call-ID, Content-Type, Accept, Require/Proxy-Require/Supported/
 * Unsupported/Allow, Expires/Min-Expires, Retry-After, Warning, Date and the
 * four authentication headers (parseAuthHeader directly too).
 *
 * Covers: accepted values (leading zeros, LWS, case, compact forms, empty
 * lists where RFC 3261 allows them), the value when the header is absent,
 * rejected values with their SipParseError (status 400, header name), and
 * caching. Not covered: Via and name-addr headers (parser-via, parser-name-addr).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDigest, parseAuthHeader, parseMessage, SipParseError, validateMessage } from '../../src/parser/index.ts';
import type { SipMessage } from '../../src/parser/index.ts';

const encoder = new TextEncoder();

/** A request with the given headers; CSeq/Max-Forwards/Call-ID defaults unless overridden. */
function request(headers: string[], method = 'OPTIONS'): SipMessage {
  const has = (...names: string[]): boolean => headers.some((line) => names.some((name) => line.toLowerCase().startsWith(`${name}:`)));
  const lines = [
    `${method} sip:bob@biloxi.com SIP/2.0`,
    'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
    'To: <sip:bob@biloxi.com>',
    'From: <sip:alice@atlanta.com>;tag=1',
    ...(has('call-id', 'i') ? [] : ['Call-ID: headers-test']),
    ...(has('cseq') ? [] : [`CSeq: 1 ${method}`]),
    ...(has('max-forwards') ? [] : ['Max-Forwards: 70']),
    ...headers,
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(encoder.encode(lines.join('\r\n')));
}

function parseError(fn: () => unknown): SipParseError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, SipParseError);
    return error as SipParseError;
  }
  return assert.unreachable('accepted') as never;
}

/** The error a header gives, whether parseMessage or the accessor (or validateMessage) finds it. */
function headerError(headers: string[], read: (m: SipMessage) => unknown): SipParseError {
  return parseError(() => {
    const m = request(headers);
    read(m);
    validateMessage(m);
  });
}

// --- CSeq -------------------------------------------------------------------

test('CSeq: number and method, leading zeros, LWS, the 2^32-1 maximum', () => {
  const cases: Array<[string, number, string]> = [
    ['CSeq: 314159 INVITE', 314159, 'INVITE'],
    ['CSeq: 0009 INVITE', 9, 'INVITE'],
    ['CSeq:   42   INVITE  ', 42, 'INVITE'],
    ['CSeq: 0 INVITE', 0, 'INVITE'],
    ['CSeq: 4294967295 INVITE', 4294967295, 'INVITE'],
    ['cseq: 7\r\n  INVITE', 7, 'INVITE'],
  ];
  for (const [line, seq, method] of cases) assert.equal(request([line], 'INVITE').cseq, { seq, method }, line);
});

test('CSeq: rejected values', () => {
  const cases: Array<[string, RegExp]> = [
    ['CSeq: 4294967296 OPTIONS', /range/],
    ['CSeq: 36893488147419103232 OPTIONS', /range/],
    ['CSeq: 12', /whitespace|method/],
    ['CSeq: 12OPTIONS', /whitespace/],
    ['CSeq: OPTIONS', /number/],
    ['CSeq: -1 OPTIONS', /number/],
    ['CSeq: 1 OPT IONS', /method/],
    ['CSeq: 1 OPT(IONS', /method/],
    ['CSeq:', /number|empty/],
  ];
  for (const [line, reason] of cases) {
    const error = parseError(() => request([line]));
    assert.is(error.status, 400, line);
    assert.is(error.header, 'cseq', line);
    assert.match(error.reason, reason, line);
  }
});

test('CSeq method must match the request method (RFC 3261 s8.1.1.5); responses are not checked', () => {
  const error = parseError(() => request(['CSeq: 1 INVITE'], 'OPTIONS'));
  assert.is(error.header, 'cseq');
  assert.match(error.reason, /does not match/);
  const response = parseMessage(encoder.encode('SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(response.cseq, { seq: 1, method: 'INVITE' });
  // Method names are case-sensitive (RFC 3261 s7.1).
  assert.is(parseError(() => request(['CSeq: 1 options'], 'OPTIONS')).header, 'cseq');
});

// --- Max-Forwards, Expires, Min-Expires --------------------------------------

test('Max-Forwards: 0..255 with leading zeros; absent is undefined', () => {
  const cases: Array<[string, number]> = [['Max-Forwards: 70', 70], ['Max-Forwards: 0', 0], ['Max-Forwards: 255', 255], ['MAX-FORWARDS: 0068', 68], ['Max-Forwards:   5  ', 5]];
  for (const [line, value] of cases) assert.is(request([line]).maxForwards, value, line);
  const without = parseMessage(encoder.encode('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'));
  assert.is(without.maxForwards, undefined);
});

test('Max-Forwards: rejected values', () => {
  for (const [line, reason] of [
    ['Max-Forwards: 256', /range/],
    ['Max-Forwards: 300', /range/],
    ['Max-Forwards: -1', /number/],
    ['Max-Forwards: 7O', /number/],
    ['Max-Forwards:', /number|empty/],
    ['Max-Forwards: 1 2', /number/],
  ] as const) {
    const error = parseError(() => request([line]));
    assert.is(error.header, 'max-forwards', line);
    assert.match(error.reason, reason, line);
  }
});

test('Expires and Min-Expires: delta-seconds up to 2^32-1, parsed on access', () => {
  const m = request(['Expires: 3600', 'Min-Expires: 60']);
  assert.is(m.expires, 3600);
  assert.is(m.minExpires, 60);
  assert.is(request(['Expires: 4294967295']).expires, 4294967295);
  assert.is(request(['Expires: 0']).expires, 0);
  assert.is(request([]).expires, undefined);
  assert.is(request([]).minExpires, undefined);
  for (const value of ['soon', '4294967296', '-1', '']) {
    const m2 = request([`Expires: ${value}`]);
    const error = parseError(() => m2.expires);
    assert.is(error.header, 'expires', value);
  }
  assert.is(parseError(() => request(['Min-Expires: x']).minExpires).header, 'min-expires');
});

// --- Call-ID -----------------------------------------------------------------

test('Call-ID: word [@ word], kept byte for byte; compact i', () => {
  const cases: Array<[string, string]> = [
    ['Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com', 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com'],
    ['i: a84b4c76e66710', 'a84b4c76e66710'],
    ['CALL-ID:   spaced  ', 'spaced'],
    ['Call-ID: intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{', 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{'],
  ];
  for (const [line, value] of cases) {
    const m = request([line]);
    assert.is(m.callId, value, line);
    validateMessage(m);
  }
});

test('Call-ID: rejected values', () => {
  for (const value of ['a b', 'a@b@c', '@abc', 'abc@', 'caf\u00e9']) {
    const error = headerError([`Call-ID: ${value}`], (m) => m.callId);
    assert.is(error.header, 'call-id', value);
    assert.is(error.status, 400);
  }
  assert.is(parseError(() => request(['Call-ID:'])).header, 'call-id');
});

// --- Content-Type and Accept -------------------------------------------------

test('Content-Type: type/subtype lower-cased, params with names lower-cased and values as written', () => {
  const cases: Array<[string, string, Array<[string, string | null]>]> = [
    ['Content-Type: application/sdp', 'application/sdp', []],
    ['c: Application/SDP ; charset="utf-8";Level=1', 'application/sdp', [['charset', '"utf-8"'], ['level', '1']]],
    ['Content-Type: multipart/mixed;boundary=7a9cbec02ceef655', 'multipart/mixed', [['boundary', '7a9cbec02ceef655']]],
    ['Content-Type: text / plain', 'text/plain', []],
    ['Content-Type: message/sipfrag;version=2.0', 'message/sipfrag', [['version', '2.0']]],
  ];
  for (const [line, essence, params] of cases) {
    const type = request([line]).contentType!;
    assert.is(type.essence, essence, line);
    assert.is(`${type.type}/${type.subtype}`, essence);
    assert.equal([...type.params], params, line);
  }
  assert.is(request([]).contentType, undefined);
});

test('Content-Type: rejected values', () => {
  for (const [value, reason] of [
    ['application', /"\/"/],
    ['application/', /subtype/],
    ['/sdp', /type/],
    ['a/b c', /unexpected/],
    ['a/b;', /empty/],
    ['', /type/],
  ] as const) {
    const error = headerError([`Content-Type: ${value}`], (m) => m.contentType);
    assert.is(error.header, 'content-type', value);
    assert.match(error.reason, reason, value);
  }
});

test('Accept: list of media ranges with params; empty Accept is []; absent is undefined', () => {
  const m = request(['Accept: application/sdp;level=1, text/*;q=0.5', 'Accept: */*']);
  assert.equal(
    m.accept!.map((type) => [type.essence, Object.fromEntries(type.params)]),
    [
      ['application/sdp', { level: '1' }],
      ['text/*', { q: '0.5' }],
      ['*/*', {}],
    ],
  );
  assert.equal(request(['Accept:']).accept, []);
  assert.is(request([]).accept, undefined);
  assert.is(headerError(['Accept: application/sdp, nonsense'], (msg) => msg.accept).header, 'accept');
});

// --- token lists -------------------------------------------------------------

test('Require, Proxy-Require, Supported, Unsupported, Allow: token lists across fields', () => {
  const m = request([
    'Require: 100rel, timer',
    'require: path',
    'Proxy-Require: sec-agree',
    'k: path, gruu',
    'Supported: outbound',
    'Unsupported: foo',
    'Allow: INVITE,ACK , BYE,CANCEL, OPTIONS',
  ]);
  assert.equal(m.require, ['100rel', 'timer', 'path']);
  assert.equal(m.proxyRequire, ['sec-agree']);
  assert.equal(m.supported, ['path', 'gruu', 'outbound']);
  assert.equal(m.unsupported, ['foo']);
  assert.equal(m.allow, ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS']);
  assert.is(m.require, m.require);
  validateMessage(m);
});

test('token lists: absent or empty (Supported/Allow may be empty, RFC 3261 s20.37, s20.5) give []', () => {
  const empty = request(['Supported:', 'Allow:']);
  assert.equal(empty.supported, []);
  assert.equal(empty.allow, []);
  const none = request([]);
  for (const list of [none.require, none.proxyRequire, none.supported, none.unsupported, none.allow]) assert.equal(list, []);
});

test('token lists: rejected values', () => {
  for (const [line, header, read] of [
    ['Require: a b', 'require', (m: SipMessage) => m.require],
    ['Require: a,,b', 'require', (m: SipMessage) => m.require],
    ['Proxy-Require: "quoted"', 'proxy-require', (m: SipMessage) => m.proxyRequire],
    ['Supported: a, ', 'supported', (m: SipMessage) => m.supported],
    ['Allow: INVITE;x', 'allow', (m: SipMessage) => m.allow],
    ['Unsupported: <x>', 'unsupported', (m: SipMessage) => m.unsupported],
  ] as const) {
    const error = headerError([line], read);
    assert.is(error.header, header, line);
  }
});

// --- Retry-After ------------------------------------------------------------

test('Retry-After: delta-seconds, optional comment, params and duration', () => {
  const cases: Array<[string, number, string | null, number | null, Record<string, string | null>]> = [
    ['Retry-After: 18000;duration=3600', 18000, null, 3600, { duration: '3600' }],
    ['Retry-After: 120 (I\'m in a meeting)', 120, "I'm in a meeting", null, {}],
    ['Retry-After: 120 (nested (comment) ok) ;duration=60;foo=bar', 120, 'nested (comment) ok', 60, { duration: '60', foo: 'bar' }],
    ['Retry-After: 5', 5, null, null, {}],
    ['Retry-After: 0 ;flag', 0, null, null, { flag: null }],
  ];
  for (const [line, seconds, comment, duration, params] of cases) {
    const value = request([line]).retryAfter!;
    assert.is(value.seconds, seconds, line);
    assert.is(value.comment, comment, line);
    assert.is(value.duration, duration, line);
    assert.equal(Object.fromEntries(value.params), params, line);
  }
  assert.is(request([]).retryAfter, undefined);
});

test('Retry-After: rejected values', () => {
  for (const [value, reason] of [
    ['120 (oops', /unterminated/],
    ['120 x', /unexpected/],
    ['120;duration=x', /number/],
    ['949302838503028349304023988', /range/],
    ['soon', /number/],
  ] as const) {
    const error = headerError([`Retry-After: ${value}`], (m) => m.retryAfter);
    assert.is(error.header, 'retry-after', value);
    assert.match(error.reason, reason, value);
  }
});

// --- Warning ------------------------------------------------------------------

test('Warning: code, agent (host, IPv6 hostport or pseudonym) and unquoted text; commas inside quotes', () => {
  const m = request([
    'Warning: 307 isi.edu "Session parameter \'foo\' not understood", 301 [2001:db8::1]:5060 "Incompatible, really"',
    'Warning: 399 devnull "A \\"quoted\\" word"',
  ]);
  assert.equal(m.warning, [
    { code: 307, agent: 'isi.edu', text: "Session parameter 'foo' not understood" },
    { code: 301, agent: '[2001:db8::1]:5060', text: 'Incompatible, really' },
    { code: 399, agent: 'devnull', text: 'A "quoted" word' },
  ]);
  assert.equal(request([]).warning, []);
});

test('Warning: rejected values', () => {
  for (const value of ['1812 overture "In Progress"', '30 h "x"', '399 h unquoted', '399 h "open', '399 "no agent"', 'abc h "x"']) {
    const error = headerError([`Warning: ${value}`], (m) => m.warning);
    assert.is(error.header, 'warning', value);
  }
});

// --- Date ---------------------------------------------------------------------

test('Date: RFC 1123 in GMT, as ms since the epoch', () => {
  const m = request(['Date: Sat, 13 Nov 2010 23:29:00 GMT']);
  assert.is(m.date, Date.UTC(2010, 10, 13, 23, 29, 0));
  assert.is(new Date(request(['Date: Thu, 21 Feb 2002 13:02:03 GMT']).date!).toISOString(), '2002-02-21T13:02:03.000Z');
  assert.is(request([]).date, undefined);
});

test('Date: rejected values (RFC 4475 s3.1.2.12: only GMT)', () => {
  for (const value of ['Fri, 01 Jan 2010 16:00:00 EST', 'Sat, 13 Nov 2010 24:29:00 GMT', 'Sat, 13 Nov 2010 23:60:00 GMT', 'Sat, 32 Nov 2010 23:29:00 GMT', '13 Nov 2010 23:29:00 GMT', 'yesterday', 'Sat, 13 Foo 2010 23:29:00 GMT']) {
    const error = headerError([`Date: ${value}`], (m) => m.date);
    assert.is(error.header, 'date', value);
    assert.match(error.reason, /GMT|range|Date/, value);
  }
});

// --- authentication headers ---------------------------------------------------

test('WWW-Authenticate, Proxy-Authenticate, Authorization, Proxy-Authorization through a message', () => {
  const m = request([
    'WWW-Authenticate: Digest realm="biloxi.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    'WWW-Authenticate: Digest realm="biloxi.com", algorithm=SHA-256, nonce="n2"',
    'Proxy-Authenticate: Digest realm="atlanta.com",\r\n domain="sip:ss1.carrier.com", qop="auth",\r\n nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5',
    'Authorization: Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    'Proxy-Authorization: Digest username="alice", realm="atlanta.com", nonce="wf84f1ceczx41ae6cbe5aea9c8e88d359", opaque="", uri="sip:bob@biloxi.com", response="42ce3cef44b22f50c6a6071bc8"',
  ]);
  assert.is(m.wwwAuthenticate.length, 2);
  assert.is(m.wwwAuthenticate[0]!.params.get('qop'), 'auth,auth-int');
  assert.is(m.wwwAuthenticate[1]!.params.get('algorithm'), 'SHA-256');
  assert.equal(Object.fromEntries(m.proxyAuthenticate[0]!.params), {
    realm: 'atlanta.com',
    domain: 'sip:ss1.carrier.com',
    qop: 'auth',
    nonce: 'f84f1cec41e6cbe5aea9c8e88d359',
    opaque: '',
    stale: 'FALSE',
    algorithm: 'MD5',
  });
  assert.is(m.authorization[0]!.params.get('nc'), '00000001');
  assert.is(m.authorization[0]!.params.get('response'), '6629fae49393a05397450978507c4ef1');
  assert.is(m.proxyAuthorization[0]!.params.get('username'), 'alice');
  assert.ok([...m.wwwAuthenticate, ...m.proxyAuthenticate, ...m.authorization, ...m.proxyAuthorization].every(isDigest));
  const none = request([]);
  for (const list of [none.wwwAuthenticate, none.proxyAuthenticate, none.authorization, none.proxyAuthorization]) assert.equal(list, []);
  validateMessage(m);
});

test('parseAuthHeader: schemes, LWS, leniency for a missing comma, token68-like values', () => {
  const cases: Array<[string, string, Record<string, string>, string]> = [
    ['Digest', 'Digest', {}, ''],
    ['  Digest realm = "r" ,  nonce=abc', 'Digest', { realm: 'r', nonce: 'abc' }, 'realm = "r" ,  nonce=abc'],
    ['digest REALM="r"', 'digest', { realm: 'r' }, 'REALM="r"'],
    ['Digest realm="r" nonce="n"', 'Digest', { realm: 'r', nonce: 'n' }, 'realm="r" nonce="n"'],
    ['Digest realm="a \\"b\\""', 'Digest', { realm: 'a "b"' }, 'realm="a \\"b\\""'],
    ['Digest realm="with, comma", qop="auth, auth-int"', 'Digest', { realm: 'with, comma', qop: 'auth, auth-int' }, 'realm="with, comma", qop="auth, auth-int"'],
    ['Digest nonce=7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v=', 'Digest', { nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v=' }, 'nonce=7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v='],
    ['NoOneKnowsThisScheme opaque-data=here', 'NoOneKnowsThisScheme', { 'opaque-data': 'here' }, 'opaque-data=here'],
  ];
  for (const [value, scheme, params, raw] of cases) {
    const auth = parseAuthHeader(value, 'authorization', 64);
    assert.is(auth.scheme, scheme, value);
    assert.equal(Object.fromEntries(auth.params), params, value);
    assert.is(auth.raw, raw, value);
  }
  assert.ok(isDigest(parseAuthHeader('DIGEST realm="r"', 'authorization', 64)));
  assert.not.ok(isDigest(parseAuthHeader('Basic realm="r"', 'authorization', 64)));
});

test('parseAuthHeader: rejected values', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /scheme/],
    ['"Digest" realm="r"', /scheme/],
    ['Digest realm', /"="/],
    ['Digest realm=', /value/],
    ['Digest realm="a", realm="b"', /duplicate/],
    ['Digest ,', /name/],
    ['Digest realm="unterminated', /unterminated/],
    ['Digest realm="r",, nonce="n"', /name/],
  ];
  for (const [value, reason] of cases) {
    const error = parseError(() => parseAuthHeader(value, 'www-authenticate', 64));
    assert.is(error.header, 'www-authenticate', value);
    assert.match(error.reason, reason, value);
  }
  assert.match(parseError(() => parseAuthHeader('Digest a=1, b=2, c=3', 'authorization', 2)).reason, /more than 2/);
});

test('a bad authentication header fails on access and in validateMessage, not in parseMessage', () => {
  const m = request(['WWW-Authenticate: Digest realm']);
  assert.is(parseError(() => m.wwwAuthenticate).header, 'www-authenticate');
  assert.is(parseError(() => validateMessage(m)).header, 'www-authenticate');
  // The 'uas' scope leaves the authentication headers to the registrar client.
  validateMessage(request(['WWW-Authenticate: Digest realm']), 'uas');
});

test.run();
