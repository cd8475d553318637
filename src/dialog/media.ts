/**
 * What the offer/answer layer talks about: the RTP address we own for a call,
 * the codecs we speak, and what an exchange agreed. Types and constants only.
 */
import type { MediaDirection } from '../parser/sdp/index.ts';

/** Our RTP address and port for this call (IPv4 or IPv6 text; brackets around IPv6 are dropped). */
export interface LocalMedia {
  readonly address: string;
  readonly port: number;
}

/** An RTP payload format: the number it travels with, its encoding name and clock rate. */
export interface Codec {
  readonly name: string;
  readonly payloadType: number;
  readonly clockRate: number;
}

/** The codecs this endpoint implements, by their RFC 3551 s6 static payload types. */
export type AudioCodecName = 'PCMU' | 'PCMA';

/**
 * A codec to offer and accept: one of ours by name, or any other one given in
 * full (a media engine with more codecs, tests). Payload types below 96 are
 * static and match by number; 96-127 are dynamic and match by name and clock
 * rate (RFC 3551 s3), the number being only what we offer it as.
 */
export type CodecChoice = AudioCodecName | Codec;

export const AUDIO_CODECS: Readonly<Record<AudioCodecName, Codec>> = Object.freeze({
  PCMU: Object.freeze({ name: 'PCMU', payloadType: 0, clockRate: 8000 }),
  PCMA: Object.freeze({ name: 'PCMA', payloadType: 8, clockRate: 8000 }),
});

export const DEFAULT_CODECS: readonly AudioCodecName[] = Object.freeze(['PCMU', 'PCMA'] as const);

/** RFC 4733 named telephone events, always offered; 101 is what we offer it as when the session has not numbered it yet. */
export const TELEPHONE_EVENT: Codec = Object.freeze({ name: 'telephone-event', payloadType: 101, clockRate: 8000 });

/** RFC 4733 s3.2: events 0-15 are the DTMF digits 0-9, *, #, A-D, and 16 is flash. */
export const TELEPHONE_EVENT_RANGE = '0-16';

/** Our packetization interval in milliseconds (a=ptime), the usual one for G.711. */
export const PACKET_TIME_MS = 20;

/** Where we send RTP to. */
export interface RemoteAddress {
  readonly address: string;
  readonly port: number;
}

/** The outcome of one completed offer/answer exchange, for the audio stream. */
export interface NegotiatedMedia {
  /** The codec we send with: the first common one, numbered as the peer receives it (RFC 3264 s5.1). */
  readonly codec: Codec;
  /** Every common codec, in the order of the SDP that settled them (the answer's order): the peer may send any of them. */
  readonly codecs: readonly Codec[];
  /** Payload type of telephone-event when both sides support it, as the peer receives it; else undefined. */
  readonly telephoneEvent: number | undefined;
  /** The peer's address and port for this stream ('0.0.0.0' when it holds in the RFC 2543 way). */
  readonly remote: RemoteAddress;
  /** Milliseconds per packet the peer asked for with a=ptime, else ours. */
  readonly packetTime: number;
  /**
   * What we do on the stream: our SDP's direction narrowed by the peer's
   * (we offered sendrecv, they answered sendonly: recvonly). For an answer
   * we made this is the direction written in it.
   */
  readonly direction: MediaDirection;
  /** The peer holds us: its SDP says it does not receive (sendonly, inactive) or has c=IN IP4 0.0.0.0. */
  readonly remoteHold: boolean;
  /** We hold the peer: we asked not to receive (our offer said sendonly or inactive; our answer was made on hold). */
  readonly localHold: boolean;
  /** Index of the m= line that carries the stream. */
  readonly streamIndex: number;
}

/** RFC 3551 s3: 96-127 is the dynamic range. */
export function isDynamicPayloadType(payloadType: number): boolean {
  return payloadType >= 96 && payloadType <= 127;
}

export function resolveCodec(choice: CodecChoice): Codec {
  return typeof choice === 'string' ? AUDIO_CODECS[choice] : choice;
}
