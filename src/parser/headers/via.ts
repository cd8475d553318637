/**
 * Via (RFC 3261 s20.42, s25.1): sent-protocol LWS sent-by *( SEMI via-params ).
 * SLASH allows whitespace around it (RFC 4475 s3.1.1.1 folds there).
 */
import { SipParseError } from '../errors.ts';
import { charClass as sharedCharClass, CLASS_HOST as SHARED_CLASS_HOST, isHex } from '../chars.ts';
import { asciiBytes, equalsExact, parseBoundedInt, scanDigits, skipWs, scanToken, isSingleValue, splitList } from '../scan.ts';
import { formatParams, paramNameIs, paramsMap, scanParams, scratch, scratchValue, type Params } from '../params.ts';
import { srcOf, type Src } from '../src.ts';
// Module-local aliases: V8 reads a local const faster than an imported binding in hot loops.
const charClass = sharedCharClass;
const CLASS_HOST = SHARED_CLASS_HOST;

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
  #params: Params | undefined;

  // `declare`: set only by the constructor, so no field is defined first and then overwritten (hot path).
  declare readonly protocol: string;
  declare readonly transport: string;
  declare readonly host: string;
  declare readonly port: number | null;
  private declare readonly src: Src;
  private declare readonly paramsStart: number;
  private declare readonly paramsEnd: number;
  private declare readonly maxParams: number;

  constructor(
    protocol: string,
    transport: string,
    host: string,
    port: number | null,
    src: Src,
    paramsStart: number,
    paramsEnd: number,
    maxParams: number,
  ) {
    this.protocol = protocol;
    this.transport = transport;
    this.host = host;
    this.port = port;
    this.src = src;
    this.paramsStart = paramsStart;
    this.paramsEnd = paramsEnd;
    this.maxParams = maxParams;
  }

  get params(): Params {
    return (this.#params ??= paramsMap(this.src, this.paramsStart, this.paramsEnd, this.maxParams));
  }

  toJSON(): object {
    const { protocol, transport, host, port, branch, received, rport, maddr, ttl } = this as Via;
    return { protocol, transport, host, port, branch, received, rport, maddr, ttl, params: Object.fromEntries(this.params) };
  }
}

const HEADER = 'via';
const BRANCH = asciiBytes('branch');
const RECEIVED = asciiBytes('received');
const RPORT = asciiBytes('rport');
const MADDR = asciiBytes('maddr');
const TTL = asciiBytes('ttl');

/** Every value of a Via header field. */
export function parseViaList(src: Src, start: number, end: number, maxValues: number, maxParams: number, top?: Via): Via[] {
  // `top`: the first value, parsed already (parseTopVia): kept, not parsed
  // again; alone in its field (the usual case), there is nothing to split.
  if (top !== undefined && maxValues >= 1 && isSingleValue(src, start, end)) return [top];
  const bounds = splitList(src, start, end, HEADER, maxValues);
  const vias: Via[] = [];
  for (let k = 0; k < bounds.length; k += 2) vias.push(k === 0 && top !== undefined ? top : parseVia(src, bounds[k]!, bounds[k + 1]!, maxParams, false));
  return vias;
}

/** Only the first value of a Via header field (the rest are parsed on demand). */
export function parseTopVia(src: Src, start: number, end: number, maxValues: number, maxParams: number): Via {
  // The top value ends at the first comma after its params; parseVia stops there.
  const via = parseVia(src, start, end, maxParams, true);
  if (lastStop < end) splitList(src, start, end, HEADER, maxValues); // the rest must at least split cleanly
  return via;
}

/** A Via value given as a string (tests, tools). */
export function parseViaString(value: string, maxParams = 64): Via {
  const src = srcOf(value);
  return parseVia(src, 0, src.b.length, maxParams, false);
}

function expectSlash(src: Src, i: number, end: number): number {
  i = skipWs(src, i, end);
  if (i >= end || src.b[i] !== 47) throw new SipParseError('"/" expected', { header: HEADER });
  return skipWs(src, i + 1, end);
}

/** Where the last parseVia stopped (end, or the comma after the first value): a result without a wrapper object per value. */
let lastStop = 0;

function parseVia(src: Src, start: number, end: number, maxParams: number, first: boolean): ParsedVia {
  const b = src.b;
  let i = start;
  const nameEnd = scanToken(src, i, end);
  if (nameEnd === i) throw new SipParseError('protocol name expected', { header: HEADER });
  const nameStart = i;
  i = expectSlash(src, nameEnd, end);
  const versionStart = i;
  const versionEnd = scanToken(src, i, end);
  if (versionEnd === i) throw new SipParseError('protocol version expected', { header: HEADER });
  const protocol = protocolOf(src, nameStart, nameEnd, versionStart, versionEnd);
  i = expectSlash(src, versionEnd, end);
  const transportEnd = scanToken(src, i, end);
  if (transportEnd === i) throw new SipParseError('transport expected', { header: HEADER });
  const transport = transportOf(src, i, transportEnd);
  i = skipWs(src, transportEnd, end);
  if (i === transportEnd) throw new SipParseError('whitespace expected before sent-by', { header: HEADER });
  const hostStart = i;
  if (i < end && b[i] === 91) {
    i++;
    while (i < end && (b[i] === 58 || b[i] === 46 || isHex(b[i]!))) i++;
    if (i >= end || b[i] !== 93) throw new SipParseError('bad IPv6 reference', { header: HEADER });
    i++;
  } else {
    while (i < end && (charClass[b[i]!]! & CLASS_HOST) !== 0) i++;
    if (i === hostStart) throw new SipParseError('sent-by host expected', { header: HEADER });
  }
  const host = src.t.slice(hostStart, i);
  let port: number | null = null;
  const afterHost = skipWs(src, i, end);
  if (afterHost < end && b[afterHost] === 58) {
    const portStart = skipWs(src, afterHost + 1, end);
    const portEnd = scanDigits(src, portStart, end);
    port = parseBoundedInt(src, portStart, portEnd, 65535, HEADER);
    i = portEnd;
  }
  const paramsEnd = scanParams(src, i, end, HEADER, maxParams);
  if (paramsEnd !== end && !(first && b[paramsEnd] === 44)) {
    throw new SipParseError('unexpected text after Via value', { header: HEADER });
  }
  const via = new ParsedVia(protocol, transport, host, port, src, i, paramsEnd, maxParams);
  for (let k = 0; k < scratch.count; k++) {
    switch (scratch.bounds[k * 4 + 1]! - scratch.bounds[k * 4]!) {
      case 6:
        if (paramNameIs(src, k, BRANCH)) via.branch = scratchValue(src, k);
        break;
      case 8:
        if (paramNameIs(src, k, RECEIVED)) via.received = scratchValue(src, k);
        break;
      case 5:
        if (paramNameIs(src, k, RPORT)) via.rport = paramNumber(src, k, 65535) ?? true;
        else if (paramNameIs(src, k, MADDR)) via.maddr = scratchValue(src, k);
        break;
      case 3:
        if (paramNameIs(src, k, TTL)) via.ttl = paramNumber(src, k, 255);
        break;
      default:
        break;
    }
  }
  lastStop = paramsEnd;
  return via;
}

function protocolOf(src: Src, nameStart: number, nameEnd: number, versionStart: number, versionEnd: number): string {
  const t = src.t;
  if (equalsExact(src.b, nameStart, nameEnd, SIP) && equalsExact(src.b, versionStart, versionEnd, VERSION_2_0)) return 'SIP/2.0';
  return `${t.slice(nameStart, nameEnd)}/${t.slice(versionStart, versionEnd)}`;
}

const SIP = asciiBytes('SIP');
const VERSION_2_0 = asciiBytes('2.0');
const KNOWN_TRANSPORTS = ['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS'];
const TRANSPORT_BYTES = KNOWN_TRANSPORTS.map(asciiBytes);

/** Upper-cased transport; the common ones without allocating. */
function transportOf(src: Src, start: number, end: number): string {
  for (let n = 0; n < KNOWN_TRANSPORTS.length; n++) {
    if (equalsExact(src.b, start, end, TRANSPORT_BYTES[n]!)) return KNOWN_TRANSPORTS[n]!;
  }
  return src.t.slice(start, end).toUpperCase();
}

/** Scratch param k's value as a number, read in place; null when it has no value. */
function paramNumber(src: Src, k: number, max: number): number | null {
  const start = scratch.bounds[k * 4 + 2]!;
  if (start < 0) return null;
  // A quoted value is no number: read as the unfolded text to report it as before.
  if (src.b[start] === 34) {
    const text = scratchValue(src, k)!;
    return parseBoundedInt(srcOf(text), 0, text.length, max, HEADER);
  }
  return parseBoundedInt(src, start, scratch.bounds[k * 4 + 3]!, max, HEADER);
}

/** Serializes one Via value (params in their map order). */
export function formatVia(via: Via): string {
  const sentBy = via.port === null ? via.host : `${via.host}:${via.port}`;
  return `${via.protocol}/${via.transport} ${sentBy}${formatParams(via.params)}`;
}
