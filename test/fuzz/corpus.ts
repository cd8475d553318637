/**
 * Fuzz corpus: every RFC 4475 torture message (valid, invalid, semantic) and
 * every RFC 3665 / RFC 3261 s24 call-flow message, read as raw bytes (never
 * as strings: CRLF vs LF, NULs and non-UTF-8 bytes are part of the point),
 * plus one synthetic message that carries every header with a typed getter,
 * so that lazy header parsers are reached from the first mutation.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CorpusEntry {
  /** Path relative to test/fixtures/conformance, or "synthetic/...". */
  name: string;
  bytes: Uint8Array;
}

const FIXTURES = fileURLToPath(new URL('../fixtures/conformance/', import.meta.url));

function walk(dir: string, accept: (file: string) => boolean, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, accept, out);
    else if (accept(name)) out.push(full);
  }
}

const SYNTHETIC_ALL_HEADERS = [
  'INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8;rport;received=192.0.2.1',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>;expires=3600',
  'Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
  'Record-Route: <sip:p3.example.com;lr>',
  'Require: 100rel',
  'Proxy-Require: foo',
  'Supported: timer, path',
  'Unsupported: bar',
  'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE',
  'Accept: application/sdp, text/plain;q=0.5',
  'WWW-Authenticate: Digest realm="atlanta.example.com", nonce="84a4cc6f", qop="auth", algorithm=MD5',
  'Proxy-Authenticate: Digest realm="x", nonce="y", stale=TRUE',
  'Authorization: Digest username="alice", realm="atlanta.example.com", nonce="84a4cc6f", uri="sip:bob@biloxi.example.com", response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="0a4f113b"',
  'Proxy-Authorization: Digest username="alice", realm="x", nonce="y", uri="sip:b", response="0"',
  'Expires: 7200',
  'Min-Expires: 60',
  'Retry-After: 18000 (in a meeting);duration=3600',
  'Warning: 307 isi.example.com "Session parameter \'foo\' not understood"',
  'Date: Sat, 13 Nov 2010 23:29:00 GMT',
  'Subject: all headers',
  'Content-Type: application/sdp',
];
const SYNTHETIC_SDP = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 atlanta.example.com',
  's= ',
  'c=IN IP4 192.0.2.101',
  'b=AS:64',
  't=0 0',
  'a=group:BUNDLE a',
  'm=audio 49172/2 RTP/AVP 0 8 97',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:97 iLBC/8000',
  'a=fmtp:97 mode=30',
  'a=sendonly',
  'm=video 0 RTP/AVP 31',
  'c=IN IP6 ff00::1/3',
  '',
].join('\r\n');

function synthetic(): CorpusEntry {
  const body = new TextEncoder().encode(SYNTHETIC_SDP);
  const head = `${SYNTHETIC_ALL_HEADERS.join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n`;
  const bytes = new Uint8Array([...new TextEncoder().encode(head), ...body]);
  return { name: 'synthetic/all-headers.sip', bytes };
}

let cached: CorpusEntry[] | undefined;

export function loadCorpus(): CorpusEntry[] {
  if (cached !== undefined) return cached;
  const files: string[] = [];
  for (const folder of ['valid', 'invalid', 'semantic']) walk(join(FIXTURES, 'rfc4475', folder), (n) => n.endsWith('.dat'), files);
  walk(join(FIXTURES, 'rfc3665'), (n) => n.endsWith('.sip'), files);
  if (files.length === 0) throw new Error(`no corpus files under ${FIXTURES}`);
  cached = files.map((file) => ({ name: relative(FIXTURES, file), bytes: new Uint8Array(readFileSync(file)) }));
  cached.push(synthetic());
  return cached;
}
