/**
 * Message -> bytes. Header fields are written in order with their names as
 * received and values unfolded; Content-Length is always recomputed from the
 * body (one header, where the first one was, or appended).
 */
import type { SipMessage } from './message.ts';
import { HeaderId, isHeaderName, PRETTY_NAMES } from './header-names.ts';
import { encodeUtf8, encodeUtf8WithTail } from './text.ts';

export function serializeMessage(message: SipMessage): Uint8Array {
  let head = `${message.startLine}\r\n`;
  let wroteLength = false;
  const count = message.headerCount;
  for (let k = 0; k < count; k++) {
    if (message.idAt(k) === HeaderId.ContentLength) {
      if (!wroteLength) head += `${PRETTY_NAMES[HeaderId.ContentLength]}: ${message.body.length}\r\n`;
      wroteLength = true;
      continue;
    }
    head += `${message.nameAt(k)}: ${message.valueAt(k)}\r\n`;
  }
  if (!wroteLength) head += `Content-Length: ${message.body.length}\r\n`;
  head += '\r\n';
  return encodeUtf8WithTail(head, message.body);
}

export interface MessageParts {
  /** Request: method + uri; response: status (+ reason). */
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  headers: Array<[name: string, value: string]>;
  body?: Uint8Array | string;
}

/**
 * Writes a message from parts (Content-Length computed); the usual way to
 * build outgoing messages. `topVia`: a Via value written before the parts'
 * headers (the transaction layer's own), without copying the parts.
 */
export function formatMessage(parts: MessageParts, topVia?: string): Uint8Array {
  let head =
    parts.method !== undefined
      ? `${parts.method} ${parts.uri} SIP/2.0\r\n`
      : `SIP/2.0 ${parts.status} ${parts.reason ?? defaultReason(parts.status ?? 500)}\r\n`;
  if (topVia !== undefined) head += `Via: ${topVia}\r\n`;
  return withHeadersAndBody(head, parts.headers, parts.body);
}

/**
 * A response whose first header lines are already text (`lines`, each
 * "Name: value\r\n": what a response copies from its request, see the
 * transaction layer's ResponseHead), then `headers`; Content-Length computed.
 * The same bytes formatMessage() writes for the same fields.
 */
export function formatResponse(
  status: number,
  reason: string | undefined,
  lines: string,
  headers: ReadonlyArray<readonly [name: string, value: string]>,
  body: Uint8Array | string | undefined,
): Uint8Array {
  return withHeadersAndBody(`SIP/2.0 ${status} ${reason ?? defaultReason(status)}\r\n${lines}`, headers, body);
}

/** `head` (start line and lines already written), then `headers` (a Content-Length among them skipped), Content-Length, the body: as bytes. */
function withHeadersAndBody(head: string, headers: ReadonlyArray<readonly [name: string, value: string]>, body: Uint8Array | string | undefined): Uint8Array {
  const bytes = typeof body === 'string' ? encodeUtf8(body) : (body ?? NO_BODY);
  for (const [name, value] of headers) {
    if (isHeaderName(name, 'content-length')) continue;
    head += `${name}: ${value}\r\n`;
  }
  head += `Content-Length: ${bytes.length}\r\n\r\n`;
  return encodeUtf8WithTail(head, bytes);
}

const NO_BODY = new Uint8Array(0);

/** Index of the first of `headers` named `canonical` (lower case, long form; any case or the compact form matches), or -1. */
export function findHeader(headers: MessageParts['headers'], canonical: string): number {
  for (let i = 0; i < headers.length; i++) if (isHeaderName(headers[i]![0], canonical)) return i;
  return -1;
}

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 301: 'Moved Permanently', 302: 'Moved Temporarily',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone',
  413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required', 423: 'Interval Too Brief',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected',
  483: 'Too Many Hops', 484: 'Address Incomplete', 486: 'Busy Here', 487: 'Request Terminated',
  488: 'Not Acceptable Here', 491: 'Request Pending', 500: 'Server Internal Error', 501: 'Not Implemented',
  503: 'Service Unavailable', 504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

export function defaultReason(status: number): string {
  return REASONS[status] ?? (status < 200 ? 'Progress' : status < 300 ? 'OK' : 'Error');
}
