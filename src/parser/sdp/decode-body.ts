import type { SdpLimits } from './types.ts';
import { sdpError } from './sdp-error.ts';
import { utf8Decode } from '../utf8.ts';

export interface DecodedBody {
  text: string;
  /** True when text came from bytes through UTF-8: then char offsets differ from byte offsets. */
  fromUtf8Bytes: boolean;
}

/**
 * Made on first use: the core creates nothing at module load (DESIGN,
 * Package). The runtime's TextDecoder, or our own where there is none.
 */
let strictUtf8: { decode(bytes: Uint8Array): string } | undefined;

function strictUtf8Decoder(): { decode(bytes: Uint8Array): string } {
  if (typeof TextDecoder === 'function') return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return { decode: (bytes) => utf8Decode(bytes, true) };
}

/**
 * Checks the size and NUL bytes, then decodes. Bytes that are not valid UTF-8
 * are read as ISO-8859-1 (RFC 8866 s5: a=charset may name another charset for
 * text fields), one char per byte, so nothing is lost.
 */
export function decodeBody(body: Uint8Array | string, limits: SdpLimits): DecodedBody {
  if (typeof body === 'string') {
    if (utf8Length(body, limits.maxBytes + 1) > limits.maxBytes) throw tooLarge(limits);
    const nul = body.indexOf('\0');
    if (nul !== -1) throw sdpError('NUL character in SDP', nul);
    return { text: body, fromUtf8Bytes: false };
  }
  if (!(body instanceof Uint8Array)) throw sdpError('SDP body must be a Uint8Array or a string', 0);
  if (body.length > limits.maxBytes) throw tooLarge(limits);
  const nul = body.indexOf(0);
  if (nul !== -1) throw sdpError('NUL byte in SDP', nul);
  strictUtf8 ??= strictUtf8Decoder();
  try {
    return { text: strictUtf8.decode(body), fromUtf8Bytes: true };
  } catch {
    return { text: decodeLatin1(body), fromUtf8Bytes: false };
  }
}

function tooLarge(limits: SdpLimits) {
  return sdpError(`SDP exceeds ${limits.maxBytes} bytes`, limits.maxBytes, 413);
}

function decodeLatin1(bytes: Uint8Array): string {
  let text = '';
  const chunk = 8192;
  for (let i = 0; i < bytes.length; i += chunk) {
    text += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return text;
}

/** UTF-8 length of text[0, end), counting no further than stopAt bytes. */
export function utf8Length(text: string, stopAt = Infinity, end = text.length): number {
  let bytes = 0;
  for (let i = 0; i < end && bytes < stopAt; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < end && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
