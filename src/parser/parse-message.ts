/**
 * parseMessage: one SIP message from a datagram or from a frame cut by the
 * stream framer. One scan over the header bytes finds the lines; the header
 * section is decoded once (offsets stay byte offsets) and only the headers
 * the transaction layer needs are parsed here.
 */
import { SipParseError } from './errors.ts';
import { HeaderId, headerIdAt } from './header-names.ts';
import { resolveLimits, type ParseLimits } from './limits.ts';
import { FieldSlot, SipMessage, type StartLine } from './message.ts';
import { decodeOneToOne } from './text.ts';
import { str, type Src } from './src.ts';
import { methodAt } from './headers/cseq.ts';
import { asciiBytes, equalsExact, isTokenAt, parseBoundedInt } from './scan.ts';
import { charClass as sharedCharClass, CLASS_TOKEN as SHARED_CLASS_TOKEN } from './chars.ts';
import { parseUriAt } from './uri.ts';
// Module-local aliases: V8 reads a local const faster than an imported binding in hot loops.
const charClass = sharedCharClass;
const CLASS_TOKEN = SHARED_CLASS_TOKEN;

export interface ParseOptions {
  limits?: Partial<ParseLimits>;
  /**
   * 'datagram' (default): a missing Content-Length means the body is the rest
   * of the datagram (RFC 3261 s18.3). 'stream': the framer already cut the
   * message, a missing Content-Length means no body.
   */
  framing?: 'datagram' | 'stream';
  /**
   * Accept a message whose body is shorter than its Content-Length (the body
   * is then what is present). Only for linting captures that dropped bodies;
   * on the wire such a datagram is answered 400 (RFC 3261 s18.3).
   */
  allowIncompleteBody?: boolean;
}

const LF = 10;
/** Bytes decoded at first to find the end of the headers; most messages fit. */
const HEADER_WINDOW = 2048;
const NON_ASCII = /[^\x00-\x7f]/;
/** Reused by every parse (parsing is synchronous); each message gets a right-sized copy. */
const indexScratch: number[] = [];
const CR = 13;

/** Parses one message or throws SipParseError (never anything else). */
export function parseMessage(bytes: Uint8Array, options: ParseOptions = {}): SipMessage {
  try {
    return parseUnchecked(bytes, options);
  } catch (error) {
    if (error instanceof SipParseError) throw error;
    // A parser bug must not take the process down: report it as malformed input.
    throw new SipParseError(`internal parser error: ${(error as Error)?.message ?? String(error)}`, { status: 400 });
  }
}

function parseUnchecked(bytes: Uint8Array, options: ParseOptions): SipMessage {
  const limits = resolveLimits(options.limits);
  const total = bytes.length;
  if (total > limits.maxMessageBytes) {
    throw new SipParseError(`message of ${total} bytes exceeds the ${limits.maxMessageBytes}-byte limit`, { status: 413, offset: limits.maxMessageBytes });
  }
  // RFC 3261 s7.5: ignore CRLFs before the start line.
  let start = 0;
  while (start < total && (bytes[start] === CR || bytes[start] === LF)) start++;
  if (start === total) throw new SipParseError('empty message', { offset: start });

  // Decode a window of the datagram once: the header scan searches it with
  // the engine's string search (TypedArray.indexOf per line costs ~10x more)
  // and slices it into strings. The body is never read from this text: it
  // stays a view of the bytes. A header section longer than the window gets
  // the whole datagram decoded.
  let windowEnd = Math.min(total, HEADER_WINDOW);
  let text = decodeOneToOne(bytes, 0, windowEnd, true);
  // UTF-8 decoding is one char per byte exactly when the window is ASCII.
  let ascii = text.length === windowEnd;
  if (!ascii) text = decodeOneToOne(bytes, 0, windowEnd, false);

  let lineEnd = text.indexOf('\n', start);
  if (lineEnd < 0 && windowEnd < total) {
    windowEnd = total;
    text = decodeOneToOne(bytes, 0, windowEnd, false);
    ascii = false;
    lineEnd = text.indexOf('\n', start);
  }
  if (lineEnd < 0) throw new SipParseError('no line end after the start line', { offset: start });
  const startLineEnd = bytes[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
  if (startLineEnd - start > limits.maxStartLineBytes) {
    throw new SipParseError('start line too long', { status: 414, offset: start });
  }
  let nextCr = text.indexOf('\r', start);
  if (nextCr >= 0 && nextCr < startLineEnd) throw new SipParseError('bare CR in start line', { offset: nextCr });

  // Header lines, up to the empty line. Offsets go to a reused scratch array
  // and are copied out once, at their final size.
  const index = indexScratch;
  let used = 0;
  const maxIndex = limits.maxHeaders * FieldSlot.Size;
  const maxHeaderBytes = limits.maxHeaderBytes;
  let contentLength = -1;
  let headerEnd = -1; // offset of the first byte of the empty line
  let bodyStart = -1;
  let pos = lineEnd + 1;
  for (;;) {
    lineEnd = text.indexOf('\n', pos);
    if (lineEnd < 0 && windowEnd < total) {
      windowEnd = total;
      text = decodeOneToOne(bytes, 0, windowEnd, false);
      ascii = false;
      lineEnd = text.indexOf('\n', pos);
    }
    if (lineEnd < 0) {
      // Leniency: a datagram that ends right after its last header line (RFC
      // 4475 baddn as archived) is read as if the empty line were there.
      if (pos === total && options.framing !== 'stream') {
        headerEnd = bodyStart = total;
        break;
      }
      throw new SipParseError('header section does not end with an empty line', { offset: total });
    }
    if (lineEnd === pos || (lineEnd === pos + 1 && bytes[pos] === CR)) {
      headerEnd = pos;
      bodyStart = lineEnd + 1;
      break;
    }
    // A CR anywhere but just before the LF is a bare CR.
    if (nextCr < pos) nextCr = text.indexOf('\r', pos);
    if (nextCr >= 0 && nextCr < lineEnd - 1) throw new SipParseError('bare CR in header section', { offset: nextCr });
    const first = bytes[pos];
    if (first === 32 || first === 9) {
      // Continuation of the previous header (folding, RFC 3261 s7.3.1).
      if (used === 0) throw new SipParseError('continuation line before any header', { offset: pos });
      const contentEnd = trimLineEnd(bytes, pos, lineEnd);
      // A blank continuation line adds nothing (it must not pull the CRLF into the value).
      if (contentEnd > pos) {
        index[used - 2] = contentEnd; // FieldSlot.ValueEnd of the last field
        index[used - 1] = 1; // FieldSlot.Folded
      }
      checkFieldLength(index, used, limits, pos);
      pos = lineEnd + 1;
      continue;
    }
    // The name, then HCOLON. A name the header table knows is made of token
    // chars (the table compares every byte): only other names are checked
    // against the token table, byte by byte.
    let colon = text.indexOf(':', pos);
    let nameEnd = colon;
    while (nameEnd > pos && (bytes[nameEnd - 1] === 32 || bytes[nameEnd - 1] === 9)) nameEnd--;
    let id = colon >= 0 && colon < lineEnd && nameEnd > pos ? headerIdAt(bytes, pos, nameEnd) : HeaderId.Other;
    if (id === HeaderId.Other) {
      nameEnd = pos;
      while (nameEnd < lineEnd && (charClass[bytes[nameEnd]!]! & CLASS_TOKEN) !== 0) nameEnd++;
      colon = nameEnd;
      while (colon < lineEnd && (bytes[colon] === 32 || bytes[colon] === 9)) colon++;
      if (colon >= lineEnd || bytes[colon] !== 58) {
        throw new SipParseError(colon < lineEnd ? 'malformed header name' : 'header line without ":"', { offset: pos });
      }
      if (nameEnd === pos) throw new SipParseError('empty header name', { offset: pos });
      id = headerIdAt(bytes, pos, nameEnd);
    }
    let valueStart = colon + 1;
    while (valueStart < lineEnd && (bytes[valueStart] === 32 || bytes[valueStart] === 9)) valueStart++;
    const valueEnd = trimLineEnd(bytes, valueStart, lineEnd);
    if (used >= maxIndex) throw new SipParseError(`more than ${limits.maxHeaders} header fields`, { offset: pos });
    // Same order as FieldSlot.
    index[used] = id;
    index[used + 1] = pos;
    index[used + 2] = nameEnd;
    index[used + 3] = valueStart;
    index[used + 4] = valueEnd;
    index[used + 5] = 0;
    used += 6;
    if (valueEnd - pos > maxHeaderBytes) checkFieldLength(index, used, limits, pos);
    pos = lineEnd + 1;
  }
  // Latin-1 keeps one char per byte; when the headers hold UTF-8, values
  // with non-ASCII chars are decoded again from the bytes when read.
  if (!ascii) ascii = !NON_ASCII.test(text.slice(0, headerEnd));
  const src: Src = { b: bytes, t: text, ascii };
  const startLine = parseStartLine(src, start, startLineEnd);

  for (let base = 0; base < used; base += FieldSlot.Size) {
    if (index[base] === HeaderId.ContentLength) {
      contentLength = readContentLength(src, index[base + FieldSlot.ValueStart]!, index[base + FieldSlot.ValueEnd]!, contentLength, index[base + FieldSlot.NameStart]!);
    }
  }
  let available = total - bodyStart;
  let bodyLength: number;
  const missing = contentLength < 0;
  if (missing) {
    bodyLength = options.framing === 'stream' ? 0 : available;
  } else if (contentLength > available) {
    if (!options.allowIncompleteBody) {
      throw new SipParseError(`Content-Length ${contentLength} is larger than the ${available} bytes present`, { offset: bodyStart });
    }
    bodyLength = available;
  } else {
    // Bytes after the declared body are ignored (RFC 4475 s3.1.1.8).
    bodyLength = contentLength;
  }
  available = bodyLength;
  const message = new SipMessage({
    start: startLine,
    src,
    index: index.slice(0, used),
    count: used / FieldSlot.Size,
    bytes,
    bodyStart,
    bodyLength: available,
    contentLength: missing ? bodyLength : contentLength,
    contentLengthMissing: missing,
    limits,
  });
  message.parseEager();
  const cseq = message.cseq;
  // RFC 3261 s8.1.1.5: the CSeq method MUST match the request method (RFC 4475 s3.1.2.17-18).
  if (startLine.kind === 'request' && cseq !== undefined && cseq.method !== startLine.method) {
    throw new SipParseError(`CSeq method ${cseq.method} does not match ${startLine.method}`, { header: 'cseq' });
  }
  return message;
}

function trimLineEnd(bytes: Uint8Array, start: number, lineEnd: number): number {
  let end = lineEnd;
  if (end > start && bytes[end - 1] === CR) end--;
  while (end > start && (bytes[end - 1] === 32 || bytes[end - 1] === 9)) end--;
  return end;
}

function checkFieldLength(index: number[], used: number, limits: ParseLimits, offset: number): void {
  const base = used - FieldSlot.Size;
  if (index[base + FieldSlot.ValueEnd]! - index[base + FieldSlot.NameStart]! > limits.maxHeaderBytes) {
    throw new SipParseError(`header field longer than ${limits.maxHeaderBytes} bytes`, { offset });
  }
}

/** Content-Length must be one value; repeated headers must agree (RFC 4475 s3.3.9). */
function readContentLength(src: Src, start: number, end: number, previous: number, offset: number): number {
  const b = src.b;
  let s = start;
  let e = end;
  // Folded whitespace around the value: keep only the digits part.
  while (s < e && (b[s] === 32 || b[s] === 9 || b[s] === 13 || b[s] === 10)) s++;
  while (e > s && (b[e - 1] === 32 || b[e - 1] === 9 || b[e - 1] === 13 || b[e - 1] === 10)) e--;
  const value = parseBoundedInt(src, s, e, 0x7fffffff, 'content-length');
  if (previous >= 0 && previous !== value) {
    throw new SipParseError(`conflicting Content-Length values ${previous} and ${value}`, { offset, header: 'content-length' });
  }
  return value;
}

function parseStartLine(src: Src, start: number, end: number): StartLine {
  const text = src.t;
  if (text.startsWith('SIP/', start) || text.startsWith('sip/', start)) return parseStatusLine(src, start, end);
  const sp1 = text.indexOf(' ', start);
  if (sp1 < 0 || sp1 >= end) throw new SipParseError('malformed start line', { offset: start });
  if (!isTokenAt(src, start, sp1)) throw new SipParseError('method is not a token', { offset: start });
  const method = methodAt(src, start, sp1);
  const sp2 = text.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 >= end) throw new SipParseError('malformed Request-Line', { offset: sp1 });
  if (sp2 === sp1 + 1) throw new SipParseError('more than one SP in Request-Line', { offset: sp2 });
  const sp3 = text.indexOf(' ', sp2 + 1);
  if (sp3 >= 0 && sp3 < end) throw new SipParseError('whitespace inside Request-URI or after SIP-Version', { offset: sp2 });
  if (src.b[sp1 + 1] === 60) throw new SipParseError('Request-URI must not be enclosed in <>', { offset: sp1 + 1 });
  const version = checkVersion(src, sp2 + 1, end);
  const uri = parseUriAt(src, sp1 + 1, sp2, 'request-uri', { allowHeaders: false });
  return { kind: 'request', method, uri, version };
}

function parseStatusLine(src: Src, start: number, end: number): StartLine {
  const text = src.t;
  const sp1 = text.indexOf(' ', start);
  if (sp1 < 0 || sp1 >= end) throw new SipParseError('malformed Status-Line', { offset: start });
  const version = checkVersion(src, start, sp1);
  let codeEnd = sp1 + 1;
  while (codeEnd < end && src.b[codeEnd] !== 32) codeEnd++;
  if (codeEnd - sp1 - 1 !== 3) throw new SipParseError('status code must have three digits', { offset: sp1 + 1 });
  const status = parseBoundedInt(src, sp1 + 1, codeEnd, 699, 'status-line');
  if (status < 100) throw new SipParseError('status code below 100', { offset: sp1 + 1 });
  // Leniency: a missing SP + Reason-Phrase is read as an empty phrase.
  const reasonStart = Math.min(codeEnd + 1, end);
  for (let i = reasonStart; i < end; i++) {
    const c = src.b[i]!;
    if ((c < 32 && c !== 9) || c === 127) throw new SipParseError('control character in Reason-Phrase', { offset: i });
  }
  return { kind: 'response', status, reasonPhrase: str(src, reasonStart, end), version };
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; only 2.0 is supported (505 otherwise). */
const SIP_2_0 = asciiBytes('SIP/2.0');

function checkVersion(src: Src, start: number, end: number): string {
  const text = src.t;
  if (equalsExact(src.b, start, end, SIP_2_0)) return 'SIP/2.0';
  const version = text.slice(start, end);
  const slash = version.indexOf('/');
  const dot = version.indexOf('.');
  const name = version.slice(0, slash).toUpperCase();
  const wellFormed =
    slash === 3 &&
    name === 'SIP' &&
    dot > slash + 1 &&
    dot < version.length - 1 &&
    /^[0-9]+$/.test(version.slice(slash + 1, dot)) &&
    /^[0-9]+$/.test(version.slice(dot + 1));
  if (!wellFormed) throw new SipParseError(`malformed SIP-Version ${JSON.stringify(version.slice(0, 20))}`, { offset: start });
  if (version.slice(slash + 1) !== '2.0') {
    throw new SipParseError(`SIP version ${version.slice(slash + 1)} not supported`, { status: 505, offset: start });
  }
  return 'SIP/2.0';
}

