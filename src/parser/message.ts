/**
 * A SIP message. Parsed messages keep the decoded header text and an index
 * of offsets; header values become strings on access, and headers without a
 * typed accessor are never parsed. Typed accessors parse on first use and
 * cache; the headers the transaction layer needs were already parsed (and so
 * validated) by parseMessage.
 */
import { SipParseError } from './errors.ts';
import { CANONICAL_NAMES, HeaderId, PRETTY_NAMES, canonicalName, headerIdOf } from './header-names.ts';
import { DEFAULT_LIMITS, type ParseLimits } from './limits.ts';
import { decodeUtf8, hasNonAscii } from './text.ts';
import { splitList } from './scan.ts';
import type { Uri } from './uri.ts';
import { parseTopVia, parseViaList, type Via } from './headers/via.ts';
import { parseContactList, parseNameAddr, parseNameAddrList, type ContactValue, type NameAddr } from './headers/name-addr.ts';
import { parseCSeq, type CSeq } from './headers/cseq.ts';
import { parseDeltaSeconds, parseMaxForwards } from './headers/scalars.ts';
import { parseMediaType, parseMediaTypeList, type MediaType } from './headers/media-type.ts';
import { parseTokenList } from './headers/token-list.ts';
import { parseAuthHeader, type AuthHeader } from './headers/auth.ts';
import { parseRetryAfter, type RetryAfter } from './headers/retry-after.ts';
import { parseWarningList, type Warning } from './headers/warning.ts';
import { parseSipDate } from './headers/date.ts';
import { checkCallId } from './headers/call-id.ts';

/** Offsets of one header field in the decoded header text. */
export const enum FieldSlot {
  Id = 0,
  NameStart,
  NameEnd,
  ValueStart,
  ValueEnd,
  Folded,
  Size,
}

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

const UNFOLD = /\r?\n[ \t]+/g;

export class SipMessage {
  readonly kind: 'request' | 'response';
  readonly method: string | undefined;
  readonly uri: Uri | undefined;
  readonly status: number | undefined;
  readonly reasonPhrase: string | undefined;
  readonly version: string;
  /** The body bytes (a view into the input for parsed messages). */
  readonly body: Uint8Array;
  /** Content-Length as declared, or the body length when absent. */
  readonly contentLength: number;
  /** True when the message had no Content-Length header. */
  readonly contentLengthMissing: boolean;
  readonly limits: ParseLimits;

  readonly #text: string;
  readonly #bytes: Uint8Array | undefined;
  readonly #ascii: boolean;
  readonly #index: number[];
  #fields: HeaderField[] | undefined;

  // Eagerly parsed by parseMessage; computed on demand for built messages.
  #via: Via[] | undefined;
  #topVia: Via | null | undefined;
  #from: NameAddr | null | undefined;
  #to: NameAddr | null | undefined;
  #callId: string | null | undefined;
  #cseq: CSeq | null | undefined;
  #maxForwards: number | null | undefined;
  #contentType: MediaType | null | undefined;
  #contact: ContactValue[] | undefined;
  #lazy: Map<string, unknown> | undefined;

  /** @internal Use parseMessage() or buildMessage(). */
  constructor(init: {
    start: StartLine;
    text: string;
    bytes: Uint8Array | undefined;
    ascii: boolean;
    index: number[];
    body: Uint8Array;
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
    this.#text = init.text;
    this.#bytes = init.bytes;
    this.#ascii = init.ascii;
    this.#index = init.index;
    this.body = init.body;
    this.contentLength = init.contentLength;
    this.contentLengthMissing = init.contentLengthMissing;
    this.limits = init.limits;
  }

  get isRequest(): boolean {
    return this.kind === 'request';
  }

  get headerCount(): number {
    return this.#index.length / FieldSlot.Size;
  }

  /** @internal Value string of field k (unfolded, UTF-8 decoded where needed). */
  valueAt(k: number): string {
    const base = k * FieldSlot.Size;
    const start = this.#index[base + FieldSlot.ValueStart]!;
    const end = this.#index[base + FieldSlot.ValueEnd]!;
    let value: string;
    if (!this.#ascii && this.#bytes !== undefined && hasNonAscii(this.#text, start, end)) {
      value = decodeUtf8(this.#bytes, start, end);
    } else {
      value = this.#text.slice(start, end);
    }
    return this.#index[base + FieldSlot.Folded] === 0 ? value : value.replace(UNFOLD, ' ');
  }

  /** @internal */
  idAt(k: number): HeaderId {
    return this.#index[k * FieldSlot.Size]! as HeaderId;
  }

  /** @internal Name of field k as written. */
  nameAt(k: number): string {
    const base = k * FieldSlot.Size;
    return this.#text.slice(this.#index[base + FieldSlot.NameStart]!, this.#index[base + FieldSlot.NameEnd]!);
  }

  canonicalNameAt(k: number): string {
    const id = this.idAt(k);
    return id === HeaderId.Other ? canonicalName(this.nameAt(k)) : CANONICAL_NAMES[id]!;
  }

  /** Every header field in order. */
  get headers(): HeaderField[] {
    if (this.#fields === undefined) {
      const fields: HeaderField[] = [];
      for (let k = 0; k < this.headerCount; k++) {
        fields.push({ name: this.nameAt(k), canonical: this.canonicalNameAt(k), value: this.valueAt(k) });
      }
      this.#fields = fields;
    }
    return this.#fields;
  }

  #indexesOf(name: string): number[] {
    const id = headerIdOf(name);
    const found: number[] = [];
    const canonical = id === HeaderId.Other ? canonicalName(name) : '';
    for (let k = 0; k < this.headerCount; k++) {
      if (this.idAt(k) !== id) continue;
      if (id === HeaderId.Other && canonicalName(this.nameAt(k)) !== canonical) continue;
      found.push(k);
    }
    return found;
  }

  #indexesOfId(id: HeaderId): number[] {
    const found: number[] = [];
    for (let k = 0; k < this.headerCount; k++) if (this.idAt(k) === id) found.push(k);
    return found;
  }

  /** Raw value of the first header of that name (compact forms and any case accepted). */
  header(name: string): string | undefined {
    const id = headerIdOf(name);
    if (id !== HeaderId.Other) {
      for (let k = 0; k < this.headerCount; k++) if (this.idAt(k) === id) return this.valueAt(k);
      return undefined;
    }
    const found = this.#indexesOf(name);
    return found.length === 0 ? undefined : this.valueAt(found[0]!);
  }

  /** Raw values of every header field of that name, one per field line. */
  headerFields(name: string): string[] {
    return this.#indexesOf(name).map((k) => this.valueAt(k));
  }

  /** Values of a list header, split on commas (outside quotes and <>) across all its fields. */
  headerValues(name: string): string[] {
    const values: string[] = [];
    for (const value of this.headerFields(name)) {
      const bounds = splitList(value, canonicalName(name), this.limits.maxListValues);
      for (let k = 0; k < bounds.length; k += 2) values.push(value.slice(bounds[k], bounds[k + 1]));
    }
    return values;
  }

  /** How many header fields (lines) carry that name. */
  count(name: string): number {
    return this.#indexesOf(name).length;
  }

  has(name: string): boolean {
    return this.header(name) !== undefined;
  }

  #first(id: HeaderId): string | null {
    for (let k = 0; k < this.headerCount; k++) if (this.idAt(k) === id) return this.valueAt(k);
    return null;
  }

  #lazyValue<T>(key: string, compute: () => T): T {
    if (this.#lazy === undefined) this.#lazy = new Map();
    if (this.#lazy.has(key)) return this.#lazy.get(key) as T;
    const value = compute();
    this.#lazy.set(key, value);
    return value;
  }

  #allOf<T>(id: HeaderId, parse: (value: string) => T[]): T[] {
    const result: T[] = [];
    for (const k of this.#indexesOfId(id)) for (const item of parse(this.valueAt(k))) result.push(item);
    return result;
  }

  /**
   * @internal The eager parses of DESIGN.md: the top Via, From, To, Call-ID,
   * CSeq, Max-Forwards and Content-Type (first of each). Throws SipParseError.
   * Every other header, and any repeat of these, is parsed on access or by
   * validateMessage().
   */
  parseEager(): void {
    const limits = this.limits;
    const count = this.headerCount;
    this.#from = this.#to = this.#callId = this.#cseq = this.#maxForwards = this.#contentType = null;
    for (let k = 0; k < count; k++) {
      switch (this.idAt(k)) {
        case HeaderId.Via:
          if (this.#topVia === undefined) this.#topVia = parseTopVia(this.valueAt(k), limits.maxListValues, limits.maxParams);
          break;
        case HeaderId.From:
          if (this.#from === null) this.#from = parseNameAddr(this.valueAt(k), 'from', limits.maxParams);
          break;
        case HeaderId.To:
          if (this.#to === null) this.#to = parseNameAddr(this.valueAt(k), 'to', limits.maxParams);
          break;
        case HeaderId.CallId:
          // Characters are checked by validateMessage; matching needs only the text.
          if (this.#callId === null) this.#callId = nonEmpty(this.valueAt(k), 'call-id');
          break;
        case HeaderId.CSeq:
          if (this.#cseq === null) this.#cseq = parseCSeq(this.valueAt(k));
          break;
        case HeaderId.MaxForwards:
          if (this.#maxForwards === null) this.#maxForwards = parseMaxForwards(this.valueAt(k));
          break;
        case HeaderId.ContentType:
          if (this.#contentType === null) this.#contentType = parseMediaType(this.valueAt(k), 'content-type', limits.maxParams);
          break;
        default:
          break;
      }
    }
    if (this.#topVia === undefined) this.#topVia = null;
  }

  /** The first Via value (the one transaction matching uses), parsed eagerly. */
  get topVia(): Via | undefined {
    if (this.#topVia === undefined) {
      const value = this.#first(HeaderId.Via);
      this.#topVia = value === null ? null : parseTopVia(value, this.limits.maxListValues, this.limits.maxParams);
    }
    return this.#topVia ?? undefined;
  }

  get via(): Via[] {
    return (this.#via ??= this.#allOf(HeaderId.Via, (v) => parseViaList(v, this.limits.maxListValues, this.limits.maxParams)));
  }

  get from(): NameAddr | undefined {
    if (this.#from === undefined) {
      const value = this.#first(HeaderId.From);
      this.#from = value === null ? null : parseNameAddr(value, 'from', this.limits.maxParams);
    }
    return this.#from ?? undefined;
  }

  get to(): NameAddr | undefined {
    if (this.#to === undefined) {
      const value = this.#first(HeaderId.To);
      this.#to = value === null ? null : parseNameAddr(value, 'to', this.limits.maxParams);
    }
    return this.#to ?? undefined;
  }

  get callId(): string | undefined {
    if (this.#callId === undefined) {
      const value = this.#first(HeaderId.CallId);
      this.#callId = value === null ? null : checkCallId(value);
    }
    return this.#callId ?? undefined;
  }

  get cseq(): CSeq | undefined {
    if (this.#cseq === undefined) {
      const value = this.#first(HeaderId.CSeq);
      this.#cseq = value === null ? null : parseCSeq(value);
    }
    return this.#cseq ?? undefined;
  }

  get maxForwards(): number | undefined {
    if (this.#maxForwards === undefined) {
      const value = this.#first(HeaderId.MaxForwards);
      this.#maxForwards = value === null ? null : parseMaxForwards(value);
    }
    return this.#maxForwards ?? undefined;
  }

  get contentType(): MediaType | undefined {
    if (this.#contentType === undefined) {
      const value = this.#first(HeaderId.ContentType);
      this.#contentType = value === null ? null : parseMediaType(value, 'content-type', this.limits.maxParams);
    }
    return this.#contentType ?? undefined;
  }

  get contact(): ContactValue[] {
    return (this.#contact ??= this.#allOf(HeaderId.Contact, (v) => parseContactList(v, this.limits.maxListValues, this.limits.maxParams)));
  }

  get route(): NameAddr[] {
    return this.#lazyValue('route', () => this.#allOf(HeaderId.Route, (v) => parseNameAddrList(v, 'route', this.limits.maxListValues, this.limits.maxParams)));
  }

  get recordRoute(): NameAddr[] {
    return this.#lazyValue('record-route', () =>
      this.#allOf(HeaderId.RecordRoute, (v) => parseNameAddrList(v, 'record-route', this.limits.maxListValues, this.limits.maxParams)),
    );
  }

  #tokens(id: HeaderId): string[] {
    const name = CANONICAL_NAMES[id]!;
    return this.#lazyValue(name, () => this.#allOf(id, (v) => parseTokenList(v, name, this.limits.maxListValues)));
  }

  get require(): string[] {
    return this.#tokens(HeaderId.Require);
  }

  get proxyRequire(): string[] {
    return this.#tokens(HeaderId.ProxyRequire);
  }

  get supported(): string[] {
    return this.#tokens(HeaderId.Supported);
  }

  get unsupported(): string[] {
    return this.#tokens(HeaderId.Unsupported);
  }

  get allow(): string[] {
    return this.#tokens(HeaderId.Allow);
  }

  /** Accept media ranges, or undefined when there is no Accept header. */
  get accept(): MediaType[] | undefined {
    return this.#lazyValue('accept', () =>
      this.#indexesOfId(HeaderId.Accept).length === 0
        ? undefined
        : this.#allOf(HeaderId.Accept, (v) => parseMediaTypeList(v, 'accept', this.limits.maxListValues, this.limits.maxParams)),
    );
  }

  #auth(id: HeaderId): AuthHeader[] {
    const name = CANONICAL_NAMES[id]!;
    return this.#lazyValue(name, () => this.#indexesOfId(id).map((k) => parseAuthHeader(this.valueAt(k), name, this.limits.maxParams)));
  }

  get wwwAuthenticate(): AuthHeader[] {
    return this.#auth(HeaderId.WwwAuthenticate);
  }

  get proxyAuthenticate(): AuthHeader[] {
    return this.#auth(HeaderId.ProxyAuthenticate);
  }

  get authorization(): AuthHeader[] {
    return this.#auth(HeaderId.Authorization);
  }

  get proxyAuthorization(): AuthHeader[] {
    return this.#auth(HeaderId.ProxyAuthorization);
  }

  #delta(id: HeaderId): number | undefined {
    const name = CANONICAL_NAMES[id]!;
    return this.#lazyValue(name, () => {
      const value = this.#first(id);
      return value === null ? undefined : parseDeltaSeconds(value, name);
    });
  }

  get expires(): number | undefined {
    return this.#delta(HeaderId.Expires);
  }

  get minExpires(): number | undefined {
    return this.#delta(HeaderId.MinExpires);
  }

  get retryAfter(): RetryAfter | undefined {
    return this.#lazyValue('retry-after', () => {
      const value = this.#first(HeaderId.RetryAfter);
      return value === null ? undefined : parseRetryAfter(value, this.limits.maxParams);
    });
  }

  get warning(): Warning[] {
    return this.#lazyValue('warning', () => this.#allOf(HeaderId.Warning, (v) => parseWarningList(v, this.limits.maxListValues)));
  }

  /** Date header as ms since the epoch. */
  get date(): number | undefined {
    return this.#lazyValue('date', () => {
      const value = this.#first(HeaderId.Date);
      return value === null ? undefined : parseSipDate(value);
    });
  }

  /** The start line as text (no CRLF). */
  get startLine(): string {
    return this.kind === 'request'
      ? `${this.method} ${this.uri!.toString()} ${this.version}`
      : `${this.version} ${this.status} ${this.reasonPhrase ?? ''}`;
  }
}

function nonEmpty(value: string, header: string): string {
  if (value.length === 0) throw new SipParseError('empty value', { header });
  return value;
}

export { PRETTY_NAMES, DEFAULT_LIMITS };
