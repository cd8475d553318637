/**
 * Reading the formats of an m= line as codecs and matching them with the ones
 * we want: static payload types by number, dynamic ones by encoding name
 * (case-insensitive, RFC 8866 s6.6 and the IANA registry names) and clock rate.
 */
import type { MediaDescription } from '../parser/sdp/index.ts';
import { getRtpmap } from '../parser/sdp/index.ts';
import { TELEPHONE_EVENT, isDynamicPayloadType, type Codec } from './media.ts';

/**
 * The codec a format of this m= line stands for, or undefined when it is not
 * an RTP payload type, has no known mapping, or has more than one channel
 * (every codec we speak is mono).
 */
export function readFormat(media: MediaDescription, format: string): Codec | undefined {
  const payloadType = payloadTypeNumber(format);
  if (payloadType < 0) return undefined;
  const rtpmap = getRtpmap(media, format);
  if (rtpmap === undefined) return undefined;
  if (rtpmap.encodingParameters !== undefined && rtpmap.encodingParameters !== '1') return undefined;
  return { name: rtpmap.encodingName, payloadType, clockRate: rtpmap.clockRate };
}

/** The RTP payload type a format names (1 to 3 decimal digits, at most 127), else -1. A character loop: this runs for every format read. */
export function payloadTypeNumber(format: string): number {
  if (format.length === 0 || format.length > 3) return -1;
  let n = 0;
  for (let i = 0; i < format.length; i++) {
    const code = format.charCodeAt(i);
    if (code < 48 || code > 57) return -1;
    n = n * 10 + code - 48;
  }
  return n <= 127 ? n : -1;
}

/** Every readable format of this m= line, in its order. */
export function readFormats(media: MediaDescription): Codec[] {
  const codecs: Codec[] = [];
  for (const format of media.formats) {
    const codec = readFormat(media, format);
    if (codec !== undefined) codecs.push(codec);
  }
  return codecs;
}

/** Two static numbers match by number; otherwise the names and clock rates must. */
export function sameCodec(a: Codec, b: Codec): boolean {
  if (!isDynamicPayloadType(a.payloadType) && !isDynamicPayloadType(b.payloadType)) return a.payloadType === b.payloadType;
  return a.clockRate === b.clockRate && sameName(a.name, b.name);
}

export function isTelephoneEvent(codec: Codec): boolean {
  return codec.clockRate === TELEPHONE_EVENT.clockRate && sameName(codec.name, TELEPHONE_EVENT.name);
}

/** Case-insensitive; the length first, since most names compared differ in it. */
function sameName(a: string, b: string): boolean {
  return a.length === b.length && (a === b || a.toLowerCase() === b.toLowerCase());
}

export interface CommonFormats {
  /** Audio codecs of the m= line that we want, in the line's order, under our names and the line's numbers. */
  readonly codecs: Codec[];
  /** The line's payload type for telephone-event/8000 when we want it too. */
  readonly telephoneEvent: number | undefined;
}

/** The formats of `media` that match one of `wanted` (telephone-event apart), each codec once. */
export function commonFormats(media: MediaDescription, wanted: readonly Codec[]): CommonFormats {
  const codecs: Codec[] = [];
  let telephoneEvent: number | undefined;
  let wantsEvents: boolean | undefined;
  for (const format of media.formats) {
    const offered = readFormat(media, format);
    if (offered === undefined) continue;
    if (isTelephoneEvent(offered)) {
      wantsEvents ??= wanted.some(isTelephoneEvent);
      if (wantsEvents && telephoneEvent === undefined) telephoneEvent = offered.payloadType;
      continue;
    }
    const ours = wantedMatch(wanted, offered);
    if (ours === undefined || hasName(codecs, ours.name)) continue;
    codecs.push({ name: ours.name, payloadType: offered.payloadType, clockRate: ours.clockRate });
  }
  return { codecs, telephoneEvent };
}

/** The first of `wanted`, telephone-event apart, that is the same codec as `offered`. */
function wantedMatch(wanted: readonly Codec[], offered: Codec): Codec | undefined {
  for (const codec of wanted) if (sameCodec(codec, offered) && !isTelephoneEvent(codec)) return codec;
  return undefined;
}

function hasName(codecs: readonly Codec[], name: string): boolean {
  for (const codec of codecs) if (codec.name === name) return true;
  return false;
}
