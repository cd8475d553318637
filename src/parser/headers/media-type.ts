/** Content-Type / Accept media types (RFC 3261 s20.15, s20.1): type "/" subtype *(SEMI m-parameter). */
import { SipParseError } from '../errors.ts';
import { scanToken, skipWs, splitList } from '../scan.ts';
import { parseParams, type Params } from '../params.ts';

export interface MediaType {
  type: string;
  subtype: string;
  /** "type/subtype", lower-cased. */
  essence: string;
  params: Params;
}

export function parseMediaType(s: string, header: string, maxParams: number, start = 0, end = s.length): MediaType {
  let i = skipWs(s, start, end);
  const typeEnd = scanToken(s, i, end);
  if (typeEnd === i) throw new SipParseError('media type expected', { header });
  const type = s.slice(i, typeEnd).toLowerCase();
  i = skipWs(s, typeEnd, end);
  if (s.charCodeAt(i) !== 47) throw new SipParseError('"/" expected in media type', { header });
  i = skipWs(s, i + 1, end);
  const subtypeEnd = scanToken(s, i, end);
  if (subtypeEnd === i) throw new SipParseError('media subtype expected', { header });
  const subtype = s.slice(i, subtypeEnd).toLowerCase();
  const parsed = parseParams(s, subtypeEnd, end, header, maxParams);
  if (parsed.end !== end) throw new SipParseError('unexpected text after media type', { header });
  return { type, subtype, essence: `${type}/${subtype}`, params: parsed.params };
}

/** Accept: a possibly empty list of media ranges (an empty Accept means "no body"). */
export function parseMediaTypeList(s: string, header: string, maxValues: number, maxParams: number): MediaType[] {
  if (s.trim() === '') return [];
  const bounds = splitList(s, header, maxValues);
  const list: MediaType[] = [];
  for (let k = 0; k < bounds.length; k += 2) list.push(parseMediaType(s, header, maxParams, bounds[k]!, bounds[k + 1]!));
  return list;
}
