/**
 * Regression tests for the parser bugs listed in test/conformance/KNOWN-BUGS.md
 * (all fixed): Content-Length given as "L", UTF-8 through the string entry
 * points, folds inside quoted values, and precise reasons for baddn/badaspec.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { formatMessage, parseAuthHeader, parseMessage, parseNameAddr, validateMessage } from '../../src/parser/index.ts';

const text = new TextDecoder();
const request = (extra: string[]): ReturnType<typeof parseMessage> =>
  parseMessage(
    new TextEncoder().encode(
      [
        'OPTIONS sip:bob@example.com SIP/2.0',
        'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
        'To: <sip:bob@example.com>',
        'From: <sip:alice@example.com>;tag=1',
        'Call-ID: c1',
        'CSeq: 1 OPTIONS',
        ...extra,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    ),
  );

test('formatMessage drops a Content-Length given as compact L in any case', () => {
  const bytes = formatMessage({ method: 'OPTIONS', uri: 'sip:a@b', headers: [['L', '9'], ['l', '7'], ['CSeq', '1 OPTIONS']], body: 'hello' });
  assert.is(text.decode(bytes), 'OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 5\r\n\r\nhello');
});

test('string entry points handle UTF-8', () => {
  const n = parseNameAddr('"José" <sip:jose@example.com>;tag=12', 'from', 64);
  assert.equal([n.displayName, n.tag, String(n.uri)], ['José', '12', 'sip:jose@example.com']);
  assert.is(parseNameAddr('Zoë <sip:zoe@example.com>;tag=a1b2', 'from', 64).tag, 'a1b2');
  assert.equal(Object.fromEntries(parseAuthHeader('Digest realm="Büro", nonce="abc"', 'www-authenticate', 64).params), { realm: 'Büro', nonce: 'abc' });
});

test('folds inside quoted param values, comments and auth raw text are undone', () => {
  assert.is(request(['Retry-After: 5 (a\r\n b)']).retryAfter!.comment, 'a b');
  assert.is(request(['Contact: <sip:a@b>;x="a\r\n b"']).contact.length, 1);
  const contact = request(['Contact: <sip:a@b>;x="a\r\n b"']).contact[0] as { params: Map<string, string | null> };
  assert.is(contact.params.get('x'), '"a b"');
  assert.is(request(['Authorization: Digest realm="a"\r\n nonce="b"']).authorization[0]!.raw, 'realm="a" nonce="b"');
});

test('baddn and badaspec are rejected with reasons that name the fault', () => {
  const corpus = 'test/fixtures/conformance/rfc4475/invalid';
  for (const [file, reason] of [
    ['baddn.dat', /display name/],
    ['badaspec.dat', /whitespace inside <>/],
  ] as const) {
    try {
      validateMessage(parseMessage(new Uint8Array(readFileSync(`${corpus}/${file}`))));
      assert.unreachable(`${file} must be rejected`);
    } catch (error) {
      assert.match((error as Error).message, reason);
    }
  }
});

test.run();
