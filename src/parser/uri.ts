/**
 * URIs (RFC 3261 s19.1, s25.1; RFC 3966 tel). sip/sips URIs are checked
 * character by character when parsed; their params and headers are split
 * into maps on first access. Escapes (%HH) are kept as written and decoded
 * only on demand, in a single pass (RFC 4475 s3.1.1.3).
 */
import { SipParseError } from './errors.ts';
import { charClass as sharedCharClass, CLASS_ALPHA as SHARED_CLASS_ALPHA, CLASS_DIGIT as SHARED_CLASS_DIGIT, CLASS_HOST as SHARED_CLASS_HOST, CLASS_UNRESERVED as SHARED_CLASS_UNRESERVED, isHex } from './chars.ts';
import { parseBoundedInt, scanDigits } from './scan.ts';
import { srcOf, str, type Src } from './src.ts';
import { decodeUtf8, utf8Bytes } from './text.ts';
import type { Params } from './params.ts';
// Module-local aliases: V8 reads a local const faster than an imported binding in hot loops.
const charClass = sharedCharClass;
const CLASS_ALPHA = SHARED_CLASS_ALPHA;
const CLASS_DIGIT = SHARED_CLASS_DIGIT;
const CLASS_HOST = SHARED_CLASS_HOST;
const CLASS_UNRESERVED = SHARED_CLASS_UNRESERVED;

const USER = 1;
const PASSWORD = 2;
const PARAM = 4;
const HEADER = 8;
const uriChars = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  if (charClass[c]! & CLASS_UNRESERVED) uriChars[c] = USER | PASSWORD | PARAM | HEADER;
}
function allow(chars: string, flag: number): void {
  for (let i = 0; i < chars.length; i++) uriChars[chars.charCodeAt(i)]! |= flag;
}
allow('&=+$,;?/', USER);
allow('&=+$,', PASSWORD);
allow('[]/:&+$', PARAM);
allow('[]/?:+$', HEADER);

function checkChars(src: Src, start: number, end: number, flag: number, what: string, header: string): void {
  const b = src.b;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 37) {
      if (i + 2 >= end || !isHex(b[i + 1]!) || !isHex(b[i + 2]!)) throw new SipParseError(`bad escape in URI ${what}`, { header });
      i += 2;
    } else if ((uriChars[c]! & flag) === 0) {
      throw new SipParseError(`invalid character ${JSON.stringify(src.t[i])} in URI ${what}`, { header });
    }
  }
}

export type UriScheme = 'sip' | 'sips' | 'tel' | string;

/** Every URI exposes scheme/user/host/port; non-SIP URIs have null for the last three. */
export interface Uri {
  readonly scheme: UriScheme;
  readonly user: string | null;
  readonly host: string | null;
  readonly port: number | null;
  readonly params: Params;
  toString(): string;
}

export class SipUri implements Uri {
  readonly scheme: 'sip' | 'sips';
  readonly user: string | null;
  readonly password: string | null;
  readonly host: string;
  readonly port: number | null;
  readonly #raw: string;
  readonly #paramsStart: number;
  readonly #headersStart: number;
  #params: Params | undefined;
  #headers: Map<string, string> | undefined;

  constructor(parts: {
    scheme: 'sip' | 'sips';
    user: string | null;
    password: string | null;
    host: string;
    port: number | null;
    raw: string;
    paramsStart: number;
    headersStart: number;
  }) {
    this.scheme = parts.scheme;
    this.user = parts.user;
    this.password = parts.password;
    this.host = parts.host;
    this.port = parts.port;
    this.#raw = parts.raw;
    this.#paramsStart = parts.paramsStart;
    this.#headersStart = parts.headersStart;
  }

  /** URI parameters, names lower-cased, values as written (escaped). */
  get params(): Params {
    if (this.#params === undefined) {
      this.#params = new Map();
      const end = this.#headersStart < 0 ? this.#raw.length : this.#headersStart;
      if (this.#paramsStart >= 0) {
        for (const part of this.#raw.slice(this.#paramsStart + 1, end).split(';')) {
          const eq = part.indexOf('=');
          if (eq < 0) this.#params.set(part.toLowerCase(), null);
          else this.#params.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
        }
      }
    }
    return this.#params;
  }

  /** URI headers (?name=value&...), values as written (escaped). */
  get headers(): Map<string, string> {
    if (this.#headers === undefined) {
      this.#headers = new Map();
      if (this.#headersStart >= 0) {
        for (const part of this.#raw.slice(this.#headersStart + 1).split('&')) {
          const eq = part.indexOf('=');
          this.#headers.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? '' : part.slice(eq + 1));
        }
      }
    }
    return this.#headers;
  }

  get hasHeaders(): boolean {
    return this.#headersStart >= 0;
  }

  /** The user part with %HH escapes decoded (single pass). */
  get decodedUser(): string | null {
    return this.user === null ? null : decodeEscapes(this.user);
  }

  /** host:port as written in a Via sent-by or a target address. */
  get hostport(): string {
    return this.port === null ? this.host : `${this.host}:${this.port}`;
  }

  toString(): string {
    return this.#raw;
  }

  toJSON(): string {
    return this.#raw;
  }
}

/** tel: (RFC 3966) and every other absolute URI: kept as written. */
export class OtherUri implements Uri {
  readonly scheme: string;
  readonly user = null;
  readonly host = null;
  readonly port = null;
  /** For tel: the telephone number; otherwise the text after "scheme:". */
  readonly opaque: string;
  readonly #raw: string;
  #params: Params | undefined;

  constructor(scheme: string, raw: string) {
    this.scheme = scheme;
    this.#raw = raw;
    const rest = raw.slice(scheme.length + 1);
    const semi = scheme === 'tel' ? rest.indexOf(';') : -1;
    this.opaque = semi < 0 ? rest : rest.slice(0, semi);
  }

  get params(): Params {
    if (this.#params === undefined) {
      this.#params = new Map();
      if (this.scheme === 'tel') {
        const parts = this.#raw.slice(4).split(';').slice(1);
        for (const part of parts) {
          const eq = part.indexOf('=');
          this.#params.set((eq < 0 ? part : part.slice(0, eq)).toLowerCase(), eq < 0 ? null : part.slice(eq + 1));
        }
      }
    }
    return this.#params;
  }

  toString(): string {
    return this.#raw;
  }

  toJSON(): string {
    return this.#raw;
  }
}

export interface UriOptions {
  /** The Request-URI may not carry ?headers (RFC 3261 s19.1.1 table). */
  allowHeaders?: boolean;
}

/** Parses a whole URI string (no surrounding whitespace or <>). */
export function parseUri(raw: string, header = 'uri', options: UriOptions = {}): Uri {
  const src = srcOf(raw);
  return parseUriAt(src, 0, src.b.length, header, options);
}

/** Parses the URI in src[start, end). */
export function parseUriAt(src: Src, start: number, end: number, header: string, options: UriOptions = {}): Uri {
  const colon = schemeEnd(src, start, end, header);
  const b = src.b;
  const raw = str(src, start, end);
  // Common schemes compared in place: no lower-casing allocation.
  let scheme: string;
  if (colon - start === 3 && (b[start]! | 0x20) === 0x73 && (b[start + 1]! | 0x20) === 0x69 && (b[start + 2]! | 0x20) === 0x70) {
    scheme = 'sip';
  } else {
    scheme = src.t.slice(start, colon).toLowerCase();
  }
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(src, raw, scheme, start, colon + 1, end, header, options);
  for (let i = colon + 1; i < end; i++) {
    const c = b[i]!;
    if (c <= 32 || c === 34 || c === 60 || c === 62 || c === 127) {
      throw new SipParseError(`invalid character in ${scheme} URI`, { header });
    }
  }
  if (scheme === 'tel') {
    if (colon + 1 >= end) throw new SipParseError('empty tel URI', { header });
    checkChars(src, colon + 1, end, PARAM | USER, 'number', header);
  }
  return new OtherUri(scheme, raw);
}

function schemeEnd(src: Src, start: number, end: number, header: string): number {
  const b = src.b;
  if (start >= end || !(charClass[b[start]!]! & CLASS_ALPHA)) throw new SipParseError('URI must start with a scheme', { header });
  for (let i = start + 1; i < end; i++) {
    const c = b[i]!;
    if (c === 58) return i;
    if (!(charClass[c]! & (CLASS_ALPHA | CLASS_DIGIT)) && c !== 43 && c !== 45 && c !== 46) break;
  }
  throw new SipParseError('URI has no scheme', { header });
}

function parseSipUri(
  src: Src,
  raw: string,
  scheme: 'sip' | 'sips',
  uriStart: number,
  start: number,
  end: number,
  header: string,
  options: UriOptions,
): SipUri {
  const b = src.b;
  let user: string | null = null;
  let password: string | null = null;
  // '@' can only appear unescaped as the end of userinfo (user, password,
  // params and headers all forbid it), so the first one is the delimiter.
  let at = -1;
  for (let i = start; i < end; i++) {
    if (b[i] === 64) {
      at = i;
      break;
    }
  }
  let hostStart = start;
  if (at >= 0) {
    let userEnd = at;
    for (let i = start; i < at; i++) {
      if (b[i] === 58) {
        userEnd = i;
        break;
      }
    }
    if (userEnd === start) throw new SipParseError('empty user part in URI', { header });
    checkChars(src, start, userEnd, USER, 'user', header);
    user = str(src, start, userEnd);
    if (userEnd < at) {
      checkChars(src, userEnd + 1, at, PASSWORD, 'password', header);
      password = str(src, userEnd + 1, at);
    }
    hostStart = at + 1;
  }
  let i = hostStart;
  if (i < end && b[i] === 91) {
    let close = -1;
    for (let j = i + 1; j < end; j++) {
      if (b[j] === 93) {
        close = j;
        break;
      }
    }
    if (close < 0) throw new SipParseError('unterminated IPv6 reference', { header });
    let colons = 0;
    for (let j = i + 1; j < close; j++) {
      const c = b[j]!;
      if (c === 58) colons++;
      else if (!isHex(c) && c !== 46) throw new SipParseError('bad IPv6 reference', { header });
    }
    if (colons < 2) throw new SipParseError('bad IPv6 reference', { header });
    i = close + 1;
  } else {
    while (i < end && (charClass[b[i]!]! & CLASS_HOST) !== 0) i++;
    if (i === hostStart) throw new SipParseError('empty host in URI', { header });
  }
  const host = src.t.slice(hostStart, i);
  let port: number | null = null;
  if (i < end && b[i] === 58) {
    const digitsEnd = scanDigits(src, i + 1, end);
    port = parseBoundedInt(src, i + 1, digitsEnd, 65535, header);
    i = digitsEnd;
  }
  let paramsStart = -1;
  let headersStart = -1;
  if (i < end && b[i] === 59) {
    paramsStart = i - uriStart;
    let j = i + 1;
    while (j < end && b[j] !== 63) j++;
    checkParams(src, i + 1, j, header);
    i = j;
  }
  if (i < end && b[i] === 63) {
    if (options.allowHeaders === false) throw new SipParseError('headers are not allowed in this URI', { header });
    headersStart = i - uriStart;
    checkChars(src, i + 1, end, HEADER | 16, 'headers', header);
    i = end;
  }
  if (i !== end) throw new SipParseError(`invalid character ${JSON.stringify(src.t[i])} in URI`, { header });
  return new SipUri({ scheme, user, password, host, port, raw, paramsStart, headersStart });
}

allow('=&', 16);

function checkParams(src: Src, start: number, end: number, header: string): void {
  const b = src.b;
  let partStart = start;
  let eq = -1;
  for (let i = start; i <= end; i++) {
    const c = i < end ? b[i]! : 59;
    if (c === 61 && eq < 0) {
      eq = i;
    } else if (c === 59) {
      if (i === partStart) throw new SipParseError('empty URI parameter', { header });
      const nameEnd = eq >= 0 ? eq : i;
      if (nameEnd === partStart) throw new SipParseError('empty URI parameter name', { header });
      checkChars(src, partStart, nameEnd, PARAM, 'parameter', header);
      if (nameEnd < i) checkChars(src, nameEnd + 1, i, PARAM, 'parameter', header);
      partStart = i + 1;
      eq = -1;
    }
  }
}

/** Decodes %HH escapes in one pass: "%2541" gives "%41", never "A". */
export function decodeEscapes(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length + 0 && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of utf8Bytes(s[i]!)) bytes.push(b);
    }
  }
  // A leading U+FEFF is kept, as everywhere in the parser (text.ts).
  return decodeUtf8(new Uint8Array(bytes));
}
