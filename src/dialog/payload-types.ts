/**
 * The dynamic payload type numbers a session has used. RFC 3264 s8.3.2: "the
 * mapping from a particular dynamic payload type number to a particular codec
 * within that media stream MUST NOT change for the duration of a session."
 * So before we number a codec in an offer we look at what either side already
 * numbered: the codec keeps its number, and a number taken by another codec
 * is not reused. Kept for the whole session (not per stream): stricter, and
 * our audio stream may move to another m= line.
 */
import type { MediaDescription } from '../parser/sdp/index.ts';
import { payloadTypeNumber, readFormat, sameCodec } from './codec-match.ts';
import { isDynamicPayloadType, type Codec } from './media.ts';

export class PayloadTypeMap {
  /** Dynamic number -> the codec first seen under it. */
  readonly #byNumber = new Map<number, Codec>();

  /** Records the dynamic numbers of one m= line (ours or the peer's). */
  record(media: MediaDescription): void {
    for (const format of media.formats) {
      // Static numbers (most formats) are never recorded: no codec read for them.
      const number = payloadTypeNumber(format);
      if (!isDynamicPayloadType(number) || this.#byNumber.has(number)) continue;
      const codec = readFormat(media, format);
      if (codec !== undefined) this.#byNumber.set(number, codec);
    }
  }

  /** Records the dynamic numbers of an m= line of ours that lists `codecs` (as record would read it). */
  recordCodecs(codecs: readonly Codec[]): void {
    for (const codec of codecs) {
      const number = codec.payloadType;
      if (isDynamicPayloadType(number) && !this.#byNumber.has(number)) this.#byNumber.set(number, codec);
    }
  }

  /**
   * The number to offer `codec` as: its own when static; else the number the
   * session already gave it, else the one it asks for when free, else the
   * lowest free dynamic number. `taken` holds numbers already used in the offer.
   */
  numberFor(codec: Codec, taken: ReadonlySet<number>): number {
    if (!isDynamicPayloadType(codec.payloadType)) return codec.payloadType;
    for (const [number, known] of this.#byNumber) {
      if (!taken.has(number) && sameCodec(known, codec)) return number;
    }
    if (this.#isFree(codec.payloadType, taken)) return codec.payloadType;
    for (let number = 96; number <= 127; number++) if (this.#isFree(number, taken)) return number;
    // All 32 numbers used by the peer: keep ours rather than fail the call.
    return codec.payloadType;
  }

  #isFree(number: number, taken: ReadonlySet<number>): boolean {
    return !taken.has(number) && !this.#byNumber.has(number);
  }
}
