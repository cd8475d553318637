/**
 * Direction arithmetic for one stream (RFC 3264 s5.1, s6.1, s8.4). A
 * direction is a pair of wishes, send and receive, from one side's point of
 * view; the peer's sendonly is our recvonly.
 */
import type { MediaDirection } from '../parser/sdp/index.ts';

export function sends(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

export function receives(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

export function directionOf(send: boolean, receive: boolean): MediaDirection {
  if (send) return receive ? 'sendrecv' : 'sendonly';
  return receive ? 'recvonly' : 'inactive';
}

/** The same stream seen from the other end. */
export function reverseDirection(direction: MediaDirection): MediaDirection {
  return directionOf(receives(direction), sends(direction));
}

/** What both allow: we send only if both say so, receive only if both say so. */
export function narrowDirection(a: MediaDirection, b: MediaDirection): MediaDirection {
  return directionOf(sends(a) && sends(b), receives(a) && receives(b));
}

/**
 * RFC 3264 s8.4: "If the stream to be placed on hold was previously a
 * sendrecv media stream, it is placed on hold by marking it sendonly. If the
 * stream to be placed on hold was previously a recvonly media stream, it is
 * placed on hold by marking it inactive." Holding means we stop receiving;
 * we keep sending only while the peer receives.
 */
export function offerDirection(hold: boolean, peerReceives: boolean): MediaDirection {
  if (!hold) return 'sendrecv';
  return peerReceives ? 'sendonly' : 'inactive';
}

/**
 * RFC 3264 s6.1: "If a stream is offered as sendonly, the corresponding
 * stream MUST be marked as recvonly or inactive in the answer. [...] If an
 * offered media stream is listed as inactive, it MUST be marked as inactive
 * in the answer." Our answer is the offer reversed, narrowed by our wish
 * (sendonly while we hold).
 */
export function answerDirection(offered: MediaDirection, hold: boolean): MediaDirection {
  return narrowDirection(reverseDirection(offered), hold ? 'sendonly' : 'sendrecv');
}
