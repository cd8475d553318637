/**
 * Seeded PRNG and byte-level mutators for the parser fuzzer. Everything is
 * deterministic: a case is fully defined by (seed, iteration), so any
 * reported case can be regenerated with `npm run fuzz -- --seed S --case I`.
 * Math.random is never used.
 */

/** mulberry32: 32-bit state, good enough spread for fuzzing, tiny and fast. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n) (n >= 1). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Mixes a run seed and an iteration into an independent per-case seed (splitmix32-style finalizer). */
export function caseSeed(seed: number, iteration: number): number {
  let h = (seed ^ Math.imul(iteration + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fuzz inputs never grow past this: just over the 65,535-byte default limit, so 413 paths are hit. */
export const MAX_INPUT_BYTES = 70_000;

const enc = new TextEncoder();
const CR = 13;
const LF = 10;

const INTERESTING_BYTES = [0x00, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0x25, 0x5c, 0x40, 0x3d, 0x3f, 0x5b, 0x5d, 0x28, 0x29, 0x7f, 0x80, 0xc3, 0xff];

const HUGE_NUMBERS = [
  '99999999999999999999', '4294967296', '4294967295', '2147483648', '2147483647', '-1', '0', '65536', '65535', '256',
  '000000000000000000000000001', '1e3', '0x10', '1.5', ' 1', '+1', '9007199254740993', '',
];

/** Fragments that mean something to a SIP/SDP parser. */
const TOKENS = [
  '\r\n', '\n', '\r', '\r\n ', '\r\n\t', '\r\n\r\n', ';', ',', '<', '>', '"', '\\', '%', '%00', '%4', '@', ':', '[', ']', '[::1]',
  '(', ')', '=', '?', '&', '/', ' ', '\t', 'sip:', 'sips:', 'tel:', ';tag=', ';tag="', ';branch=', ';rport', ';rport=99999',
  ';received=', ';ttl=256', ';maddr=', ';expires=', ';q=', ';lr', 'SIP/2.0', 'SIP/3.0', 'z9hG4bK', '*', '\u00e9', '\uFFFD',
  'Content-Length: 0\r\n', 'l: 99999999999999999999\r\n', 'Content-Length:\r\n', '\x00', '\xff',
];

/**
 * Header lines for every typed accessor (and compact forms), so lazy getters
 * see mutated input even when the corpus message lacks that header.
 */
const HEADER_LINES = [
  'Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK77;rport;received=192.0.2.1',
  'v: SIP / 2.0 / TCP h.example.com ; branch = z9hG4bKx , SIP/2.0/TLS h2:0;ttl=1;maddr=239.1.1.1',
  'From: "A \\"quoted\\" name" <sip:a@example.com;transport=tcp>;tag=1928301774',
  'f: sip:alice@example.com;tag=x',
  'To: Bob <sip:bob@example.com?subject=x&priority=urgent>',
  't: <tel:+1-201-555-0123;ext=1>;tag=',
  'Call-ID: a84b4c76e66710@pc33.atlanta.com',
  'i: %41@b',
  'CSeq: 4294967295 INVITE',
  'Contact: *',
  'm: <sip:a@[::1]:5060>;expires=3600;q=0.7, "x" <sips:b@c>',
  'Contact: <sip:user;par=u%40example.net@example.com>',
  'Max-Forwards: 70',
  'Content-Type: multipart/mixed;boundary="unique-boundary-1"',
  'c: application/sdp ; charset = "utf-8"',
  'Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
  'Record-Route: <sip:p1.example.com;lr;ftag=x>',
  'Require: 100rel, timer',
  'Proxy-Require: foo',
  'Supported: ',
  'k: path, gruu',
  'Unsupported: bar',
  'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE',
  'Accept: application/sdp;level=1, text/*;q=0.5, */*',
  'Accept: ',
  'WWW-Authenticate: Digest realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", qop="auth,auth-int", algorithm=MD5, stale=FALSE',
  'Proxy-Authenticate: Digest realm="x",nonce="y"',
  'Authorization: Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  'Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
  'Expires: 3600',
  'Min-Expires: 60',
  'Retry-After: 18000 (in a (nested) meeting) ;duration=3600;x',
  'Warning: 307 isi.edu "Session parameter \\"foo\\" not understood", 399 [::1]:5060 "x"',
  'Date: Sat, 13 Nov 2010 23:29:00 GMT',
  'Subject: hi',
  's: ',
  'e: gzip',
  'o: presence;id=1',
  'u: presence',
  'r: <sip:c@d>',
  'b: <sip:e@f>',
  'Session-Expires: 1800;refresher=uac',
  'User-Agent: fuzz/1.0 (x)',
  'Timestamp: 54.3 0.1',
];

export type Mutator = (rng: Rng, input: Uint8Array, corpus: readonly Uint8Array[]) => Uint8Array;

function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function insertAt(input: Uint8Array, at: number, chunk: Uint8Array): Uint8Array {
  return concat(input.subarray(0, at), chunk, input.subarray(at));
}

function replaceRange(input: Uint8Array, start: number, end: number, chunk: Uint8Array): Uint8Array {
  return concat(input.subarray(0, start), chunk, input.subarray(end));
}

/** Start offsets of every line (offset 0 and each byte after an LF). */
function lineStarts(input: Uint8Array): number[] {
  const starts = [0];
  for (let i = 0; i < input.length; i++) if (input[i] === LF && i + 1 < input.length) starts.push(i + 1);
  return starts;
}

function lineEndAfter(input: Uint8Array, start: number): number {
  const lf = input.indexOf(LF, start);
  return lf < 0 ? input.length : lf + 1;
}

/** Offset of the first byte after the header section (or the input length). */
function headerSectionEnd(input: Uint8Array): number {
  for (let i = 0; i + 1 < input.length; i++) {
    if (input[i] !== LF) continue;
    if (input[i + 1] === LF) return i + 2;
    if (input[i + 1] === CR && input[i + 2] === LF) return i + 3;
  }
  return input.length;
}

function randomRange(rng: Rng, length: number, maxSize: number): [number, number] {
  const start = rng.int(length + 1);
  const size = rng.int(Math.min(maxSize, length - start) + 1);
  return [start, start + size];
}

/** Position biased towards the header section, where most of the parsing logic is. */
function position(rng: Rng, input: Uint8Array): number {
  if (rng.chance(0.7)) return rng.int(Math.min(input.length, headerSectionEnd(input)) + 1);
  return rng.int(input.length + 1);
}

export const MUTATORS: Readonly<Record<string, Mutator>> = {
  bitFlip(rng, input) {
    if (input.length === 0) return input;
    const out = input.slice();
    const flips = rng.range(1, 8);
    for (let k = 0; k < flips; k++) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
  interestingByte(rng, input) {
    if (input.length === 0) return Uint8Array.of(rng.pick(INTERESTING_BYTES));
    const out = input.slice();
    const count = rng.range(1, 3);
    for (let k = 0; k < count; k++) out[Math.min(position(rng, input), out.length - 1)] = rng.pick(INTERESTING_BYTES);
    return out;
  },
  truncate(rng, input) {
    return input.subarray(0, rng.int(input.length + 1));
  },
  duplicateRange(rng, input) {
    const [start, end] = randomRange(rng, input.length, 512);
    return insertAt(input, rng.chance(0.5) ? end : rng.int(input.length + 1), input.slice(start, end));
  },
  duplicateLine(rng, input) {
    const starts = lineStarts(input);
    const start = rng.pick(starts);
    const line = input.slice(start, lineEndAfter(input, start));
    const times = rng.chance(0.1) ? rng.range(2, 300) : 1;
    const chunk = new Uint8Array(line.length * times);
    for (let k = 0; k < times; k++) chunk.set(line, k * line.length);
    return insertAt(input, rng.chance(0.5) ? start : rng.pick(starts), chunk);
  },
  deleteRange(rng, input) {
    const [start, end] = randomRange(rng, input.length, rng.chance(0.5) ? 8 : 256);
    return replaceRange(input, start, end, new Uint8Array(0));
  },
  deleteLine(rng, input) {
    const start = rng.pick(lineStarts(input));
    return replaceRange(input, start, lineEndAfter(input, start), new Uint8Array(0));
  },
  splice(rng, input, corpus) {
    const other = rng.pick(corpus);
    if (rng.chance(0.5)) {
      // At line boundaries: headers of one, rest of the other.
      return concat(input.subarray(0, rng.pick(lineStarts(input))), other.subarray(rng.pick(lineStarts(other))));
    }
    return concat(input.subarray(0, rng.int(input.length + 1)), other.subarray(rng.int(other.length + 1)));
  },
  hugeNumber(rng, input) {
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < input.length; i++) {
      if (input[i]! < 48 || input[i]! > 57) continue;
      const start = i;
      while (i < input.length && input[i]! >= 48 && input[i]! <= 57) i++;
      runs.push([start, i]);
    }
    const number = enc.encode(rng.pick(HUGE_NUMBERS));
    if (runs.length === 0) return insertAt(input, position(rng, input), number);
    const [start, end] = rng.pick(runs);
    return replaceRange(input, start, end, number);
  },
  longRun(rng, input) {
    const [unit, count] = rng.pick<[string, number]>([
      ['a', 10_000], [' ', 10_000], ['\t', 10_000], ['0', 10_000], ['%', 10_000], ['\n', 10_000], ['\r\n', 5_000],
      ['\r\n ', 3_000], ['\r', 10_000], [';', 1000], [';', 5000], ['"', 1000], ['\\"', 1000], [',', 1000], [',', 5000],
      ['<', 1000], ['(', 1000], ['[', 1000], ['@', 1000], ['=', 1000], [';a', 1000], [';a=b', 1000], ['a,', 1000],
      ['\x00', 1000], ['\xff', 1000], ['x:y\n', 10_000], ['X-A: b\r\n', 5_000],
    ]);
    const chunk = enc.encode(unit.repeat(count));
    const at = rng.chance(0.1) ? 0 : position(rng, input);
    return insertAt(input, at, chunk);
  },
  insertToken(rng, input) {
    return insertAt(input, position(rng, input), enc.encode(rng.pick(TOKENS)));
  },
  insertHeaderLine(rng, input) {
    const end = headerSectionEnd(input);
    const starts = lineStarts(input).filter((s) => s > 0 && s < end);
    const at = starts.length === 0 ? Math.min(lineEndAfter(input, 0), input.length) : rng.pick(starts);
    return insertAt(input, at, enc.encode(`${rng.pick(HEADER_LINES)}\r\n`));
  },
  crlfSwap(rng, input) {
    const mode = rng.int(4);
    const out: number[] = [];
    for (let i = 0; i < input.length; i++) {
      const b = input[i]!;
      if (mode === 0 && b === CR && input[i + 1] === LF) continue; // every CRLF -> LF
      if (mode === 1 && b === LF && input[i - 1] !== CR) out.push(CR); // every bare LF -> CRLF
      if (mode === 2 && b === LF && input[i + 1] !== undefined) {
        out.push(CR); // LF -> CR (bare CRs)
        continue;
      }
      out.push(b);
    }
    if (mode === 3) {
      // One line end only.
      const starts = lineStarts(input).filter((s) => s > 0);
      if (starts.length === 0) return input;
      const lf = rng.pick(starts) - 1;
      const hasCr = lf > 0 && input[lf - 1] === CR;
      return hasCr ? replaceRange(input, lf - 1, lf, new Uint8Array(0)) : insertAt(input, lf, Uint8Array.of(CR));
    }
    return Uint8Array.from(out);
  },
  caseFlip(rng, input) {
    const out = input.slice();
    const start = rng.pick(lineStarts(input));
    for (let i = start; i < out.length && out[i] !== 0x3a && out[i] !== LF; i++) {
      const b = out[i]!;
      if (((b >= 65 && b <= 90) || (b >= 97 && b <= 122)) && rng.chance(0.5)) out[i] = b ^ 0x20;
    }
    return out;
  },
  nestedQuotes(rng, input) {
    // "\"\"\"..." and (((...))) style nesting inside a header value.
    const depth = rng.range(10, 200);
    const open = rng.pick(['"\\', '(', '<', '"<', '\\"']);
    const chunk = enc.encode(open.repeat(depth));
    return insertAt(input, position(rng, input), chunk);
  },
};

export const MUTATOR_NAMES = Object.keys(MUTATORS);

/**
 * Sets Content-Length to the real body length (or leaves it). Without this
 * almost every body or header mutation is rejected at framing, and the header
 * and SDP parsers behind it are never reached.
 */
export function fixContentLength(input: Uint8Array): Uint8Array {
  const end = headerSectionEnd(input);
  const bodyLength = input.length - end;
  for (let start = 0, lineEnd = 0; start < end; start = lineEnd) {
    lineEnd = lineEndAfter(input, start);
    const colon = input.indexOf(0x3a, start);
    if (colon < 0 || colon >= lineEnd) continue;
    if (!isContentLengthName(input, start, colon)) continue;
    let valueEnd = lineEnd;
    while (valueEnd > colon + 1 && (input[valueEnd - 1] === LF || input[valueEnd - 1] === CR)) valueEnd--;
    const fixed = replaceRange(input, colon + 1, valueEnd, enc.encode(` ${bodyLength}`));
    // The header section changed size, not the body: the value stays right.
    return fixed;
  }
  return input;
}

const CONTENT_LENGTH = enc.encode('content-length');

/** "Content-Length" or "l", any case, optional trailing blanks. */
function isContentLengthName(input: Uint8Array, start: number, end: number): boolean {
  while (end > start && (input[end - 1] === 0x20 || input[end - 1] === 0x09)) end--;
  if (end - start === 1) return (input[start]! | 0x20) === 0x6c;
  if (end - start !== CONTENT_LENGTH.length) return false;
  for (let k = 0; k < CONTENT_LENGTH.length; k++) if ((input[start + k]! | 0x20) !== CONTENT_LENGTH[k]) return false;
  return true;
}

export interface Mutation {
  bytes: Uint8Array;
  /** Index of the corpus entry it started from. */
  base: number;
  /** Mutator names in the order applied. */
  ops: string[];
}

/** Picks a corpus entry and applies 1 to 5 mutators (stacked), then maybe fixes Content-Length. */
export function mutate(rng: Rng, corpus: readonly Uint8Array[]): Mutation {
  const base = rng.int(corpus.length);
  let bytes = corpus[base]!;
  const ops: string[] = [];
  const count = rng.chance(0.5) ? 1 : rng.range(2, 5);
  for (let k = 0; k < count; k++) {
    const name = rng.pick(MUTATOR_NAMES);
    bytes = MUTATORS[name]!(rng, bytes, corpus);
    ops.push(name);
    if (bytes.length > MAX_INPUT_BYTES) bytes = bytes.subarray(0, MAX_INPUT_BYTES);
  }
  if (rng.chance(0.5)) {
    bytes = fixContentLength(bytes);
    ops.push('fixContentLength');
  }
  return { bytes, base, ops };
}
