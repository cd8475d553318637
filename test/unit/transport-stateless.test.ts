/**
 * The stateless answer to malformed requests (src/transport/raw-headers.ts,
 * stateless-reply.ts).
 *
 * Covers: the tolerant reader of start line kind, Via/From/To/Call-ID/CSeq
 * lines (compact forms, folding, bare LF, garbage), the lenient top-Via
 * parser (IPv6, rport empty/valued, received, branch, multi-value fields),
 * and the reply decision: status copied, Via annotated (received/rport), To
 * tag added once, target per s18.2.2 + RFC 3581; responses, ACKs, non-SIP
 * and Via-less requests dropped.
 * Not covered: sending it (integration tests on sockets).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from '../../src/parser/index.ts';
import { firstValue, parseRawVia, readRawHeaders } from '../../src/transport/raw-headers.ts';
import { statelessReply } from '../../src/transport/stateless-reply.ts';
import type { Endpoint } from '../../src/transport/types.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const src: Endpoint = { transport: 'udp', host: '192.0.2.7', port: 40000 };

test('readRawHeaders: request with compact forms and folding', () => {
  const raw = readRawHeaders(
    enc(
      'INVITE sip:bob@example.com SIP/2.0\r\n' +
        'v: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1\r\n' +
        'Via: SIP/2.0/TCP proxy.example.com\r\n' +
        'f: <sip:alice@example.com>;tag=a\r\n' +
        't: <sip:bob@example.com>\r\n' +
        'i: abc@host\r\n' +
        'CSeq: 1\r\n INVITE\r\n' +
        'Content-Length: 99999\r\n\r\nbody',
    ),
  );
  assert.is(raw.kind, 'request');
  assert.is(raw.method, 'INVITE');
  assert.equal(raw.via, ['SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1', 'SIP/2.0/TCP proxy.example.com']);
  assert.is(raw.from, '<sip:alice@example.com>;tag=a');
  assert.is(raw.to, '<sip:bob@example.com>');
  assert.is(raw.callId, 'abc@host');
  assert.is(raw.cseq, '1 INVITE');
});

test('readRawHeaders: response, garbage, bare LF, lines without colon, first value kept', () => {
  assert.is(readRawHeaders(enc('SIP/2.0 200 OK\r\nVia: x\r\n\r\n')).kind, 'response');
  const garbage = readRawHeaders(enc('\x00\x01\x02'));
  assert.is(garbage.kind, undefined);
  assert.equal(garbage.via, []);
  const lf = readRawHeaders(enc('\r\n\r\nOPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4\nnot a header\nCall-ID: one\ni: two\n\nVia: in body\n'));
  assert.is(lf.method, 'OPTIONS');
  assert.equal(lf.via, ['SIP/2.0/UDP 1.2.3.4']);
  assert.is(lf.callId, 'one');
  assert.is(readRawHeaders(enc('')).kind, undefined);
  // A continuation line before any header is kept as its own (colon-less) line.
  assert.equal(readRawHeaders(enc('BYE sip:x SIP/2.0\r\n folded\r\nVia: a\r\n\r\n')).via, ['a']);
});

test('readRawHeaders: big messages are read without a stack overflow', () => {
  const big = 'MESSAGE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n' + 'X: y\r\n'.repeat(20000) + '\r\n';
  assert.equal(readRawHeaders(enc(big)).via, ['SIP/2.0/UDP 1.2.3.4']);
});

test('parseRawVia: hosts, ports, params', () => {
  const v = parseRawVia('SIP/2.0/udp 192.0.2.7:5070;branch=z9hG4bKx;rport;received=10.0.0.1')!;
  assert.is(v.transport, 'UDP');
  assert.is(v.host, '192.0.2.7');
  assert.is(v.port, 5070);
  assert.is(v.rport, true);
  assert.is(v.received, '10.0.0.1');
  assert.is(v.branch, 'z9hG4bKx');
  const v6 = parseRawVia(' SIP / 2.0 / TCP [2001:db8::1] : 5080 ; rport=1234, SIP/2.0/UDP other')!;
  assert.is(v6.host, '[2001:db8::1]');
  assert.is(v6.port, 5080);
  assert.is(v6.rport, 1234);
  assert.is(parseRawVia('SIP/2.0/UDP host.example.com')!.port, null);
  assert.is(parseRawVia('SIP/2.0/UDP h;rport=abc')!.rport, true);
  assert.is(parseRawVia('SIP/2.0/UDP h;rport=')!.rport, true);
  assert.is(parseRawVia('garbage'), undefined);
  assert.is(parseRawVia('SIP/2.0/UDP h:99999'), undefined);
  assert.is(parseRawVia(''), undefined);
});

test('firstValue: commas inside quotes do not split', () => {
  assert.is(firstValue('SIP/2.0/UDP a;x="1,2\\"", SIP/2.0/UDP b'), 'SIP/2.0/UDP a;x="1,2\\""');
  assert.is(firstValue('one'), 'one');
});

const BAD_CL =
  'OPTIONS sip:bob@example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 10.1.1.1:5062;branch=z9hG4bKbad;rport, SIP/2.0/UDP 10.9.9.9\r\n' +
  'Via: SIP/2.0/TCP second.example.com\r\n' +
  'From: <sip:alice@example.com>;tag=fa\r\n' +
  'To: <sip:bob@example.com;tag=uri-param>\r\n' +
  'Call-ID: bad-cl@x\r\n' +
  'CSeq: 7 OPTIONS\r\n' +
  'Content-Length: abc\r\n\r\n';

test('statelessReply: 400 with Via annotated, To tag added, sent to source (rport)', () => {
  let status = 0;
  try {
    parseMessage(enc(BAD_CL));
  } catch (error) {
    status = (error as { status: number }).status;
  }
  assert.is(status, 400);
  const decision = statelessReply(enc(BAD_CL), src, status, 'tag123');
  assert.is(decision.action, 'reply');
  if (decision.action !== 'reply') return;
  const reply = parseMessage(decision.reply.bytes);
  assert.is(reply.status, 400);
  assert.is(reply.reasonPhrase, 'Bad Request');
  assert.equal(reply.headerFields('via'), [
    'SIP/2.0/UDP 10.1.1.1:5062;branch=z9hG4bKbad;rport=40000;received=192.0.2.7, SIP/2.0/UDP 10.9.9.9',
    'SIP/2.0/TCP second.example.com',
  ]);
  assert.is(reply.to?.tag, 'tag123');
  assert.is(reply.from?.tag, 'fa');
  assert.is(reply.callId, 'bad-cl@x');
  assert.is(reply.header('cseq'), '7 OPTIONS');
  assert.equal(decision.reply.target, { transport: 'udp', host: '192.0.2.7', port: 40000 });
});

test('statelessReply: 505 kept, existing To tag kept, no rport -> sent-by port', () => {
  const msg =
    'OPTIONS sip:x SIP/7.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bKv\r\nFrom: <sip:a@x>;tag=1\r\n' +
    'To: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
  const decision = statelessReply(enc(msg), src, 505, 'zzz');
  if (decision.action !== 'reply') throw new Error('expected reply');
  const text = dec(decision.reply.bytes);
  assert.ok(text.startsWith('SIP/2.0 505 Version Not Supported\r\n'));
  assert.ok(text.includes('To: <sip:b@x>;tag=2\r\n'));
  assert.not.ok(text.includes('zzz'));
  // Same host as the source and no rport: nothing added, sent to the sent-by port.
  assert.ok(text.includes('Via: SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bKv\r\n'));
  assert.equal(decision.reply.target, { transport: 'udp', host: '192.0.2.7', port: 5099 });
});

test('statelessReply: odd statuses become 400; a To without <> gets a tag', () => {
  const msg = 'MESSAGE sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h.example.com\r\nTo: sip:b@x\r\n\r\n';
  const decision = statelessReply(enc(msg), { transport: 'tcp', host: '::1', port: 1234 }, 200, 't');
  if (decision.action !== 'reply') throw new Error('expected reply');
  const text = dec(decision.reply.bytes);
  assert.ok(text.startsWith('SIP/2.0 400 '));
  assert.ok(text.includes('To: sip:b@x;tag=t\r\n'));
  assert.ok(text.includes('Via: SIP/2.0/TCP h.example.com;received=::1\r\n'));
  assert.equal(decision.reply.target, { transport: 'tcp', host: '::1', port: 5060 });
});

test('statelessReply: drops responses, ACKs, non-SIP and requests without a readable Via', () => {
  const drop = (s: string): string | undefined => {
    const d = statelessReply(enc(s), src, 400, 't');
    return d.action === 'drop' ? d.why : undefined;
  };
  assert.is(drop('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4\r\nContent-Length: x\r\n\r\n'), 'response');
  assert.is(drop('ACK sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n'), 'ack');
  assert.is(drop('\x16\x03\x01 binary'), 'not-sip');
  assert.is(drop('INVITE sip:x SIP/2.0\r\nFrom: a\r\n\r\n'), 'no-via');
  assert.is(drop('INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n'), 'no-via');
});

test.run();
