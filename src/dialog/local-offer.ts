/**
 * Our SDP, offer or answer: v=0, o= with our session id, s=-, c= with our RTP
 * address, t=, then the m= lines of the session, ours being one audio stream.
 */
import type { MediaDescription, MediaDirection, SdpOrigin, SdpTiming, SessionDescription } from '../parser/sdp/index.ts';
import { setDirection } from '../parser/sdp/index.ts';
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

export function audioSection(audio: OurAudio): MediaDescription {
  const formats = audio.codecs.map((codec) => codec.payloadType);
  const attributes = audio.codecs.map((codec) => rtpmap(codec.payloadType, codec));
  if (audio.telephoneEvent !== undefined) {
    formats.push(audio.telephoneEvent);
    attributes.push(rtpmap(audio.telephoneEvent, TELEPHONE_EVENT));
    attributes.push({ name: 'fmtp', value: `${audio.telephoneEvent} ${TELEPHONE_EVENT_RANGE}` });
  }
  attributes.push({ name: 'ptime', value: String(PACKET_TIME_MS) });
  const section: MediaDescription = {
    media: 'audio',
    port: audio.local.port,
    proto: audio.proto ?? AUDIO_PROTO,
    formats: formats.map(String),
    connections: [],
    bandwidths: [],
    attributes,
    otherLines: [],
  };
  // Written even for sendrecv, so that nobody has to know the default.
  setDirection(section, audio.direction);
  return section;
}

function rtpmap(payloadType: number, codec: Codec) {
  return { name: 'rtpmap', value: `${payloadType} ${codec.name}/${codec.clockRate}` };
}

/**
 * RFC 3264 s8.2: a removed stream "MAY omit all attributes present
 * previously, and MAY list just a single media format."
 */
export function disabledSection(slot: StreamSlot): MediaDescription {
  return {
    media: slot.media,
    port: 0,
    proto: slot.proto,
    formats: [slot.format],
    connections: [],
    bandwidths: [],
    attributes: [],
    otherLines: [],
  };
}

export function slotOf(media: MediaDescription): StreamSlot {
  return { media: media.media, proto: media.proto, format: media.formats[0]! };
}

/** IPv6 text has a colon; brackets, as in a SIP URI, are not part of an SDP address. */
export function sdpAddress(address: string): { addrType: 'IP4' | 'IP6'; address: string } {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return { addrType: bare.includes(':') ? 'IP6' : 'IP4', address: bare };
}

export interface LocalSessionInput {
  readonly origin: SdpOrigin;
  readonly local: LocalMedia;
  readonly sections: MediaDescription[];
  /** RFC 3264 s6: the answer's t= "MUST equal that of the offer". Default t=0 0. */
  readonly timings?: readonly SdpTiming[];
}

export function localSession(input: LocalSessionInput): SessionDescription {
  const { addrType, address } = sdpAddress(input.local.address);
  const timings = input.timings === undefined || input.timings.length === 0 ? [{ start: '0', stop: '0', repeats: [] }] : input.timings;
  return {
    version: 0,
    origin: input.origin,
    // RFC 3264 s5: "For unicast sessions, it is RECOMMENDED that it consist
    // of a single space character (0x20) or a dash (-)." The dash survives
    // middleboxes and parsers that trim trailing blanks.
    sessionName: '-',
    emails: [],
    phones: [],
    connection: { netType: 'IN', addrType, address },
    bandwidths: [],
    timings: timings.map((timing) => ({ start: timing.start, stop: timing.stop, repeats: [...timing.repeats] })),
    attributes: [],
    otherLines: [],
    mediaDescriptions: input.sections,
  };
}
