/**
 * Header parameters: *( SEMI generic-param ), generic-param = token [ EQUAL
 * gen-value ], gen-value = token / host / quoted-string (RFC 3261 s25.1).
 * SEMI and EQUAL allow whitespace around them. Names are lower-cased; values
 * are kept as written (quoted strings keep their quotes).
 */
import { SipParseError } from './errors.ts';
import { isToken } from './chars.ts';
import { scanQuoted, skipWs, scanToken } from './scan.ts';

export type Params = Map<string, string | null>;

export interface ParamsResult {
  params: Params;
  /** Index of the first char not consumed (end of string or a ','). */
  end: number;
}

function isValueChar(c: number): boolean {
  // token chars plus what an IPv6 host needs.
  return isToken(c) || c === 58 || c === 91 || c === 93;
}

/** Parses params starting at s[i] (which must be ';', whitespace or the end). */
export function parseParams(s: string, i: number, end: number, header: string, maxParams: number): ParamsResult {
  const params: Params = new Map();
  i = skipWs(s, i, end);
  while (i < end && s.charCodeAt(i) === 59) {
    i = skipWs(s, i + 1, end);
    const nameStart = i;
    i = scanToken(s, i, end);
    if (i === nameStart) throw new SipParseError('empty parameter name', { header });
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWs(s, i, end);
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1, end);
      const valueStart = i;
      if (i < end && s.charCodeAt(i) === 34) i = scanQuoted(s, i, end, header);
      else while (i < end && isValueChar(s.charCodeAt(i))) i++;
      if (i === valueStart) throw new SipParseError(`empty value for parameter ${name}`, { header });
      value = s.slice(valueStart, i);
      i = skipWs(s, i, end);
    }
    if (params.size >= maxParams) throw new SipParseError(`more than ${maxParams} parameters`, { header });
    params.set(name, value);
  }
  if (i < end && s.charCodeAt(i) !== 44) {
    throw new SipParseError(`unexpected character '${s[i]}' after parameters`, { header });
  }
  return { params, end: i };
}

export function formatParams(params: Params): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}
