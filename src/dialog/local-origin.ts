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
 * Writes our SDP: v=, o= (its version the only part that changes), s= and
 * c=, which no exchange changes, then what follows c=. So the SDP is the same
 * as the last one exactly when what follows c= is.
 */
export class LocalOrigin {
  /** The caller checked username and address (no blank, no control character). */
  readonly #username: string;
  readonly #sessionId: string;
  readonly #addrType: 'IP4' | 'IP6';
  readonly #address: string;
  #version = FIRST_VERSION;
  /** What followed c= in the last SDP we wrote, whatever became of it: a version is never reused for another description. */
  #lastBody: string | undefined;

  constructor(username: string, sessionId: string, local: LocalMedia) {
    // The parts as given, joined only when an SDP is written: text built here for the session's life cost two
    // joins per call and ~100 B per dialog.
    const { addrType, address } = sdpAddress(local.address);
    this.#username = username;
    this.#sessionId = sessionId;
    this.#addrType = addrType;
    this.#address = address;
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  /** Versions one SDP of ours and returns its text; `body` is what follows c= (t= and the m= sections). */
  write(body: string): string {
    if (this.#lastBody !== undefined && body !== this.#lastBody) this.#version += 1;
    this.#lastBody = ownedString(body);
    const net = `IN ${this.#addrType} ${this.#address}`;
    // RFC 3264 s5: for unicast sessions s= "RECOMMENDED [...] a single space
    // character (0x20) or a dash (-)". The dash survives middleboxes and
    // parsers that trim trailing blanks.
    return `v=0\r\no=${this.#username} ${this.#sessionId} ${this.#version} ${net}\r\ns=-\r\nc=${net}\r\n${body}`;
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
