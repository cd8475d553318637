/**
 * ResponseHead (src/transaction/response-head.ts): a server transaction's
 * reply() writes the same bytes, and reports the same To tag, as the parts
 * path respond(responseParts(...)) (tuResponse + withResponseVia), which it
 * replaces on the hot path.
 *
 * Covers: several Via fields (one with two values), received/rport on the
 * top one, a Via already right (no annotation), To with and without a tag,
 * our tag added or not, a 100 with Timestamp (and a 180 without), extra
 * headers including a Content-Length the caller should not have given,
 * string and byte bodies, a reason phrase, a request without To, and the
 * status check. Does not cover: sending (the server transaction tests).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage, type SipMessage } from '../../src/parser/index.ts';
import { ResponseHead } from '../../src/transaction/response-head.ts';
import { responseParts, responseVia, tuResponse, withResponseVia, type ResponseOptions } from '../../src/transaction/responses.ts';
import type { Endpoint, Received } from '../../src/transport/types.ts';

const LOCAL: Endpoint = { transport: 'udp', host: '192.0.2.10', port: 5060 };

function request(lines: string[], body = ''): SipMessage {
  return parseMessage(new TextEncoder().encode(`${lines.join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
}

const INVITE = request([
  'INVITE sip:bob@192.0.2.10 SIP/2.0',
  'Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK-top;rport, SIP/2.0/UDP 203.0.113.1;branch=z9hG4bK-second',
  'v: SIP/2.0/TCP 203.0.113.2:5080;branch=z9hG4bK-third',
  'Max-Forwards: 70',
  'From: "Alice" <sip:alice@example.com>;tag=a1',
  'To: <sip:bob@example.com>',
  'Call-ID: head-1@198.51.100.7',
  'CSeq: 7 INVITE',
  'Timestamp: 54.2 0.1',
  'Contact: <sip:alice@198.51.100.7:5070>',
]);

const IN_DIALOG_BYE = request([
  'BYE sip:bob@192.0.2.10 SIP/2.0',
  'Via: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK-bye',
  'Max-Forwards: 70',
  'From: <sip:alice@example.com>;tag=a1',
  'To: <sip:bob@example.com>;tag=b2',
  'Call-ID: head-1@198.51.100.7',
  'CSeq: 8 BYE',
]);

const NO_TO = request(['OPTIONS sip:bob@192.0.2.10 SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bK-opt', 'From: <sip:x@example.com>;tag=x', 'Call-ID: opt@x', 'CSeq: 1 OPTIONS']);

/** Received from `source`: a source unlike the sent-by makes received=/rport= (RFC 3581). */
function received(message: SipMessage, source: Endpoint): Received {
  return { message, source, local: LOCAL, flowId: undefined };
}

function viaParts(got: Received, status: number, options: ResponseOptions) {
  const via = responseVia(got);
  return tuResponse(withResponseVia(responseParts(got.message, status, options), via));
}

function headFor(got: Received) {
  return new ResponseHead(got.message, responseVia(got));
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

const CASES: Array<[name: string, got: Received, status: number, options: ResponseOptions]> = [
  ['100 with Timestamp, top Via annotated', received(INVITE, { transport: 'udp', host: '192.0.2.200', port: 40000 }), 100, {}],
  ['180 with our tag, Contact', received(INVITE, { transport: 'udp', host: '192.0.2.200', port: 40000 }), 180, { toTag: 'ours', headers: [['Contact', '<sip:bob@192.0.2.10>']] }],
  [
    '200 with SDP bytes, several headers, a stray Content-Length dropped',
    received(INVITE, { transport: 'udp', host: '198.51.100.7', port: 5070 }),
    200,
    { toTag: 'ours', headers: [['Contact', '<sip:bob@192.0.2.10>'], ['Content-Length', '999'], ['Content-Type', 'application/sdp']], body: new TextEncoder().encode('v=0\r\n') },
  ],
  ['486 with a reason and a string body', received(INVITE, { transport: 'udp', host: '198.51.100.7', port: 5070 }), 486, { toTag: 'ours', reason: 'Busy Here Now', body: 'caf\u00e9' }],
  ['200 to an in-dialog BYE: its To tag kept, ours not added', received(IN_DIALOG_BYE, { transport: 'udp', host: '198.51.100.7', port: 5070 }), 200, { toTag: 'ignored' }],
  ['a 1xx reports no To tag', received(IN_DIALOG_BYE, { transport: 'udp', host: '198.51.100.7', port: 5070 }), 183, {}],
  ['no To at all', received(NO_TO, { transport: 'udp', host: '192.0.2.99', port: 5060 }), 200, { toTag: 'x' }],
];

for (const [name, got, status, options] of CASES) {
  test(`same bytes and To tag as the parts path: ${name}`, () => {
    const expected = viaParts(got, status, options);
    const actual = headFor(got).response(status, options);
    assert.is(text(actual.bytes), text(expected.bytes));
    assert.equal([actual.type, actual.status, actual.toTag], [expected.type, expected.status, expected.toTag]);
  });
}

test('what the head writes, read back: every Via field in order (top annotated), our tag, the 100 Timestamp', () => {
  const got = received(INVITE, { transport: 'udp', host: '192.0.2.200', port: 40000 });
  const head = headFor(got);
  const trying = parseMessage(head.response(100, {}).bytes);
  assert.equal(
    trying.via.map((via) => [via.branch, via.received, via.rport]),
    [
      ['z9hG4bK-top', '192.0.2.200', 40000],
      ['z9hG4bK-second', null, null],
      ['z9hG4bK-third', null, null],
    ],
  );
  assert.is(trying.header('timestamp'), '54.2 0.1');
  assert.is(trying.to?.tag, null);
  const ringing = parseMessage(head.response(180, { toTag: 'ours' }).bytes);
  assert.is(ringing.to?.tag, 'ours');
  assert.is(ringing.header('timestamp'), undefined, 's8.2.6.1: the Timestamp goes into the 100 only');
  assert.equal([ringing.callId, ringing.cseq?.seq, ringing.from?.tag], ['head-1@198.51.100.7', 7, 'a1']);
});

test('a status outside 100-699 is refused as tuResponse refuses it', () => {
  const head = headFor(received(INVITE, { transport: 'udp', host: '198.51.100.7', port: 5070 }));
  for (const status of [99, 700, 200.5, Number.NaN]) assert.throws(() => head.response(status, {}), RangeError);
});

test.run();
