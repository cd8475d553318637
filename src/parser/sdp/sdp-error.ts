import { SipParseError } from '../errors.ts';

/** Every SDP error carries header 'sdp'; status 400 unless a limit was exceeded. */
export function sdpError(reason: string, offset: number, status = 400): SipParseError {
  return new SipParseError(reason, { status, offset, header: 'sdp' });
}

/** A short printable copy of bad input, for error reasons. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}
