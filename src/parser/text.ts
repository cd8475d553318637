/**
 * Byte -> string helpers. The header section is decoded once as Latin-1 so
 * that string offsets equal byte offsets; ranges holding bytes >= 0x80 are
 * decoded again from the bytes as UTF-8 when a caller asks for them.
 */
import { latin1Decode, utf8Decode, utf8Encode, utf8EncodeInto } from './utf8.ts';

interface Decoder {
  decode(bytes: Uint8Array): string;
}

interface Encoder {
  encode(text: string): Uint8Array;
  encodeInto(text: string, into: Uint8Array): { read: number; written: number };
}

// Made on first use, never at module load (DESIGN.md, Package): the runtime's
// TextDecoder and TextEncoder where it has them (the fast path), our own
// code from utf8.ts where it has not (bare engines), with the same results.
let utf8: Decoder | undefined;
let latin1: Decoder | undefined;
let encoder: Encoder | undefined;

function utf8Decoder(): Decoder {
  // ignoreBOM keeps a leading U+FEFF in a value instead of silently dropping it.
  return typeof TextDecoder === 'function' ? new TextDecoder('utf-8', { ignoreBOM: true }) : { decode: (bytes) => utf8Decode(bytes) };
}

function latin1Decoder(): Decoder {
  // WHATWG "latin1" is windows-1252 (Node decodes it as ISO-8859-1): either
  // way one UTF-16 unit per byte, and >= 0x80 for bytes >= 0x80, which is all we need.
  return typeof TextDecoder === 'function' ? new TextDecoder('latin1') : { decode: latin1Decode };
}

function utf8Encoder(): Encoder {
  if (typeof TextEncoder !== 'function') return { encode: utf8Encode, encodeInto: utf8EncodeInto };
  const encoder = new TextEncoder();
  // encodeInto came after TextEncoder: some runtimes still lack it.
  return typeof encoder.encodeInto === 'function' ? encoder : { encode: (text) => encoder.encode(text), encodeInto: utf8EncodeInto };
}

export function decodeOneToOne(bytes: Uint8Array, start: number, end: number, ascii: boolean): string {
  // No view when the whole input is decoded (the common case): a Buffer's subarray is costly.
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  return ascii ? (utf8 ??= utf8Decoder()).decode(view) : (latin1 ??= latin1Decoder()).decode(view);
}

export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return (utf8 ??= utf8Decoder()).decode(bytes.subarray(start, end));
}

/** The UTF-8 bytes of `text` in an array of their own (not a view into a shared chunk). */
export function utf8Bytes(text: string): Uint8Array {
  return (encoder ??= utf8Encoder()).encode(text);
}

/** TextEncoder.encodeInto, or its equivalent where the runtime has no TextEncoder. */
export function encodeUtf8Into(text: string, into: Uint8Array): { read: number; written: number } {
  return (encoder ??= utf8Encoder()).encodeInto(text, into);
}

/**
 * Encoded text is handed out as views into shared chunks, as Node's
 * Buffer.from(string) does: a typed array of a few hundred bytes keeps its
 * storage outside the JS heap, and allocating one (which TextEncoder.encode
 * does too) costs several times more than encoding a SIP message into it.
 * A view keeps its whole chunk alive, so chunks stay small.
 */
const POOL_BYTES = 8 * 1024;
/** Made on first use (the core creates nothing at module load): "full" until then. */
let pool: ArrayBuffer | undefined;
let poolUsed = POOL_BYTES;

function pooledBytes(length: number): Uint8Array {
  if (length > POOL_BYTES / 2) return new Uint8Array(length);
  if (poolUsed + length > POOL_BYTES) {
    pool = new ArrayBuffer(POOL_BYTES);
    poolUsed = 0;
  }
  const bytes = new Uint8Array(pool!, poolUsed, length);
  poolUsed += (length + 7) & ~7; // 8-byte aligned, like Node's pool
  return bytes;
}

const NO_BYTES = new Uint8Array(0);

export function encodeUtf8(text: string): Uint8Array {
  return encodeUtf8WithTail(text, NO_BYTES);
}

/** The UTF-8 bytes of `text` followed by `tail`, in one array. */
export function encodeUtf8WithTail(text: string, tail: Uint8Array): Uint8Array {
  const length = text.length;
  const bytes = pooledBytes(length + tail.length);
  // ASCII text (nearly all of SIP) takes one byte per char: exactly `length`
  // bytes when every char was read and each gave one byte.
  const codec = (encoder ??= utf8Encoder());
  const { read, written } = codec.encodeInto(text, bytes);
  if (read === length && written === length) {
    if (tail.length > 0) bytes.set(tail, length);
    return bytes;
  }
  const head = codec.encode(text);
  if (tail.length === 0) return head;
  const joined = new Uint8Array(head.length + tail.length);
  joined.set(head, 0);
  joined.set(tail, head.length);
  return joined;
}

/**
 * Bytes that own their memory: a copy when `bytes` is a view into a shared
 * chunk (what formatMessage returns), else `bytes` itself. For messages kept
 * for long, such as a server transaction's last response (32 s): a kept
 * view would pin the whole 8 KiB chunk it shares with short-lived messages.
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/**
 * A copy for bytes kept for a bounded, similar time: a transaction's final
 * response, resent on retransmissions until Timer J, H or I (at most 64*T1).
 * Copied into chunks of their own, since a new ArrayBuffer per copy (what
 * ownedBytes' slice makes) costs about twice the copy into a chunk. Every
 * copy in a chunk dies within a timer of the others, so a chunk is freed
 * soon after its last copy was made. Not for bytes kept for an unbounded
 * time (a 1xx while the call rings): one of those would pin a whole chunk.
 */
const KEPT_CHUNK_BYTES = 64 * 1024;
/** Made on first use, as the pool above. */
let keptChunk: ArrayBuffer | undefined;
let keptUsed = KEPT_CHUNK_BYTES;

export function keptBytes(bytes: Uint8Array): Uint8Array {
  const length = bytes.length;
  if (length > KEPT_CHUNK_BYTES / 8) return bytes.slice();
  if (keptUsed + length > KEPT_CHUNK_BYTES) {
    keptChunk = new ArrayBuffer(KEPT_CHUNK_BYTES);
    keptUsed = 0;
  }
  const copy = new Uint8Array(keptChunk!, keptUsed, length);
  copy.set(bytes);
  keptUsed += (length + 7) & ~7;
  return copy;
}

/**
 * A string that holds its own chars: a copy of `text` when it may be a slice.
 * For values kept long, such as a registration's nonce: engines (V8 from 13
 * chars on) make a substring a view into its parent, and the parent here is
 * a whole decoded header section (~0.5 KB kept per registration for a
 * 40-char nonce). Joining two pieces writes one new flat string (V8: a
 * sequential string, no view and no tree); a view of a one-char-longer copy
 * (the way before) kept two objects per value.
 */
export function ownedString(text: string): string {
  return text.length < 13 ? text : [text.slice(0, 1), text.slice(1)].join('');
}

/** True when any char code in s[start, end) is >= 0x80. */
export function hasNonAscii(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) >= 0x80) return true;
  return false;
}
