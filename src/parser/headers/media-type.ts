/** Content-Type / Accept media types (RFC 3261 s20.15, s20.1): type "/" subtype *(SEMI m-parameter). */
import { SipParseError } from '../errors.ts';
import { asciiBytes, equalsLower, scanToken, skipWs, splitList, trimEnd } from '../scan.ts';
import { paramsMap, scanParams, type Params } from '../params.ts';
import type { Src } from '../src.ts';

export interface MediaType {
  readonly type: string;
  readonly subtype: string;
  /** "type/subtype", lower-cased. */
  readonly essence: string;
  readonly params: Params;
}

class ParsedMediaType implements MediaType {
  #params: Params | undefined;

  // `declare`: set only by the constructor, so no field is defined first and then overwritten (hot path).
  declare readonly essence: string;
  declare readonly slash: number;
  private declare readonly src: Src;
  private declare readonly paramsStart: number;
  private declare readonly paramsEnd: number;
  private declare readonly maxParams: number;

  constructor(
    essence: string,
    slash: number,
    src: Src,
    paramsStart: number,
    paramsEnd: number,
    maxParams: number,
  ) {
    this.essence = essence;
    this.slash = slash;
    this.src = src;
    this.paramsStart = paramsStart;
    this.paramsEnd = paramsEnd;
    this.maxParams = maxParams;
  }

  get type(): string {
    return this.essence.slice(0, this.slash);
  }

  get subtype(): string {
    return this.essence.slice(this.slash + 1);
  }

  get params(): Params {
    return (this.#params ??= paramsMap(this.src, this.paramsStart, this.paramsEnd, this.maxParams));
  }

  toJSON(): object {
    return { type: this.type, subtype: this.subtype, essence: this.essence, params: Object.fromEntries(this.params) };
  }
}

const COMMON = ['application/sdp', 'text/plain', 'message/sipfrag', 'application/dtmf-relay', 'multipart/mixed'];
const COMMON_BYTES = COMMON.map(asciiBytes);

export function parseMediaTypeAt(src: Src, start: number, end: number, header: string, maxParams: number): MediaType {
  const b = src.b;
  let i = skipWs(src, start, end);
  const typeStart = i;
  const typeEnd = scanToken(src, i, end);
  if (typeEnd === i) throw new SipParseError('media type expected', { header });
  i = skipWs(src, typeEnd, end);
  if (i >= end || b[i] !== 47) throw new SipParseError('"/" expected in media type', { header });
  i = skipWs(src, i + 1, end);
  const subtypeStart = i;
  const subtypeEnd = scanToken(src, i, end);
  if (subtypeEnd === i) throw new SipParseError('media subtype expected', { header });
  const paramsEnd = scanParams(src, subtypeEnd, end, header, maxParams);
  if (paramsEnd !== end) throw new SipParseError('unexpected text after media type', { header });
  let essence: string | undefined;
  if (typeEnd === subtypeStart - 1) {
    for (let n = 0; n < COMMON.length; n++) {
      if (equalsLower(src.b, typeStart, subtypeEnd, COMMON_BYTES[n]!)) essence = COMMON[n]!;
    }
  }
  essence ??= `${src.t.slice(typeStart, typeEnd)}/${src.t.slice(subtypeStart, subtypeEnd)}`.toLowerCase();
  return new ParsedMediaType(essence, typeEnd - typeStart, src, subtypeEnd, paramsEnd, maxParams);
}

/** Accept: a possibly empty list of media ranges (an empty Accept means "no body"). */
export function parseMediaTypeList(src: Src, start: number, end: number, header: string, maxValues: number, maxParams: number): MediaType[] {
  if (trimEnd(src, skipWs(src, start, end), end) === skipWs(src, start, end)) return [];
  const bounds = splitList(src, start, end, header, maxValues);
  const list: MediaType[] = [];
  for (let k = 0; k < bounds.length; k += 2) list.push(parseMediaTypeAt(src, bounds[k]!, bounds[k + 1]!, header, maxParams));
  return list;
}
