/**
 * A SIP message. Parsed messages keep the header bytes, their one-char-per-
 * byte text and an index of offsets; header values become strings on access
 * and headers without a typed accessor are never parsed. Typed accessors
 * parse on first use and cache; the headers the transaction layer needs were
 * already parsed (and so checked) by parseMessage.
 */
import { SipParseError } from './errors.ts';
import { CANONICAL_NAMES, HeaderId, canonicalName, headerIdOf } from './header-names.ts';
import type { ParseLimits } from './limits.ts';
import { splitList, unfoldText } from './scan.ts';
import { str, type Src } from './src.ts';
import type { Uri } from './uri.ts';
import { parseTopVia, parseViaList, type Via } from './headers/via.ts';
import { parseContactList, parseNameAddrAt, parseNameAddrList, type ContactValue, type NameAddr } from './headers/name-addr.ts';
import { parseCSeqAt, type CSeq } from './headers/cseq.ts';
import { MAX_DELTA_SECONDS, parseNumberAt } from './headers/scalars.ts';
import { parseMediaTypeAt, parseMediaTypeList, type MediaType } from './headers/media-type.ts';
import { parseTokenList } from './headers/token-list.ts';
import { parseAuthHeaderAt, type AuthHeader } from './headers/auth.ts';
import { parseRetryAfterAt, type RetryAfter } from './headers/retry-after.ts';
import { parseWarningListAt, type Warning } from './headers/warning.ts';
import { parseSipDate } from './headers/date.ts';

/** Offsets of one header field in the header text (6 numbers per field). */
export const FieldSlot = {
  Id: 0,
  NameStart: 1,
  NameEnd: 2,
  ValueStart: 3,
  ValueEnd: 4,
  Folded: 5,
  Size: 6,
} as const;
export type FieldSlot = (typeof FieldSlot)[keyof typeof FieldSlot];

export interface HeaderField {
  /** The name as written (compact forms stay compact). */
  name: string;
  /** Canonical lower-case name (compact forms expanded). */
  canonical: string;
  /** The value with folding undone and surrounding whitespace removed. */
  value: string;
}

export interface StartLine {
  kind: 'request' | 'response';
  method?: string;
  uri?: Uri;
  status?: number;
  reasonPhrase?: string;
  version: string;
}

/** A header value to parse: a range of a Src. */
interface Range {
  src: Src;
  start: number;
  end: number;
}

type RangeParser<T> = (src: Src, start: number, end: number) => T;


/** What a lazily parsed value's slot holds for an optional header found absent (an empty slot: not parsed yet). */
const NONE: unique symbol = Symbol('none');

/** The body of every bodiless message (length 0: nothing in it can change). */
const NO_BODY = new Uint8Array(0);

export class SipMessage {
  readonly kind: 'request' | 'response';
  readonly method: string | undefined;
  readonly uri: Uri | undefined;
  readonly status: number | undefined;
  readonly reasonPhrase: string | undefined;
  readonly version: string;
  readonly #bytes: Uint8Array;
  readonly #bodyStart: number;
  readonly #bodyLength: number;
  #body: Uint8Array | undefined;
  /** Content-Length as declared, or the body length when absent. */
  readonly contentLength: number;
  /** True when the message had no Content-Length header. */
  readonly contentLengthMissing: boolean;
  readonly limits: ParseLimits;

  readonly #src: Src;
  readonly #index: number[];
  readonly #count: number;
  #fields: HeaderField[] | undefined;

  // Eagerly parsed by parseMessage (first of each); null = header absent.
  #topVia: Via | null = null;
  #from: NameAddr | null = null;
  #to: NameAddr | null = null;
  #callId: string | null = null;
  #cseq: CSeq | null = null;
  #maxForwards: number | null = null;
  #contentType: MediaType | null = null;
  /** Lazily parsed values by HeaderId (see #parsed); made on first use. */
  #lazy: unknown[] | undefined;

  /** @internal Use parseMessage(). */
  constructor(init: {
    start: StartLine;
    src: Src;
    index: number[];
    count: number;
    bytes: Uint8Array;
    bodyStart: number;
    bodyLength: number;
    contentLength: number;
    contentLengthMissing: boolean;
    limits: ParseLimits;
  }) {
    this.kind = init.start.kind;
    this.method = init.start.method;
    this.uri = init.start.uri;
    this.status = init.start.status;
    this.reasonPhrase = init.start.reasonPhrase;
    this.version = init.start.version;
    this.#src = init.src;
    this.#index = init.index;
    this.#count = init.count;
    this.#bytes = init.bytes;
    this.#bodyStart = init.bodyStart;
    this.#bodyLength = init.bodyLength;
    this.contentLength = init.contentLength;
    this.contentLengthMissing = init.contentLengthMissing;
    this.limits = init.limits;
  }

  /**
   * @internal The bytes it was parsed from: a holder that keeps a message
   * long (a transaction waiting out its timers) keeps these alone and parses
   * them again when asked.
   */
  get input(): Uint8Array {
    return this.#bytes;
  }

  /**
   * The body bytes: a view into the input, made on first access (a plain
   * Uint8Array even for a Buffer input). Bodiless messages (most of a call's)
   * share one empty array: a view costs more to make than the rest of a read.
   */
  get body(): Uint8Array {
    if (this.#bodyLength === 0) return NO_BODY;
    return (this.#body ??= new Uint8Array(this.#bytes.buffer, this.#bytes.byteOffset + this.#bodyStart, this.#bodyLength));
  }

  get bodyLength(): number {
    return this.#bodyLength;
  }

  get isRequest(): boolean {
    return this.kind === 'request';
  }

  get headerCount(): number {
    return this.#count;
  }

  /** @internal */
  idAt(k: number): HeaderId {
    return this.#index[k * 6]! as HeaderId;
  }

  /** @internal Name of field k as written. */
  nameAt(k: number): string {
    return this.#src.t.slice(this.#index[k * 6 + 1]!, this.#index[k * 6 + 2]!);
  }

  canonicalNameAt(k: number): string {
    const id = this.idAt(k);
    return id === HeaderId.Other ? canonicalName(this.nameAt(k)) : CANONICAL_NAMES[id]!;
  }

  /** @internal The value of field k as a parsable range (folds included: the scanners treat them as whitespace). */
  rangeAt(k: number): Range {
    return { src: this.#src, start: this.#index[k * 6 + 3]!, end: this.#index[k * 6 + 4]! };
  }

  /** @internal The text field values are ranges of (see valueStartAt, valueEndAt). */
  get headerSrc(): Src {
    return this.#src;
  }

  /** @internal Where field k's value starts in src. */
  valueStartAt(k: number): number {
    return this.#index[k * 6 + 3]!;
  }

  /** @internal Where field k's value ends in src. */
  valueEndAt(k: number): number {
    return this.#index[k * 6 + 4]!;
  }

  /** @internal Value string of field k (unfolded, UTF-8 decoded where needed). */
  valueAt(k: number): string {
    const value = str(this.#src, this.#index[k * 6 + 3]!, this.#index[k * 6 + 4]!);
    return this.#index[k * 6 + 5] === 0 ? value : unfoldText(value).trimStart();
  }

  #parseAt<T>(k: number, parse: RangeParser<T>): T {
    return parse(this.#src, this.#index[k * 6 + 3]!, this.#index[k * 6 + 4]!);
  }

  /** Every header field in order. */
  get headers(): HeaderField[] {
    if (this.#fields === undefined) {
      const fields: HeaderField[] = [];
      for (let k = 0; k < this.#count; k++) {
        fields.push({ name: this.nameAt(k), canonical: this.canonicalNameAt(k), value: this.valueAt(k) });
      }
      this.#fields = fields;
    }
    return this.#fields;
  }

  #indexesOf(name: string): number[] {
    const id = headerIdOf(name);
    const canonical = id === HeaderId.Other ? canonicalName(name) : '';
    const found: number[] = [];
    for (let k = 0; k < this.#count; k++) if (this.#carries(k, id, canonical)) found.push(k);
    return found;
  }

  #indexesOfId(id: HeaderId): number[] {
    const found: number[] = [];
    for (let k = 0; k < this.#count; k++) if (this.idAt(k) === id) found.push(k);
    return found;
  }

  #firstIndex(id: HeaderId): number {
    for (let k = 0; k < this.#count; k++) if (this.idAt(k) === id) return k;
    return -1;
  }

  /** Raw value of the first header of that name (compact forms and any case accepted). */
  header(name: string): string | undefined {
    const k = this.#firstNamed(name);
    return k < 0 ? undefined : this.valueAt(k);
  }

  /** Raw values of every header field of that name, one per field line. */
  headerFields(name: string): string[] {
    // One array, no index array and no closure: responses copy Via with this, several per request.
    const id = headerIdOf(name);
    const canonical = id === HeaderId.Other ? canonicalName(name) : '';
    const values: string[] = [];
    for (let k = 0; k < this.#count; k++) if (this.#carries(k, id, canonical)) values.push(this.valueAt(k));
    return values;
  }

  /** Values of a list header, split on commas (outside quotes and <>) across all its fields. */
  headerValues(name: string): string[] {
    const values: string[] = [];
    const header = canonicalName(name);
    for (const k of this.#indexesOf(name)) {
      const { src, start, end } = this.rangeAt(k);
      const bounds = splitList(src, start, end, header, this.limits.maxListValues);
      for (let n = 0; n < bounds.length; n += 2) values.push(str(src, bounds[n]!, bounds[n + 1]!));
    }
    return values;
  }

  /** How many header fields (lines) carry that name. */
  count(name: string): number {
    const id = headerIdOf(name);
    const canonical = id === HeaderId.Other ? canonicalName(name) : '';
    let count = 0;
    for (let k = 0; k < this.#count; k++) if (this.#carries(k, id, canonical)) count++;
    return count;
  }

  has(name: string): boolean {
    return this.#firstNamed(name) >= 0;
  }

  /** The first field carrying that name, or -1 (header() and has() run per request: no array). */
  #firstNamed(name: string): number {
    const id = headerIdOf(name);
    const canonical = id === HeaderId.Other ? canonicalName(name) : '';
    for (let k = 0; k < this.#count; k++) if (this.#carries(k, id, canonical)) return k;
    return -1;
  }

  /** Field k has header `id` (for HeaderId.Other: the name `canonical`). */
  #carries(k: number, id: HeaderId, canonical: string): boolean {
    return this.idAt(k) === id && (id !== HeaderId.Other || this.#namedOther(k, canonical));
  }

  /** Field k's name is `canonical`, compared on the bytes (no lower-cased copy per field). */
  #namedOther(k: number, canonical: string): boolean {
    const start = this.#index[k * 6 + 1]!;
    const length = this.#index[k * 6 + 2]! - start;
    if (length === 1) return canonicalName(this.nameAt(k)) === canonical;
    if (length !== canonical.length) return false;
    const b = this.#src.b;
    for (let i = 0; i < length; i++) {
      const c = b[start + i]!;
      if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== canonical.charCodeAt(i)) return false;
    }
    return true;
  }

  /**
   * The value of header `id` parsed by `read` on first use and kept (an
   * absent optional header kept as NONE). `read` is one of the static
   * readers below: passing it makes no closure per access.
   */
  #parsed<T>(id: HeaderId, read: (message: SipMessage, id: HeaderId) => T): T {
    const kept = this.#lazy?.[id];
    if (kept !== undefined) return (kept === NONE ? undefined : kept) as T;
    const value = read(this, id);
    (this.#lazy ??= [])[id] = value === undefined ? NONE : value;
    return value;
  }

  #allOf<T>(id: HeaderId, parse: RangeParser<T[]>): T[] {
    const result: T[] = [];
    for (const k of this.#indexesOfId(id)) for (const item of this.#parseAt(k, parse)) result.push(item);
    return result;
  }

  #firstOf<T>(id: HeaderId, parse: RangeParser<T>): T | undefined {
    const k = this.#firstIndex(id);
    return k < 0 ? undefined : this.#parseAt(k, parse);
  }

  /**
   * @internal The eager parses of DESIGN.md: the top Via, From, To, Call-ID,
   * CSeq, Max-Forwards and Content-Type (first of each). Throws SipParseError.
   * Every other header, and any repeat of these, is parsed on access or by
   * validateMessage().
   */
  parseEager(): void {
    const limits = this.limits;
    const index = this.#index;
    const src = this.#src;
    for (let k = 0; k < this.#count; k++) {
      const base = k * 6;
      const id = index[base]!;
      if (id > HeaderId.ContentType || id === HeaderId.Other || id === HeaderId.Contact || id === HeaderId.ContentLength) continue;
      const rs = src;
      let start = index[base + 3]!;
      let end = index[base + 4]!;
      switch (id) {
        case HeaderId.Via:
          this.#topVia ??= parseTopVia(rs, start, end, limits.maxListValues, limits.maxParams);
          break;
        case HeaderId.From:
          this.#from ??= parseNameAddrAt(rs, start, end, 'from', limits.maxParams);
          break;
        case HeaderId.To:
          this.#to ??= parseNameAddrAt(rs, start, end, 'to', limits.maxParams);
          break;
        case HeaderId.CallId:
          // Characters are checked by validateMessage; matching needs only the text.
          // Characters are checked by validateMessage; a folded value is unfolded like any other.
          if (this.#callId === null) {
            const value = index[base + 5] === 0 ? str(rs, start, end) : this.valueAt(k);
            if (value.length === 0) throw new SipParseError('empty value', { header: 'call-id' });
            this.#callId = value;
          }
          break;
        case HeaderId.CSeq:
          this.#cseq ??= parseCSeqAt(rs, start, end);
          break;
        case HeaderId.MaxForwards:
          this.#maxForwards ??= parseNumberAt(rs, start, end, 255, 'max-forwards');
          break;
        case HeaderId.ContentType:
          this.#contentType ??= parseMediaTypeAt(rs, start, end, 'content-type', limits.maxParams);
          break;
        default:
          break;
      }
    }
  }

  /** The first Via value (the one transaction matching uses). */
  get topVia(): Via | undefined {
    return this.#topVia ?? undefined;
  }

  /** Every Via value, top first. */
  get via(): Via[] {
    return this.#parsed(HeaderId.Via, SipMessage.#readVia);
  }

  get from(): NameAddr | undefined {
    return this.#from ?? undefined;
  }

  get to(): NameAddr | undefined {
    return this.#to ?? undefined;
  }

  get callId(): string | undefined {
    return this.#callId ?? undefined;
  }

  get cseq(): CSeq | undefined {
    return this.#cseq ?? undefined;
  }

  get maxForwards(): number | undefined {
    return this.#maxForwards ?? undefined;
  }

  get contentType(): MediaType | undefined {
    return this.#contentType ?? undefined;
  }

  get contact(): ContactValue[] {
    return this.#parsed(HeaderId.Contact, SipMessage.#readContact);
  }

  get route(): NameAddr[] {
    return this.#parsed(HeaderId.Route, SipMessage.#readNameAddrs);
  }

  get recordRoute(): NameAddr[] {
    return this.#parsed(HeaderId.RecordRoute, SipMessage.#readNameAddrs);
  }

  get require(): string[] {
    return this.#parsed(HeaderId.Require, SipMessage.#readTokens);
  }

  get proxyRequire(): string[] {
    return this.#parsed(HeaderId.ProxyRequire, SipMessage.#readTokens);
  }

  get supported(): string[] {
    return this.#parsed(HeaderId.Supported, SipMessage.#readTokens);
  }

  get unsupported(): string[] {
    return this.#parsed(HeaderId.Unsupported, SipMessage.#readTokens);
  }

  get allow(): string[] {
    return this.#parsed(HeaderId.Allow, SipMessage.#readTokens);
  }

  /** Accept media ranges, or undefined when there is no Accept header. */
  get accept(): MediaType[] | undefined {
    return this.#parsed(HeaderId.Accept, SipMessage.#readAccept);
  }

  get wwwAuthenticate(): AuthHeader[] {
    return this.#parsed(HeaderId.WwwAuthenticate, SipMessage.#readAuth);
  }

  get proxyAuthenticate(): AuthHeader[] {
    return this.#parsed(HeaderId.ProxyAuthenticate, SipMessage.#readAuth);
  }

  get authorization(): AuthHeader[] {
    return this.#parsed(HeaderId.Authorization, SipMessage.#readAuth);
  }

  get proxyAuthorization(): AuthHeader[] {
    return this.#parsed(HeaderId.ProxyAuthorization, SipMessage.#readAuth);
  }

  get expires(): number | undefined {
    return this.#parsed(HeaderId.Expires, SipMessage.#readDelta);
  }

  get minExpires(): number | undefined {
    return this.#parsed(HeaderId.MinExpires, SipMessage.#readDelta);
  }

  get retryAfter(): RetryAfter | undefined {
    return this.#parsed(HeaderId.RetryAfter, SipMessage.#readRetryAfter);
  }

  get warning(): Warning[] {
    return this.#parsed(HeaderId.Warning, SipMessage.#readWarning);
  }

  /** Date header as ms since the epoch. */
  get date(): number | undefined {
    return this.#parsed(HeaderId.Date, SipMessage.#readDate);
  }

  // The readers #parsed() runs once per header and message.

  static #readVia(m: SipMessage): Via[] {
    const { maxListValues, maxParams } = m.limits;
    const vias: Via[] = [];
    const src = m.#src;
    for (let k = 0; k < m.#count; k++) {
      if (m.idAt(k) !== HeaderId.Via) continue;
      const start = m.valueStartAt(k);
      const end = m.valueEndAt(k);
      // The top value was parsed with the message (parseEager): the first field's first value is that one.
      const top = vias.length === 0 ? (m.#topVia ?? undefined) : undefined;
      for (const via of parseViaList(src, start, end, maxListValues, maxParams, top)) vias.push(via);
    }
    return vias;
  }

  static #readContact(m: SipMessage): ContactValue[] {
    const { maxListValues, maxParams } = m.limits;
    const contacts: ContactValue[] = [];
    for (let k = 0; k < m.#count; k++) {
      if (m.idAt(k) !== HeaderId.Contact) continue;
      for (const contact of parseContactList(m.#src, m.valueStartAt(k), m.valueEndAt(k), maxListValues, maxParams)) contacts.push(contact);
    }
    return contacts;
  }

  static #readNameAddrs(m: SipMessage, id: HeaderId): NameAddr[] {
    const name = CANONICAL_NAMES[id]!;
    const { maxListValues, maxParams } = m.limits;
    const values: NameAddr[] = [];
    for (let k = 0; k < m.#count; k++) {
      if (m.idAt(k) !== id) continue;
      for (const value of parseNameAddrList(m.#src, m.valueStartAt(k), m.valueEndAt(k), name, maxListValues, maxParams)) values.push(value);
    }
    return values;
  }

  static #readTokens(m: SipMessage, id: HeaderId): string[] {
    const name = CANONICAL_NAMES[id]!;
    const maxListValues = m.limits.maxListValues;
    const tokens: string[] = [];
    for (let k = 0; k < m.#count; k++) {
      if (m.idAt(k) !== id) continue;
      for (const token of parseTokenList(m.#src, m.valueStartAt(k), m.valueEndAt(k), name, maxListValues)) tokens.push(token);
    }
    return tokens;
  }

  static #readAccept(m: SipMessage): MediaType[] | undefined {
    if (m.#firstIndex(HeaderId.Accept) < 0) return undefined;
    const { maxListValues, maxParams } = m.limits;
    return m.#allOf(HeaderId.Accept, (src, start, end) => parseMediaTypeList(src, start, end, 'accept', maxListValues, maxParams));
  }

  static #readAuth(m: SipMessage, id: HeaderId): AuthHeader[] {
    const name = CANONICAL_NAMES[id]!;
    const maxParams = m.limits.maxParams;
    return m.#indexesOfId(id).map((k) => m.#parseAt(k, (src, start, end) => parseAuthHeaderAt(src, start, end, name, maxParams)));
  }

  static #readDelta(m: SipMessage, id: HeaderId): number | undefined {
    const k = m.#firstIndex(id);
    return k < 0 ? undefined : parseNumberAt(m.#src, m.valueStartAt(k), m.valueEndAt(k), MAX_DELTA_SECONDS, CANONICAL_NAMES[id]!);
  }

  static #readRetryAfter(m: SipMessage): RetryAfter | undefined {
    const maxParams = m.limits.maxParams;
    return m.#firstOf(HeaderId.RetryAfter, (src, start, end) => parseRetryAfterAt(src, start, end, maxParams));
  }

  static #readWarning(m: SipMessage): Warning[] {
    const maxListValues = m.limits.maxListValues;
    return m.#allOf(HeaderId.Warning, (src, start, end) => parseWarningListAt(src, start, end, maxListValues));
  }

  static #readDate(m: SipMessage): number | undefined {
    return m.#firstOf(HeaderId.Date, (src, start, end) => parseSipDate(str(src, start, end)));
  }

  /** The start line as text (no CRLF). */
  get startLine(): string {
    return this.kind === 'request'
      ? `${this.method} ${this.uri!.toString()} ${this.version}`
      : `${this.version} ${this.status} ${this.reasonPhrase ?? ''}`;
  }
}
