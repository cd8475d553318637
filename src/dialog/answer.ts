/**
 * Answering an offer (RFC 3264 s6): which stream we take, with which codecs,
 * in which direction, and the m= lines of our answer.
 *
 * We take one audio stream: the first one offered with a port, RTP/AVP and a
 * codec we share. LocalMedia gives us one RTP port per call, and a softphone
 * plays one audio stream. Every other stream (video, a second audio stream
 * such as RFC 4317 2.4's telephone-event stream, RTP/SAVP we cannot encrypt)
 * is refused with port 0, its m= line kept: RFC 3264 s6, "An offered stream
 * MAY be rejected in the answer, for any reason. [...] To reject an offered
 * stream, the port number in the corresponding stream in the answer MUST be
 * set to zero." When several audio streams are offered the first usable one
 * wins, so RFC 4317 2.6 (PCMU stream, then iLBC stream) gets its PCMU stream
 * accepted where the RFC's Bob, who prefers iLBC, took the second.
 */
import type { MediaDescription, SessionDescription } from '../parser/sdp/index.ts';
import { commonFormats } from './codec-match.ts';
import { AUDIO_PROTO, slotOf, writeAudioSection, writeDisabledSection, writeTimings } from './local-offer.ts';
import { PACKET_TIME_MS, type Codec, type LocalMedia, type NegotiatedMedia } from './media.ts';
import { OfferAnswerError } from './offer-answer-error.ts';
import { hasUnicastConnection, readPeerStream, type PeerStream } from './peer-stream.ts';
import { answerDirection, receives } from './stream-direction.ts';

/** The offered stream we take. */
export interface AudioChoice {
  readonly index: number;
  /** Common codecs in the offerer's order with the offerer's numbers (RFC 3264 s6.1). */
  readonly codecs: readonly Codec[];
  readonly telephoneEvent: number | undefined;
  readonly proto: string;
  readonly peer: PeerStream;
}

export function isAudio(media: MediaDescription): boolean {
  return media.media.toLowerCase() === 'audio';
}

/**
 * The stream we take from `offer`, or undefined when the offer has no active
 * stream at all (no m= line, as in RFC 4317 5.1's 3pcc offer, or port 0
 * everywhere): that is a session without media, which is legal. Throws
 * OfferAnswerError 488 when streams are offered but none is usable, 400 when
 * the chosen stream has no c= line.
 */
export function chooseAudio(offer: SessionDescription, wanted: readonly Codec[]): AudioChoice | undefined {
  let active = false;
  const offered = offer.mediaDescriptions;
  for (let index = 0; index < offered.length; index++) {
    const media = offered[index]!;
    if (media.port === 0) continue;
    active = true;
    if (!isAudio(media) || media.proto.toUpperCase() !== AUDIO_PROTO) continue;
    const common = commonFormats(media, wanted);
    if (common.codecs.length === 0) continue;
    // A stream with a codec in common but no c= anywhere: the SDP is broken, not just unsuitable.
    const peer = readPeerStream(offer, index);
    if (!hasUnicastConnection(offer, media)) continue;
    return { index, codecs: common.codecs, telephoneEvent: common.telephoneEvent, proto: media.proto, peer };
  }
  if (!active) return undefined;
  // 488 Not Acceptable Here (RFC 3261 s21.4.26): we can take part in no stream of this offer.
  throw new OfferAnswerError('no-common-codec', 'no audio stream offered with a codec we support');
}

export interface AnswerInput {
  readonly local: LocalMedia;
  readonly hold: boolean;
}

export interface AnswerParts {
  /** What follows c= in our answer: the offer's t= (RFC 3264 s6), then one m= line per offered one, in the same order. */
  readonly body: string;
  /** Undefined for an offer without an active stream. */
  readonly media: NegotiatedMedia | undefined;
}

/**
 * RFC 3264 s6: "For each "m=" line in the offer, there MUST be a corresponding
 * "m=" line in the answer. The answer MUST contain exactly the same number of
 * "m=" lines as the offer."
 */
export function answerParts(offer: SessionDescription, choice: AudioChoice | undefined, input: AnswerInput): AnswerParts {
  let body = writeTimings(offer.timings);
  if (choice === undefined) {
    for (const media of offer.mediaDescriptions) body += writeDisabledSection(slotOf(media));
    return { body, media: undefined };
  }
  const direction = answerDirection(choice.peer.direction, input.hold);
  const audio = writeAudioSection({ local: input.local, codecs: choice.codecs, telephoneEvent: choice.telephoneEvent, direction, proto: choice.proto });
  const offered = offer.mediaDescriptions;
  for (let index = 0; index < offered.length; index++) body += index === choice.index ? audio : writeDisabledSection(slotOf(offered[index]!));
  const media: NegotiatedMedia = {
    codec: choice.codecs[0]!,
    codecs: choice.codecs,
    telephoneEvent: choice.telephoneEvent,
    remote: { address: choice.peer.address, port: choice.peer.port },
    packetTime: choice.peer.packetTime ?? PACKET_TIME_MS,
    direction,
    remoteHold: !receives(choice.peer.direction),
    localHold: input.hold,
    streamIndex: choice.index,
  };
  return { body, media };
}
