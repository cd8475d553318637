/**
 * WWW-Authenticate / Proxy-Authenticate challenges and Authorization /
 * Proxy-Authorization credentials (RFC 3261 s20, RFC 7616 s3.3-3.4):
 * scheme LWS auth-param *(COMMA auth-param). Digest params are returned
 * unquoted. Leniency: params separated only by whitespace are accepted, as
 * RFC 3665 s2.1 F3 prints one (missing comma); stale, algorithm and qop
 * values are compared case-insensitively by the caller.
 */
import { SipParseError } from '../errors.ts';
import { scanQuoted, scanToken, skipWs, unfoldText, unquote } from '../scan.ts';
import { isToken } from '../chars.ts';
import { srcOf, str, type Src } from '../src.ts';

export interface AuthHeader {
  /** Scheme as written, e.g. "Digest". */
  scheme: string;
  /** Params, names lower-cased, values unquoted; empty for non-param schemes. */
  params: Map<string, string>;
  /** Everything after the scheme, as written (for unknown schemes). */
  raw: string;
}

/** An auth header value given as a string (tests, tools). */
export function parseAuthHeader(value: string, header: string, maxParams = 64): AuthHeader {
  const src = srcOf(value);
  return parseAuthHeaderAt(src, 0, src.b.length, header, maxParams);
}

export function parseAuthHeaderAt(src: Src, start: number, end: number, header: string, maxParams: number): AuthHeader {
  const s = src.b;
  let i = skipWs(src, start, end);
  const schemeEnd = scanToken(src, i, end);
  if (schemeEnd === i) throw new SipParseError('authentication scheme expected', { header });
  const scheme = src.t.slice(i, schemeEnd);
  i = skipWs(src, schemeEnd, end);
  const raw = unfoldText(str(src, i, end)).trim();
  const params = new Map<string, string>();
  while (i < end) {
    const nameStart = i;
    i = scanToken(src, i, end);
    if (i === nameStart) throw new SipParseError(`auth-param name expected at ${JSON.stringify(src.t.slice(i, i + 20))}`, { header });
    const name = src.t.slice(nameStart, i).toLowerCase();
    i = skipWs(src, i, end);
    if (i >= end || s[i] !== 61) throw new SipParseError(`"=" expected after ${name}`, { header });
    i = skipWs(src, i + 1, end);
    const valueStart = i;
    if (i < end && s[i] === 34) {
      i = scanQuoted(src, i, end, header);
    } else {
      // token68 (RFC 7235) values such as base64 may end in '=' and contain '/'.
      while (i < end && (isToken(s[i]!) || s[i] === 47 || s[i] === 61)) i++;
      if (i === valueStart) throw new SipParseError(`value expected for ${name}`, { header });
    }
    if (params.has(name)) throw new SipParseError(`duplicate auth-param ${name}`, { header });
    if (params.size >= maxParams) throw new SipParseError(`more than ${maxParams} auth-params`, { header });
    params.set(name, unquote(str(src, valueStart, i)));
    i = skipWs(src, i, end);
    if (i < end && s[i] === 44) i = skipWs(src, i + 1, end);
  }
  return { scheme, params, raw };
}

export function isDigest(auth: AuthHeader): boolean {
  return auth.scheme.toLowerCase() === 'digest';
}
