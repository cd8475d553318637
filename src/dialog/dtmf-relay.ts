/**
 * DTMF over SIP INFO as `application/dtmf-relay` (the de facto format of
 * Cisco and most PBXs; no RFC): "Signal=5\r\nDuration=160\r\n". Used until
 * RTP (RFC 4733 events) exists.
 */
import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
import { decodeUtf8, utf8Bytes } from '../parser/text.ts';

export const DTMF_RELAY = 'application/dtmf-relay';

/** The digits DTMF carries: 0-9, *, #, A-D (RFC 4733 s3.2 events 0-15). */
const DIGIT = /^[0-9*#A-Da-d]$/;

export class DtmfError extends SipEndpointError {
  override readonly name = 'DtmfError';
  constructor(message: string) {
    super('ERR_DTMF', message);
  }
}

/** Checks a string of digits; throws DtmfError naming the first one that is not DTMF. */
export function checkDigits(digits: string): string {
  if (digits.length === 0) throw new DtmfError('no DTMF digits given');
  for (const digit of digits) if (!DIGIT.test(digit)) throw new DtmfError(`${JSON.stringify(digit)} is not a DTMF digit (0-9, *, #, A-D)`);
  return digits.toUpperCase();
}

/** The body of one INFO for one digit; duration in milliseconds (default 160). */
export function dtmfRelayBody(digit: string, durationMs = 160): Uint8Array {
  checkDigits(digit);
  if (digit.length !== 1) throw new DtmfError('one digit per INFO');
  return utf8Bytes(`Signal=${digit.toUpperCase()}\r\nDuration=${Math.round(durationMs)}\r\n`);
}

/** The digit and duration of an application/dtmf-relay body; undefined when it carries none. */
export function readDtmfRelay(body: Uint8Array): { digit: string; durationMs: number | undefined } | undefined {
  const text = decodeUtf8(body);
  let digit: string | undefined;
  let duration: number | undefined;
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const name = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (name === 'signal' && DIGIT.test(value)) digit = value.toUpperCase();
    else if (name === 'duration' && /^\d{1,6}$/.test(value)) duration = Number(value);
  }
  return digit === undefined ? undefined : { digit, durationMs: duration };
}
