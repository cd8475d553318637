/** Comma-separated token lists: Require, Proxy-Require, Supported, Unsupported, Allow (RFC 3261 s20). */
import { SipParseError } from '../errors.ts';
import { isTokenAt, skipWs, splitList } from '../scan.ts';
import type { Src } from '../src.ts';

/** Supported and Allow may be empty (RFC 3261 s20.37, s20.5). */
export function parseTokenList(src: Src, start: number, end: number, header: string, maxValues: number): string[] {
  if (skipWs(src, start, end) === end) return [];
  const bounds = splitList(src, start, end, header, maxValues);
  const tokens: string[] = [];
  for (let k = 0; k < bounds.length; k += 2) {
    const a = bounds[k]!;
    const z = bounds[k + 1]!;
    if (!isTokenAt(src, a, z)) throw new SipParseError(`token expected, got ${JSON.stringify(src.t.slice(a, Math.min(z, a + 40)))}`, { header });
    tokens.push(src.t.slice(a, z));
  }
  return tokens;
}
