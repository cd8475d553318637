/**
 * Our o= line across a session, and the version rule of RFC 3264 s8: "the
 * origin line MUST be identical to that in the previous SDP, except that the
 * version in the origin field MUST increment by one from the previous SDP. If
 * the version in the origin line does not increment, the SDP MUST be identical
 * to the SDP with that version number."
 */
import type { SdpOrigin, SessionDescription } from '../parser/sdp/index.ts';
import { serializeSdp } from '../parser/sdp/index.ts';
import { utf8Bytes } from '../parser/text.ts';
import { sdpAddress } from './local-offer.ts';
import type { LocalMedia } from './media.ts';

/** Where our versions start; RFC 3264 s5 only asks for less than 2^62-1. */
export const FIRST_VERSION = 1;

export interface WrittenSdp {
  readonly description: SessionDescription;
  readonly text: string;
  readonly bytes: Uint8Array;
}

export class LocalOrigin {
  readonly #username: string;
  readonly #sessionId: string;
  readonly #local: LocalMedia;
  #version = FIRST_VERSION;
  /** The last SDP we wrote, whatever became of it: a version is never reused for another description. */
  #lastText: string | undefined;

  constructor(username: string, sessionId: string, local: LocalMedia) {
    this.#username = username;
    this.#sessionId = sessionId;
    this.#local = local;
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  /** Builds, versions and encodes one SDP of ours; `build` gets the o= to put in it. */
  write(build: (origin: SdpOrigin) => SessionDescription): WrittenSdp {
    const description = build(this.#origin(this.#version));
    let text = serializeSdp(description);
    if (this.#lastText !== undefined && text !== this.#lastText) {
      this.#version += 1;
      description.origin = this.#origin(this.#version);
      text = serializeSdp(description);
    }
    this.#lastText = text;
    return { description, text, bytes: utf8Bytes(text) };
  }

  #origin(version: number): SdpOrigin {
    const { addrType, address } = sdpAddress(this.#local.address);
    return { username: this.#username, sessionId: this.#sessionId, sessionVersion: String(version), netType: 'IN', addrType, address };
  }
}

/**
 * A random session id of up to 53 bits, as decimal digits (RFC 3264 s5: it
 * must fit a 64-bit signed integer). Two draws, since one double in [0, 1)
 * does not carry 53 random bits from every source.
 */
export function randomSessionId(random: () => number): string {
  const high = Math.floor(random() * 2 ** 21);
  const low = Math.floor(random() * 2 ** 32);
  return String(high * 2 ** 32 + low);
}
