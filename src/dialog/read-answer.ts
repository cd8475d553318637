/**
 * Reading the peer's answer to one of our offers: which of our audio streams
 * it accepted, the codec we send with, where to, and in which direction.
 * Works on any offer of ours, whatever its m= lines, so the RFC 4317 offers
 * can be read as if we had sent them.
 */
import type { MediaDescription, MediaDirection, SessionDescription } from '../parser/sdp/index.ts';
import { isAudio } from './answer.ts';
import { commonFormats, readFormats } from './codec-match.ts';
import { PACKET_TIME_MS, type Codec, type NegotiatedMedia } from './media.ts';
import { OfferAnswerError } from './offer-answer-error.ts';
import { actingDirection, readPeerStream } from './peer-stream.ts';
import { narrowDirection, receives, reverseDirection } from './stream-direction.ts';

/**
 * The first audio stream that we offered with a port and the answer accepted
 * with a codec we offered (the answer may list others: RFC 3264 s6.1 lets it
 * add formats it can receive). Undefined when our offer had no active audio
 * stream. Throws OfferAnswerError: 400 when the m= lines do not line up, 488
 * when every audio stream was refused or shares no codec with our offer.
 *
 * Lenient about directions: an answer to our sendonly that says sendrecv
 * breaks RFC 3264 s6.1 (RFC 4317 3.2 prints one), but what we do is the
 * narrower of the two, so it changes nothing for us and the call goes on.
 */
export function readAnswer(offer: SessionDescription, answer: SessionDescription): NegotiatedMedia | undefined {
  const offered = offer.mediaDescriptions;
  checkLineCount(answer, offered.length);
  let offeredAudio = false;
  let acceptedAudio = false;
  for (const [index, ours] of offered.entries()) {
    if (!isAudio(ours) || ours.port === 0) continue;
    offeredAudio = true;
    if (!isAccepted(answer.mediaDescriptions[index]!)) continue;
    acceptedAudio = true;
    const media = negotiate(answer, index, readFormats(ours), actingDirection(offer, ours));
    if (media !== undefined) return media;
  }
  if (!offeredAudio) return undefined;
  if (!acceptedAudio) throw audioRefused();
  throw noCommonCodec();
}

/** One audio stream we offered, as readAnswer would read it back from our offer. */
export interface OfferedAudio {
  /** Its m= line; every other one of the offer was disabled (port 0). */
  readonly index: number;
  /** readFormats of our m= line: the codecs we offered, telephone-event included. */
  readonly codecs: readonly Codec[];
  /** actingDirection of our m= line. */
  readonly direction: MediaDirection;
}

/** readAnswer for an offer of `lineCount` m= lines whose only active one is `audio`, without that offer's model. */
export function readAnswerTo(lineCount: number, audio: OfferedAudio, answer: SessionDescription): NegotiatedMedia {
  checkLineCount(answer, lineCount);
  if (!isAccepted(answer.mediaDescriptions[audio.index]!)) throw audioRefused();
  return negotiate(answer, audio.index, audio.codecs, audio.direction) ?? throwError(noCommonCodec());
}

function checkLineCount(answer: SessionDescription, offered: number): void {
  const answered = answer.mediaDescriptions.length;
  // RFC 3264 s6: "The answer MUST contain exactly the same number of "m=" lines as the offer."
  if (answered !== offered) throw new OfferAnswerError('answer-mismatch', `answer has ${answered} m= lines, our offer ${offered}`);
}

/** "To reject an offered stream, the port number in the corresponding stream in the answer MUST be set to zero." (s6) */
function isAccepted(theirs: MediaDescription): boolean {
  return isAudio(theirs) && theirs.port !== 0;
}

/** The media of an accepted stream, or undefined when the answer kept none of the codecs we offered on it. */
function negotiate(answer: SessionDescription, index: number, offered: readonly Codec[], mine: MediaDirection): NegotiatedMedia | undefined {
  const common = commonFormats(answer.mediaDescriptions[index]!, offered);
  if (common.codecs.length === 0) return undefined;
  const peer = readPeerStream(answer, index);
  return {
    codec: common.codecs[0]!,
    codecs: common.codecs,
    telephoneEvent: common.telephoneEvent,
    remote: { address: peer.address, port: peer.port },
    packetTime: peer.packetTime ?? PACKET_TIME_MS,
    direction: narrowDirection(mine, reverseDirection(peer.direction)),
    remoteHold: !receives(peer.direction),
    localHold: !receives(mine),
    streamIndex: index,
  };
}

function audioRefused(): OfferAnswerError {
  return new OfferAnswerError('audio-refused', 'the answer refused every audio stream we offered');
}

function noCommonCodec(): OfferAnswerError {
  return new OfferAnswerError('no-common-codec', 'the answer accepted no audio codec that we offered');
}

function throwError(error: Error): never {
  throw error;
}
