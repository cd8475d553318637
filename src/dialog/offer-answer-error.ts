/**
 * Why an offer or answer from the peer cannot be used. `status` is the SIP
 * response that refuses it when it came in a request (488 Not Acceptable Here,
 * 400, 491, 500); for an answer, which no response can refuse, it says what
 * kind of failure it was (the caller ends or re-negotiates the session).
 */
import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
export type OfferAnswerErrorCode =
  /** The SDP does not parse, or lacks what a stream needs (a c= line). */
  | 'malformed-sdp'
  /** No audio stream offered (or answered) with a codec we share. */
  | 'no-common-codec'
  /** The answer refused (port 0) every audio stream we offered. */
  | 'audio-refused'
  /** The answer's m= lines do not line up with our offer's (RFC 3264 s6). */
  | 'answer-mismatch'
  /** An offer while ours is outstanding: glare (RFC 3261 s14.2: 491). */
  | 'offer-pending'
  /** An offer while we still owe an answer (RFC 3261 s14.2: 500 with Retry-After). */
  | 'answer-pending';

const STATUS: Readonly<Record<OfferAnswerErrorCode, number>> = Object.freeze({
  'malformed-sdp': 400,
  'no-common-codec': 488,
  'audio-refused': 488,
  'answer-mismatch': 400,
  'offer-pending': 491,
  'answer-pending': 500,
});

export class OfferAnswerError extends SipEndpointError {
  override readonly name = 'OfferAnswerError';
  declare readonly code: OfferAnswerErrorCode;
  readonly status: number;

  constructor(code: OfferAnswerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = STATUS[code];
  }
}
