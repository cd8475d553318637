/** CSeq (RFC 3261 s20.16): 1*DIGIT LWS Method, the number below 2^31 in RFC
 * 3261 s8.1.1.5 for new requests but accepted up to 2^32-1 as s20.16 says. */
import { SipParseError } from '../errors.ts';
import { isTokenRange } from '../chars.ts';
import { parseBoundedInt, skipWs } from '../scan.ts';

export interface CSeq {
  seq: number;
  method: string;
}

const HEADER = 'cseq';

export function parseCSeq(s: string): CSeq {
  const end = s.length;
  let i = skipWs(s, 0, end);
  const numberStart = i;
  while (i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const seq = parseBoundedInt(s, numberStart, i, 0xffffffff, HEADER);
  const methodStart = skipWs(s, i, end);
  if (methodStart === i) throw new SipParseError('whitespace expected after sequence number', { header: HEADER });
  let methodEnd = end;
  while (methodEnd > methodStart && (s.charCodeAt(methodEnd - 1) === 32 || s.charCodeAt(methodEnd - 1) === 9)) methodEnd--;
  if (!isTokenRange(s, methodStart, methodEnd)) throw new SipParseError('method token expected', { header: HEADER });
  return { seq, method: s.slice(methodStart, methodEnd) };
}
