// Deterministic mutation fuzz of parseSdp over the RFC 4317 / RFC 3264 vector
// bodies: bit flips, byte overwrites, truncations, duplicated, dropped and
// swapped lines, spliced numbers. Only SipParseError may escape, and whatever
// parses must round-trip through serializeSdp and feed the helpers safely.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SipParseError } from '../../src/parser/errors.ts';
import { getDirection, getFmtp, getRtpmap, isRfc2543Hold, parseSdp, serializeSdp, type SessionDescription } from '../../src/parser/sdp/index.ts';

const vectorsUrl = new URL('../fixtures/conformance/vectors/sdp-offer-answer.json', import.meta.url);
const vectorsFile = JSON.parse(readFileSync(vectorsUrl, 'utf8')) as { rfc4317: Array<{ sdp: string }>; rfc3264: Array<{ sdp: string }> };
const encoder = new TextEncoder();
const seeds = [...vectorsFile.rfc4317, ...vectorsFile.rfc3264].map((v) => encoder.encode(v.sdp));

/** mulberry32: a small seeded PRNG so every run mutates the same way. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 9, 10, 13, 32, 47, 48, 57, 58, 61, 0x7f, 0x80, 0xc3, 0xff];
const SPLICES = ['4294967296', '65536', '-1', '/', '/0', '//', ' ', '=', ':', '\r', '\n', '\r\n\r\n', 'é', '\uFFFD', '999999999999999999999'];

function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10) {
      lines.push(bytes.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function mutate(input: Uint8Array, random: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  const bytes = input.slice();
  const lines = splitLines(bytes);
  switch (pick(8)) {
    case 0: {
      if (bytes.length > 0) bytes[pick(bytes.length)]! ^= 1 << pick(8);
      return bytes;
    }
    case 1: {
      if (bytes.length > 0) bytes[pick(bytes.length)] = INTERESTING[pick(INTERESTING.length)]!;
      return bytes;
    }
    case 2:
      return bytes.subarray(0, pick(bytes.length + 1));
    case 3: {
      const at = pick(lines.length);
      lines.splice(at, 0, lines[at] ?? new Uint8Array());
      return concat(lines);
    }
    case 4: {
      lines.splice(pick(lines.length), 1);
      return concat(lines);
    }
    case 5: {
      const a = pick(lines.length);
      const b = pick(lines.length);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return concat(lines);
    }
    case 6: {
      const at = pick(bytes.length + 1);
      return concat([bytes.subarray(0, at), encoder.encode(SPLICES[pick(SPLICES.length)]!), bytes.subarray(at)]);
    }
    default: {
      // A line's value replaced by another line's value: wrong content for its type.
      const a = pick(lines.length);
      const b = pick(lines.length);
      if (lines[a] === undefined || lines[b] === undefined || lines[a]!.length < 2) return bytes;
      return concat([...lines.slice(0, a), lines[a]!.subarray(0, 2), lines[b]!.subarray(2), ...lines.slice(a + 1)]);
    }
  }
}

function exerciseHelpers(sd: SessionDescription): void {
  for (const media of sd.mediaDescriptions) {
    getDirection(media, sd);
    isRfc2543Hold(media, sd);
    for (const format of media.formats) {
      getRtpmap(media, format);
      getFmtp(media, format);
    }
  }
}

test('mutated vectors: only SipParseError escapes; what parses round-trips', () => {
  const random = prng(0x5d9);
  let accepted = 0;
  let rejected = 0;
  const iterations = 6000;
  for (let i = 0; i < iterations; i++) {
    let input: Uint8Array = seeds[i % seeds.length]!;
    const rounds = 1 + Math.floor(random() * 3);
    for (let r = 0; r < rounds; r++) input = mutate(input, random);
    let parsed: SessionDescription;
    try {
      parsed = parseSdp(input);
    } catch (error) {
      if (!(error instanceof SipParseError)) {
        assert.unreachable(`iteration ${i}: ${String(error)} for ${JSON.stringify(new TextDecoder().decode(input))}`);
      }
      const { status } = error as SipParseError;
      assert.ok(status === 400 || status === 413, `iteration ${i}: status ${status}`);
      rejected++;
      continue;
    }
    accepted++;
    assert.equal(parseSdp(serializeSdp(parsed)), parsed, `iteration ${i}`);
    exerciseHelpers(parsed);
  }
  // Both outcomes must be well represented, or the fuzz tests little.
  assert.ok(accepted > iterations / 10, `accepted ${accepted}`);
  assert.ok(rejected > iterations / 10, `rejected ${rejected}`);
});

test('random bytes and random line soup: only SipParseError escapes', () => {
  const random = prng(42);
  const letters = 'vosiuepcbtrzkam';
  for (let i = 0; i < 2000; i++) {
    const length = Math.floor(random() * 200);
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = new Uint8Array(length);
      for (let j = 0; j < length; j++) bytes[j] = Math.floor(random() * 256);
    } else {
      const lines = ['v=0'];
      for (let j = 0; j < length / 10; j++) {
        const words = Array.from({ length: Math.floor(random() * 6) }, () => SPLICES[Math.floor(random() * SPLICES.length)]!.trim() || 'IN');
        lines.push(`${letters[Math.floor(random() * letters.length)]}=${words.join(' ')}`);
      }
      bytes = encoder.encode(lines.join('\r\n'));
    }
    let sd: SessionDescription;
    try {
      sd = parseSdp(bytes);
    } catch (error) {
      if (!(error instanceof SipParseError)) assert.unreachable(`iteration ${i}: ${String(error)}`);
      continue;
    }
    assert.equal(parseSdp(serializeSdp(sd)), sd, `iteration ${i}`);
    exerciseHelpers(sd);
  }
});

test.run();
