/**
 * What the dialog layer answers itself, after the s8.2 checks of
 * uas-checks.ts and before the application sees anything: a new INVITE it
 * refuses (Contact, From tag, an offer it cannot take), and a request
 * outside any dialog that is not an INVITE (OPTIONS, BYE/INFO, the rest).
 * Apart so that the linter reports the answers the stack sends
 * (answerWithoutDialogs, the layer's onRequest without its state).
 */
import { defaultReason, isWildcard, type SipMessage } from '../parser/index.ts';
import { OfferAnswer } from './offer-answer.ts';
import { OfferAnswerError } from './offer-answer-error.ts';
import { checkRequest, type UasAnswer } from './uas-checks.ts';

/** What the layer answers in Allow and Supported. */
export const LAYER_ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO';
export const LAYER_SUPPORTED = '';

/**
 * What a DialogLayer with no dialog and no INVITE in progress answers to
 * `request` before the application sees it, in the order its onRequest
 * decides: the s8.2 checks; a CANCEL (nothing to cancel) or a request with a
 * To tag (no such dialog): 481; a new INVITE it refuses; other requests
 * outside a dialog. Null: an ACK (never answered), or a new INVITE handed to
 * the application.
 */
export function answerWithoutDialogs(request: SipMessage): UasAnswer | null {
  const checked = checkRequest(request);
  if (checked !== null) return checked;
  const method = request.method!;
  if (method === 'ACK') return null;
  if (method === 'CANCEL' || request.to?.tag != null) return { status: 481, reason: defaultReason(481), headers: [] };
  if (method !== 'INVITE') return outsideDialogAnswer(method);
  return checkNewInvite(request) ?? checkOffer(request.body);
}

/**
 * The answer to a request without a To tag that is neither an INVITE nor a
 * CANCEL: OPTIONS 200 with what we can do (s11.2), BYE and INFO 481 (they
 * only make sense in a dialog), anything else 405.
 */
export function outsideDialogAnswer(method: string): UasAnswer {
  if (method === 'OPTIONS') return { status: 200, reason: 'OK', headers: [['Allow', LAYER_ALLOW], ['Accept', 'application/sdp'], ['Supported', LAYER_SUPPORTED]] };
  if (method === 'BYE' || method === 'INFO') return { status: 481, reason: defaultReason(481), headers: [] };
  return { status: 405, reason: defaultReason(405), headers: [['Allow', LAYER_ALLOW]] };
}

/** 400 without exactly one Contact (s8.1.1.8) or without a From tag; else null. */
export function checkNewInvite(request: SipMessage): UasAnswer | null {
  // s8.1.1.8: "The Contact header field MUST be present and contain exactly one SIP or SIPS URI in any request
  // that can result in the establishment of a dialog." Without it no dialog can be made.
  if (!hasOneContact(request)) return { status: 400, reason: 'Bad Contact', headers: [] };
  // RFC 2543 UACs sent no From tag (s12.1.1 asks a UAS to cope); every RFC 3261
  // UA sends one, and a dialog ID without a remote tag is not supported here.
  if (!request.from?.tag) return { status: 400, reason: 'From tag required', headers: [] };
  return null;
}

/** The answer to an offer we cannot take (RFC 3264: 488 with no common codec, 400 unreadable), as the dialog layer sends it. */
export function offerRefusal(error: OfferAnswerError): UasAnswer {
  return { status: error.status, reason: defaultReason(error.status), headers: [['Warning', `399 - "${error.code}"`]] };
}

/** Placeholder media for checkOffer(): no socket is opened, nothing is sent. */
const CHECK_MEDIA = { address: '127.0.0.1', port: 9 } as const;

/** What a UAS with the default codecs answers to the offer in `body` when it cannot take it; null when it can (or there is none). */
export function checkOffer(body: Uint8Array): UasAnswer | null {
  if (body.length === 0) return null;
  try {
    new OfferAnswer({ local: CHECK_MEDIA }).receiveOffer(body);
    return null;
  } catch (error) {
    if (error instanceof OfferAnswerError) return offerRefusal(error);
    throw error;
  }
}

function hasOneContact(request: SipMessage): boolean {
  try {
    const contacts = request.contact;
    return contacts.length === 1 && !isWildcard(contacts[0]!);
  } catch {
    return false;
  }
}
