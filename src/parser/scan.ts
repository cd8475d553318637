/**
 * Scanning helpers over a Src range. A header value range may hold folds
 * (CRLF + whitespace, RFC 3261 s7.3.1); the line scanner guarantees every
 * CR/LF inside a value is part of one, so whitespace skipping treats CR and
 * LF as whitespace and parsers never need an unfolded copy.
 */
import { SipParseError } from './errors.ts';
import { checkHeaderValue } from './header-safe.ts';
import { charClass as sharedCharClass, CLASS_TOKEN as SHARED_CLASS_TOKEN } from './chars.ts';
import type { Src } from './src.ts';
// Module-local aliases: V8 reads a local const faster than an imported binding in hot loops.
const charClass = sharedCharClass;
const CLASS_TOKEN = SHARED_CLASS_TOKEN;

/** SP, HTAB, CR, LF: linear whitespace inside a value range. */
function isLws(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

export function skipWs(src: Src, i: number, end: number): number {
  const b = src.b;
  while (i < end && isLws(b[i]!)) i++;
  return i;
}

export function trimEnd(src: Src, start: number, end: number): number {
  const b = src.b;
  while (end > start && isLws(b[end - 1]!)) end--;
  return end;
}

export function scanToken(src: Src, i: number, end: number): number {
  const b = src.b;
  while (i < end && (charClass[b[i]!]! & CLASS_TOKEN) !== 0) i++;
  return i;
}

/** The bytes of an ASCII constant, for the comparisons below (bytes compare faster than charCodeAt). */
export function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** True when b[start, end) equals `lower` ignoring ASCII case (`lower` holds no upper-case letter). */
export function equalsLower(b: Uint8Array, start: number, end: number, lower: Uint8Array): boolean {
  if (end - start !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) {
    const c = b[start + k]!;
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== lower[k]) return false;
  }
  return true;
}

/** True when b[start, end) equals `exact` byte for byte. */
export function equalsExact(b: Uint8Array, start: number, end: number, exact: Uint8Array): boolean {
  if (end - start !== exact.length) return false;
  for (let k = 0; k < exact.length; k++) if (b[start + k] !== exact[k]) return false;
  return true;
}

export function isTokenAt(src: Src, start: number, end: number): boolean {
  return start < end && scanToken(src, start, end) === end;
}

/**
 * src[i] is the opening quote; returns the index after the closing quote.
 * quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) (RFC 3261 s25.1).
 */
export function scanQuoted(src: Src, i: number, end: number, header: string): number {
  const b = src.b;
  for (i++; i < end; i++) {
    const c = b[i]!;
    if (c === 34) return i + 1;
    if (c === 92) {
      i++;
      if (i >= end) break;
      const next = b[i]!;
      if (next === 10 || next === 13 || next > 0x7f) throw new SipParseError('bad quoted-pair', { header });
    } else if (c === 13 || c === 10) {
      // A fold inside the quotes is LWS (qdtext = LWS / ...); a value range holds no other CR/LF.
      continue;
    } else if (c === 0) {
      throw new SipParseError('control character in quoted string', { header });
    }
  }
  throw new SipParseError('unterminated quoted string', { header });
}

/** Parses an unsigned decimal of at most `max`; leading zeros allowed. */
export function parseBoundedInt(src: Src, start: number, end: number, max: number, header: string): number {
  if (start >= end) throw new SipParseError('number expected', { header });
  const b = src.b;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) throw new SipParseError(`not a number: ${src.t.slice(start, Math.min(end, start + 40))}`, { header });
    value = value * 10 + (c - 48);
    if (value > max) throw new SipParseError(`number out of range (max ${max})`, { header });
  }
  return value;
}

export function scanDigits(src: Src, i: number, end: number): number {
  const b = src.b;
  while (i < end && b[i]! >= 48 && b[i]! <= 57) i++;
  return i;
}

/** True when src[start, end) holds no comma and no quote: one list value, nothing for splitList to split or check. */
export function isSingleValue(src: Src, start: number, end: number): boolean {
  const b = src.b;
  for (let i = start; i < end; i++) if (b[i] === 44 || b[i] === 34) return false;
  return true;
}

/**
 * Splits a list value on commas outside quotes and <>, returning trimmed
 * [start, end) pairs. Empty elements are an error: "a, ,b".
 */
export function splitList(src: Src, start: number, end: number, header: string, maxValues: number): number[] {
  const b = src.b;
  const bounds: number[] = [];
  let from = start;
  let angle = false;
  for (let i = start; i <= end; i++) {
    const c = i < end ? b[i]! : 44;
    if (c === 34 && i < end) {
      i = scanQuoted(src, i, end, header) - 1;
    } else if (c === 60) {
      angle = true;
    } else if (c === 62) {
      angle = false;
    } else if (c === 44 && (!angle || i === end)) {
      const a = skipWs(src, from, i);
      const z = trimEnd(src, a, i);
      if (a === z) throw new SipParseError('empty list element', { header });
      bounds.push(a, z);
      if (bounds.length > maxValues * 2) throw new SipParseError(`more than ${maxValues} values`, { header });
      from = i + 1;
    }
  }
  return bounds;
}

/**
 * Replaces each fold (blanks, CRLF or LF, blanks) with one SP. A linear scan:
 * the equivalent regular expression backtracks quadratically on long blank runs.
 */
export function unfoldText(s: string): string {
  if (s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 13 && c !== 10) continue;
    let cut = i;
    while (cut > from && (s.charCodeAt(cut - 1) === 32 || s.charCodeAt(cut - 1) === 9)) cut--;
    let next = i + 1;
    while (next < s.length && (s.charCodeAt(next) === 32 || s.charCodeAt(next) === 9 || s.charCodeAt(next) === 13 || s.charCodeAt(next) === 10)) next++;
    out += `${s.slice(from, cut)} `;
    from = next;
    i = next - 1;
  }
  return out + s.slice(from);
}

/** Removes the quotes and quoted-pair escapes of a quoted-string (or returns s unchanged). */
export function unquote(s: string): string {
  s = unfoldText(s);
  if (s.length < 2 || s.charCodeAt(0) !== 34 || s.charCodeAt(s.length - 1) !== 34) return s;
  const inner = s.slice(1, -1);
  return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\([\s\S])/g, '$1');
}

/**
 * A quoted-string holding `s`. CR, LF and NUL cannot be written inside one
 * (RFC 3261 s25.1 quoted-pair excludes CR and LF): throws HeaderValueError
 * rather than break the header line.
 */
export function quote(s: string, field = 'quoted value'): string {
  checkHeaderValue(s, field);
  // Nearly every value has nothing to escape; two native indexOf scans cost
  // far less than a regex replace (or a charCodeAt loop) over it.
  if (s.indexOf('"') < 0 && s.indexOf('\\') < 0) return `"${s}"`;
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}
