/**
 * StreamFramer (src/parser/stream-framer.ts): cutting a TCP/TLS byte stream
 * into messages (RFC 3261 s18.3) with CRLF keep-alives (RFC 5626 s4.4.1).
 *
 * Covers: several messages in one chunk, a message split byte by byte and in
 * odd-sized chunks, Content-Length (full name, compact, any case, absent = no
 * body), LF-only messages, CRLF keep-alives (double CRLF = ping, single CRLF
 * = pong, split across chunks), stray LFs, frames that parseMessage accepts
 * with stream framing, the errors (Content-Length over the limit -> 413, a
 * header section that never ends -> 413, conflicting/malformed/huge
 * Content-Length -> 400, a bare CR between messages) after which the framer
 * stays failed, and buffer bookkeeping.
 * Not covered: sockets and connection handling (src/transport).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage, SipParseError, StreamFramer } from '../../src/parser/index.ts';
import type { FrameEvent } from '../../src/parser/index.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

const M1 = 'OPTIONS sip:bob@biloxi.com SIP/2.0\r\nCall-ID: one\r\nCSeq: 1 OPTIONS\r\nContent-Length: 5\r\n\r\nhello';
const M2 = 'SIP/2.0 200 OK\r\nCall-ID: two\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n';
const M3 = 'MESSAGE sip:bob@biloxi.com SIP/2.0\r\nCall-ID: three\r\nCSeq: 2 MESSAGE\r\ncontent-length  :  3 \r\n\r\nabc';

/** Events as short strings: M:<text>, ping, pong, E:<status> <reason>. */
function describe(events: FrameEvent[]): string[] {
  return events.map((event) => {
    switch (event.type) {
      case 'message':
        return `M:${decoder.decode(event.bytes)}`;
      case 'error':
        return `E:${event.error.status} ${event.error.reason}`;
      default:
        return event.type;
    }
  });
}

function pushAll(framer: StreamFramer, chunks: Array<string | Uint8Array>): string[] {
  const events: FrameEvent[] = [];
  for (const chunk of chunks) events.push(...framer.push(typeof chunk === 'string' ? bytes(chunk) : chunk));
  return describe(events);
}

test('several messages and keep-alives in one chunk', () => {
  const framer = new StreamFramer();
  assert.equal(pushAll(framer, [M1 + M2 + '\r\n\r\n' + M3 + '\r\n']), [`M:${M1}`, `M:${M2}`, 'ping', `M:${M3}`, 'pong']);
  assert.is(framer.buffered, 0);
  assert.not.ok(framer.failed);
});

test('a message split byte by byte comes out once, whole', () => {
  const framer = new StreamFramer();
  const all = bytes(M1 + M2);
  const events: FrameEvent[] = [];
  for (let i = 0; i < all.length; i++) {
    const out = framer.push(all.subarray(i, i + 1));
    events.push(...out);
    // Nothing comes out before the last byte of each message.
    if (i < bytes(M1).length - 1) assert.is(out.length, 0);
  }
  assert.equal(describe(events), [`M:${M1}`, `M:${M2}`]);
  assert.is(framer.buffered, 0);
});

test('odd chunk sizes across a large body and buffer growth', () => {
  const body = 'z'.repeat(10000);
  const message = `OPTIONS sip:x SIP/2.0\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  for (const size of [1, 7, 777, 4096, 20000]) {
    const framer = new StreamFramer();
    const all = bytes(message + M2);
    const events: FrameEvent[] = [];
    for (let i = 0; i < all.length; i += size) events.push(...framer.push(all.subarray(i, i + size)));
    assert.equal(describe(events), [`M:${message}`, `M:${M2}`], `chunks of ${size}`);
  }
});

test('a pipelining peer (always a partial message pending) keeps the buffer bounded; an idle one gives a large buffer up', () => {
  const framer = new StreamFramer();
  const one = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n';
  const stream = encoder.encode(one.repeat(20_000));
  let messages = 0;
  let most = 0;
  // 64 KiB chunks that cut messages anywhere, as a socket delivers them.
  for (let at = 0; at < stream.length; at += 65536) {
    for (const event of framer.push(stream.subarray(at, at + 65536))) if (event.type === 'message') messages++;
    most = Math.max(most, framer.allocated);
  }
  assert.is(messages, 20_000);
  assert.ok(most <= 4 * 65536, `at most ${most} bytes allocated`);
  // A 60 KB message, then nothing pending: the buffer it needed is given up.
  const big = encoder.encode(`MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 60000\r\n\r\n${'x'.repeat(60_000)}`);
  const idle = new StreamFramer();
  idle.push(big.subarray(0, 40_000));
  assert.ok(idle.allocated >= 40_000);
  assert.is(idle.push(big.subarray(40_000)).length, 1);
  assert.is(idle.allocated, 0);
});

test('append + next: the events one at a time, framed only as they are taken', () => {
  const framer = new StreamFramer();
  framer.append(bytes(M1 + '\r\n\r\n' + M2 + M3.slice(0, 20)));
  const first = framer.next();
  assert.is(first?.type, 'message');
  assert.ok(framer.buffered > M2.length, 'the rest is still held, unframed');
  assert.equal(describe([framer.next()!, framer.next()!]), ['ping', `M:${M2}`]);
  assert.is(framer.next(), undefined, 'a partial message waits');
  framer.append(bytes(M3.slice(20)));
  assert.equal(describe([framer.next()!]), [`M:${M3}`]);
  assert.is(framer.next(), undefined);
});

test('partial input waits: buffered counts the held bytes', () => {
  const framer = new StreamFramer();
  assert.equal(framer.push(bytes(M1.slice(0, 50))), []);
  assert.is(framer.buffered, 50);
  assert.equal(describe(framer.push(bytes(M1.slice(50)))), [`M:${M1}`]);
  assert.is(framer.buffered, 0);
});

test('frames are copies: reusing the input chunk does not change them', () => {
  const framer = new StreamFramer();
  const chunk = bytes(M1);
  const [event] = framer.push(chunk);
  chunk.fill(0);
  assert.is(event!.type, 'message');
  assert.is(decoder.decode((event as { bytes: Uint8Array }).bytes), M1);
});

test('no Content-Length on a stream means no body', () => {
  const noLength = 'OPTIONS sip:x SIP/2.0\r\nCall-ID: a\r\n\r\n';
  const framer = new StreamFramer();
  const events = framer.push(bytes(noLength + M2));
  assert.equal(describe(events), [`M:${noLength}`, `M:${M2}`]);
  const m = parseMessage((events[0] as { bytes: Uint8Array }).bytes, { framing: 'stream' });
  assert.is(m.body.length, 0);
  assert.ok(m.contentLengthMissing);
});

test('Content-Length names: full, compact l/L, any case, spaces before the colon; other names starting with c/l ignored', () => {
  const variants = [
    'Content-Length: 3',
    'CONTENT-LENGTH:3',
    'l: 3',
    'L :3',
    'content-length\t: 3',
  ];
  for (const line of variants) {
    const message = `OPTIONS sip:x SIP/2.0\r\nContent-Type: a/b\r\nLx: 9\r\nContent-Length-X: 9\r\nC: a/b\r\n${line}\r\n\r\nabc`;
    const framer = new StreamFramer();
    assert.equal(pushAll(framer, [message + M2]), [`M:${message}`, `M:${M2}`], line);
  }
});

test('LF-only messages are framed too', () => {
  const a = 'OPTIONS sip:b@x SIP/2.0\nContent-Length: 2\n\nhi';
  const b = 'SIP/2.0 200 OK\nl:0\n\n';
  assert.equal(pushAll(new StreamFramer(), [a + b]), [`M:${a}`, `M:${b}`]);
});

test('keep-alives: CRLFCRLF is a ping, CRLF a pong, also when split across chunks', () => {
  assert.equal(pushAll(new StreamFramer(), ['\r\n\r\n']), ['ping']);
  assert.equal(pushAll(new StreamFramer(), ['\r\n']), ['pong']);
  assert.equal(pushAll(new StreamFramer(), ['\r\n\r', '\n']), ['ping']);
  assert.equal(pushAll(new StreamFramer(), ['\r', '\n\r\n']), ['ping']);
  assert.equal(pushAll(new StreamFramer(), ['\r\n' + M2]), ['pong', `M:${M2}`]);
  assert.equal(pushAll(new StreamFramer(), ['\r\n\r\n\r\n\r\n']), ['ping', 'ping']);
  assert.equal(pushAll(new StreamFramer(), [M2 + '\r\n\r\n', '\r\n']), [`M:${M2}`, 'ping', 'pong']);
  // A lone CR waits for its LF.
  const framer = new StreamFramer();
  assert.equal(framer.push(bytes('\r')), []);
  assert.is(framer.buffered, 1);
  assert.equal(describe(framer.push(bytes('\n'))), ['pong']);
});

test('stray LFs between messages are dropped', () => {
  assert.equal(pushAll(new StreamFramer(), ['\n\n' + M2 + '\n']), [`M:${M2}`]);
});

test('a bare CR between messages is a framing error', () => {
  for (const input of ['\rX', '\r\r\n', `${M2}\rOPTIONS`]) {
    const framer = new StreamFramer({ maxMessageBytes: 1000 });
    const events = framer.push(bytes(input));
    const last = events[events.length - 1];
    assert.ok(last !== undefined && last.type === 'error', JSON.stringify(input));
    assert.ok(framer.failed);
  }
});

test('Content-Length over maxMessageBytes: 413 error event at once, then the framer stays failed', () => {
  const framer = new StreamFramer({ maxMessageBytes: 1000 });
  const events = framer.push(bytes('OPTIONS sip:b@x SIP/2.0\r\nContent-Length: 5000\r\n\r\n'));
  assert.is(events.length, 1);
  const event = events[0]!;
  assert.is(event.type, 'error');
  const error = (event as { error: SipParseError }).error;
  assert.instance(error, SipParseError);
  assert.is(error.status, 413);
  assert.match(error.reason, /exceeds the 1000-byte limit/);
  assert.ok(framer.failed);
  assert.is(framer.buffered, 0);
  assert.equal(framer.push(bytes(M2)), []);
});

test('a header section that never ends: 413 error event once more than maxMessageBytes are held', () => {
  const framer = new StreamFramer({ maxMessageBytes: 200 });
  assert.equal(framer.push(bytes('OPTIONS sip:b@x SIP/2.0\r\n')), []);
  assert.equal(framer.push(bytes(`X-A: ${'a'.repeat(100)}\r\n`)), []);
  const events = framer.push(bytes(`X-B: ${'b'.repeat(100)}\r\n`));
  assert.equal(describe(events).map((line) => line.slice(0, 6)), ['E:413 ']);
  assert.ok(framer.failed);
});

test('default limit: 65535 bytes', () => {
  const framer = new StreamFramer();
  assert.equal(framer.push(bytes(`OPTIONS sip:x SIP/2.0\r\nContent-Length: ${65535 - 100}\r\n\r\n`)), []);
  const over = new StreamFramer();
  assert.is(over.push(bytes('OPTIONS sip:x SIP/2.0\r\nContent-Length: 65536\r\n\r\n'))[0]!.type, 'error');
});

test('conflicting, malformed and huge Content-Length values are errors (400)', () => {
  const cases: Array<[string, RegExp]> = [
    ['Content-Length: 5\r\nl: 4', /conflicting Content-Length values 5 and 4/],
    ['Content-Length: -5', /malformed/],
    ['Content-Length: 5x', /malformed/],
    ['Content-Length:', /malformed/],
    ['Content-Length: 99999999999', /range/],
  ];
  for (const [lines, reason] of cases) {
    const framer = new StreamFramer();
    const events = framer.push(bytes(`OPTIONS sip:b@x SIP/2.0\r\n${lines}\r\n\r\nhello`));
    assert.is(events.length, 1, lines);
    const error = (events[0] as { type: 'error'; error: SipParseError }).error;
    assert.is(events[0]!.type, 'error', lines);
    assert.is(error.status, 400, lines);
    assert.is(error.header, 'content-length', lines);
    assert.match(error.reason, reason, lines);
    assert.ok(framer.failed);
  }
});

test('the same Content-Length twice is fine', () => {
  const message = 'OPTIONS sip:b@x SIP/2.0\r\nContent-Length: 5\r\nl: 5\r\n\r\nhello';
  assert.equal(pushAll(new StreamFramer(), [message]), [`M:${message}`]);
});

test('every frame parses with stream framing, body exactly Content-Length', () => {
  const framer = new StreamFramer();
  const events = framer.push(bytes(M1 + M2 + M3));
  const parsed = events.map((event) => parseMessage((event as { bytes: Uint8Array }).bytes, { framing: 'stream' }));
  assert.equal(parsed.map((m) => m.callId), ['one', 'two', 'three']);
  assert.equal(parsed.map((m) => decoder.decode(m.body)), ['hello', '', 'abc']);
});

test.run();
