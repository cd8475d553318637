/** Single-number headers: Max-Forwards (0-255), Content-Length, Expires, Min-Expires (delta-seconds, < 2^32). */
import { parseBoundedInt, skipWs, trimEnd } from '../scan.ts';

export const MAX_DELTA_SECONDS = 0xffffffff;

export function parseNumberHeader(s: string, max: number, header: string): number {
  const start = skipWs(s, 0, s.length);
  const end = trimEnd(s, start, s.length);
  return parseBoundedInt(s, start, end, max, header);
}

export function parseMaxForwards(s: string): number {
  return parseNumberHeader(s, 255, 'max-forwards');
}

export function parseDeltaSeconds(s: string, header: string): number {
  return parseNumberHeader(s, MAX_DELTA_SECONDS, header);
}
