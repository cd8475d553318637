// Helpers for the offer/answer tests: SDP text in, bytes out, and the errors
// the module throws. Expected values stay in the tests, written from the RFCs.
import * as assert from 'uvu/assert';
import { OfferAnswer, type OfferAnswerOptions } from '../../src/dialog/offer-answer.ts';
import { OfferAnswerError, type OfferAnswerErrorCode } from '../../src/dialog/offer-answer-error.ts';
import { parseSdp, type SessionDescription } from '../../src/parser/sdp/index.ts';

export const LOCAL = { address: '192.0.2.10', port: 40000 } as const;
/** random() = 0.5 twice: session id 2^20 * 2^32 + 2^31. */
export const HALF_SESSION_ID = '4503599500000000';

export function endpoint(options: Partial<OfferAnswerOptions> = {}): OfferAnswer {
  return new OfferAnswer({ local: LOCAL, random: () => 0.5, ...options });
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (body: Uint8Array): string => new TextDecoder().decode(body);
export const crlf = (lines: readonly string[]): string => lines.map((line) => `${line}\r\n`).join('');
export const parsed = (body: Uint8Array): SessionDescription => parseSdp(body);

/** The peer's SDP: its session header, then the given lines (session attributes, m= sections). */
export function peerSdp(lines: readonly string[], options: { version?: number; connection?: string } = {}): Uint8Array {
  const connection = options.connection ?? 'IN IP4 198.51.100.7';
  return bytes(
    crlf([
      'v=0',
      `o=bob 2808844564 ${options.version ?? 2808844564} IN IP4 198.51.100.7`,
      's=-',
      ...(connection === '' ? [] : [`c=${connection}`]),
      't=0 0',
      ...lines,
    ]),
  );
}

/** One audio stream of the peer: PCMU and telephone-event 101, at 198.51.100.7:50000 unless told. */
export function peerAudio(extra: readonly string[] = [], formats = '0 101', port = 50000): string[] {
  return [`m=audio ${port} RTP/AVP ${formats}`, ...extra];
}

/** The m= lines of an SDP of ours, each with its attributes, as written. */
export function sections(body: Uint8Array): string[] {
  return text(body).split(/\r\n(?=m=)/).slice(1).map((section) => section.trimEnd());
}

/** The o= version of an SDP. */
export function versionOf(body: Uint8Array): string {
  return parsed(body).origin.sessionVersion;
}

export function expectError(fn: () => unknown, code: OfferAnswerErrorCode, status: number): OfferAnswerError {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof OfferAnswerError)) throw error;
    assert.is(error.code, code, error.message);
    assert.is(error.status, status);
    return error;
  }
  assert.unreachable(`expected OfferAnswerError ${code}`);
  throw new Error('unreachable');
}

/** An established call: our offer with PCMU/PCMA answered PCMU sendrecv by 198.51.100.7:50000. */
export function established(options: Partial<OfferAnswerOptions> = {}): OfferAnswer {
  const oa = endpoint(options);
  oa.createOffer();
  oa.receiveAnswer(peerSdp(peerAudio(['a=rtpmap:101 telephone-event/8000'])));
  return oa;
}
