/**
 * name-addr / addr-spec values of From, To, Contact, Route, Record-Route,
 * Reply-To, Refer-To (RFC 3261 s20, s25.1):
 *   ( name-addr / addr-spec ) *( SEMI param ),
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT.
 * In the addr-spec form, ';' starts header params, never URI params
 * (RFC 4475 s3.3.12), and '?' or ',' inside the URI is an error.
 */
import { SipParseError } from '../errors.ts';
import { charClass as sharedCharClass, CLASS_TOKEN as SHARED_CLASS_TOKEN } from '../chars.ts';
import { asciiBytes, isSingleValue, scanQuoted, skipWs, splitList, trimEnd, unfoldText, unquote } from '../scan.ts';
import { formatParams, paramNameIs, paramsMap, scanParams, scratch, scratchValue, type Params } from '../params.ts';
import { parseUriAt, type Uri } from '../uri.ts';
import { srcOf, str, type Src } from '../src.ts';
// Module-local aliases: V8 reads a local const faster than an imported binding in hot loops.
const charClass = sharedCharClass;
const CLASS_TOKEN = SHARED_CLASS_TOKEN;

export interface NameAddr {
  /** Display name without quotes or escapes; null when absent. */
  readonly displayName: string | null;
  readonly uri: Uri;
  /** Header params (tag, expires, q, ...), names lower-cased, values as written. */
  readonly params: Params;
  /** The tag param, for From/To. */
  readonly tag: string | null;
}

const TAG = asciiBytes('tag');

/** A Contact value: a binding, or the "*" of a REGISTER that removes all. */
export type ContactValue = NameAddr | { wildcard: true };

/**
 * A parsed value: structure and tag checked in one pass; the URI is parsed
 * (and checked) on first access, the params Map built on demand.
 */
class ParsedNameAddr implements NameAddr {
  tag: string | null = null;
  #params: Params | undefined;
  #uri: Uri | undefined;

  // `declare`: set only by the constructor, so no field is defined first and then overwritten (hot path).
  declare readonly displayName: string | null;
  private declare readonly src: Src;
  private declare readonly uriStart: number;
  private declare readonly uriEnd: number;
  private declare readonly paramsStart: number;
  private declare readonly paramsEnd: number;
  private declare readonly header: string;
  private declare readonly maxParams: number;

  constructor(
    displayName: string | null,
    src: Src,
    uriStart: number,
    uriEnd: number,
    paramsStart: number,
    paramsEnd: number,
    header: string,
    maxParams: number,
  ) {
    this.displayName = displayName;
    this.src = src;
    this.uriStart = uriStart;
    this.uriEnd = uriEnd;
    this.paramsStart = paramsStart;
    this.paramsEnd = paramsEnd;
    this.header = header;
    this.maxParams = maxParams;
  }

  get uri(): Uri {
    return (this.#uri ??= parseUriAt(this.src, this.uriStart, this.uriEnd, this.header));
  }

  get params(): Params {
    return (this.#params ??= paramsMap(this.src, this.paramsStart, this.paramsEnd, this.maxParams));
  }

  toJSON(): object {
    return { displayName: this.displayName, uri: this.uri.toString(), params: Object.fromEntries(this.params), tag: this.tag };
  }
}

export function parseNameAddrAt(src: Src, start: number, end: number, header: string, maxParams: number): NameAddr {
  const b = src.b;
  let i = skipWs(src, start, end);
  let displayName: string | null = null;
  let bracketed = false;
  if (i < end && b[i] === 34) {
    const close = scanQuoted(src, i, end, header);
    displayName = unquote(str(src, i, close));
    i = skipWs(src, close, end);
    if (i >= end || b[i] !== 60) throw new SipParseError('"<" expected after display name', { header });
    bracketed = true;
  } else if (i < end && b[i] !== 60) {
    // Either *(token LWS) "<" or an addr-spec; a token run followed by "<" is a display name.
    let j = i;
    let folded = false;
    // UTF-8 letters are accepted unquoted: phones send them, and nothing is ambiguous.
    for (; j < end; j++) {
      const c = b[j]!;
      if ((charClass[c]! & CLASS_TOKEN) !== 0 || c === 32 || c === 9 || c >= 0x80) continue;
      if (c === 13 || c === 10) folded = true;
      else break;
    }
    if (j < end && b[j] !== 60 && b[j] !== 58 && src.t.indexOf('<', j) >= 0 && src.t.indexOf('<', j) < end) {
      // Not an addr-spec (whose scheme ends at ':'): a display name with a ',' or '"' inside.
      throw new SipParseError('a display name with non-token characters must be quoted', { header });
    }
    if (j < end && b[j] === 60) {
      const nameEnd = trimEnd(src, i, j);
      if (nameEnd > i) displayName = folded ? unfoldText(str(src, i, nameEnd)) : str(src, i, nameEnd);
      i = j;
      bracketed = true;
    }
  } else {
    bracketed = true;
  }
  let uriStart: number;
  let uriEnd: number;
  if (bracketed) {
    uriStart = i + 1;
    // Native search: the URI is the longest run in the value.
    uriEnd = src.t.indexOf('>', uriStart);
    if (uriEnd < 0 || uriEnd >= end) throw new SipParseError('">" expected', { header });
    // RFC 4475 s3.1.2.14: no whitespace between the brackets and the URI.
    if (uriEnd > uriStart && (isBlank(b[uriStart]!) || isBlank(b[uriEnd - 1]!))) {
      throw new SipParseError('whitespace inside <>', { header });
    }
    i = uriEnd + 1;
  } else {
    uriStart = i;
    while (i < end) {
      const c = b[i]!;
      if (c === 59 || c === 44 || c === 32 || c === 9) break;
      if (c === 63) throw new SipParseError('a URI with headers must be enclosed in <>', { header });
      i++;
    }
    uriEnd = i;
  }
  // The URI's own characters are checked when it is parsed (on first access).
  if (uriEnd === uriStart) throw new SipParseError('empty URI', { header });
  const paramsEnd = scanParams(src, i, end, header, maxParams);
  if (paramsEnd !== end) throw new SipParseError('unexpected text after value', { header });
  const value = new ParsedNameAddr(displayName, src, uriStart, uriEnd, i, paramsEnd, header, maxParams);
  for (let k = 0; k < scratch.count; k++) if (paramNameIs(src, k, TAG)) value.tag = scratchValue(src, k);
  return value;
}

/** A name-addr value given as a string (tests, tools). */
export function parseNameAddr(value: string, header: string, maxParams = 64): NameAddr {
  const src = srcOf(value);
  return parseNameAddrAt(src, 0, src.b.length, header, maxParams);
}

/** Contact, Route, Record-Route: comma-separated lists of name-addr values. */
export function parseNameAddrList(src: Src, start: number, end: number, header: string, maxValues: number, maxParams: number): NameAddr[] {
  // One value (no comma, no quote: nothing for splitList to split or check), trimmed as splitList trims it.
  if (maxValues >= 1 && isSingleValue(src, start, end)) {
    const a = skipWs(src, start, end);
    const z = trimEnd(src, a, end);
    if (a === z) throw new SipParseError('empty list element', { header });
    return [parseNameAddrAt(src, a, z, header, maxParams)];
  }
  const bounds = splitList(src, start, end, header, maxValues);
  const list: NameAddr[] = [];
  for (let k = 0; k < bounds.length; k += 2) list.push(parseNameAddrAt(src, bounds[k]!, bounds[k + 1]!, header, maxParams));
  return list;
}

export function parseContactList(src: Src, start: number, end: number, maxValues: number, maxParams: number): ContactValue[] {
  const a = skipWs(src, start, end);
  if (trimEnd(src, a, end) === a + 1 && src.b[a] === 42) return [{ wildcard: true }];
  return parseNameAddrList(src, start, end, 'contact', maxValues, maxParams);
}

export function isWildcard(value: ContactValue): value is { wildcard: true } {
  return 'wildcard' in value;
}

/** Always writes the name-addr form so URI params and header params stay apart; `omitParam` (lower case) is left out. */
export function formatNameAddr(value: NameAddr, omitParam?: string): string {
  const display = value.displayName === null ? '' : `${quoteDisplayName(value.displayName)} `;
  return `${display}<${value.uri.toString()}>${formatParams(value.params, omitParam)}`;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

function quoteDisplayName(name: string): string {
  return `"${name.replace(/(["\\])/g, '\\$1')}"`;
}
