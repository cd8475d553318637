/** Call-ID (RFC 3261 s20.8): word [ "@" word ], case-sensitive, compared byte for byte. */
import { SipParseError } from '../errors.ts';
import { charClass, CLASS_WORD } from '../chars.ts';

export function checkCallId(value: string): string {
  if (value.length === 0) throw new SipParseError('empty Call-ID', { header: 'call-id' });
  let ats = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 64) {
      if (++ats > 1 || i === 0 || i === value.length - 1) throw new SipParseError('malformed Call-ID', { header: 'call-id' });
    } else if (c >= 128 || (charClass[c]! & CLASS_WORD) === 0) {
      throw new SipParseError('invalid character in Call-ID', { header: 'call-id' });
    }
  }
  return value;
}
