/**
 * A stretch of header text held two ways: the bytes, which the scanners read
 * (typed-array reads are several times faster than charCodeAt on sliced
 * strings), and a one-char-per-byte string, which slices cheaply into the
 * strings callers get. Ranges with bytes >= 0x80 are decoded as UTF-8.
 */
import { decodeOneToOne, decodeUtf8, encodeUtf8 } from './text.ts';

export interface Src {
  /** The bytes; offsets into them equal offsets into `t`. */
  readonly b: Uint8Array;
  /** One UTF-16 unit per byte (Latin-1 style). */
  readonly t: string;
  /** True when no byte is >= 0x80: slices of `t` are the final strings. */
  readonly ascii: boolean;
}


/** A Src over a JS string (public entry points that take strings). */
export function srcOf(value: string): Src {
  // One pass: copy while the chars are ASCII; the first other char sends the whole string to the UTF-8 encoder.
  const length = value.length;
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) {
      const utf8 = encodeUtf8(value);
      return { b: utf8, t: decodeOneToOne(utf8, 0, utf8.length, false), ascii: false };
    }
    b[i] = c;
  }
  return { b, t: value, ascii: true };
}

/** The string for src[start, end), UTF-8 decoded where it holds non-ASCII bytes. */
export function str(src: Src, start: number, end: number): string {
  if (!src.ascii) {
    const b = src.b;
    for (let i = start; i < end; i++) if (b[i]! >= 0x80) return decodeUtf8(b, start, end);
  }
  return src.t.slice(start, end);
}
