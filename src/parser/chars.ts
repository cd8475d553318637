/**
 * Character classes of RFC 3261 s25.1, built once as lookup tables indexed by
 * char code (< 128). Codes >= 128 belong to no class except where a caller
 * allows UTF-8 explicitly.
 */
export const CLASS_TOKEN = 1;
export const CLASS_DIGIT = 2;
export const CLASS_ALPHA = 4;
export const CLASS_HEX = 8;
export const CLASS_WS = 16;
/** unreserved = alphanum / mark (RFC 3261 s25.1). */
export const CLASS_UNRESERVED = 32;
/** Characters allowed in a host name or IPv4 address. */
export const CLASS_HOST = 64;
/** word (Call-ID) characters of RFC 3261 s25.1. */
export const CLASS_WORD = 128;

// 256 entries so a byte indexes it directly; codes >= 128 have no class.
export const charClass = new Uint8Array(256);

function mark(chars: string, flag: number): void {
  for (let i = 0; i < chars.length; i++) charClass[chars.charCodeAt(i)]! |= flag;
}

const lower = 'abcdefghijklmnopqrstuvwxyz';
const upper = lower.toUpperCase();
const digits = '0123456789';
mark(digits, CLASS_DIGIT | CLASS_HEX | CLASS_TOKEN | CLASS_UNRESERVED | CLASS_HOST | CLASS_WORD);
mark(lower + upper, CLASS_ALPHA | CLASS_TOKEN | CLASS_UNRESERVED | CLASS_HOST | CLASS_WORD);
mark('abcdefABCDEF', CLASS_HEX);
mark("-.!%*_+`'~", CLASS_TOKEN);
mark("-_.!~*'()", CLASS_UNRESERVED);
mark('-._', CLASS_HOST); // '_' is not in RFC 3261 hostnames but real hosts use it
mark('-.!%*_+`\'~()<>:\\"/[]?{}', CLASS_WORD);
mark(' \t', CLASS_WS);

export function isToken(code: number): boolean {
  return code < 128 && (charClass[code]! & CLASS_TOKEN) !== 0;
}

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export function isWs(code: number): boolean {
  return code === 32 || code === 9;
}

export function isHex(code: number): boolean {
  return code < 128 && (charClass[code]! & CLASS_HEX) !== 0;
}

/** True when every char of s[start, end) is a token char and the range is non-empty. */
export function isTokenRange(s: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) if (!isToken(s.charCodeAt(i))) return false;
  return true;
}

export function isTokenString(s: string): boolean {
  return isTokenRange(s, 0, s.length);
}
