/** One stream of the peer's SDP as the RTP side needs it: where to send, in which direction, at what pace. */
import type { MediaDescription, MediaDirection, SessionDescription } from '../parser/sdp/index.ts';
import { effectiveConnection, findAttribute, getDirection, isRfc2543Hold } from '../parser/sdp/index.ts';
import type { LocalMedia } from './media.ts';
import { OfferAnswerError } from './offer-answer-error.ts';
import { directionOf, sends } from './stream-direction.ts';

export interface PeerStream {
  readonly address: string;
  readonly port: number;
  /** The peer's direction from its own side, as it acts (actingDirection). */
  readonly direction: MediaDirection;
  /** a=ptime of the stream, when present and sane. */
  readonly packetTime: number | undefined;
}

/** Whether we can send to this address family at all (c=IN IP4 / IN IP6). */
export function hasUnicastConnection(session: SessionDescription, media: MediaDescription): boolean {
  const connection = effectiveConnection(media, session);
  return connection !== undefined && connection.netType === 'IN' && (connection.addrType === 'IP4' || connection.addrType === 'IP6');
}

/**
 * Reads stream `index` of the peer's SDP. RFC 8866 s5.7: a description "MUST
 * contain either at least one c= line in each media description or a single
 * c= line at the session level"; a stream without one is malformed.
 */
export function readPeerStream(session: SessionDescription, index: number): PeerStream {
  const media = session.mediaDescriptions[index]!;
  const connection = effectiveConnection(media, session);
  if (connection === undefined) {
    throw new OfferAnswerError('malformed-sdp', `m= line ${index + 1} has no c= line and the session has none`);
  }
  return { address: connection.address, port: media.port, direction: actingDirection(session, media), packetTime: readPacketTime(media) };
}

/**
 * The direction one side's SDP gives a stream, from that side: media level
 * over session level, sendrecv by default (RFC 8866 s6.7), and no receiving
 * with c=IN IP4 0.0.0.0 (RFC 2543 hold: nothing can reach that address).
 */
export function actingDirection(session: SessionDescription, media: MediaDescription): MediaDirection {
  const written = getDirection(media, session);
  return isRfc2543Hold(media, session) ? directionOf(sends(written), false) : written;
}

/** actingDirection of a stream of ours written with `direction`, our c= being `local`'s address (checkLocal'd: no brackets). */
export function ourActingDirection(direction: MediaDirection, local: LocalMedia): MediaDirection {
  return local.address === RFC_2543_HOLD_ADDRESS ? directionOf(sends(direction), false) : direction;
}

/** The c=IN IP4 address of the RFC 2543 hold (isRfc2543Hold); an address with no colon is written IP4. */
const RFC_2543_HOLD_ADDRESS = '0.0.0.0';

/** a=ptime in milliseconds (RFC 8866 s6.4); decimals are seen in the wild and rounded. */
function readPacketTime(media: MediaDescription): number | undefined {
  const value = findAttribute(media, 'ptime')?.value?.trim();
  if (value === undefined || !/^\d{1,4}(\.\d+)?$/.test(value)) return undefined;
  const ms = Math.round(Number(value));
  return ms >= 1 && ms <= 1000 ? ms : undefined;
}
