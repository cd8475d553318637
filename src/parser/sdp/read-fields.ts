/**
 * Readers for the structured SDP lines (RFC 8866 s5). Each takes the value
 * after `x=` and the line's offset, and throws SipParseError when the line
 * cannot carry its meaning.
 */
import type { MediaDescription, SdpAttribute, SdpBandwidth, SdpConnection, SdpOrigin, SdpTiming } from './types.ts';
import { quote, sdpError } from './sdp-error.ts';
import { isDigits, isSdpToken, isSdpTokenChar, readDecimal, splitFields } from './scan.ts';

const MAX_PORT = 65535;
const MAX_TTL = 255;

export function readOrigin(value: string, offset: number): SdpOrigin {
  const fields = splitFields(value);
  if (fields.length !== 6) throw sdpError(`o= line needs 6 fields, has ${fields.length}`, offset);
  const [username, sessionId, sessionVersion, netType, addrType, address] = fields as [string, string, string, string, string, string];
  if (!isDigits(sessionId)) throw sdpError(`o= session id is not a number: ${quote(sessionId)}`, offset);
  if (!isDigits(sessionVersion)) throw sdpError(`o= session version is not a number: ${quote(sessionVersion)}`, offset);
  return { username, sessionId, sessionVersion, netType, addrType, address };
}

/** readOrigin on text[start, end): fields sliced in place when single-spaced. */
export function readOriginAt(text: string, start: number, end: number, offset: number): SdpOrigin {
  if (isSingleSpaced(text, start, end)) {
    const s1 = text.indexOf(' ', start);
    const s2 = s1 === -1 ? -1 : text.indexOf(' ', s1 + 1);
    const s3 = s2 === -1 ? -1 : text.indexOf(' ', s2 + 1);
    const s4 = s3 === -1 ? -1 : text.indexOf(' ', s3 + 1);
    const s5 = s4 === -1 ? -1 : text.indexOf(' ', s4 + 1);
    const s6 = s5 === -1 ? -1 : text.indexOf(' ', s5 + 1);
    if (s5 !== -1 && s5 < end && (s6 === -1 || s6 > end) && isDigitsAt(text, s1 + 1, s2) && isDigitsAt(text, s2 + 1, s3)) {
      return {
        username: text.slice(start, s1),
        sessionId: text.slice(s1 + 1, s2),
        sessionVersion: text.slice(s2 + 1, s3),
        netType: text.slice(s3 + 1, s4),
        addrType: text.slice(s4 + 1, s5),
        address: text.slice(s5 + 1, end),
      };
    }
  }
  return readOrigin(text.slice(start, end), offset);
}

/**
 * c=<nettype> <addrtype> <connection-address>. For IP4 the suffixes are
 * /<ttl>[/<count>], for IP6 only /<count> (RFC 8866 s5.7); other address
 * types keep the address as written.
 */
export function readConnection(value: string, offset: number): SdpConnection {
  const fields = splitFields(value);
  if (fields.length < 3) throw sdpError(`c= line needs 3 fields, has ${fields.length}`, offset);
  if (fields.length > 3) throw sdpError(`c= line has ${fields.length} fields, expected 3`, offset);
  const [netType, addrType, written] = fields as [string, string, string];
  const connection: SdpConnection = { netType, addrType, address: written };
  if (addrType !== 'IP4' && addrType !== 'IP6') return connection;
  const parts = written.split('/');
  if (parts[0] === '') throw sdpError(`c= address is empty: ${quote(written)}`, offset);
  connection.address = parts[0]!;
  if (addrType === 'IP4') {
    if (parts.length > 3) throw sdpError(`c= IP4 address has too many '/' parts: ${quote(written)}`, offset);
    if (parts.length >= 2) connection.ttl = readRequired(parts[1]!, MAX_TTL, 'c= ttl', offset);
    if (parts.length === 3) connection.numberOfAddresses = readCount(parts[2]!, 'c= number of addresses', offset);
  } else {
    if (parts.length > 2) throw sdpError(`c= IP6 address has too many '/' parts: ${quote(written)}`, offset);
    if (parts.length === 2) connection.numberOfAddresses = readCount(parts[1]!, 'c= number of addresses', offset);
  }
  return connection;
}

/**
 * readConnection on text[start, end), with no intermediate strings for the
 * usual `IN IP4 <address>` / `IN IP6 <address>` (single blanks, no suffix);
 * anything else goes through readConnection.
 */
export function readConnectionAt(text: string, start: number, end: number, offset: number): SdpConnection {
  const addressStart = start + 7;
  if (addressStart < end && text.startsWith('IN IP', start) && text.charCodeAt(start + 6) === 32) {
    const version = text.charCodeAt(start + 5);
    if ((version === 52 || version === 54) && isPlainField(text, addressStart, end)) {
      return { netType: 'IN', addrType: version === 52 ? 'IP4' : 'IP6', address: text.slice(addressStart, end) };
    }
  }
  return readConnection(text.slice(start, end), offset);
}

/** No blank and no '/' in text[start, end). */
function isPlainField(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 32 || code === 9 || code === 47) return false;
  }
  return true;
}

/** b=<bwtype>:<bandwidth> */
export function readBandwidth(value: string, offset: number): SdpBandwidth {
  const colon = value.indexOf(':');
  const type = colon === -1 ? '' : value.slice(0, colon);
  if (!isSdpToken(type)) throw sdpError(`b= line is not <type>:<bandwidth>: ${quote(value)}`, offset);
  const bandwidth = readDecimal(value.slice(colon + 1).trim(), Number.MAX_SAFE_INTEGER);
  if (bandwidth === undefined) throw sdpError(`b= bandwidth is not a number: ${quote(value)}`, offset);
  return { type, bandwidth };
}

/** t=<start-time> <stop-time> (NTP seconds, kept as digit strings). */
export function readTiming(value: string, offset: number): SdpTiming {
  if (value === '0 0') return { start: '0', stop: '0', repeats: [] };
  const fields = splitFields(value);
  if (fields.length !== 2 || !isDigits(fields[0]!) || !isDigits(fields[1]!)) {
    throw sdpError(`t= line is not <start> <stop>: ${quote(value)}`, offset);
  }
  return { start: fields[0]!, stop: fields[1]!, repeats: [] };
}

/** a=<name>[:<value>]; the value is kept exactly as written. */
export function readAttribute(value: string, offset: number): SdpAttribute {
  const colon = value.indexOf(':');
  // Lenient: a property attribute with trailing blanks ("a=sendonly ") is still that attribute.
  const name = colon === -1 ? value.trimEnd() : value.slice(0, colon);
  if (!isSdpToken(name)) throw sdpError(`a= attribute name is not a token: ${quote(value)}`, offset);
  return { name, value: colon === -1 ? undefined : value.slice(colon + 1) };
}

/** readAttribute on text[start, end), with no copy of the whole value. */
export function readAttributeAt(text: string, start: number, end: number, offset: number): SdpAttribute {
  let i = start;
  while (i < end && isSdpTokenChar(text.charCodeAt(i))) i++;
  if (i > start) {
    if (i === end) return { name: text.slice(start, end), value: undefined };
    if (text.charCodeAt(i) === 58 /* : */) return { name: text.slice(start, i), value: text.slice(i + 1, end) };
  }
  // Not a plain token: blanks to trim, or an error to report as readAttribute does.
  return readAttribute(text.slice(start, end), offset);
}

/** readMediaLine on text[start, end): fields sliced in place when single-spaced and the port has no suffix. */
export function readMediaLineAt(text: string, start: number, end: number, offset: number): MediaDescription {
  if (isSingleSpaced(text, start, end)) {
    const portStart = text.indexOf(' ', start) + 1;
    const protoStart = portStart === 0 ? 0 : text.indexOf(' ', portStart) + 1;
    const formatsStart = protoStart === 0 ? 0 : text.indexOf(' ', protoStart) + 1;
    const port = formatsStart === 0 || formatsStart > end ? undefined : readDecimalAt(text, portStart, protoStart - 1, MAX_PORT);
    const media = port === undefined ? '' : text.slice(start, portStart - 1);
    if (port !== undefined && isSdpToken(media)) {
      const formats: string[] = [];
      for (let at = formatsStart; at <= end; ) {
        const space = text.indexOf(' ', at);
        const fieldEnd = space === -1 || space > end ? end : space;
        formats.push(text.slice(at, fieldEnd));
        at = fieldEnd + 1;
      }
      return { media, port, proto: text.slice(protoStart, formatsStart - 1), formats, connections: [], bandwidths: [], attributes: [], otherLines: [] };
    }
  }
  return readMediaLine(text.slice(start, end), offset);
}

/** text[start, end) is fields separated by single spaces: no tab, no blank at either end, no two in a row. */
function isSingleSpaced(text: string, start: number, end: number): boolean {
  let previous = 32;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 9 || (code === 32 && previous === 32)) return false;
    previous = code;
  }
  return previous !== 32;
}

function isDigitsAt(text: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** The decimal number text[start, end) when it is 1 to 16 digits and <= max, else undefined. */
function readDecimalAt(text: string, start: number, end: number, max: number): number | undefined {
  if (end - start > 16 || !isDigitsAt(text, start, end)) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n <= max ? n : undefined;
}

/** m=<media> <port>[/<number of ports>] <proto> <fmt> ... (at least one fmt). */
export function readMediaLine(value: string, offset: number): MediaDescription {
  const fields = splitFields(value);
  if (fields.length < 4) throw sdpError(`m= line needs <media> <port> <proto> <fmt>...: ${quote(value)}`, offset);
  const [media, portField, proto] = fields as [string, string, string];
  if (!isSdpToken(media)) throw sdpError(`m= media is not a token: ${quote(media)}`, offset);
  const slash = portField.indexOf('/');
  const port = readRequired(slash === -1 ? portField : portField.slice(0, slash), MAX_PORT, 'm= port', offset);
  const description: MediaDescription = {
    media,
    port,
    proto,
    formats: fields.slice(3),
    connections: [],
    bandwidths: [],
    attributes: [],
    otherLines: [],
  };
  if (slash !== -1) description.numberOfPorts = readCount(portField.slice(slash + 1), 'm= number of ports', offset);
  return description;
}

function readRequired(text: string, max: number, what: string, offset: number): number {
  if (!isDigits(text)) throw sdpError(`${what} is not a number: ${quote(text)}`, offset);
  const n = readDecimal(text, max);
  if (n === undefined) throw sdpError(`${what} out of range 0..${max}: ${quote(text)}`, offset);
  return n;
}

function readCount(text: string, what: string, offset: number): number {
  const n = readRequired(text, MAX_PORT, what, offset);
  if (n === 0) throw sdpError(`${what} must be at least 1`, offset);
  return n;
}
