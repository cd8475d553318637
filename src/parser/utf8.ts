/**
 * UTF-8 and Latin-1 in plain ECMAScript, for runtimes without TextDecoder
 * and TextEncoder (bare engines such as QuickJS). text.ts uses the runtime's
 * classes where they exist and these functions elsewhere; both give the same
 * strings and bytes: decoding follows the WHATWG Encoding Standard's UTF-8
 * decoder (U+FFFD for each maximal invalid subsequence, or an error in fatal
 * mode), encoding writes a lone surrogate as U+FFFD.
 */

/** Code units gathered before they are turned into a string (String.fromCharCode's argument count stays small). */
const CHUNK = 4096;

function flush(text: string, units: number[]): string {
  return text + String.fromCharCode.apply(null, units);
}

/** Bytes as ISO-8859-1: one char per byte, char code = byte (what Node's TextDecoder('latin1') gives). */
export function latin1Decode(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return text;
}

/**
 * Bytes as UTF-8, a leading BOM kept (TextDecoder's `ignoreBOM: true`).
 * `fatal`: throw a TypeError at the first invalid sequence, as
 * TextDecoder's `fatal: true` does, instead of writing U+FFFD.
 */
export function utf8Decode(bytes: Uint8Array, fatal = false): string {
  let text = '';
  const units: number[] = [];
  let needed = 0;
  let seen = 0;
  let codePoint = 0;
  let lower = 0x80;
  let upper = 0xbf;
  const invalid = (): void => {
    if (fatal) throw new TypeError('The encoded data was not valid for encoding utf-8');
    units.push(0xfffd);
  };
  for (let i = 0; i < bytes.length; i++) {
    if (units.length >= CHUNK) {
      text = flush(text, units);
      units.length = 0;
    }
    const byte = bytes[i]!;
    if (needed === 0) {
      if (byte <= 0x7f) units.push(byte);
      else if (byte >= 0xc2 && byte <= 0xdf) {
        needed = 1;
        codePoint = byte & 0x1f;
      } else if (byte >= 0xe0 && byte <= 0xef) {
        if (byte === 0xe0) lower = 0xa0; // no overlong forms
        if (byte === 0xed) upper = 0x9f; // no surrogates
        needed = 2;
        codePoint = byte & 0x0f;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        if (byte === 0xf0) lower = 0x90; // no overlong forms
        if (byte === 0xf4) upper = 0x8f; // nothing above U+10FFFF
        needed = 3;
        codePoint = byte & 0x07;
      } else invalid();
      continue;
    }
    if (byte < lower || byte > upper) {
      // The sequence ends here; this byte starts over ("prepend byte to stream").
      needed = seen = codePoint = 0;
      lower = 0x80;
      upper = 0xbf;
      invalid();
      i--;
      continue;
    }
    lower = 0x80;
    upper = 0xbf;
    codePoint = (codePoint << 6) | (byte & 0x3f);
    if (++seen !== needed) continue;
    if (codePoint > 0xffff) {
      codePoint -= 0x10000;
      units.push(0xd800 | (codePoint >> 10), 0xdc00 | (codePoint & 0x3ff));
    } else units.push(codePoint);
    needed = seen = codePoint = 0;
  }
  if (needed !== 0) invalid();
  return units.length === 0 ? text : flush(text, units);
}

/**
 * Writes `text` as UTF-8 into `into` as far as whole chars fit, as
 * TextEncoder.encodeInto does: `read` UTF-16 units consumed, `written` bytes.
 */
export function utf8EncodeInto(text: string, into: Uint8Array): { read: number; written: number } {
  const capacity = into.length;
  let read = 0;
  let written = 0;
  while (read < text.length) {
    let code = text.charCodeAt(read);
    let units = 1;
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = read + 1 < text.length ? text.charCodeAt(read + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        units = 2;
      } else code = 0xfffd; // a lone surrogate
    }
    if (code < 0x80) {
      if (written + 1 > capacity) break;
      into[written++] = code;
    } else if (code < 0x800) {
      if (written + 2 > capacity) break;
      into[written++] = 0xc0 | (code >> 6);
      into[written++] = 0x80 | (code & 0x3f);
    } else if (code < 0x10000) {
      if (written + 3 > capacity) break;
      into[written++] = 0xe0 | (code >> 12);
      into[written++] = 0x80 | ((code >> 6) & 0x3f);
      into[written++] = 0x80 | (code & 0x3f);
    } else {
      if (written + 4 > capacity) break;
      into[written++] = 0xf0 | (code >> 18);
      into[written++] = 0x80 | ((code >> 12) & 0x3f);
      into[written++] = 0x80 | ((code >> 6) & 0x3f);
      into[written++] = 0x80 | (code & 0x3f);
    }
    read += units;
  }
  return { read, written };
}

/** `text` as UTF-8 in a new array (TextEncoder.encode). */
export function utf8Encode(text: string): Uint8Array {
  // A UTF-16 unit takes at most 3 bytes (a pair of them 4), so this always fits.
  const bytes = new Uint8Array(text.length * 3);
  const { written } = utf8EncodeInto(text, bytes);
  return bytes.slice(0, written);
}
