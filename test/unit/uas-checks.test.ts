/**
 * UAS request checks (RFC 3261 s8.2) over the RFC 4475 corpus and crafted
 * requests: what a UAS built on this stack answers before the application.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseMessage, SipParseError } from '../../src/parser/index.ts';
import { checkRequest, answerForParseError, ENDPOINT_POLICY } from '../../src/dialog/uas-checks.ts';

const corpus = 'test/fixtures/conformance/rfc4475';
const load = (file: string): Uint8Array => new Uint8Array(readFileSync(`${corpus}/${file}`));
const answerOf = (file: string): number | null => checkRequest(parseMessage(load(file)))?.status ?? null;

const request = (lines: string[], body = ''): Uint8Array =>
  new TextEncoder().encode(`${lines.join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);

const base = (method: string, extra: string[] = [], uri = 'sip:bob@example.com'): string[] => [
  `${method} ${uri} SIP/2.0`,
  'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1',
  'To: <sip:bob@example.com>',
  'From: <sip:alice@example.com>;tag=1',
  'Call-ID: c1',
  `CSeq: 1 ${method}`,
  'Max-Forwards: 70',
  ...extra,
];

test('RFC 4475 semantic messages get the answers the RFC describes for an endpoint', () => {
  assert.is(answerOf('semantic/insuf.dat'), 400); // no Call-ID, From, To
  assert.is(answerOf('semantic/multi01.dat'), 400); // two Call-IDs, Tos, Froms, CSeqs
  assert.is(answerOf('semantic/unkscm.dat'), 416);
  assert.is(answerOf('semantic/novelsc.dat'), 416);
  assert.is(answerOf('semantic/bext01.dat'), 420);
  assert.is(answerOf('semantic/invut.dat'), 415);
  assert.is(answerOf('semantic/sdp01.dat'), 406);
  assert.is(answerOf('semantic/regaut01.dat'), 405); // REGISTER at a UA that is not a registrar
  assert.is(answerOf('semantic/zeromf.dat'), null); // a UAS processes Max-Forwards 0 normally
  assert.is(answerOf('semantic/badbranch.dat'), null); // RFC 2543 fallback matching, not 400
  assert.is(answerOf('semantic/inv2543.dat'), null);
  assert.is(answerOf('valid/intmeth.dat'), 501); // unknown method
  assert.is(answerOf('valid/esc02.dat'), 501); // RE%47IST%45R is not REGISTER
  assert.is(answerOf('valid/wsinv.dat'), null);
  assert.is(answerOf('semantic/bcast.dat'), null); // a response: nothing to answer
});

test('420 lists the unknown option tags in Unsupported; Proxy-Require is for proxies', () => {
  const answer = checkRequest(parseMessage(load('semantic/bext01.dat')))!;
  assert.equal(answer.headers, [['Unsupported', 'nothingSupportsThis, nothingSupportsThisEither']]);
});

test('405 and 501 carry Allow', () => {
  const answer = checkRequest(parseMessage(request(base('SUBSCRIBE'))))!;
  assert.is(answer.status, 405);
  assert.equal(answer.headers, [['Allow', ENDPOINT_POLICY.allow.join(', ')]]);
  assert.is(checkRequest(parseMessage(request(base('FOO'))))!.status, 501);
});

test('duplicated single headers and a missing Via are 400', () => {
  assert.is(checkRequest(parseMessage(request(base('OPTIONS', ['Max-Forwards: 69']))))!.status, 400);
  const noVia = base('OPTIONS').filter((line) => !line.startsWith('Via'));
  assert.is(checkRequest(parseMessage(request(noVia)))!.status, 400);
});

test('a malformed lazily parsed header the UAS acts on is 400', () => {
  const answer = checkRequest(parseMessage(request(base('OPTIONS', ['Contact: <sip:a@b', 'Require: ']))));
  assert.is(answer?.status, 400);
});

test('Max-Forwards 0 is 483 only when the request would be forwarded', () => {
  const zero = base('INVITE').map((line) => (line.startsWith('Max-Forwards') ? 'Max-Forwards: 0' : line));
  assert.is(checkRequest(parseMessage(request(zero))), null);
  assert.is(checkRequest(parseMessage(request(zero)), { ...ENDPOINT_POLICY, forwarding: true })!.status, 483);
});

test('content checks: SDP accepted, unknown type and encoding refused, Accept honoured for INVITE', () => {
  const sdp = 'v=0\r\n';
  assert.is(checkRequest(parseMessage(request(base('INVITE', ['Content-Type: application/sdp']), sdp))), null);
  const gzip = checkRequest(parseMessage(request(base('INVITE', ['Content-Type: application/sdp', 'Content-Encoding: gzip']), sdp)));
  assert.is(gzip!.status, 415);
  assert.is(checkRequest(parseMessage(request(base('INVITE', ['Accept: application/*'])))), null);
  assert.is(checkRequest(parseMessage(request(base('OPTIONS', ['Accept: text/plain'])))), null); // only INVITE answers with SDP
  assert.is(checkRequest(parseMessage(request(base('INVITE', ['Accept: text/plain']))))!.status, 406);
});

test('answerForParseError carries the parser status', () => {
  try {
    parseMessage(load('invalid/badvers.dat'));
    assert.unreachable('badvers must not parse');
  } catch (error) {
    assert.instance(error, SipParseError);
    assert.is(answerForParseError(error as SipParseError).status, 505);
  }
});

test.run();
