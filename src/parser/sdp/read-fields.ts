/**
 * Readers for the structured SDP lines (RFC 8866 s5). Each takes the value
 * after `x=` and the line's offset, and throws SipParseError when the line
 * cannot carry its meaning.
 */
import type { MediaDescription, SdpAttribute, SdpBandwidth, SdpConnection, SdpOrigin, SdpTiming } from './types.ts';
import { quote, sdpError } from './sdp-error.ts';
import { isDigits, isSdpToken, readDecimal, splitFields } from './scan.ts';

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
