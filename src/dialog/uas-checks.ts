/**
 * What a UAS built on this stack answers before any application logic sees a
 * request (RFC 3261 s8.2, in its order: method, then headers, then content).
 * Returns null when the request goes on to the application.
 */
import type { SipMessage } from '../parser/index.ts';
import { SipParseError, validateMessage } from '../parser/index.ts';

export interface UasPolicy {
  /** Methods this UAS implements (405 for other known methods). */
  allow: readonly string[];
  /** Option tags this UAS supports (420 for others in Require). */
  supported: readonly string[];
  /** Body types this UAS understands (415 for others). */
  acceptBodies: readonly string[];
  /** URI schemes this UAS serves in the Request-URI (416 for others). */
  uriSchemes: readonly string[];
  /** True when the request would be forwarded: Max-Forwards 0 then gets 483. */
  forwarding: boolean;
}

export const ENDPOINT_POLICY: Readonly<UasPolicy> = Object.freeze({
  allow: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'UPDATE', 'NOTIFY'],
  supported: ['outbound', 'path'],
  acceptBodies: ['application/sdp', 'application/dtmf-relay', 'application/dtmf'],
  uriSchemes: ['sip', 'sips', 'tel'],
  forwarding: false,
});

/** Methods of RFC 3261 and its common extensions: known, so 405 rather than 501. */
const KNOWN_METHODS = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'PRACK', 'UPDATE',
  'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH',
]);

/** Headers that must appear exactly once in a request (RFC 3261 s8.1.1, s20). */
const MANDATORY_SINGLE = ['to', 'from', 'call-id', 'cseq'];
const AT_MOST_ONCE = ['max-forwards', 'content-type', 'content-length', 'expires'];

export interface UasAnswer {
  status: number;
  reason: string;
  /** Headers the answer must carry (Allow, Unsupported, Accept, Warning). */
  headers: Array<[string, string]>;
}

function answer(status: number, reason: string, headers: Array<[string, string]> = []): UasAnswer {
  return { status, reason, headers };
}

/** For a request that failed to parse: the status to send (when a Via lets us). */
export function answerForParseError(error: SipParseError): UasAnswer {
  return answer(error.status, error.reason);
}

export function checkRequest(request: SipMessage, policy: UasPolicy = ENDPOINT_POLICY): UasAnswer | null {
  try {
    return checkUnchecked(request, policy);
  } catch (error) {
    // A lazily parsed header that is malformed: the request is a bad request.
    if (error instanceof SipParseError) return answer(400, error.message);
    throw error;
  }
}

function checkUnchecked(request: SipMessage, policy: UasPolicy): UasAnswer | null {
  if (request.kind !== 'request') return null;
  const method = request.method!;
  validateMessage(request, 'uas');
  if (request.via.length === 0) return answer(400, 'Missing Via');
  for (const name of MANDATORY_SINGLE) {
    const count = request.count(name);
    if (count === 0) return answer(400, `Missing ${name} header`);
    if (count > 1) return answer(400, `Duplicate ${name} header`);
  }
  for (const name of AT_MOST_ONCE) {
    if (request.count(name) > 1) return answer(400, `Duplicate ${name} header`);
  }
  if (policy.forwarding && request.maxForwards === 0 && method !== 'OPTIONS') return answer(483, 'Too Many Hops');

  // s8.2.1 method inspection.
  if (!policy.allow.includes(method)) {
    const allow: Array<[string, string]> = [['Allow', policy.allow.join(', ')]];
    return KNOWN_METHODS.has(method) ? answer(405, 'Method Not Allowed', allow) : answer(501, 'Not Implemented', allow);
  }
  // s8.2.2.1 To and Request-URI.
  const scheme = request.uri!.scheme;
  if (!policy.uriSchemes.includes(scheme)) return answer(416, 'Unsupported URI Scheme');
  // s8.2.2.3 Require (ignored for ACK and CANCEL).
  if (method !== 'ACK' && method !== 'CANCEL') {
    const unknown = request.require.filter((tag) => !policy.supported.includes(tag.toLowerCase()));
    if (unknown.length > 0) return answer(420, 'Bad Extension', [['Unsupported', unknown.join(', ')]]);
  }
  // s8.2.3 content processing.
  if (request.body.length > 0 || request.contentType !== undefined) {
    const type = request.contentType;
    const encoding = request.header('content-encoding');
    const understood = type === undefined || policy.acceptBodies.includes(type.essence) || type.type === 'multipart';
    if (!understood || (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity')) {
      return answer(415, 'Unsupported Media Type', [['Accept', policy.acceptBodies.join(', ')], ['Accept-Encoding', 'identity']]);
    }
  }
  // An INVITE is answered with SDP: refuse when the Accept header rules it out (RFC 3261 s21.4.7).
  if (method === 'INVITE' && request.accept !== undefined && !acceptsSdp(request)) {
    return answer(406, 'Not Acceptable', [['Warning', '399 - "only application/sdp bodies can be sent"']]);
  }
  return null;
}

function acceptsSdp(request: SipMessage): boolean {
  const ranges = request.accept ?? [];
  return ranges.some(
    (range) => range.essence === 'application/sdp' || range.essence === '*/*' || range.essence === 'application/*',
  );
}
