/**
 * parseMessage (src/parser/parse-message.ts) and the generic SipMessage
 * accessors (src/parser/message.ts).
 *
 * Covers: request and status lines (accepted and rejected forms, 505 for other
 * versions, reason phrases incl. UTF-8 and empty), leading CRLFs, CRLF and
 * LF-only line endings, folded headers, bare CR rejected, header names
 * (compact forms, any case, extension names, malformed), Content-Length
 * (absent in datagram and stream framing, larger than the body, conflicting,
 * repeated, folded, bytes after the body ignored, allowIncompleteBody), the
 * limits (maxMessageBytes -> 413, maxHeaders, maxHeaderBytes, start line ->
 * 414, maxListValues, maxParams), UTF-8 headers and bodies, header sections
 * longer than the first decode window, header()/headerFields()/headerValues()/
 * count()/has()/headers, and that only SipParseError escapes.
 * Not covered: typed header grammars (parser-headers, parser-via,
 * parser-name-addr), serialization (parser-serialize), stream framing
 * (parser-stream-framer).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LIMITS, parseMessage, SipParseError, validateMessage } from '../../src/parser/index.ts';
import type { ParseOptions, SipMessage } from '../../src/parser/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

const BASE = ['Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds', 'To: Bob <sip:bob@biloxi.com>', 'From: Alice <sip:alice@atlanta.com>;tag=1928301774', 'Call-ID: a84b4c76e66710@pc33.atlanta.com', 'CSeq: 314159 INVITE', 'Max-Forwards: 70'];

/** An INVITE with BASE headers, the extra ones, Content-Length and the body, joined with eol. */
function invite(options: { extra?: string[]; body?: string; eol?: string; startLine?: string; contentLength?: boolean } = {}): string {
  const body = options.body ?? '';
  const eol = options.eol ?? '\r\n';
  const length = options.contentLength === false ? [] : [`Content-Length: ${encoder.encode(body).length}`];
  return [options.startLine ?? 'INVITE sip:bob@biloxi.com SIP/2.0', ...BASE, ...(options.extra ?? []), ...length, '', body].join(eol);
}

function parseError(input: Uint8Array | string, options?: ParseOptions): SipParseError {
  try {
    parseMessage(typeof input === 'string' ? bytes(input) : input, options);
  } catch (error) {
    assert.instance(error, SipParseError);
    return error as SipParseError;
  }
  return assert.unreachable(`accepted: ${JSON.stringify(String(input).slice(0, 60))}`) as never;
}

const parse = (text: string, options?: ParseOptions): SipMessage => parseMessage(bytes(text), options);

// --- start lines ----------------------------------------------------------

test('request lines: method, Request-URI, version', () => {
  const cases: Array<[string, string, string]> = [
    ['INVITE sip:bob@biloxi.com SIP/2.0', 'INVITE', 'sip:bob@biloxi.com'],
    ['OPTIONS sips:[2001:db8::1]:5061;transport=tls SIP/2.0', 'OPTIONS', 'sips:[2001:db8::1]:5061;transport=tls'],
    ['MESSAGE tel:+1-201-555-0123 SIP/2.0', 'MESSAGE', 'tel:+1-201-555-0123'],
    ['NEWMETHOD urn:service:sos SIP/2.0', 'NEWMETHOD', 'urn:service:sos'],
    ['INVITE sip:bob@biloxi.com sip/2.0', 'INVITE', 'sip:bob@biloxi.com'], // version name is case-insensitive (RFC 3261 s7.1)
  ];
  for (const [line, method, uri] of cases) {
    const m = parse(`${line}\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`);
    assert.is(m.kind, 'request');
    assert.ok(m.isRequest);
    assert.is(m.method, method);
    assert.is(String(m.uri), uri);
    assert.is(m.version, 'SIP/2.0');
    assert.is(m.status, undefined);
    assert.is(m.startLine, `${method} ${uri} SIP/2.0`);
  }
});

test('status lines: code, reason phrase (empty, with spaces, UTF-8), version', () => {
  const cases: Array<[string, number, string]> = [
    ['SIP/2.0 200 OK', 200, 'OK'],
    ['SIP/2.0 100 Trying', 100, 'Trying'],
    ['SIP/2.0 100 ', 100, ''],
    ['SIP/2.0 699 Whatever', 699, 'Whatever'],
    ['SIP/2.0 486 Busy   Here\tnow', 486, 'Busy   Here\tnow'],
    ['SIP/2.0 200 Ça marche très bien', 200, 'Ça marche très bien'],
    ['SIP/2.0 200', 200, ''], // leniency: no SP and no phrase
  ];
  for (const [line, status, reason] of cases) {
    const m = parse(`${line}\r\nContent-Length: 0\r\n\r\n`);
    assert.is(m.kind, 'response');
    assert.not.ok(m.isRequest);
    assert.is(m.status, status);
    assert.is(m.reasonPhrase, reason);
    assert.is(m.method, undefined);
    assert.is(m.uri, undefined);
    assert.is(m.startLine, `SIP/2.0 ${status} ${reason}`);
  }
});

test('malformed start lines: 400 (505 for a well-formed other version)', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['OPTIONS', 400, /start line/],
    ['OPTIONS sip:x', 400, /Request-Line/],
    ['OPTIONS  sip:x SIP/2.0', 400, /more than one SP/],
    ['OPTIONS sip:x SIP/2.0 ', 400, /whitespace/],
    ['OPTIONS sip:x y SIP/2.0', 400, /whitespace/],
    ['OPTIONS sip:x\tsip SIP/2.0', 400, /character/],
    ['OPTIONS sip:é@x SIP/2.0', 400, /character/],
    ['OPT(ONS sip:x SIP/2.0', 400, /token/],
    ['OPTIONS <sip:x> SIP/2.0', 400, /<>/],
    ['OPTIONS sip:x?Route=y SIP/2.0', 400, /headers/],
    ['OPTIONS x SIP/2.0', 400, /scheme/],
    ['GET / HTTP/1.1', 400, /SIP-Version/],
    ['OPTIONS sip:x SIP/20', 400, /SIP-Version/],
    ['OPTIONS sip:x SIP/2.', 400, /SIP-Version/],
    ['OPTIONS sip:x SIP/3.0', 505, /3\.0/],
    ['OPTIONS sip:x SIP/2.1', 505, /2\.1/],
    ['SIP/7.0 200 OK', 505, /7\.0/],
    ['SIP/2.0', 400, /Status-Line/],
    ['SIP/2.0 20 OK', 400, /three digits/],
    ['SIP/2.0 2000 OK', 400, /three digits/],
    ['SIP/2.0 4294967301 better not break the receiver', 400, /three digits/],
    ['SIP/2.0 099 Low', 400, /below 100/],
    ['SIP/2.0 700 High', 400, /range|699/],
    ['SIP/2.0 2x0 OK', 400, /number/],
    ['SIP/2.0  200 OK', 400, /three digits/],
    ['SIP/2.0 200 O\x01K', 400, /control/],
  ];
  for (const [line, status, reason] of cases) {
    const error = parseError(`${line}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    assert.is(error.status, status, `${line}: ${error.message}`);
    assert.match(error.reason, reason, line);
  }
});

test('CRLFs before the start line are ignored (RFC 3261 s7.5); nothing but CRLFs is an error', () => {
  assert.is(parse(`\r\n\r\n\n${invite()}`).method, 'INVITE');
  for (const input of ['', '\r\n', '\r\n\r\n\n']) assert.match(parseError(input).reason, /empty/);
});

// --- line endings, folding, bare CR ------------------------------------------

test('LF-only line endings are accepted like CRLF', () => {
  const m = parse(invite({ eol: '\n', body: 'v=0\n' }));
  assert.is(m.callId, 'a84b4c76e66710@pc33.atlanta.com');
  assert.is(decoder.decode(m.body), 'v=0\n');
  assert.is(m.headerCount, 7);
  assert.equal(m.cseq, { seq: 314159, method: 'INVITE' });
});

test('folded headers (CRLF or LF followed by SP or HTAB) are unfolded to one SP each', () => {
  const m = parse(invite({ extra: ['Subject: I know you\'re there,\r\n\tpull up the car!\r\n   Now', 'X-Empty-Start:\r\n value on next line'] }));
  assert.is(m.header('subject'), "I know you're there, pull up the car! Now");
  // A value that starts on the continuation line has no leading whitespace.
  assert.is(m.header('x-empty-start'), 'value on next line');
  const lf = parse(invite({ eol: '\n', extra: ['Subject: a\n b'] }));
  assert.is(lf.header('s'), 'a b');
  // Eager headers fold too.
  const folded = parse(invite().replace('CSeq: 314159 INVITE', 'CSeq: 314159\r\n INVITE'));
  assert.equal(folded.cseq, { seq: 314159, method: 'INVITE' });
});

test('a continuation line before any header is rejected', () => {
  assert.match(parseError('INVITE sip:bob@biloxi.com SIP/2.0\r\n folded: x\r\n\r\n').reason, /continuation/);
});

test('a bare CR in the start line or header section is rejected; in the body it is data', () => {
  for (const input of [
    invite({ extra: ['Subject: a\rb'] }),
    invite({ startLine: 'INVITE sip:bob@biloxi.com\rSIP/2.0' }),
    invite().replace('Max-Forwards: 70\r\n', 'Max-Forwards: 70\r\r\n'),
  ]) {
    const error = parseError(input);
    assert.is(error.status, 400);
    assert.match(error.reason, /bare CR|character|whitespace|SIP-Version|malformed/);
    assert.ok(error.offset >= 0);
  }
  assert.match(parseError(invite({ extra: ['Subject: a\rb'] })).reason, /bare CR/);
  const m = parse(invite({ body: 'a\rb\nc\r\n' }));
  assert.equal([...m.body], [...bytes('a\rb\nc\r\n')]);
});

// --- header names --------------------------------------------------------------

test('header(): compact forms, any case, extension names, first of several; has() and count()', () => {
  const m = parse(
    invite({
      extra: ['X-Custom: one', 'x-custom: two', 'i: dup-call-id', 'S: hello', 'k: path', 'o: presence', 'u: dialog', 'r: <sip:x@y>', 'b: <sip:z@y>', 'x: 1800', 'e: gzip', 'NewFangledHeader  : spaced name'],
    }),
  );
  assert.is(m.header('Call-ID'), 'a84b4c76e66710@pc33.atlanta.com');
  assert.is(m.header('CALL-ID'), 'a84b4c76e66710@pc33.atlanta.com');
  assert.is(m.header('i'), 'a84b4c76e66710@pc33.atlanta.com');
  assert.is(m.header('I'), 'a84b4c76e66710@pc33.atlanta.com');
  assert.equal(m.headerFields('call-id'), ['a84b4c76e66710@pc33.atlanta.com', 'dup-call-id']);
  assert.is(m.count('Call-ID'), 2);
  assert.is(m.count('i'), 2);
  assert.is(m.header('x-CUSTOM'), 'one');
  assert.equal(m.headerFields('X-Custom'), ['one', 'two']);
  assert.is(m.header('subject'), 'hello');
  assert.is(m.header('supported'), 'path');
  assert.is(m.header('event'), 'presence');
  assert.is(m.header('allow-events'), 'dialog');
  assert.is(m.header('refer-to'), '<sip:x@y>');
  assert.is(m.header('referred-by'), '<sip:z@y>');
  assert.is(m.header('session-expires'), '1800');
  assert.is(m.header('content-encoding'), 'gzip');
  assert.is(m.header('NEWFANGLEDHEADER'), 'spaced name');
  assert.is(m.header('f'), 'Alice <sip:alice@atlanta.com>;tag=1928301774');
  assert.is(m.header('t'), 'Bob <sip:bob@biloxi.com>');
  assert.is(m.header('v'), BASE[0]!.slice(5));
  assert.is(m.header('l'), '0');
  assert.is(m.header('x-nope'), undefined);
  assert.is(m.header('Accept'), undefined);
  assert.ok(m.has('x-custom'));
  assert.not.ok(m.has('x-nope'));
  assert.not.ok(m.has('route'));
  assert.is(m.count('x-nope'), 0);
  assert.equal(m.headerFields('x-nope'), []);
});

test('typed lazy headers: read once and kept (the same value each read), absent ones undefined or empty each read, a malformed one throws on every read', () => {
  const m = parse(invite({ extra: ['Route: <sip:p1@x;lr>', 'Expires: 60', 'Require: 100rel'] }));
  assert.is(m.route, m.route);
  assert.is(m.route.length, 1);
  assert.is(m.expires, 60);
  assert.is(m.expires, 60);
  assert.equal(m.require, ['100rel']);
  assert.is(m.require, m.require);
  for (let read = 0; read < 2; read++) {
    assert.is(m.accept, undefined);
    assert.is(m.minExpires, undefined);
    assert.is(m.retryAfter, undefined);
    assert.equal(m.recordRoute, []);
    assert.equal(m.supported, []);
  }
  const bad = parse(invite({ extra: ['Expires: soon'] }));
  for (let read = 0; read < 2; read++) {
    try {
      void bad.expires;
      assert.unreachable('a malformed Expires was read');
    } catch (error) {
      assert.instance(error, SipParseError);
    }
  }
});

test('header names: compact forms of RFC 3841/4474 map to their full names', () => {
  const m = parse(invite({ extra: ['a: *;audio', 'j: *;video', 'd: proxy', 'y: abc', 'n: <https://x>;alg=rsa-sha1'] }));
  assert.is(m.header('accept-contact'), '*;audio');
  assert.is(m.header('reject-contact'), '*;video');
  assert.is(m.header('request-disposition'), 'proxy');
  assert.is(m.header('identity'), 'abc');
  assert.is(m.header('identity-info'), '<https://x>;alg=rsa-sha1');
  assert.equal(
    m.headers.slice(-6, -1).map((field) => field.canonical),
    ['accept-contact', 'reject-contact', 'request-disposition', 'identity', 'identity-info'],
  );
});

test('headers: every field in order with the name as written, canonical name and unfolded value', () => {
  const m = parse('SIP/2.0 200 OK\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\nX-A:  spaced  \r\nx-b: one,\r\n two\r\nl: 0\r\n\r\n');
  assert.equal(m.headers, [
    { name: 'v', canonical: 'via', value: 'SIP/2.0/UDP h;branch=z9hG4bK1' },
    { name: 'CSeq', canonical: 'cseq', value: '1 OPTIONS' },
    { name: 'X-A', canonical: 'x-a', value: 'spaced' },
    { name: 'x-b', canonical: 'x-b', value: 'one, two' },
    { name: 'l', canonical: 'content-length', value: '0' },
  ]);
  assert.is(m.headerCount, 5);
  assert.is(m.headers, m.headers);
});

test('headerValues(): splits on commas outside quotes and <>, across fields', () => {
  const m = parse(invite({ extra: ['Contact: "A, B" <sip:a@b>, <sip:c,d@e;x=1>', 'm: <sip:f@g>', 'Allow: INVITE, ACK,BYE', 'Subject: no list here'] }));
  assert.equal(m.headerValues('contact'), ['"A, B" <sip:a@b>', '<sip:c,d@e;x=1>', '<sip:f@g>']);
  assert.equal(m.headerValues('M'), m.headerValues('contact'));
  assert.equal(m.headerValues('allow'), ['INVITE', 'ACK', 'BYE']);
  assert.equal(m.headerValues('subject'), ['no list here']);
  assert.equal(m.headerValues('nope'), []);
  assert.throws(() => parse(invite({ extra: ['Allow: INVITE,,BYE'] })).headerValues('allow'), (error: unknown) => error instanceof SipParseError);
});

test('malformed header lines are rejected with an offset', () => {
  const cases: Array<[string, RegExp]> = [
    ['Garbage', /":"|header name/],
    ['Bad Name: x', /header name/],
    ['Bad(Name): x', /header name/],
    [': no name', /header name/],
  ];
  for (const [line, reason] of cases) {
    const error = parseError(invite({ extra: [line] }));
    assert.match(error.reason, reason, line);
    assert.ok(error.offset > 0, line);
  }
});

test('extension header names with token characters are accepted', () => {
  const m = parse(invite({ extra: ["extensionHeader-!.%*+_`'~: value", 'C%6Fntact: <sip:x@y>'] }));
  assert.is(m.header("EXTENSIONHEADER-!.%*+_`'~"), 'value');
  assert.is(m.header('C%6Fntact'), '<sip:x@y>');
  assert.is(m.count('contact'), 0);
});

// --- Content-Length and the body -----------------------------------------------

test('Content-Length frames the body; bytes after it are ignored (RFC 4475 s3.1.1.8)', () => {
  const m = parse(invite({ body: 'v=0\r\n' }) + 'JUNK AFTER THE BODY');
  assert.is(m.contentLength, 5);
  assert.is(decoder.decode(m.body), 'v=0\r\n');
  assert.not.ok(m.contentLengthMissing);
  assert.is(m.header('content-length'), '5');
});

test('no Content-Length: rest of the datagram, or no body with stream framing', () => {
  const text = invite({ contentLength: false, body: 'body bytes' });
  const datagram = parse(text);
  assert.ok(datagram.contentLengthMissing);
  assert.is(decoder.decode(datagram.body), 'body bytes');
  assert.is(datagram.contentLength, 10);
  const stream = parse(text, { framing: 'stream' });
  assert.ok(stream.contentLengthMissing);
  assert.is(stream.body.length, 0);
  assert.is(stream.contentLength, 0);
});

test('Content-Length larger than the body: 400, unless allowIncompleteBody', () => {
  const text = invite({ body: 'short' }).replace('Content-Length: 5', 'Content-Length: 50');
  const error = parseError(text);
  assert.is(error.status, 400);
  assert.match(error.reason, /Content-Length 50 is larger than the 5 bytes present/);
  const m = parse(text, { allowIncompleteBody: true });
  assert.is(m.contentLength, 50);
  assert.is(decoder.decode(m.body), 'short');
});

test('Content-Length forms: compact l, any case, folded, repeated with the same value, leading zeros', () => {
  const cases: Array<[string, number]> = [
    ['l: 4', 4],
    ['L:4', 4],
    ['CONTENT-LENGTH: 0004', 4],
    ['Content-Length:\r\n 4', 4],
    ['Content-Length: 4\r\nl: 4', 4],
  ];
  for (const [lines, length] of cases) {
    const m = parse(invite({ contentLength: false, extra: [lines], body: 'body' }));
    assert.is(m.contentLength, length, lines);
    assert.is(decoder.decode(m.body), 'body', lines);
  }
});

test('Content-Length: negative, non-numeric, huge or conflicting values are rejected', () => {
  const cases: Array<[string, RegExp]> = [
    ['Content-Length: -1', /number/],
    ['Content-Length: abc', /number/],
    ['Content-Length: 1 2', /number/],
    ['Content-Length: 99999999999', /range/],
    ['Content-Length:', /number/],
    ['Content-Length: 13\r\nContent-Length: 5', /conflicting Content-Length values 13 and 5/],
    ['l: 1\r\nContent-Length: 2', /conflicting/],
  ];
  for (const [lines, reason] of cases) {
    const error = parseError(invite({ contentLength: false, extra: [lines], body: 'There is no way to know' }));
    assert.is(error.status, 400, lines);
    assert.is(error.header, 'content-length', lines);
    assert.match(error.reason, reason, lines);
  }
});

test('a header section that does not end with an empty line: lenient for a datagram ending in LF, else rejected', () => {
  const noEmptyLine = 'OPTIONS sip:x SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n';
  const m = parse(noEmptyLine);
  assert.is(m.callId, 'x');
  assert.is(m.body.length, 0);
  assert.match(parseError(noEmptyLine, { framing: 'stream' }).reason, /empty line/);
  assert.match(parseError('OPTIONS sip:x SIP/2.0\r\nCall-ID: x').reason, /empty line/);
});

test('binary and UTF-8 bodies stay bytes; UTF-8 header values are decoded', () => {
  const body = Uint8Array.from([0, 1, 2, 0xff, 0xfe, 13, 10, 0x80]);
  const head = bytes(invite({ contentLength: false, extra: ['Subject: café ☕', 'Content-Type: application/octet-stream', `Content-Length: ${body.length}`] }));
  const input = new Uint8Array(head.length + body.length);
  input.set(head);
  input.set(body, head.length);
  const m = parseMessage(input);
  assert.equal([...m.body], [...body]);
  assert.is(m.header('subject'), 'café ☕');
  assert.is(m.callId, 'a84b4c76e66710@pc33.atlanta.com');
  // The body is a view of the input, not a copy.
  assert.is(m.body.buffer, input.buffer);
});

test('header sections longer than the first decode window (2 KiB), with UTF-8 after it', () => {
  const m = parse(invite({ extra: [`X-Long: ${'x'.repeat(3000)}`, 'Subject: café'], body: 'hello' }));
  assert.is(m.header('x-long')!.length, 3000);
  assert.is(m.header('subject'), 'café');
  assert.is(decoder.decode(m.body), 'hello');
  const many = parse(invite({ extra: Array.from({ length: 100 }, (_, k) => `X-H${k}: value-${k}`), body: 'é' }));
  assert.is(many.header('x-h99'), 'value-99');
  assert.is(decoder.decode(many.body), 'é');
});

test('CRLF messages with a start line longer than the decode window', () => {
  const user = 'a'.repeat(3000);
  const m = parse(invite({ startLine: `INVITE sip:${user}@example.com SIP/2.0`, body: 'X-Body: not a header\n' }));
  assert.is(m.uri!.user, user);
  assert.is(m.headerCount, 7);
  assert.is(m.header('x-body'), undefined);
  assert.is(decoder.decode(m.body), 'X-Body: not a header\n');
});

test('LF-only messages with a start line longer than the decode window', () => {
  const user = 'a'.repeat(3000);
  const m = parse(invite({ eol: '\n', startLine: `INVITE sip:${user}@example.com SIP/2.0`, body: 'hello' }));
  assert.is(m.uri!.user, user);
  assert.is(decoder.decode(m.body), 'hello');
});

// --- limits ----------------------------------------------------------------------

test('DEFAULT_LIMITS are the documented ones', () => {
  assert.is(DEFAULT_LIMITS.maxMessageBytes, 65535);
  assert.is(DEFAULT_LIMITS.maxHeaders, 256);
  assert.is(DEFAULT_LIMITS.maxStartLineBytes, 8192);
  assert.ok(Object.isFrozen(DEFAULT_LIMITS));
});

test('maxMessageBytes: a larger message is 413', () => {
  const text = invite({ body: 'x'.repeat(100) });
  const size = bytes(text).length;
  const error = parseError(text, { limits: { maxMessageBytes: size - 1 } });
  assert.is(error.status, 413);
  assert.match(error.reason, new RegExp(`${size} bytes exceeds the ${size - 1}-byte limit`));
  assert.is(parse(text, { limits: { maxMessageBytes: size } }).body.length, 100);
  assert.is(parseError(new Uint8Array(65536).fill(65)).status, 413);
});

test('maxHeaders: one more header field than the limit is rejected', () => {
  const text = invite({ extra: ['X-A: 1', 'X-B: 2'] }); // 6 + 2 + Content-Length = 9 fields
  assert.is(parse(text, { limits: { maxHeaders: 9 } }).headerCount, 9);
  const error = parseError(text, { limits: { maxHeaders: 8 } });
  assert.match(error.reason, /more than 8 header fields/);
  assert.ok(error.status === 400 || error.status === 413);
  const flood = invite({ extra: Array.from({ length: 300 }, (_, k) => `X-${k}: v`) });
  assert.match(parseError(flood).reason, /more than 256 header fields/);
});

test('maxHeaderBytes: a field longer than the limit, folded lines included, is rejected', () => {
  const long = invite({ extra: [`X-A: ${'a'.repeat(100)}`] });
  assert.match(parseError(long, { limits: { maxHeaderBytes: 50 } }).reason, /longer than 50 bytes/);
  assert.is(parse(long, { limits: { maxHeaderBytes: 200 } }).header('x-a')!.length, 100);
  const folded = invite({ extra: [`X-A: ${'a'.repeat(30)}\r\n ${'b'.repeat(30)}`] });
  assert.match(parseError(folded, { limits: { maxHeaderBytes: 50 } }).reason, /longer than 50 bytes/);
});

test('maxStartLineBytes: a longer start line is 414', () => {
  const error = parseError(invite(), { limits: { maxStartLineBytes: 10 } });
  assert.is(error.status, 414);
  assert.match(error.reason, /start line/);
});

test('maxListValues and maxParams apply to list headers and params', () => {
  const contacts = parse(invite({ extra: ['Contact: <sip:a@b>, <sip:c@d>, <sip:e@f>'] }), { limits: { maxListValues: 2 } });
  assert.throws(() => contacts.contact, (error: unknown) => error instanceof SipParseError && /more than 2 values/.test(error.reason));
  const params = parse(invite({ extra: ['Contact: <sip:a@b>;a;b;c'] }), { limits: { maxParams: 2 } });
  assert.throws(
    () => {
      params.contact.forEach((value) => 'params' in value && value.params);
    },
    (error: unknown) => error instanceof SipParseError && /more than 2 parameters/.test(error.reason),
  );
  const vias = invite({ extra: [`Via: ${Array.from({ length: 5 }, (_, k) => `SIP/2.0/UDP h${k}`).join(', ')}`] });
  assert.throws(
    () => {
      const m = parse(vias, { limits: { maxListValues: 4 } });
      validateMessage(m);
    },
    (error: unknown) => error instanceof SipParseError && error.header === 'via',
  );
  assert.is(parse(vias).via.length, 6);
});

test('limits passed to parseMessage are kept on the message', () => {
  const m = parse(invite(), { limits: { maxParams: 7 } });
  assert.is(m.limits.maxParams, 7);
  assert.is(m.limits.maxHeaders, DEFAULT_LIMITS.maxHeaders);
  assert.is(parse(invite()).limits, DEFAULT_LIMITS);
});

// --- errors ----------------------------------------------------------------------

test('SipParseError: name, status, reason, offset, header; message names the header', () => {
  const error = parseError(invite().replace('CSeq: 314159 INVITE', 'CSeq: x INVITE'));
  assert.is(error.name, 'SipParseError');
  assert.instance(error, Error);
  assert.is(error.status, 400);
  assert.is(error.header, 'cseq');
  assert.ok(error.message.startsWith('cseq: '));
  assert.ok(error.message.endsWith(error.reason));
  const direct = new SipParseError('plain');
  assert.equal([direct.status, direct.offset, direct.header, direct.message], [400, -1, undefined, 'plain']);
  const full = new SipParseError('too big', { status: 413, offset: 12, header: 'via' });
  assert.equal([full.status, full.offset, full.header, full.message], [413, 12, 'via', 'via: too big']);
});

test('only SipParseError escapes parseMessage, even for input that is not bytes', () => {
  for (const input of [undefined, null, 42, {}] as unknown[]) {
    const error = parseError(input as Uint8Array);
    assert.is(error.status, 400);
  }
});

test('random byte strings never throw anything but SipParseError', () => {
  let seed = 12345;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = bytes('INVITE sip:a@b SIP/2.0\r\n:;,<>"\\ \tVia: To: l: 0123456789%@[]');
  const valid = bytes(invite({ body: 'v=0\r\n' }));
  for (let round = 0; round < 500; round++) {
    const input = valid.slice();
    const edits = 1 + Math.floor(random() * 4);
    for (let k = 0; k < edits; k++) input[Math.floor(random() * input.length)] = alphabet[Math.floor(random() * alphabet.length)]!;
    try {
      const m = parseMessage(input);
      try {
        validateMessage(m);
      } catch (error) {
        assert.instance(error, SipParseError);
      }
    } catch (error) {
      assert.instance(error, SipParseError);
    }
  }
});

test.run();
