/** Attribute lookup and the RTP payload attributes a=rtpmap / a=fmtp (RFC 8866 s6.6, s6.15). */
import type { MediaDescription, SdpAttribute } from './types.ts';

/** Anything that holds a= lines: a session or a media section. */
export interface HasAttributes {
  attributes: SdpAttribute[];
}

/** The first attribute of that name (names compare exactly), or undefined. */
export function findAttribute(holder: HasAttributes, name: string): SdpAttribute | undefined {
  for (const attribute of holder.attributes) if (attribute.name === name) return attribute;
  return undefined;
}

/** Every attribute of that name, in order. */
export function findAttributes(holder: HasAttributes, name: string): SdpAttribute[] {
  return holder.attributes.filter((attribute) => attribute.name === name);
}

/** a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] */
export interface Rtpmap {
  payloadType: string;
  encodingName: string;
  clockRate: number;
  /** Channel count for audio; omitted means one channel. */
  encodingParameters?: string;
  /** True when no a=rtpmap was given and the RFC 3551 static assignment was used. */
  isStatic: boolean;
}

/**
 * The rtpmap of a payload type: the section's a=rtpmap when there is one
 * (first wins), else for RTP profiles the static RFC 3551 s6 assignment.
 * A malformed a=rtpmap reads as absent; this never throws.
 */
export function getRtpmap(media: MediaDescription, payloadType: string | number): Rtpmap | undefined {
  const pt = typeof payloadType === 'string' ? payloadType : String(payloadType);
  for (const attribute of media.attributes) {
    if (attribute.name !== 'rtpmap' || attribute.value === undefined) continue;
    // The first two blank-separated fields, read in place: this runs for every format of every m= line we read.
    const value = attribute.value;
    const formatStart = skipBlanks(value, 0);
    const formatEnd = fieldEnd(value, formatStart);
    if (formatEnd - formatStart !== pt.length || !value.startsWith(pt, formatStart)) continue;
    const encodingStart = skipBlanks(value, formatEnd);
    if (encodingStart === value.length) continue;
    return readEncoding(pt, value, encodingStart, fieldEnd(value, encodingStart), false);
  }
  if (!media.proto.includes('RTP/')) return undefined;
  const known = STATIC_PAYLOAD_TYPES[pt];
  return known === undefined ? undefined : readEncoding(pt, known, 0, known.length, true);
}

function skipBlanks(value: string, i: number): number {
  while (i < value.length && isBlank(value.charCodeAt(i))) i++;
  return i;
}

function fieldEnd(value: string, i: number): number {
  while (i < value.length && !isBlank(value.charCodeAt(i))) i++;
  return i;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

/** text[start, end) is <encoding name>/<clock rate>[/<encoding parameters>], nothing more. */
function readEncoding(payloadType: string, text: string, start: number, end: number, isStatic: boolean): Rtpmap | undefined {
  const nameEnd = text.indexOf('/', start);
  if (nameEnd <= start || nameEnd >= end) return undefined;
  let clockEnd = text.indexOf('/', nameEnd + 1);
  if (clockEnd >= end) clockEnd = -1;
  if (clockEnd !== -1) {
    const third = text.indexOf('/', clockEnd + 1);
    if (third !== -1 && third < end) return undefined;
  }
  const clockRate = readClock(text, nameEnd + 1, clockEnd === -1 ? end : clockEnd);
  if (clockRate === undefined) return undefined;
  const rtpmap: Rtpmap = { payloadType, encodingName: text.slice(start, nameEnd), clockRate, isStatic };
  if (clockEnd !== -1 && clockEnd + 1 < end) rtpmap.encodingParameters = text.slice(clockEnd + 1, end);
  return rtpmap;
}

/** 1 to 10 decimal digits in text[start, end), else undefined. */
function readClock(text: string, start: number, end: number): number | undefined {
  if (end <= start || end - start > 10) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return undefined;
    n = n * 10 + code - 48;
  }
  return n;
}

/** RFC 3551 s6, Tables 4 and 5: the static payload types still met in practice. */
const STATIC_PAYLOAD_TYPES: Readonly<Record<string, string>> = Object.freeze({
  0: 'PCMU/8000',
  3: 'GSM/8000',
  4: 'G723/8000',
  5: 'DVI4/8000',
  6: 'DVI4/16000',
  7: 'LPC/8000',
  8: 'PCMA/8000',
  9: 'G722/8000',
  10: 'L16/44100/2',
  11: 'L16/44100',
  12: 'QCELP/8000',
  13: 'CN/8000',
  14: 'MPA/90000',
  15: 'G728/8000',
  16: 'DVI4/11025',
  17: 'DVI4/22050',
  18: 'G729/8000',
  25: 'CelB/90000',
  26: 'JPEG/90000',
  28: 'nv/90000',
  31: 'H261/90000',
  32: 'MPV/90000',
  33: 'MP2T/90000',
  34: 'H263/90000',
});

/** The raw parameters of a=fmtp:<format> <parameters> for that format (first wins), or undefined. */
export function getFmtp(media: MediaDescription, format: string | number): string | undefined {
  const wanted = String(format);
  for (const attribute of media.attributes) {
    if (attribute.name !== 'fmtp' || attribute.value === undefined) continue;
    const value = attribute.value;
    const space = value.indexOf(' ');
    const head = space === -1 ? value : value.slice(0, space);
    if (head === wanted) return space === -1 ? '' : value.slice(space + 1).trim();
  }
  return undefined;
}

/**
 * Splits `key=value;key2=value2` fmtp parameters (the common RTP convention,
 * not a rule of SDP itself); a part without '=' (e.g. telephone-event's
 * "0-15") has value undefined.
 */
export function parseFmtpParameters(parameters: string): SdpAttribute[] {
  const result: SdpAttribute[] = [];
  for (const part of parameters.split(';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    result.push(
      equals === -1
        ? { name: trimmed, value: undefined }
        : { name: trimmed.slice(0, equals).trim(), value: trimmed.slice(equals + 1).trim() },
    );
  }
  return result;
}
