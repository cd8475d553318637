/**
 * What MD5 (RFC 1321 s3.1-3.2) and SHA-256 (FIPS 180-4 s5.1.1) share: the
 * input as bytes (strings as UTF-8), the 64-byte blocks with the padding
 * (0x80, zeros to 56 mod 64, the bit length in 8 bytes: little-endian for
 * MD5, big-endian for SHA-256), and hex output.
 */
import { encodeUtf8Into } from '../../parser/text.ts';

/** Hex of every byte value, built once. */
export const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Char codes of the hex digits 0-f. */
const HEX_CODES = Uint8Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));

/** Kept between calls up to this size; a longer message gets a buffer of its own. */
const MAX_KEPT_BYTES = 64 * 1024;

/**
 * The padded message of one hash computation, written into a buffer that is
 * reused: digest authentication hashes short strings several times per
 * request, and allocating (and for strings, TextEncoder.encode) per call
 * cost more than the hashing. Hashing is synchronous and calls out to
 * nothing, so one instance per algorithm is never in use twice at a time.
 */
export class PaddedMessage {
  readonly #lengthByteOrder: 'little' | 'big';
  // Above 64 bytes V8 keeps typed-array storage off the JS heap from the start;
  // an on-heap one would be moved on the first encodeInto.
  #kept = new Uint8Array(1024);
  /** Holds the padded message from offset 0 (and leftovers after it). */
  bytes = this.#kept;
  /** Length of the padded message: a multiple of 64. */
  length = 0;

  constructor(lengthByteOrder: 'little' | 'big') {
    this.#lengthByteOrder = lengthByteOrder;
  }

  /** Writes `input` (a string as UTF-8) and its padding into `bytes`. */
  load(input: string | Uint8Array): void {
    let length: number;
    if (typeof input === 'string') {
      // A UTF-16 unit takes at most 3 UTF-8 bytes, so the whole string fits.
      const bytes = this.#buffer(input.length * 3);
      // encodeInto gives TextEncoder's bytes, lone surrogates included, and is
      // far cheaper than encode(): no array to allocate.
      length = encodeUtf8Into(input, bytes).written;
    } else {
      length = input.length;
      this.#buffer(length).set(input);
    }
    this.#pad(length);
  }

  /** Makes `bytes` hold a message of up to `maxLength` bytes plus its padding. */
  #buffer(maxLength: number): Uint8Array {
    const needed = maxLength + 72;
    if (needed <= this.#kept.length) return (this.bytes = this.#kept);
    if (needed > MAX_KEPT_BYTES) return (this.bytes = new Uint8Array(needed));
    let size = this.#kept.length;
    while (size < needed) size *= 2;
    this.#kept = new Uint8Array(size);
    return (this.bytes = this.#kept);
  }

  /** Appends the padding after the `length` message bytes. */
  #pad(length: number): void {
    const bytes = this.bytes;
    const padded = (length + 72) & ~63; // room for 0x80 and the 8-byte length
    const end = padded - 8;
    bytes[length] = 0x80;
    // The buffer is reused: clear what an earlier message left there.
    for (let i = length + 1; i < end; i++) bytes[i] = 0;
    const lowBits = (length * 8) >>> 0;
    const highBits = Math.floor(length / 0x20000000) >>> 0;
    for (let i = 0; i < 4; i++) {
      if (this.#lengthByteOrder === 'little') {
        bytes[end + i] = lowBits >>> (8 * i);
        bytes[end + 4 + i] = highBits >>> (8 * i);
      } else {
        bytes[end + i] = highBits >>> (24 - 8 * i);
        bytes[end + 4 + i] = lowBits >>> (24 - 8 * i);
      }
    }
    this.length = padded;
  }
}

/**
 * Hex of every 32-bit word of `words`, each written as its bytes in
 * `byteOrder`. One fromCharCode call gives a flat string: two-digit pieces
 * concatenated make a rope that the next hash has to flatten.
 */
export function wordsToHex(words: Int32Array, byteOrder: 'little' | 'big'): string {
  // fromCharCode.apply reads a plain array faster than a typed one.
  const codes = (hexCodesByWords[words.length] ??= new Array<number>(words.length * 8).fill(0));
  for (let w = 0, k = 0; w < words.length; w++) {
    const word = words[w]!;
    for (let i = 0; i < 4; i++, k += 2) {
      const byte = (byteOrder === 'little' ? word >>> (8 * i) : word >>> (24 - 8 * i)) & 0xff;
      codes[k] = HEX_CODES[byte >>> 4]!;
      codes[k + 1] = HEX_CODES[byte & 15]!;
    }
  }
  return String.fromCharCode.apply(null, codes);
}

/** Char-code arrays for wordsToHex, by word count, reused. */
const hexCodesByWords: number[][] = [];
