/**
 * Responses built by the transaction layer from the request they answer
 * (RFC 3261 s8.2.6.2): the 100 Trying of an INVITE server transaction, the
 * 408/503 a client transaction reports to its TU in place of a response that
 * never came (s8.1.3.1), and the same helper for TUs building their answers.
 */
import { DEFAULT_LIMITS, findHeader, formatMessage, ownedString, parseMessage, parseNameAddr, type MessageParts, type SipMessage } from '../parser/index.ts';
import type { TuResponseEvent } from './events.ts';
import type { Received, TransportError } from '../transport/types.ts';
import { annotatedTopViaField } from '../transport/response-target.ts';

export interface ResponseOptions {
  /** Reason phrase; the default one for the status otherwise. */
  readonly reason?: string;
  /** Added to To when the request's To has no tag. */
  readonly toTag?: string;
  /** Headers after Via, From, To, Call-ID and CSeq. */
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body?: Uint8Array | string;
}

/**
 * s8.2.6.2: Via (every value, in order), From, To, Call-ID and CSeq copied
 * from the request; a To tag added when asked and the request had none.
 */
export function responseParts(request: SipMessage, status: number, options: ResponseOptions = {}): MessageParts {
  const headers: Array<[string, string]> = [];
  // Names looked up in their canonical (lower) case: the message's lookup then makes no lower-case copy.
  for (const via of request.headerFields('via')) headers.push(['Via', via]);
  const from = request.header('from');
  if (from !== undefined) headers.push(['From', from]);
  let to = request.header('to');
  if (to !== undefined) {
    if (options.toTag !== undefined && request.to?.tag == null) to = `${to};tag=${options.toTag}`;
    headers.push(['To', to]);
  }
  const callId = request.header('call-id');
  if (callId !== undefined) headers.push(['Call-ID', callId]);
  const cseq = request.header('cseq');
  if (cseq !== undefined) headers.push(['CSeq', cseq]);
  // s8.2.6.1: "When a 100 (Trying) response is generated, any Timestamp
  // header field present in the request MUST be copied into this 100
  // (Trying) response."
  if (status === 100) {
    const timestamp = request.header('timestamp');
    if (timestamp !== undefined) headers.push(['Timestamp', timestamp]);
  }
  for (const [name, value] of options.headers ?? []) headers.push([name, value]);
  const parts: MessageParts = { status, headers };
  if (options.reason !== undefined) parts.reason = options.reason;
  if (options.body !== undefined) parts.body = options.body;
  return parts;
}

/**
 * The response a client transaction reports when none came: 408 after Timer
 * B/F, 503 after a transport error (408 when the transport timed out:
 * transportFailureStatus). s8.1.3.1: "a transport failure ... MUST be
 * treated as if a 503 (Service Unavailable) status code had been received",
 * and a timeout as a 408 (Request Timeout).
 */
export function localResponse(request: SipMessage, status: 408 | 503): SipMessage {
  return parseMessage(formatMessage(responseParts(request, status)));
}

/**
 * The status a transport error stands for: 408 when the transport gave up
 * waiting (ETIMEDOUT: a connect or keep-alive pong timeout, a site that
 * went silent), 503 for the rest (refused, reset, TLS, unreachable).
 */
export function transportFailureStatus(error: TransportError): 408 | 503 {
  return error.code === 'ETIMEDOUT' ? 408 : 503;
}

/**
 * A TU's response checked and made bytes, as a server transaction takes it.
 * The bytes are a view into a shared chunk: a transaction that keeps them
 * (32 s for retransmissions) keeps a copy (ownedBytes); a 2xx to an INVITE
 * is sent and not kept. Throws RangeError on a bad status.
 */
export function tuResponse(parts: MessageParts): TuResponseEvent {
  const status = parts.status;
  checkResponseStatus(status);
  if (parts.method !== undefined) throw new RangeError('a response has no method');
  let toTag: string | null = null;
  // Only a final response's To tag is kept (RFC 2543 ACK matching): a 1xx needs no parse.
  const to = status < 200 ? -1 : findHeader(parts.headers, 'to');
  if (to >= 0) {
    try {
      toTag = parseNameAddr(parts.headers[to]![1], 'to', DEFAULT_LIMITS.maxParams).tag;
    } catch {
      toTag = null;
    }
  }
  return { type: 'tuResponse', status, bytes: formatMessage(parts), toTag };
}

/** Throws RangeError unless `status` is a whole number from 100 to 699. */
export function checkResponseStatus(status: number | undefined): asserts status is number {
  if (status === undefined || !Number.isInteger(status) || status < 100 || status > 699) {
    throw new RangeError(`a response needs a status from 100 to 699, got ${String(status)}`);
  }
}

/**
 * A request's top Via field as a TU copies it into a response (`copied`), and
 * as the response carries it (`annotated`): RFC 3581 s4 / RFC 3261 s18.2.1
 * `received` (when the source address differs from sent-by) and the source
 * port in `rport` (when the request asked for it). They may be views into
 * the request's text: ownedResponseVia() copies them for keeping.
 */
export interface ResponseVia {
  readonly copied: string;
  readonly annotated: string;
}

export function responseVia(received: Received): ResponseVia | undefined {
  const copied = received.message.header('via');
  if (copied === undefined) return undefined;
  return { copied, annotated: annotatedTopViaField(received)! };
}

/** `via` as copies of its own, for a transaction that keeps it after it lets the request go. */
export function ownedResponseVia(via: ResponseVia): ResponseVia {
  const copied = ownedString(via.copied);
  return { copied, annotated: via.annotated === via.copied ? copied : ownedString(via.annotated) };
}

/**
 * The response with its top Via annotated (see ResponseVia), when the TU
 * copied the request's top Via field unchanged (as responseParts() does).
 */
export function withResponseVia(parts: MessageParts, via: ResponseVia | undefined): MessageParts {
  if (via === undefined || via.annotated === via.copied) return parts;
  const index = findHeader(parts.headers, 'via');
  if (index < 0 || parts.headers[index]![1] !== via.copied) return parts;
  const headers = parts.headers.slice();
  headers[index] = [parts.headers[index]![0], via.annotated];
  return { ...parts, headers };
}

/** withResponseVia() for a response sent once, outside any transaction. */
export function withReceivedVia(parts: MessageParts, received: Received): MessageParts {
  return withResponseVia(parts, responseVia(received));
}

/** The To tag of a stateless answer: the same for the same request (s8.2.7), FNV-1a of its Call-ID, From tag and branch, in hex. */
export function statelessTag(request: SipMessage): string {
  const text = `${request.callId ?? ''} ${request.from?.tag ?? ''} ${request.topVia?.branch ?? ''}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return `sl${(hash >>> 0).toString(16).padStart(8, '0')}`;
}
