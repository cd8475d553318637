/**
 * Byte -> string helpers. The header section is decoded once as Latin-1 so
 * that string offsets equal byte offsets; ranges holding bytes >= 0x80 are
 * decoded again from the bytes as UTF-8 when a caller asks for them.
 */
// ignoreBOM keeps a leading U+FEFF in a value instead of silently dropping it.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
// WHATWG "latin1" is windows-1252: still one UTF-16 unit per byte, which is all we need.
const latin1 = new TextDecoder('latin1');

export function decodeOneToOne(bytes: Uint8Array, start: number, end: number, ascii: boolean): string {
  // No view when the whole input is decoded (the common case): a Buffer's subarray is costly.
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  return ascii ? utf8.decode(view) : latin1.decode(view);
}

export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return utf8.decode(bytes.subarray(start, end));
}

const encoder = new TextEncoder();

export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** True when any char code in s[start, end) is >= 0x80. */
export function hasNonAscii(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) >= 0x80) return true;
  return false;
}
