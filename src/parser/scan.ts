/** Small scanning helpers over a header value string (folding already undone). */
import { SipParseError } from './errors.ts';
import { isToken } from './chars.ts';

export function skipWs(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

export function trimEnd(s: string, start: number, end: number): number {
  while (end > start) {
    const c = s.charCodeAt(end - 1);
    if (c !== 32 && c !== 9) break;
    end--;
  }
  return end;
}

export function scanToken(s: string, i: number, end: number): number {
  while (i < end && isToken(s.charCodeAt(i))) i++;
  return i;
}

/**
 * s[i] is the opening quote; returns the index after the closing quote.
 * quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) (RFC 3261 s25.1).
 */
export function scanQuoted(s: string, i: number, end: number, header: string): number {
  for (i++; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92) {
      i++;
      if (i >= end) break;
      const next = s.charCodeAt(i);
      if (next === 10 || next === 13 || next > 0x7f) throw new SipParseError('bad quoted-pair', { header });
    } else if (c === 10 || c === 13 || c === 0) {
      throw new SipParseError('control character in quoted string', { header });
    }
  }
  throw new SipParseError('unterminated quoted string', { header });
}

/** Removes the quotes and quoted-pair escapes of a quoted-string (or returns s unchanged). */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 34 || s.charCodeAt(s.length - 1) !== 34) return s;
  const inner = s.slice(1, -1);
  return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\([\s\S])/g, '$1');
}

export function quote(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

/** Parses an unsigned decimal of at most `max`; leading zeros allowed. */
export function parseBoundedInt(s: string, start: number, end: number, max: number, header: string): number {
  if (start >= end) throw new SipParseError('number expected', { header });
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) throw new SipParseError(`not a number: ${s.slice(start, end).slice(0, 40)}`, { header });
    value = value * 10 + (c - 48);
    if (value > max) throw new SipParseError(`number out of range (max ${max})`, { header });
  }
  return value;
}

/**
 * Splits a list header value on commas outside quotes and <>, returning
 * [start, end) pairs (trimmed). Empty elements are an error: "a, ,b".
 */
export function splitList(s: string, header: string, maxValues: number): number[] {
  const bounds: number[] = [];
  const end = s.length;
  let start = 0;
  let angle = false;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 44;
    if (c === 34 && i < end) {
      i = scanQuoted(s, i, end, header) - 1;
    } else if (c === 60) {
      angle = true;
    } else if (c === 62) {
      angle = false;
    } else if (c === 44 && (!angle || i === end)) {
      const a = skipWs(s, start, i);
      const b = trimEnd(s, a, i);
      if (a === b) throw new SipParseError('empty list element', { header });
      bounds.push(a, b);
      if (bounds.length > maxValues * 2) throw new SipParseError(`more than ${maxValues} values`, { header, status: 400 });
      start = i + 1;
    }
  }
  return bounds;
}
