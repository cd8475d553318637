/**
 * Header parameters: *( SEMI generic-param ), generic-param = token [ EQUAL
 * gen-value ], gen-value = token / host / quoted-string (RFC 3261 s25.1).
 * SEMI and EQUAL allow whitespace around them. scanParams validates and
 * records offsets in a shared scratch table without allocating; callers pick
 * the params they need and build the full Map only when asked.
 */
import { SipParseError } from './errors.ts';
import { charClass as sharedCharClass, CLASS_TOKEN as SHARED_CLASS_TOKEN } from './chars.ts';
import { equalsLower, scanQuoted, skipWs, scanToken, unfoldText } from './scan.ts';
import { srcOf, str, type Src } from './src.ts';
// Module-local aliases: V8 reads a local const faster than an imported binding in hot loops.
const charClass = sharedCharClass;
const CLASS_TOKEN = SHARED_CLASS_TOKEN;

/** Param names lower-cased; values as written (quoted strings keep their quotes); null = no value. */
export type Params = Map<string, string | null>;

/** Offsets of the params found by the last scanParams: [nameStart, nameEnd, valueStart, valueEnd] each. */
export const scratch = { count: 0, bounds: new Int32Array(4 * 64) };

/** gen-value chars: token plus what an IPv6 host needs (':', '[', ']'). */
const VALUE = 0x100;
const valueChars = new Uint16Array(256);
for (let c = 0; c < 256; c++) if (charClass[c]! & CLASS_TOKEN) valueChars[c] = VALUE;
valueChars[58] = valueChars[91] = valueChars[93] = VALUE;

/**
 * Validates params starting at src[i] (';', whitespace or the end) and returns
 * the index where they stop (end or a ','). Offsets land in scratch.
 */
export function scanParams(src: Src, i: number, end: number, header: string, maxParams: number): number {
  const b = src.b;
  let count = 0;
  if (scratch.bounds.length < maxParams * 4) scratch.bounds = new Int32Array(maxParams * 4);
  const bounds = scratch.bounds;
  i = skipWs(src, i, end);
  while (i < end && b[i] === 59) {
    i = skipWs(src, i + 1, end);
    const nameStart = i;
    i = scanToken(src, i, end);
    if (i === nameStart) throw new SipParseError('empty parameter name', { header });
    const nameEnd = i;
    i = skipWs(src, i, end);
    let valueStart = -1;
    let valueEnd = -1;
    if (i < end && b[i] === 61) {
      i = skipWs(src, i + 1, end);
      valueStart = i;
      if (i < end && b[i] === 34) i = scanQuoted(src, i, end, header);
      else while (i < end && valueChars[b[i]!] === VALUE) i++;
      if (i === valueStart) throw new SipParseError(`empty value for parameter ${src.t.slice(nameStart, nameEnd)}`, { header });
      valueEnd = i;
      i = skipWs(src, i, end);
    }
    if (count >= maxParams) throw new SipParseError(`more than ${maxParams} parameters`, { header });
    const base = count * 4;
    bounds[base] = nameStart;
    bounds[base + 1] = nameEnd;
    bounds[base + 2] = valueStart;
    bounds[base + 3] = valueEnd;
    count++;
  }
  if (i < end && b[i] !== 44) {
    throw new SipParseError(`unexpected character ${JSON.stringify(src.t[i])} after parameters`, { header });
  }
  scratch.count = count;
  return i;
}

/** True when scratch param k's name equals `lower` (bytes of a lower-case name) ignoring case. */
export function paramNameIs(src: Src, k: number, lower: Uint8Array): boolean {
  return equalsLower(src.b, scratch.bounds[k * 4]!, scratch.bounds[k * 4 + 1]!, lower);
}

/** Value of scratch param k: null when it has none. */
export function scratchValue(src: Src, k: number): string | null {
  const start = scratch.bounds[k * 4 + 2]!;
  if (start < 0) return null;
  const value = str(src, start, scratch.bounds[k * 4 + 3]!);
  // Only a quoted value can hold a fold; give it unfolded like every other value.
  return src.b[start] === 34 ? unfoldText(value) : value;
}

/** Builds the Map of already validated params in src[start, end). */
export function paramsMap(src: Src, start: number, end: number, maxParams: number): Params {
  const params: Params = new Map();
  if (start >= end) return params;
  scanParams(src, start, end, 'params', maxParams);
  for (let k = 0; k < scratch.count; k++) {
    const base = k * 4;
    params.set(src.t.slice(scratch.bounds[base]!, scratch.bounds[base + 1]!).toLowerCase(), scratchValue(src, k));
  }
  return params;
}

/** Params of a string such as ";lr;transport=tcp" (validated), as a Map. */
export function parseParamString(text: string, header: string, maxParams = 64): Params {
  const src = srcOf(text);
  const stop = scanParams(src, 0, src.b.length, header, maxParams);
  if (stop !== src.b.length) throw new SipParseError('unexpected text after parameters', { header });
  return paramsMap(src, 0, stop, maxParams);
}

/** `;name=value` for each param, in order; `omit` (a lower-case name) left out. */
export function formatParams(params: Params, omit?: string): string {
  let out = '';
  for (const [name, value] of params) {
    if (name === omit) continue;
    out += value === null ? `;${name}` : `;${name}=${value}`;
  }
  return out;
}
