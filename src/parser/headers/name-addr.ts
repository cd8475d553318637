/**
 * name-addr / addr-spec values of From, To, Contact, Route, Record-Route,
 * Reply-To, Refer-To (RFC 3261 s20, s25.1):
 *   ( name-addr / addr-spec ) *( SEMI param ),
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT.
 * In the addr-spec form, ';' starts header params, never URI params
 * (RFC 4475 s3.3.12), and '?' or ',' inside the URI is an error.
 */
import { SipParseError } from '../errors.ts';
import { isToken } from '../chars.ts';
import { scanQuoted, skipWs, splitList, trimEnd, unquote } from '../scan.ts';
import { formatParams, nameEquals, paramsMap, scanParams, scratch, scratchValue, type Params } from '../params.ts';
import { parseUri, type Uri } from '../uri.ts';

export interface NameAddr {
  /** Display name without quotes or escapes; null when absent. */
  readonly displayName: string | null;
  readonly uri: Uri;
  /** Header params (tag, expires, q, ...), names lower-cased, values as written. */
  readonly params: Params;
  /** The tag param, for From/To. */
  readonly tag: string | null;
}

/**
 * A parsed value: structure and tag checked in one pass; the URI is parsed
 * (and checked) on first access, the params Map built on demand.
 */
class ParsedNameAddr implements NameAddr {
  tag: string | null = null;
  #params: Params | undefined;
  #uri: Uri | undefined;

  constructor(
    readonly displayName: string | null,
    private readonly uriText: string,
    private readonly header: string,
    private readonly paramText: string,
    private readonly maxParams: number,
  ) {}

  get uri(): Uri {
    return (this.#uri ??= parseUri(this.uriText, this.header));
  }

  get params(): Params {
    return (this.#params ??= paramsMap(this.paramText, 0, this.paramText.length, this.maxParams));
  }

  toJSON(): object {
    return { displayName: this.displayName, uri: this.uri.toString(), params: Object.fromEntries(this.params), tag: this.tag };
  }
}

/** A Contact value: a binding, or the "*" of a REGISTER that removes all. */
export type ContactValue = NameAddr | { wildcard: true };

export function parseNameAddr(s: string, header: string, maxParams: number, start = 0, end = s.length): NameAddr {
  let i = skipWs(s, start, end);
  let displayName: string | null = null;
  let uriStart: number;
  let uriEnd: number;
  let bracketed = false;
  if (s.charCodeAt(i) === 34) {
    const close = scanQuoted(s, i, end, header);
    displayName = unquote(s.slice(i, close));
    i = skipWs(s, close, end);
    if (s.charCodeAt(i) !== 60) throw new SipParseError('"<" expected after display name', { header });
    bracketed = true;
  } else if (s.charCodeAt(i) !== 60) {
    // Either *(token LWS) "<" or an addr-spec; a token run followed by "<" is a display name.
    let j = i;
    while (j < end) {
      const c = s.charCodeAt(j);
      // UTF-8 letters are accepted unquoted: phones send them, and nothing is ambiguous.
      if (!isToken(c) && c !== 32 && c !== 9 && c < 128) break;
      j++;
    }
    if (j < end && s.charCodeAt(j) === 60) {
      const nameEnd = trimEnd(s, i, j);
      if (nameEnd > i) displayName = s.slice(i, nameEnd);
      i = j;
      bracketed = true;
    }
  } else {
    bracketed = true;
  }
  if (bracketed) {
    uriStart = i + 1;
    uriEnd = s.indexOf('>', uriStart);
    if (uriEnd < 0 || uriEnd >= end) throw new SipParseError('">" expected', { header });
    i = uriEnd + 1;
  } else {
    uriStart = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c === 59 || c === 44 || c === 32 || c === 9) break;
      if (c === 63) throw new SipParseError('a URI with headers must be enclosed in <>', { header });
      i++;
    }
    uriEnd = i;
  }
  // The URI's own characters are checked when it is parsed (on first access).
  if (uriEnd === uriStart) throw new SipParseError('empty URI', { header });
  const paramsEnd = scanParams(s, i, end, header, maxParams);
  if (paramsEnd !== end) throw new SipParseError('unexpected text after value', { header });
  const value = new ParsedNameAddr(displayName, s.slice(uriStart, uriEnd), header, scratch.count === 0 ? '' : s.slice(i, end), maxParams);
  for (let k = 0; k < scratch.count; k++) {
    if (nameEquals(s, scratch.bounds[k * 4]!, scratch.bounds[k * 4 + 1]!, 'tag')) value.tag = scratchValue(s, k);
  }
  return value;
}

/** Contact, Route, Record-Route: comma-separated lists of name-addr values. */
export function parseNameAddrList(s: string, header: string, maxValues: number, maxParams: number): NameAddr[] {
  const bounds = splitList(s, header, maxValues);
  const list: NameAddr[] = [];
  for (let k = 0; k < bounds.length; k += 2) list.push(parseNameAddr(s, header, maxParams, bounds[k]!, bounds[k + 1]!));
  return list;
}

export function parseContactList(s: string, maxValues: number, maxParams: number): ContactValue[] {
  const trimmed = s.trim();
  if (trimmed === '*') return [{ wildcard: true }];
  return parseNameAddrList(s, 'contact', maxValues, maxParams);
}

export function isWildcard(value: ContactValue): value is { wildcard: true } {
  return 'wildcard' in value;
}

/** Always writes the name-addr form so URI params and header params stay apart. */
export function formatNameAddr(value: NameAddr): string {
  const display = value.displayName === null ? '' : `${quoteDisplayName(value.displayName)} `;
  return `${display}<${value.uri.toString()}>${formatParams(value.params)}`;
}

function quoteDisplayName(name: string): string {
  return `"${name.replace(/(["\\])/g, '\\$1')}"`;
}
