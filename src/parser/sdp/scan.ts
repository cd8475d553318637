/** Small character-level helpers shared by the SDP field readers. */

/** Splits on runs of SP/HTAB, ignoring leading and trailing ones (lenient: RFC 8866 wants one SP). */
export function splitFields(value: string): string[] {
  const fields: string[] = [];
  let start = -1;
  for (let i = 0; i <= value.length; i++) {
    const code = i < value.length ? value.charCodeAt(i) : 32;
    const blank = code === 32 || code === 9;
    if (blank && start !== -1) {
      fields.push(value.slice(start, i));
      start = -1;
    } else if (!blank && start === -1) start = i;
  }
  return fields;
}

/** The value of a string of 1 to 16 decimal digits when it is <= max, else undefined. */
export function readDecimal(s: string, max: number): number | undefined {
  if (s.length === 0 || s.length > 16) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 48 || code > 57) return undefined;
    n = n * 10 + (code - 48);
  }
  return n <= max ? n : undefined;
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * RFC 8866 s9 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 /
 * %x41-5A / %x5E-7E, built once as a table.
 */
const tokenChars = new Uint8Array(128);
for (let code = 0x21; code <= 0x7e; code++) tokenChars[code] = 1;
for (const excluded of '"(),/:;<=>?@[\\]') tokenChars[excluded.charCodeAt(0)] = 0;

export function isSdpToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isSdpTokenChar(s.charCodeAt(i))) return false;
  return true;
}

export function isSdpTokenChar(code: number): boolean {
  return code < 128 && tokenChars[code] === 1;
}
