/**
 * The parts of our SDP, offer or answer, that change from one to the next:
 * t=, then the m= lines of the session, ours being one audio stream
 * (LocalOrigin writes v=, o=, s= and c=).
 */
import type { MediaDescription, MediaDirection, SdpTiming } from '../parser/sdp/index.ts';
import { serializeMediaSection, serializeTimings } from '../parser/sdp/serialize-sdp.ts';
import { PACKET_TIME_MS, TELEPHONE_EVENT, TELEPHONE_EVENT_RANGE, type Codec, type LocalMedia } from './media.ts';

/**
 * One m= line of the session. RFC 3264 s8: lines are never removed, only
 * disabled with port 0, so every later offer or answer keeps a slot for each.
 */
export interface StreamSlot {
  readonly media: string;
  readonly proto: string;
  /** A format to write when the line is disabled. */
  readonly format: string;
}

export const AUDIO_PROTO = 'RTP/AVP';

/** The audio stream as we describe it. */
export interface OurAudio {
  readonly local: LocalMedia;
  /** In order of preference, with the numbers to write. */
  readonly codecs: readonly Codec[];
  readonly telephoneEvent: number | undefined;
  readonly direction: MediaDirection;
  /** The offer's spelling when answering; RTP/AVP otherwise. */
  readonly proto?: string;
}

/**
 * The m= section of our audio stream, as serializeSdp would write it: the
 * codecs' rtpmaps, telephone-event's rtpmap and fmtp, a=ptime, then the
 * direction, written even for sendrecv so that nobody has to know the
 * default. Written straight to text: every value is a number, ours
 * (checked by OfferAnswer's constructor), or the offer's proto, which
 * matched RTP/AVP.
 */
export function writeAudioSection(audio: OurAudio): string {
  let formats = '';
  let attributes = '';
  for (const codec of audio.codecs) {
    formats += ` ${codec.payloadType}`;
    attributes += `a=rtpmap:${codec.payloadType} ${codec.name}/${codec.clockRate}\r\n`;
  }
  const event = audio.telephoneEvent;
  if (event !== undefined) {
    formats += ` ${event}`;
    attributes += `a=rtpmap:${event} ${TELEPHONE_EVENT.name}/${TELEPHONE_EVENT.clockRate}\r\na=fmtp:${event} ${TELEPHONE_EVENT_RANGE}\r\n`;
  }
  return `m=audio ${audio.local.port} ${audio.proto ?? AUDIO_PROTO}${formats}\r\n${attributes}a=ptime:${PACKET_TIME_MS}\r\na=${audio.direction}\r\n`;
}

/**
 * RFC 3264 s8.2: a removed stream "MAY omit all attributes present
 * previously, and MAY list just a single media format." Its fields may come
 * from the peer, so it goes through serializeSdp's checks.
 */
export function writeDisabledSection(slot: StreamSlot): string {
  return serializeMediaSection({
    media: slot.media,
    port: 0,
    proto: slot.proto,
    formats: [slot.format],
    connections: [],
    bandwidths: [],
    attributes: [],
    otherLines: [],
  });
}

/** One line per slot: ours at audioIndex, the others disabled. */
export function writeSections(slots: readonly StreamSlot[], audioIndex: number | undefined, audio: string): string {
  let out = '';
  for (let index = 0; index < slots.length; index++) out += index === audioIndex ? audio : writeDisabledSection(slots[index]!);
  return out;
}

export function slotOf(media: MediaDescription): StreamSlot {
  return { media: media.media, proto: media.proto, format: media.formats[0]! };
}

/** IPv6 text has a colon; brackets, as in a SIP URI, are not part of an SDP address. */
export function sdpAddress(address: string): { addrType: 'IP4' | 'IP6'; address: string } {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return { addrType: bare.includes(':') ? 'IP6' : 'IP4', address: bare };
}

/** RFC 3264 s6: the answer's t= "MUST equal that of the offer"; ours is t=0 0 (an unbounded session). */
export function writeTimings(timings: readonly SdpTiming[] | undefined): string {
  if (timings === undefined || timings.length === 0) return DEFAULT_TIMING;
  const only = timings[0]!;
  if (timings.length === 1 && only.start === '0' && only.stop === '0' && only.repeats.length === 0) return DEFAULT_TIMING;
  return serializeTimings(timings);
}

const DEFAULT_TIMING = 't=0 0\r\n';
