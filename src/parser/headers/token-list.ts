/** Comma-separated token lists: Require, Proxy-Require, Supported, Unsupported, Allow (RFC 3261 s20). */
import { SipParseError } from '../errors.ts';
import { isTokenRange } from '../chars.ts';
import { splitList } from '../scan.ts';

/** Supported and Allow may be empty (RFC 3261 s20.37, s20.5); the others may not. */
export function parseTokenList(s: string, header: string, maxValues: number): string[] {
  if (s.trim() === '') return [];
  const bounds = splitList(s, header, maxValues);
  const tokens: string[] = [];
  for (let k = 0; k < bounds.length; k += 2) {
    if (!isTokenRange(s, bounds[k]!, bounds[k + 1]!)) {
      throw new SipParseError(`token expected, got ${JSON.stringify(s.slice(bounds[k]!, bounds[k + 1]!).slice(0, 40))}`, { header });
    }
    tokens.push(s.slice(bounds[k]!, bounds[k + 1]!));
  }
  return tokens;
}
