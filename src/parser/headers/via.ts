/**
 * Via (RFC 3261 s20.42, s25.1): sent-protocol LWS sent-by *( SEMI via-params ).
 * SLASH allows whitespace around it (RFC 4475 s3.1.1.1 folds there).
 */
import { SipParseError } from '../errors.ts';
import { charClass, CLASS_ALPHA, CLASS_DIGIT, isHex } from '../chars.ts';
import { parseBoundedInt, skipWs, scanToken, splitList } from '../scan.ts';
import { formatParams, nameEquals, paramsMap, scanParams, scratch, scratchValue, type Params } from '../params.ts';

export interface Via {
  /** Protocol name and version, normally "SIP/2.0". */
  readonly protocol: string;
  /** Transport token upper-cased: UDP, TCP, TLS, SCTP, WS, WSS or any extension. */
  readonly transport: string;
  /** sent-by host as written (IPv6 in brackets). */
  readonly host: string;
  readonly port: number | null;
  readonly branch: string | null;
  readonly received: string | null;
  /** null when absent; true when present without a value (a request asking for it); else the port. */
  readonly rport: number | true | null;
  readonly maddr: string | null;
  readonly ttl: number | null;
  /** Every param, names lower-cased, values as written. */
  readonly params: Params;
}

/** A parsed Via value: the fields above read in one pass; the params Map built on demand. */
class ParsedVia implements Via {
  branch: string | null = null;
  received: string | null = null;
  rport: number | true | null = null;
  maddr: string | null = null;
  ttl: number | null = null;
  /** @internal Where parsing stopped in the header value (a ',' before further values). */
  stop = 0;
  #params: Params | undefined;

  constructor(
    readonly protocol: string,
    readonly transport: string,
    readonly host: string,
    readonly port: number | null,
    private readonly paramText: string,
    private readonly maxParams: number,
  ) {}

  get params(): Params {
    return (this.#params ??= paramsMap(this.paramText, 0, this.paramText.length, this.maxParams));
  }

  toJSON(): object {
    const { protocol, transport, host, port, branch, received, rport, maddr, ttl } = this as Via;
    return { protocol, transport, host, port, branch, received, rport, maddr, ttl, params: Object.fromEntries(this.params) };
  }
}

const HEADER = 'via';

export function parseViaList(value: string, maxValues: number, maxParams: number): Via[] {
  const bounds = splitList(value, HEADER, maxValues);
  const vias: Via[] = [];
  for (let k = 0; k < bounds.length; k += 2) vias.push(parseVia(value, bounds[k]!, bounds[k + 1]!, maxParams));
  return vias;
}

/** Only the first value of a Via header field (the rest are parsed on demand). */
export function parseTopVia(value: string, maxValues: number, maxParams: number): Via {
  const end = value.length;
  // The top value ends at the first comma outside quotes; parseVia stops there.
  const via = parseVia(value, 0, end, maxParams, true);
  if (via.stop < end) splitList(value, HEADER, maxValues); // the rest must at least split cleanly
  return via;
}

function expect(s: string, i: number, end: number, code: number, what: string): number {
  i = skipWs(s, i, end);
  if (i >= end || s.charCodeAt(i) !== code) throw new SipParseError(`${what} expected`, { header: HEADER });
  return skipWs(s, i + 1, end);
}

function parseVia(s: string, start: number, end: number, maxParams: number, first = false): ParsedVia {
  let i = start;
  const nameEnd = scanToken(s, i, end);
  if (nameEnd === i) throw new SipParseError('protocol name expected', { header: HEADER });
  const nameStart = i;
  i = expect(s, nameEnd, end, 47, '"/"');
  const versionStart = i;
  const versionEnd = scanToken(s, i, end);
  if (versionEnd === i) throw new SipParseError('protocol version expected', { header: HEADER });
  const protocol = protocolOf(s, nameStart, nameEnd, versionStart, versionEnd);
  i = expect(s, versionEnd, end, 47, '"/"');
  const transportEnd = scanToken(s, i, end);
  if (transportEnd === i) throw new SipParseError('transport expected', { header: HEADER });
  const transport = transportOf(s, i, transportEnd);
  i = transportEnd;
  const wsStart = i;
  i = skipWs(s, i, end);
  if (i === wsStart) throw new SipParseError('whitespace expected before sent-by', { header: HEADER });
  const hostStart = i;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= end) throw new SipParseError('unterminated IPv6 reference', { header: HEADER });
    for (let j = i + 1; j < close; j++) {
      const c = s.charCodeAt(j);
      if (c !== 58 && c !== 46 && !isHex(c)) throw new SipParseError('bad IPv6 reference', { header: HEADER });
    }
    i = close + 1;
  } else {
    while (i < end) {
      const c = s.charCodeAt(i);
      if (!(c < 128 && charClass[c]! & (CLASS_ALPHA | CLASS_DIGIT)) && c !== 45 && c !== 46 && c !== 95) break;
      i++;
    }
    if (i === hostStart) throw new SipParseError('sent-by host expected', { header: HEADER });
  }
  const host = s.slice(hostStart, i);
  let port: number | null = null;
  const afterHost = skipWs(s, i, end);
  if (afterHost < end && s.charCodeAt(afterHost) === 58) {
    const portStart = skipWs(s, afterHost + 1, end);
    let j = portStart;
    while (j < end && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    port = parseBoundedInt(s, portStart, j, 65535, HEADER);
    i = j;
  }
  const paramsEnd = scanParams(s, i, end, HEADER, maxParams);
  if (paramsEnd !== end && !(first && s.charCodeAt(paramsEnd) === 44)) {
    throw new SipParseError('unexpected text after Via value', { header: HEADER });
  }
  const via = new ParsedVia(protocol, transport, host, port, scratch.count === 0 ? '' : s.slice(i, paramsEnd), maxParams);
  via.stop = paramsEnd;
  for (let k = 0; k < scratch.count; k++) {
    const nameStart = scratch.bounds[k * 4]!;
    const nameEnd = scratch.bounds[k * 4 + 1]!;
    switch (nameEnd - nameStart) {
      case 6:
        if (nameEquals(s, nameStart, nameEnd, 'branch')) via.branch = scratchValue(s, k);
        break;
      case 8:
        if (nameEquals(s, nameStart, nameEnd, 'received')) via.received = scratchValue(s, k);
        break;
      case 5:
        if (nameEquals(s, nameStart, nameEnd, 'rport')) via.rport = rportOf(scratchValue(s, k));
        else if (nameEquals(s, nameStart, nameEnd, 'maddr')) via.maddr = scratchValue(s, k);
        break;
      case 3:
        if (nameEquals(s, nameStart, nameEnd, 'ttl')) via.ttl = ttlOf(scratchValue(s, k));
        break;
      default:
        break;
    }
  }
  return via;
}

function protocolOf(s: string, nameStart: number, nameEnd: number, versionStart: number, versionEnd: number): string {
  if (nameEnd - nameStart === 3 && versionEnd - versionStart === 3 && s.startsWith('SIP', nameStart) && s.startsWith('2.0', versionStart)) {
    return 'SIP/2.0';
  }
  return `${s.slice(nameStart, nameEnd)}/${s.slice(versionStart, versionEnd)}`;
}

const KNOWN_TRANSPORTS = ['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS'];

/** Upper-cased transport; the common ones without allocating. */
function transportOf(s: string, start: number, end: number): string {
  for (const known of KNOWN_TRANSPORTS) {
    if (known.length === end - start && s.startsWith(known, start)) return known;
  }
  return s.slice(start, end).toUpperCase();
}

function rportOf(value: string | null): number | true {
  return value === null ? true : parseBoundedInt(value, 0, value.length, 65535, HEADER);
}

function ttlOf(value: string | null): number | null {
  return value === null ? null : parseBoundedInt(value, 0, value.length, 255, HEADER);
}

/** Serializes one Via value (params in their map order). */
export function formatVia(via: Via): string {
  const sentBy = via.port === null ? via.host : `${via.host}:${via.port}`;
  return `${via.protocol}/${via.transport} ${sentBy}${formatParams(via.params)}`;
}

