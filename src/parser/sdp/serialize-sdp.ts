/**
 * serializeSdp: SessionDescription -> text in the canonical order of
 * RFC 8866 s5 (v o s i u e p c b t r z k a, then per m= section m i c b k a),
 * CRLF line ends. Lines of unknown type close their level, in their order.
 * A model that cannot be written faithfully (a CR/LF that would inject a
 * line, a blank inside a field, a port out of range) throws SipParseError
 * with status 500: it is a bug of the caller, not of the peer.
 */
import { SipParseError } from '../errors.ts';
import { utf8Bytes } from '../text.ts';
import type { MediaDescription, SdpAttribute, SdpBandwidth, SdpConnection, SdpRawLine, SdpTiming, SessionDescription } from './types.ts';

export function serializeSdp(sd: SessionDescription): string {
  let out = line('v', '0');
  const o = sd.origin;
  out += line('o', fields('o', [o.username, digits(o.sessionId, 'o'), digits(o.sessionVersion, 'o'), o.netType, o.addrType, o.address]));
  // RFC 8866 s5.3: "s= " when there is no meaningful name; s= must not be empty.
  out += line('s', sd.sessionName === '' ? ' ' : sd.sessionName);
  if (sd.information !== undefined) out += line('i', sd.information);
  if (sd.uri !== undefined) out += line('u', sd.uri);
  for (const email of sd.emails) out += line('e', email);
  for (const phone of sd.phones) out += line('p', phone);
  if (sd.connection !== undefined) out += line('c', connection(sd.connection));
  for (const bandwidth of sd.bandwidths) out += line('b', bandwidthValue(bandwidth));
  out += serializeTimings(sd.timings);
  if (sd.timezones !== undefined) out += line('z', sd.timezones);
  if (sd.key !== undefined) out += line('k', sd.key);
  for (const attribute of sd.attributes) out += line('a', attributeValue(attribute));
  for (const raw of sd.otherLines) out += line(rawType(raw), raw.value);
  for (const media of sd.mediaDescriptions) out += serializeMediaSection(media);
  return out;
}

export function serializeSdpBytes(sd: SessionDescription): Uint8Array {
  return utf8Bytes(serializeSdp(sd));
}

/** The t= lines, each with its r= lines, as serializeSdp writes them. */
export function serializeTimings(timings: readonly SdpTiming[]): string {
  let out = '';
  for (const timing of timings) {
    out += line('t', fields('t', [digits(timing.start, 't'), digits(timing.stop, 't')]));
    for (const repeat of timing.repeats) out += line('r', repeat);
  }
  return out;
}

/** One `type=value` line, the value checked for CR, LF and NUL (a string per line: no closure or array per call). */
function line(type: string, value: string): string {
  checkText(value, type);
  return `${type}=${value}\r\n`;
}

/** One m= section and its lines, as serializeSdp writes it. */
export function serializeMediaSection(media: MediaDescription): string {
  if (media.formats.length === 0) throw serializeError('m= section has no formats');
  let port = String(checkNumber(media.port, 0, 'm= port'));
  if (media.numberOfPorts !== undefined) port += `/${checkNumber(media.numberOfPorts, 1, 'm= number of ports')}`;
  let out = line('m', fields('m', [media.media, port, media.proto, ...media.formats]));
  if (media.information !== undefined) out += line('i', media.information);
  for (const c of media.connections) out += line('c', connection(c));
  for (const bandwidth of media.bandwidths) out += line('b', bandwidthValue(bandwidth));
  if (media.key !== undefined) out += line('k', media.key);
  for (const attribute of media.attributes) out += line('a', attributeValue(attribute));
  for (const raw of media.otherLines) out += line(rawType(raw), raw.value);
  return out;
}

function connection(c: SdpConnection): string {
  let address = c.address;
  if (c.ttl !== undefined) address += `/${checkNumber(c.ttl, 0, 'c= ttl', 255)}`;
  if (c.numberOfAddresses !== undefined) address += `/${checkNumber(c.numberOfAddresses, 1, 'c= number of addresses')}`;
  return fields('c', [c.netType, c.addrType, address]);
}

function bandwidthValue(b: SdpBandwidth): string {
  if (b.type === '' || b.type.includes(':')) throw serializeError(`b= type ${JSON.stringify(b.type)} is not a token`);
  return `${b.type}:${checkNumber(b.bandwidth, 0, 'b= bandwidth', Number.MAX_SAFE_INTEGER)}`;
}

function attributeValue(a: SdpAttribute): string {
  if (a.name === '' || a.name.includes(':') || hasBlank(a.name)) {
    throw serializeError(`a= name ${JSON.stringify(a.name)} is not a token`);
  }
  return a.value === undefined ? a.name : `${a.name}:${a.value}`;
}

function rawType(raw: SdpRawLine): string {
  const code = raw.type.charCodeAt(0);
  const isLetter = (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  if (raw.type.length !== 1 || !isLetter) throw serializeError(`line type ${JSON.stringify(raw.type)} is not one letter`);
  return raw.type;
}

/** Joins space-separated fields, each non-empty and blank-free. */
function fields(type: string, values: string[]): string {
  for (const value of values) {
    if (value === '' || hasBlank(value)) throw serializeError(`${type}= field ${JSON.stringify(value)} is empty or has a blank`);
  }
  return values.join(' ');
}

function digits(value: string, type: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) throw serializeError(`${type}= field ${JSON.stringify(value)} is not a number`);
  }
  return value;
}

function checkNumber(n: number, min: number, what: string, max = 65535): number {
  if (!Number.isInteger(n) || n < min || n > max) throw serializeError(`${what} ${n} is not an integer in ${min}..${max}`);
  return n;
}

function checkText(value: string, type: string): void {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0 || code === 10 || code === 13) throw serializeError(`${type}= value contains CR, LF or NUL`);
  }
}

function hasBlank(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 32 || code === 9) return true;
  }
  return false;
}

function serializeError(reason: string): SipParseError {
  return new SipParseError(`cannot serialize SDP: ${reason}`, { status: 500, header: 'sdp' });
}
