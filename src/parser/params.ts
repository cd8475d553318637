/**
 * Header parameters: *( SEMI generic-param ), generic-param = token [ EQUAL
 * gen-value ], gen-value = token / host / quoted-string (RFC 3261 s25.1).
 * SEMI and EQUAL allow whitespace around them. scanParams validates and
 * records offsets in a shared scratch table without allocating; callers pick
 * the params they need and build the full Map only when asked.
 */
import { SipParseError } from './errors.ts';
import { isToken } from './chars.ts';
import { scanQuoted, skipWs, scanToken } from './scan.ts';

/** Param names lower-cased; values as written (quoted strings keep their quotes); null = no value. */
export type Params = Map<string, string | null>;

/** Offsets of the params found by the last scanParams: [nameStart, nameEnd, valueStart, valueEnd] each. */
export const scratch = { count: 0, bounds: new Int32Array(4 * 64) };

function isValueChar(c: number): boolean {
  // token chars plus what an IPv6 host needs.
  return isToken(c) || c === 58 || c === 91 || c === 93;
}

/**
 * Validates params starting at s[i] (';', whitespace or the end) and returns
 * the index where they stop (end of string or a ','). Offsets land in scratch.
 */
export function scanParams(s: string, i: number, end: number, header: string, maxParams: number): number {
  let count = 0;
  if (scratch.bounds.length < maxParams * 4) scratch.bounds = new Int32Array(maxParams * 4);
  const bounds = scratch.bounds;
  i = skipWs(s, i, end);
  while (i < end && s.charCodeAt(i) === 59) {
    i = skipWs(s, i + 1, end);
    const nameStart = i;
    i = scanToken(s, i, end);
    if (i === nameStart) throw new SipParseError('empty parameter name', { header });
    const nameEnd = i;
    i = skipWs(s, i, end);
    let valueStart = -1;
    let valueEnd = -1;
    if (i < end && s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1, end);
      valueStart = i;
      if (i < end && s.charCodeAt(i) === 34) i = scanQuoted(s, i, end, header);
      else while (i < end && isValueChar(s.charCodeAt(i))) i++;
      if (i === valueStart) throw new SipParseError(`empty value for parameter ${s.slice(nameStart, nameEnd)}`, { header });
      valueEnd = i;
      i = skipWs(s, i, end);
    }
    if (count >= maxParams) throw new SipParseError(`more than ${maxParams} parameters`, { header });
    const base = count * 4;
    bounds[base] = nameStart;
    bounds[base + 1] = nameEnd;
    bounds[base + 2] = valueStart;
    bounds[base + 3] = valueEnd;
    count++;
  }
  if (i < end && s.charCodeAt(i) !== 44) {
    throw new SipParseError(`unexpected character ${JSON.stringify(s[i])} after parameters`, { header });
  }
  scratch.count = count;
  return i;
}

/** True when s[start, end) equals `lower` ignoring ASCII case (`lower` is lower-case letters, digits, '-'). */
export function nameEquals(s: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) if ((s.charCodeAt(start + k) | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

/** Value of scratch param k: null when it has none. */
export function scratchValue(s: string, k: number): string | null {
  const base = k * 4;
  const start = scratch.bounds[base + 2]!;
  return start < 0 ? null : s.slice(start, scratch.bounds[base + 3]);
}

/** Builds the Map of already validated params in s[start, end). */
export function paramsMap(s: string, start: number, end: number, maxParams: number): Params {
  const params: Params = new Map();
  if (start >= end) return params;
  scanParams(s, start, end, 'params', maxParams);
  for (let k = 0; k < scratch.count; k++) {
    const base = k * 4;
    params.set(s.slice(scratch.bounds[base]!, scratch.bounds[base + 1]!).toLowerCase(), scratchValue(s, k));
  }
  return params;
}

/** Validates params and returns them as a Map with where they stopped (for lazily parsed headers). */
export function parseParams(s: string, i: number, end: number, header: string, maxParams: number): { params: Params; end: number } {
  const stop = scanParams(s, i, end, header, maxParams);
  return { params: paramsMap(s, i, stop, maxParams), end: stop };
}

export function formatParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}
