/** Media direction (RFC 8866 s6.7, RFC 3264 s5.1/s8.4) and the legacy hold form. */
import type { MediaDescription, MediaDirection, SdpConnection, SessionDescription } from './types.ts';
import type { HasAttributes } from './attributes.ts';

const DIRECTIONS: readonly MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** The direction named by this attribute name (case-insensitive, lenient), or undefined. */
function asDirection(name: string): MediaDirection | undefined {
  const lower = name.toLowerCase();
  return DIRECTIONS.find((direction) => direction === lower);
}

/** The first direction attribute of one level, or undefined when it has none. */
export function findDirection(holder: HasAttributes): MediaDirection | undefined {
  for (const attribute of holder.attributes) {
    const direction = asDirection(attribute.name);
    if (direction !== undefined) return direction;
  }
  return undefined;
}

/**
 * RFC 8866 s6.7: a media-level direction overrides the session-level one;
 * with neither, the stream is sendrecv (RFC 3264 s5.1).
 */
export function getDirection(media: MediaDescription, session?: SessionDescription): MediaDirection {
  return findDirection(media) ?? (session === undefined ? undefined : findDirection(session)) ?? 'sendrecv';
}

/**
 * Makes `direction` explicit on this level: the first direction attribute is
 * replaced in place and any other removed, or one is appended. Written even
 * for sendrecv, so that it overrides a session-level direction.
 */
export function setDirection(holder: HasAttributes, direction: MediaDirection): void {
  const first = holder.attributes.findIndex((attribute) => asDirection(attribute.name) !== undefined);
  if (first === -1) {
    holder.attributes.push({ name: direction, value: undefined });
    return;
  }
  holder.attributes = holder.attributes.filter(
    (attribute, index) => index === first || asDirection(attribute.name) === undefined,
  );
  holder.attributes[first] = { name: direction, value: undefined };
}

/** The c= that applies to a stream: its own first c= line, else the session's. */
export function effectiveConnection(media: MediaDescription, session: SessionDescription): SdpConnection | undefined {
  return media.connections[0] ?? session.connection;
}

/**
 * True for the RFC 2543 hold form, `c=IN IP4 0.0.0.0`, applied to this
 * stream. RFC 3264 s8.4 no longer recommends it, partly because it "doesn't
 * work with IPv6": there is no IPv6 form, so `c=IN IP6 ::` is not a hold
 * marker (and IPv6-written forms such as `::ffff:0.0.0.0` are not read as one).
 */
export function isRfc2543Hold(media: MediaDescription, session: SessionDescription): boolean {
  const connection = effectiveConnection(media, session);
  return connection !== undefined && connection.netType === 'IN' && connection.addrType === 'IP4' && connection.address === '0.0.0.0';
}
