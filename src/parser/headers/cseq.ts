/** CSeq (RFC 3261 s20.16): 1*DIGIT LWS Method; the number below 2^32. */
import { SipParseError } from '../errors.ts';
import { asciiBytes, equalsExact, isTokenAt, parseBoundedInt, scanDigits, skipWs, trimEnd } from '../scan.ts';
import { srcOf, type Src } from '../src.ts';

export interface CSeq {
  seq: number;
  method: string;
}

const HEADER = 'cseq';
const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'UPDATE', 'PRACK', 'NOTIFY', 'SUBSCRIBE', 'REFER', 'MESSAGE', 'PUBLISH'];
const METHOD_BYTES = METHODS.map(asciiBytes);

export function parseCSeqAt(src: Src, start: number, end: number): CSeq {
  const numberStart = skipWs(src, start, end);
  const numberEnd = scanDigits(src, numberStart, end);
  const seq = parseBoundedInt(src, numberStart, numberEnd, 0xffffffff, HEADER);
  const methodStart = skipWs(src, numberEnd, end);
  if (methodStart === numberEnd) throw new SipParseError('whitespace expected after sequence number', { header: HEADER });
  const methodEnd = trimEnd(src, methodStart, end);
  if (!isTokenAt(src, methodStart, methodEnd)) throw new SipParseError('method token expected', { header: HEADER });
  return { seq, method: methodAt(src, methodStart, methodEnd) };
}

/** The method string; the standard ones are shared constants (no allocation, cheap comparisons). */
export function methodAt(src: Src, start: number, end: number): string {
  for (let m = 0; m < METHODS.length; m++) {
    if (equalsExact(src.b, start, end, METHOD_BYTES[m]!)) return METHODS[m]!;
  }
  return src.t.slice(start, end);
}

export function parseCSeq(value: string): CSeq {
  const src = srcOf(value);
  return parseCSeqAt(src, 0, src.b.length);
}
