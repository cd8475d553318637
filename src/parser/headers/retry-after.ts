/** Retry-After (RFC 3261 s20.33): delta-seconds [ comment ] *( SEMI retry-param ). */
import { SipParseError } from '../errors.ts';
import { parseBoundedInt, skipWs } from '../scan.ts';
import { parseParams, type Params } from '../params.ts';
import { MAX_DELTA_SECONDS } from './scalars.ts';

export interface RetryAfter {
  seconds: number;
  comment: string | null;
  duration: number | null;
  params: Params;
}

const HEADER = 'retry-after';

export function parseRetryAfter(s: string, maxParams: number): RetryAfter {
  const end = s.length;
  let i = skipWs(s, 0, end);
  const start = i;
  while (i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const seconds = parseBoundedInt(s, start, i, MAX_DELTA_SECONDS, HEADER);
  i = skipWs(s, i, end);
  let comment: string | null = null;
  if (s.charCodeAt(i) === 40) {
    let depth = 0;
    const open = i;
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === 92) i++;
      else if (c === 40) depth++;
      else if (c === 41 && --depth === 0) break;
    }
    if (depth !== 0) throw new SipParseError('unterminated comment', { header: HEADER });
    comment = s.slice(open + 1, i);
    i++;
  }
  const parsed = parseParams(s, i, end, HEADER, maxParams);
  if (parsed.end !== end) throw new SipParseError('unexpected text', { header: HEADER });
  const durationText = parsed.params.get('duration');
  const duration = durationText ? parseBoundedInt(durationText, 0, durationText.length, MAX_DELTA_SECONDS, HEADER) : null;
  return { seconds, comment, duration, params: parsed.params };
}
