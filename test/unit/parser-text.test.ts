/**
 * Text helpers of the parser (src/parser/text.ts, quote in scan.ts).
 *
 * Covers: encodeUtf8 and encodeUtf8WithTail give TextEncoder's bytes for ASCII,
 * Latin-1, BMP, astral and lone-surrogate text, short and long, also across
 * the shared chunks the bytes are handed out from (earlier results stay
 * intact); ownedBytes and keptBytes copies (own buffer, kept chunks); quote's output on values with and without '"' and '\'.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quote } from '../../src/parser/index.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeUtf8, encodeUtf8WithTail, keptBytes, ownedBytes, ownedString } from '../../src/parser/text.ts';

const reference = new TextEncoder();

/** Sample texts: every kind of UTF-16 content, each at several lengths. */
function samples(): string[] {
  const pieces = [
    'REGISTER sip:example.com SIP/2.0\r\n', // ASCII
    '\u0000\u007f', // ASCII edges
    'J\u00e4ger \u00ff\u0080', // Latin-1
    '\u20ac \u65e5\u672c \uffff \u0800\u07ff', // BMP, 2- and 3-byte edges
    '\ud834\udd1e \ud83d\ude00', // astral: surrogate pairs (4 bytes)
    '\ud800', // lone high surrogate
    '\udc00', // lone low surrogate
    '\udc00\ud800', // reversed pair: two lone surrogates
    'x\ud83d', // high surrogate at the end
  ];
  const texts = ['', ...pieces];
  for (const piece of pieces) {
    for (const length of [47, 48, 49, 100, 700, 5000, 9000]) {
      let text = '';
      while (text.length < length) text += piece + 'ab';
      texts.push(text.slice(0, length)); // may cut a pair: more lone surrogates
      texts.push('a'.repeat(length) + piece); // ASCII with one odd char at the end
    }
  }
  return texts;
}

const equalBytes = (actual: Uint8Array, expected: Uint8Array, label: string): void => {
  assert.is(actual.length, expected.length, `${label}: length`);
  assert.ok(actual.every((byte, i) => byte === expected[i]), `${label}: bytes`);
};

test('encodeUtf8: the bytes of TextEncoder for every kind of text', () => {
  for (const text of samples()) equalBytes(encodeUtf8(text), reference.encode(text), JSON.stringify(text.slice(0, 30)));
});

test('encodeUtf8WithTail: the text bytes followed by the tail', () => {
  const tails = [new Uint8Array(0), Uint8Array.from([1, 2, 3]), new Uint8Array(5000).fill(0xee)];
  for (const text of samples()) {
    for (const tail of tails) {
      const head = reference.encode(text);
      const expected = new Uint8Array(head.length + tail.length);
      expected.set(head);
      expected.set(tail, head.length);
      equalBytes(encodeUtf8WithTail(text, tail), expected, `${JSON.stringify(text.slice(0, 30))} + ${tail.length}`);
    }
  }
});

test('encodeUtf8: results sharing a chunk stay intact', () => {
  // Enough messages to fill several chunks; each must keep its own bytes.
  const texts = Array.from({ length: 200 }, (_, i) => `SIP/2.0 200 OK\r\nCSeq: ${i} REGISTER\r\n${'v'.repeat(i * 7)}\r\n\r\n`);
  const encoded = texts.map((text) => encodeUtf8(text));
  texts.forEach((text, i) => equalBytes(encoded[i]!, reference.encode(text), `message ${i}`));
});

test('quote: wraps in quotes, escaping only " and \\', () => {
  assert.is(quote(''), '""');
  assert.is(quote('alice'), '"alice"');
  assert.is(quote('Z0000b2c8e0c5a1d9f3e7a4b6c8d0e2f4a6b8'), '"Z0000b2c8e0c5a1d9f3e7a4b6c8d0e2f4a6b8"');
  assert.is(quote("a b;c=d,e'f"), '"a b;c=d,e\'f"');
  assert.is(quote('J\u00e4ger \ud83d\ude00'), '"J\u00e4ger \ud83d\ude00"');
  assert.is(quote('say "hi"'), '"say \\"hi\\""');
  assert.is(quote('back\\slash'), '"back\\\\slash"');
  assert.is(quote('\\"'), '"\\\\\\""');
  assert.is(quote('"'), '"\\""');
  assert.is(quote('\\'), '"\\\\"');
  assert.is(quote('end\\'), '"end\\\\"');
});

test('ownedBytes: a pooled view becomes a copy that owns exactly its bytes; an owning array is returned as is', () => {
  const pooled = encodeUtf8('SIP/2.0 200 OK\r\n\r\n');
  encodeUtf8('another message in the same chunk');
  assert.ok(pooled.buffer.byteLength > pooled.byteLength, 'formatted bytes are a view into a larger chunk');
  const owned = ownedBytes(pooled);
  assert.is(owned.buffer.byteLength, pooled.byteLength);
  assert.is(owned.byteOffset, 0);
  assert.equal([...owned], [...pooled]);
  assert.is(ownedBytes(owned), owned);
});

test('keptBytes: a copy in a chunk of kept copies only, never the chunk formatted bytes share; a large one owns its buffer', () => {
  const pooled = encodeUtf8('SIP/2.0 481 Call/Transaction Does Not Exist\r\n\r\n');
  const kept = keptBytes(pooled);
  assert.equal([...kept], [...pooled]);
  assert.is.not(kept.buffer, pooled.buffer);
  const next = keptBytes(encodeUtf8('SIP/2.0 200 OK\r\n\r\n'));
  assert.is(next.buffer, kept.buffer, 'kept copies share their chunk');
  assert.ok(next.byteOffset >= kept.byteOffset + kept.byteLength, 'and do not overlap');
  pooled.fill(0);
  assert.is(kept[0], 0x53, 'the copy does not change with its source');
  const large = new Uint8Array(9000).fill(7);
  const keptLarge = keptBytes(large);
  assert.is(keptLarge.buffer.byteLength, 9000);
  assert.is(keptLarge[8999], 7);
  // A new chunk once one is full, earlier copies intact.
  const copies = Array.from({ length: 300 }, (_, i) => keptBytes(encodeUtf8(`message ${i} `.padEnd(400, '.'))));
  assert.ok(new Set(copies.map((copy) => copy.buffer)).size > 1);
  copies.forEach((copy, i) => assert.is(new TextDecoder().decode(copy).trimEnd().slice(0, 12), `message ${i} `.padEnd(400, '.').slice(0, 12)));
});

test('ownedString: equal to its input, and a kept copy does not keep the text it was cut from', () => {
  assert.is(ownedString('short'), 'short');
  const nonce = 'Z3x9bT0AAAAAAABcZ3x9bT0AAAAAAABcb2c8e0c5a1d9';
  const header = `WWW-Authenticate: Digest nonce="${nonce}"`;
  const at = header.indexOf('"') + 1;
  assert.is(ownedString(header.slice(at, at + nonce.length)), nonce);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const keep = (own: boolean): number => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept: string[] = [];
    for (let i = 0; i < 100; i++) {
      // A 200 KB parent per value, as a decoded message is for its header values.
      const parent = `${String(i).padStart(4, '0')}${'x'.repeat(200_000)}`;
      const value = parent.slice(0, 40);
      kept.push(own ? ownedString(value) : value);
    }
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    assert.is(kept.length, 100);
    return retained;
  };
  const sliced = keep(false);
  const owned = keep(true);
  // 100 parents of 200 KB: ~20 MB when the slices keep them, a few KB when they do not.
  assert.ok(sliced > 10_000_000, `plain slices keep their parents (${sliced} B): the test measures what it should`);
  assert.ok(owned < 1_000_000, `owned copies keep ${owned} B`);
});

test.run();
