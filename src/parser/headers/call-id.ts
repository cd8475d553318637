/** Call-ID (RFC 3261 s20.8): word [ "@" word ], case-sensitive, compared byte for byte. */
import { SipParseError } from '../errors.ts';
import { charClass as sharedCharClass, CLASS_WORD as SHARED_CLASS_WORD } from '../chars.ts';
import type { Src } from '../src.ts';
// Module-local aliases: V8 reads a local const faster than an imported binding in hot loops.
const charClass = sharedCharClass;
const CLASS_WORD = SHARED_CLASS_WORD;

export function checkCallIdAt(src: Src, start: number, end: number): void {
  if (start >= end) throw new SipParseError('empty Call-ID', { header: 'call-id' });
  const b = src.b;
  let ats = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 64) {
      if (++ats > 1 || i === start || i === end - 1) throw new SipParseError('malformed Call-ID', { header: 'call-id' });
    } else if ((charClass[c]! & CLASS_WORD) === 0) {
      throw new SipParseError('invalid character in Call-ID', { header: 'call-id' });
    }
  }
}
