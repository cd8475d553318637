/** Retry-After (RFC 3261 s20.33): delta-seconds [ comment ] *( SEMI retry-param ). */
import { SipParseError } from '../errors.ts';
import { parseBoundedInt, scanDigits, skipWs, unfoldText } from '../scan.ts';
import { paramsMap, scanParams, type Params } from '../params.ts';
import { srcOf, str, type Src } from '../src.ts';
import { MAX_DELTA_SECONDS } from './scalars.ts';

export interface RetryAfter {
  seconds: number;
  comment: string | null;
  duration: number | null;
  params: Params;
}

const HEADER = 'retry-after';

export function parseRetryAfterAt(src: Src, start: number, end: number, maxParams: number): RetryAfter {
  const s = src.b;
  let i = skipWs(src, start, end);
  const digitsEnd = scanDigits(src, i, end);
  const seconds = parseBoundedInt(src, i, digitsEnd, MAX_DELTA_SECONDS, HEADER);
  i = skipWs(src, digitsEnd, end);
  let comment: string | null = null;
  if (i < end && s[i] === 40) {
    let depth = 0;
    const open = i;
    for (; i < end; i++) {
      const c = s[i]!;
      if (c === 92) i++;
      else if (c === 40) depth++;
      else if (c === 41 && --depth === 0) break;
    }
    if (depth !== 0) throw new SipParseError('unterminated comment', { header: HEADER });
    comment = unfoldText(str(src, open + 1, i));
    i++;
  }
  const paramsEnd = scanParams(src, i, end, HEADER, maxParams);
  if (paramsEnd !== end) throw new SipParseError('unexpected text', { header: HEADER });
  const params = paramsMap(src, i, paramsEnd, maxParams);
  const durationText = params.get('duration');
  const duration = durationText ? parseBoundedInt(srcOf(durationText), 0, durationText.length, MAX_DELTA_SECONDS, HEADER) : null;
  return { seconds, comment, duration, params };
}

export function parseRetryAfter(value: string, maxParams = 64): RetryAfter {
  const src = srcOf(value);
  return parseRetryAfterAt(src, 0, src.b.length, maxParams);
}
