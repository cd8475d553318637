/**
 * The plain-ECMAScript codecs of src/parser/utf8.ts (used where the runtime
 * has no TextDecoder/TextEncoder) against Node's TextDecoder and TextEncoder,
 * and text.ts choosing them when those classes are missing.
 *
 * Covers: UTF-8 decoding of valid text and of every kind of invalid
 * sequence (lone continuation bytes, truncated sequences, overlong forms,
 * surrogates, above U+10FFFF, bytes F5-FF), replacing and fatal, on fixed
 * cases and 20,000 seeded random byte strings biased towards multi-byte
 * sequences; Latin-1 decoding of all 256 bytes and of long inputs (more than
 * one chunk); encodeInto and encode on ASCII, BMP, astral and lone-surrogate
 * text, including where the destination is too small for the next char;
 * text.ts with TextDecoder/TextEncoder (or only encodeInto) removed. Not
 * covered: the speed of the fallbacks (the parser benchmark measures the fast path).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { latin1Decode, utf8Decode, utf8Encode, utf8EncodeInto } from '../../src/parser/utf8.ts';

const replacing = new TextDecoder('utf-8', { ignoreBOM: true });
const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/** Small deterministic generator (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random bytes, mostly lead and continuation bytes so that every decoder branch is reached. */
function randomBytes(random: () => number): Uint8Array {
  const out = new Uint8Array(Math.floor(random() * 24));
  const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
  for (let i = 0; i < out.length; i++) {
    const r = random();
    out[i] = r < 0.5 ? interesting[Math.floor(random() * interesting.length)]! : r < 0.8 ? 0x80 + Math.floor(random() * 0x40) : Math.floor(random() * 256);
  }
  return out;
}

function fatalOutcome(decode: () => string): string {
  try {
    return `ok:${decode()}`;
  } catch (error) {
    return `throws:${(error as Error).constructor.name}`;
  }
}

const CASES: Array<[string, Uint8Array]> = [
  ['empty', bytes()],
  ['ASCII', bytes(0x53, 0x49, 0x50, 0x2f, 0x32, 0x2e, 0x30)],
  ['BOM kept', bytes(0xef, 0xbb, 0xbf, 0x61)],
  ['2-, 3- and 4-byte chars', encoder.encode('\u00e4\u20ac\u65e5\ud83d\ude00')],
  ['lone continuation byte', bytes(0x61, 0x80, 0x62)],
  ['truncated 3-byte sequence at the end', bytes(0x61, 0xe2, 0x82)],
  ['truncated 4-byte sequence before ASCII', bytes(0xf0, 0x9f, 0x98, 0x41)],
  ['overlong 2-byte (C0 80)', bytes(0xc0, 0x80)],
  ['overlong 3-byte (E0 80 80)', bytes(0xe0, 0x80, 0x80)],
  ['overlong 4-byte (F0 80 80 80)', bytes(0xf0, 0x80, 0x80, 0x80)],
  ['surrogate (ED A0 80)', bytes(0xed, 0xa0, 0x80)],
  ['above U+10FFFF (F4 90 80 80)', bytes(0xf4, 0x90, 0x80, 0x80)],
  ['F5 and FF', bytes(0xf5, 0x41, 0xff)],
  ['a valid char after a broken one', bytes(0xe2, 0x28, 0xa1)],
];

test('utf8Decode gives what TextDecoder gives, replacing and fatal, on every kind of invalid sequence', () => {
  for (const [name, input] of CASES) {
    assert.is(utf8Decode(input), replacing.decode(input), name);
    assert.is(fatalOutcome(() => utf8Decode(input, true)), fatalOutcome(() => fatal.decode(input)), `${name} (fatal)`);
  }
  // The cases above reach both outcomes of fatal mode.
  assert.is(fatalOutcome(() => utf8Decode(bytes(0xc0, 0x80), true)), 'throws:TypeError');
  assert.is(utf8Decode(bytes(0xef, 0xbb, 0xbf, 0x61)), '\ufeffa');
});

test('utf8Decode matches TextDecoder on 20,000 random byte strings', () => {
  const random = seeded(4475);
  for (let i = 0; i < 20_000; i++) {
    const input = randomBytes(random);
    const expected = replacing.decode(input);
    const actual = utf8Decode(input);
    if (actual !== expected) assert.fixture(JSON.stringify(actual), JSON.stringify(expected), `bytes ${Array.from(input, (b) => b.toString(16)).join(' ')}`);
    assert.is(fatalOutcome(() => utf8Decode(input, true)), fatalOutcome(() => fatal.decode(input)));
  }
});

test('utf8Decode and latin1Decode handle inputs longer than one chunk', () => {
  const text = `${'a'.repeat(5000)}\u20ac${'\ud83d\ude00'.repeat(3000)}`;
  assert.is(utf8Decode(encoder.encode(text)), text);
  const all = Uint8Array.from({ length: 10_000 }, (_, i) => i % 256);
  assert.is(latin1Decode(all), new TextDecoder('latin1').decode(all));
  assert.is(latin1Decode(all).length, 10_000);
  assert.is(latin1Decode(bytes(0x80, 0xff)), '\u0080\u00ff');
});

test('utf8EncodeInto and utf8Encode give what TextEncoder gives, lone surrogates and full destinations included', () => {
  const texts = ['', 'INVITE', '\u00e4\u07ff\u0800\uffff', '\ud834\udd1e', '\ud800', '\udc00x', 'x\ud83d', '\udc00\ud800', 'a\u20acb\ud83d\ude00c'];
  for (const text of texts) {
    assert.equal(utf8Encode(text), encoder.encode(text), JSON.stringify(text));
    for (let size = 0; size <= text.length * 3 + 1; size++) {
      const ours = new Uint8Array(size);
      const theirs = new Uint8Array(size);
      assert.equal(utf8EncodeInto(text, ours), encoder.encodeInto(text, theirs), `${JSON.stringify(text)} into ${size} bytes`);
      assert.equal(ours, theirs);
    }
  }
});

/** text.ts as a module instance of its own (the query makes another URL). */
function fresh(tag: string): string {
  return new URL(`../../src/parser/text.ts?${tag}`, import.meta.url).href;
}

test('text.ts uses the fallbacks when the runtime has no TextDecoder, TextEncoder or encodeInto', async () => {
  const saved = { decoder: globalThis.TextDecoder, encoder: globalThis.TextEncoder };
  const text = 'From: "J\u00e4ger" <sip:j@example.com>\r\n\ud83d\ude00';
  try {
    // A fresh instance of the module (its codecs are made on first use).
    Object.assign(globalThis, { TextDecoder: undefined, TextEncoder: undefined });
    const bare = (await import(fresh('no-text-codecs'))) as typeof import('../../src/parser/text.ts');
    const encoded = bare.encodeUtf8(text);
    assert.equal(Array.from(encoded), Array.from(encoder.encode(text)));
    assert.is(bare.decodeUtf8(encoded), text);
    assert.is(bare.decodeOneToOne(bytes(0x61, 0xe4), 0, 2, false), 'a\u00e4');
    assert.equal(bare.utf8Bytes('\ud800'), bytes(0xef, 0xbf, 0xbd));

    // TextEncoder without encodeInto (it came later in some runtimes).
    class EncodeOnly {
      encode(input: string): Uint8Array {
        return encoder.encode(input);
      }
    }
    Object.assign(globalThis, { TextDecoder: saved.decoder, TextEncoder: EncodeOnly });
    const partial = (await import(fresh('no-encode-into'))) as typeof import('../../src/parser/text.ts');
    assert.equal(Array.from(partial.encodeUtf8WithTail(text, bytes(1, 2))), [...encoder.encode(text), 1, 2]);
    assert.equal(partial.encodeUtf8Into('ab', new Uint8Array(1)), { read: 1, written: 1 });
  } finally {
    Object.assign(globalThis, { TextDecoder: saved.decoder, TextEncoder: saved.encoder });
  }
});

test.run();
