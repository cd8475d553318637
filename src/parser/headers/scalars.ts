/** Single-number headers: Max-Forwards (0-255), Content-Length, Expires, Min-Expires (delta-seconds, < 2^32). */
import { parseBoundedInt, skipWs, trimEnd } from '../scan.ts';
import type { Src } from '../src.ts';

export const MAX_DELTA_SECONDS = 0xffffffff;

export function parseNumberAt(src: Src, start: number, end: number, max: number, header: string): number {
  const a = skipWs(src, start, end);
  return parseBoundedInt(src, a, trimEnd(src, a, end), max, header);
}
