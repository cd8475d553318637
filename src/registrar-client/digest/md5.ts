/**
 * MD5 (RFC 1321), synchronous, over bytes. Digest authentication (RFC 2617,
 * RFC 7616) still defaults to MD5 and the core layer must run where no
 * synchronous crypto exists, so this is our own implementation.
 * Padding (into a reused buffer) and hex output are shared with SHA-256
 * (block-hash.ts).
 */

import { PaddedMessage, wordsToHex } from './block-hash.ts';

/** RFC 1321 s3.4: T[i] = floor(2^32 * abs(sin(i))), i = 1..64 (as signed 32-bit words). */
const T = Int32Array.from([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);

/** Per-step left-rotation amounts: four per round, each used four times. */
const SHIFT = Uint8Array.from([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
]);

/** Message word used by each step (RFC 1321 s3.4 rounds 1-4). */
const WORD = Uint8Array.from(
  Array.from({ length: 64 }, (_, i) =>
    i < 16 ? i : i < 32 ? (5 * i + 1) & 15 : i < 48 ? (3 * i + 5) & 15 : (7 * i) & 15,
  ),
);

/** Processes the 64-byte block of `bytes` at `offset` into `state` (A, B, C, D). */
function block(state: Int32Array, x: Int32Array, bytes: Uint8Array, offset: number): void {
  // Words are little-endian (RFC 1321 s2).
  for (let i = 0, p = offset; i < 16; i++, p += 4) {
    x[i] = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  // One loop per round: no per-step test of which auxiliary function applies.
  for (let i = 0; i < 16; i++) {
    const sum = (a + ((b & c) | (~b & d)) + T[i]! + x[WORD[i]!]!) | 0; // F
    const s = SHIFT[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
  }
  for (let i = 16; i < 32; i++) {
    const sum = (a + ((b & d) | (c & ~d)) + T[i]! + x[WORD[i]!]!) | 0; // G
    const s = SHIFT[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
  }
  for (let i = 32; i < 48; i++) {
    const sum = (a + (b ^ c ^ d) + T[i]! + x[WORD[i]!]!) | 0; // H
    const s = SHIFT[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
  }
  for (let i = 48; i < 64; i++) {
    const sum = (a + (c ^ (b | ~d)) + T[i]! + x[WORD[i]!]!) | 0; // I
    const s = SHIFT[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

// Working storage reused by every call (hashing is synchronous).
const message = new PaddedMessage('little');
const state = new Int32Array(4);
const words = new Int32Array(16);

/** Leaves the digest of `input` in `state`. */
function digestInto(input: string | Uint8Array): void {
  message.load(input);
  state[0] = 0x67452301;
  state[1] = 0xefcdab89;
  state[2] = 0x98badcfe;
  state[3] = 0x10325476;
  const bytes = message.bytes;
  for (let offset = 0; offset < message.length; offset += 64) block(state, words, bytes, offset);
}

/** The 16-byte MD5 digest of `input` (a string is hashed as its UTF-8 bytes). */
export function md5(input: string | Uint8Array): Uint8Array {
  digestInto(input);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = state[i >> 2]! >>> (8 * (i & 3));
  return out;
}

/** The MD5 digest of `input` as 32 lower-case hex digits. */
export function md5Hex(input: string | Uint8Array): string {
  digestInto(input);
  return wordsToHex(state, 'little');
}
