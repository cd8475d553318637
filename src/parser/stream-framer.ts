/**
 * Cuts a TCP/TLS byte stream into SIP messages (RFC 3261 s18.3): the header
 * section ends at the first empty line, the body is Content-Length bytes
 * (0 when absent). CRLFs between messages are keep-alives (RFC 5626 s4.4.1):
 * a double CRLF is a ping, a single CRLF a pong. Three outcomes per push:
 * messages, "need more bytes" (nothing), or an error after which the
 * connection must be closed (its framing can no longer be trusted).
 */
import { SipParseError } from './errors.ts';
import { resolveLimits, type ParseLimits } from './limits.ts';

export type FrameEvent =
  | { type: 'message'; bytes: Uint8Array }
  | { type: 'ping' }
  | { type: 'pong' }
  /**
   * `head`: the header lines read of the message that broke the framing (its
   * start line first, up to its last complete line), when there was one: a
   * request can still be answered 400/413 before the connection closes.
   */
  | { type: 'error'; error: SipParseError; head?: Uint8Array };

const CR = 13;
const LF = 10;
/** A buffer above this size is given up when it is four times more than needed, or empty. */
const SHRINK_ABOVE = 64 * 1024;

export class StreamFramer {
  readonly #limits: ParseLimits;
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #failed = false;
  /** Bytes of the pending message already searched for the header end (no quadratic rescans). */
  #searched = 0;
  /** Size of the pending message once its header section is known, else -1. */
  #pendingTotal = -1;

  constructor(limits?: Partial<ParseLimits>) {
    this.#limits = resolveLimits(limits);
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Bytes of the buffer allocated (pending bytes and room for more). */
  get allocated(): number {
    return this.#buffer.length;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Appends a chunk and returns every event it completes. */
  push(chunk: Uint8Array): FrameEvent[] {
    this.append(chunk);
    const events: FrameEvent[] = [];
    for (let event = this.next(); event !== undefined; event = this.next()) events.push(event);
    return events;
  }

  /** Appends a chunk without framing it: next() takes the events one at a time (a reader that paces itself). */
  append(chunk: Uint8Array): void {
    if (!this.#failed) this.#append(chunk);
  }

  /** The next event of what was appended; undefined when only part of a message is held (or after an error). */
  next(): FrameEvent | undefined {
    if (this.#failed) return undefined;
    const event = this.#next();
    if (event?.type === 'error') {
      this.#failed = true;
      this.#buffer = new Uint8Array(0);
      this.#start = this.#end = 0;
    }
    return event;
  }

  /**
   * Appends a chunk after the bytes still pending. The buffer holds at most
   * twice one message plus one chunk: when the chunk does not fit behind
   * the pending bytes, they move to the front if the buffer can hold both,
   * else to a buffer twice their size; a buffer far larger than needed is
   * given up. (It used to double whenever the end was reached, so a
   * pipelining peer, which always leaves a partial message pending, grew
   * it without bound: 100 such peers, +60 MB in 30 s.)
   */
  #append(chunk: Uint8Array): void {
    const pending = this.#end - this.#start;
    const needed = pending + chunk.length;
    const capacity = this.#buffer.length;
    if (this.#end + chunk.length > capacity) {
      if (needed <= capacity && !(capacity > SHRINK_ABOVE && needed * 4 <= capacity)) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(needed * 2, 4096));
        grown.set(this.#buffer.subarray(this.#start, this.#end), 0);
        this.#buffer = grown;
      }
      this.#start = 0;
      this.#end = pending;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  #next(): FrameEvent | undefined {
    const buf = this.#buffer;
    let i = this.#start;
    const end = this.#end;
    // Stray LFs between messages carry no meaning; drop them.
    while (i < end && buf[i] === LF) i++;
    this.#start = i;
    if (i >= end) return undefined;
    if (buf[i] === CR || buf[i] === LF) {
      if (buf[i] === CR && i + 3 < end && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) {
        this.#start = i + 4;
        return { type: 'ping' };
      }
      if (buf[i] === CR && i + 1 < end && buf[i + 1] === LF) {
        // A CRLF followed by a message, or alone: a pong. A lone CR waits for its LF.
        if (i + 2 < end && buf[i + 2] === CR && i + 3 >= end) return undefined;
        this.#start = i + 2;
        return { type: 'pong' };
      }
      if (i + 1 < end) return { type: 'error', error: new SipParseError('bare CR between messages') };
      return undefined;
    }
    if (this.#pendingTotal >= 0) {
      if (end - i < this.#pendingTotal) return undefined;
      return this.#take(i, this.#pendingTotal);
    }
    // Resume the search a few bytes back: the empty line may straddle two chunks.
    const headerEnd = findHeaderEnd(buf, i + Math.max(0, this.#searched - 3), end);
    if (headerEnd < 0) {
      this.#searched = end - i;
      if (end - i > this.#limits.maxMessageBytes) {
        return { type: 'error', error: new SipParseError('header section exceeds the message size limit', { status: 413 }), head: headLines(buf, i, end) };
      }
      return undefined;
    }
    let contentLength: number;
    try {
      contentLength = findContentLength(buf, i, headerEnd);
    } catch (error) {
      return { type: 'error', error: error as SipParseError, head: headLines(buf, i, headerEnd) };
    }
    const total = headerEnd - i + contentLength;
    if (total > this.#limits.maxMessageBytes) {
      return { type: 'error', error: new SipParseError(`message of ${total} bytes exceeds the ${this.#limits.maxMessageBytes}-byte limit`, { status: 413 }), head: headLines(buf, i, headerEnd) };
    }
    if (end - i < total) {
      this.#pendingTotal = total;
      return undefined;
    }
    return this.#take(i, total);
  }

  #take(i: number, total: number): FrameEvent {
    // Copy out so the frame survives buffer reuse.
    const bytes = this.#buffer.slice(i, i + total);
    this.#start = i + total;
    this.#searched = 0;
    this.#pendingTotal = -1;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      // Nothing pending: a buffer grown for a large message is not kept for an idle connection.
      if (this.#buffer.length > SHRINK_ABOVE) this.#buffer = new Uint8Array(0);
    }
    return { type: 'message', bytes };
  }
}

/** A copy of buffer[start, end) cut after its last LF (a half-received line is left out). */
function headLines(buffer: Uint8Array, start: number, end: number): Uint8Array {
  const lastLf = buffer.subarray(0, end).lastIndexOf(LF);
  return buffer.slice(start, lastLf < start ? start : lastLf + 1);
}

/** Offset just past the empty line that ends the header section, or -1. */
function findHeaderEnd(buffer: Uint8Array, start: number, end: number): number {
  // A view that ends at `end`: indexOf must not scan the buffer's unused capacity (quadratic on 1-byte pushes).
  const buf = buffer.subarray(0, end);
  let lf = buf.indexOf(LF, start);
  while (lf >= 0 && lf < end) {
    if (lf + 1 < end && buf[lf + 1] === LF) return lf + 2;
    if (lf + 2 < end && buf[lf + 1] === CR && buf[lf + 2] === LF) return lf + 3;
    lf = buf.indexOf(LF, lf + 1);
  }
  return -1;
}

const CONTENT_LENGTH = 'content-length';

/** Reads Content-Length (or "l") from the raw header bytes; 0 when absent. */
function findContentLength(buffer: Uint8Array, start: number, end: number): number {
  const buf = buffer.subarray(0, end);
  let value = -1;
  let line = buf.indexOf(LF, start) + 1;
  while (line > 0 && line < end) {
    const next = buf.indexOf(LF, line);
    const lineEnd = next < 0 || next > end ? end : next;
    const nameLength = matchContentLengthName(buf, line, lineEnd);
    if (nameLength > 0) {
      const found = readDigits(buf, line + nameLength, lineEnd);
      if (value >= 0 && value !== found) throw new SipParseError(`conflicting Content-Length values ${value} and ${found}`, { header: CONTENT_LENGTH });
      value = found;
    }
    line = lineEnd + 1;
  }
  return value < 0 ? 0 : value;
}

/** Length of "Content-Length<ws>:" or "l<ws>:" at buf[at], else 0. */
function matchContentLengthName(buf: Uint8Array, at: number, end: number): number {
  let i = at;
  const first = buf[i]! | 0x20;
  if (first !== 0x63 && first !== 0x6c) return 0;
  if (first === 0x63) {
    if (end - at < CONTENT_LENGTH.length) return 0;
    for (let k = 0; k < CONTENT_LENGTH.length; k++) if ((buf[at + k]! | 0x20) !== CONTENT_LENGTH.charCodeAt(k)) return 0;
    i = at + CONTENT_LENGTH.length;
  } else {
    i = at + 1;
  }
  while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
  return i < end && buf[i] === 58 ? i + 1 - at : 0;
}

function readDigits(buf: Uint8Array, i: number, end: number): number {
  while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
  let value = 0;
  let digits = 0;
  while (i < end && buf[i]! >= 48 && buf[i]! <= 57) {
    value = value * 10 + (buf[i]! - 48);
    if (value > 0x7fffffff) throw new SipParseError('Content-Length out of range', { header: CONTENT_LENGTH });
    digits++;
    i++;
  }
  while (i < end && (buf[i] === 32 || buf[i] === 9 || buf[i] === CR)) i++;
  if (digits === 0 || i !== end) throw new SipParseError('malformed Content-Length', { header: CONTENT_LENGTH });
  return value;
}
