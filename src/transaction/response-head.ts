/**
 * The lines every response to one request copies from it (RFC 3261
 * s8.2.6.2): its Via fields in order, the top one as the response carries it
 * (RFC 3581 received/rport, see ResponseVia), From, To (a tag added when the
 * request had none), Call-ID and CSeq, and a 100's Timestamp (s8.2.6.1).
 * Read once per server transaction and written as text into each response:
 * the same bytes as responseParts() + withResponseVia() + tuResponse(),
 * without building the parts, copying the header list for the Via, or
 * parsing the To again for its tag (a callee sends three or four responses
 * per INVITE). Holds views into the request's text: kept only while the
 * transaction holds the request.
 */
import { formatResponse, type SipMessage } from '../parser/index.ts';
import type { TuResponseEvent } from './events.ts';
import { checkResponseStatus, type ResponseOptions, type ResponseVia } from './responses.ts';

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];

export class ResponseHead {
  /** The Via lines and the From line. */
  readonly #before: string;
  /** The request's To value, without a tag of ours. */
  readonly #to: string | undefined;
  readonly #requestToTag: string | null;
  /** The Call-ID and CSeq lines. */
  readonly #after: string;
  readonly #timestamp: string | undefined;

  constructor(request: SipMessage, via: ResponseVia | undefined) {
    let before = '';
    const fields = request.headerFields('via');
    for (let i = 0; i < fields.length; i++) {
      // withResponseVia() replaces the first Via field equal to the copied top one: the top field itself.
      const field = i === 0 && via !== undefined && fields[0] === via.copied ? via.annotated : fields[i]!;
      before += `Via: ${field}\r\n`;
    }
    const from = request.header('from');
    if (from !== undefined) before += `From: ${from}\r\n`;
    this.#before = before;
    this.#to = request.header('to');
    this.#requestToTag = this.#to === undefined ? null : (request.to?.tag ?? null);
    let after = '';
    const callId = request.header('call-id');
    if (callId !== undefined) after += `Call-ID: ${callId}\r\n`;
    const cseq = request.header('cseq');
    if (cseq !== undefined) after += `CSeq: ${cseq}\r\n`;
    this.#after = after;
    this.#timestamp = request.header('timestamp');
  }

  /** The response as a server transaction takes it from its TU. Throws RangeError on a status outside 100-699. */
  response(status: number, options: ResponseOptions): TuResponseEvent {
    checkResponseStatus(status);
    let lines = this.#before;
    let toTag = this.#requestToTag;
    const to = this.#to;
    if (to !== undefined) {
      if (toTag === null && options.toTag !== undefined) {
        lines += `To: ${to};tag=${options.toTag}\r\n`;
        toTag = options.toTag;
      } else {
        lines += `To: ${to}\r\n`;
      }
    }
    lines += this.#after;
    if (status === 100 && this.#timestamp !== undefined) lines += `Timestamp: ${this.#timestamp}\r\n`;
    const bytes = formatResponse(status, options.reason, lines, options.headers ?? NO_HEADERS, options.body);
    // Only a final response's To tag is kept (RFC 2543 ACK matching).
    return { type: 'tuResponse', status, bytes, toTag: status < 200 ? null : toTag };
  }
}
