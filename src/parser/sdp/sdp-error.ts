import { SipParseError } from '../errors.ts';

/** Every SDP error carries header 'sdp'; status 400 unless a limit was exceeded. */
export function sdpError(reason: string, offset: number, status = 400): SipParseError {
  return new SipParseError(reason, { status, offset, header: 'sdp' });
}
