/**
 * Our o= line across a session, and the version rule of RFC 3264 s8: "the
 * origin line MUST be identical to that in the previous SDP, except that the
 * version in the origin field MUST increment by one from the previous SDP. If
 * the version in the origin line does not increment, the SDP MUST be identical
 * to the SDP with that version number."
 */
import { ownedString } from '../parser/text.ts';
import { sdpAddress } from './local-offer.ts';
import type { LocalMedia } from './media.ts';

/** Where our versions start; RFC 3264 s5 only asks for less than 2^62-1. */
export const FIRST_VERSION = 1;

/**
 * Writes our SDP from a template made once per session: v=, o= up to the
 * version, then the rest of o=, s= and c=, which no exchange changes. So the
 * SDP is the same as the last one exactly when what follows c= is.
 */
export class LocalOrigin {
  readonly #sessionId: string;
  /** `v=0` and o= up to its version; the caller checked username and address (no blank, no control character). */
  readonly #head: string;
  /** The rest of o=, then s= and c=. */
  readonly #tail: string;
  #version = FIRST_VERSION;
  /** What followed c= in the last SDP we wrote, whatever became of it: a version is never reused for another description. */
  #lastBody: string | undefined;

  constructor(username: string, sessionId: string, local: LocalMedia) {
    this.#sessionId = sessionId;
    const { addrType, address } = sdpAddress(local.address);
    const net = `IN ${addrType} ${address}`;
    // Flat strings (joined, not concatenated): kept for the whole session, a
    // string built from pieces is a tree of them, several times its length in heap.
    this.#head = ['v=0\r\no=', username, ' ', String(sessionId), ' '].join('');
    // RFC 3264 s5: for unicast sessions s= "RECOMMENDED [...] a single space
    // character (0x20) or a dash (-)". The dash survives middleboxes and
    // parsers that trim trailing blanks.
    this.#tail = [' ', net, '\r\ns=-\r\nc=', net, '\r\n'].join('');
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  /** Versions one SDP of ours and returns its text; `body` is what follows c= (t= and the m= sections). */
  write(body: string): string {
    if (this.#lastBody !== undefined && body !== this.#lastBody) this.#version += 1;
    this.#lastBody = ownedString(body);
    return `${this.#head}${this.#version}${this.#tail}${body}`;
  }
}

/**
 * A random session id below 2^53, as decimal digits (RFC 3264 s5: it must
 * fit a 64-bit signed integer; below 2^53 a JS reader gets it exactly). Two
 * draws: 9 low digits and a high part below 2^53 / 10^9. Each is a small
 * integer, which turns into text several times faster than a 53-bit double.
 */
export function randomSessionId(random: () => number): string {
  const high = Math.floor(random() * HIGH_PARTS);
  const low = String(Math.floor(random() * 1e9));
  return high === 0 ? low : `${high}${low.padStart(9, '0')}`;
}

/** floor(2^53 / 10^9): high * 10^9 + low stays below 2^53. */
const HIGH_PARTS = 9_007_199;
