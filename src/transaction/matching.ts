/**
 * Transaction matching: s17.2.3 (requests to server transactions), with the
 * RFC 2543 fallback for requests whose branch lacks the magic cookie. Pure
 * functions over parsed messages; the layer keeps the maps. Responses to
 * client transactions (s17.1.3) are matched by ClientTable.
 */
import { formatVia, type SipMessage } from '../parser/index.ts';
import { BRANCH_MAGIC_COOKIE } from '../transport/own-via.ts';

/** s8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always begin with the characters "z9hG4bK"." (The transport's Via writer holds the constant.) */
export const MAGIC_COOKIE = BRANCH_MAGIC_COOKIE;

export function hasMagicCookie(branch: string | null | undefined): branch is string {
  return typeof branch === 'string' && branch.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length;
}

/** The method of the server transaction a request belongs to: an ACK belongs to its INVITE. */
export function transactionMethod(request: SipMessage): string {
  return request.method === 'ACK' ? 'INVITE' : request.method!;
}

export interface ServerKey {
  readonly key: string;
  /** True when built by the RFC 2543 rules (no magic cookie): the To tag must be checked too. */
  readonly rfc2543: boolean;
  /** The request's To tag, for that check. */
  readonly toTag: string | null;
}

/**
 * s17.2.3 key of a request, for the server transaction of `method` (the
 * request's own, INVITE for an ACK, INVITE when looking up what a CANCEL
 * cancels). Undefined when the request lacks what matching needs.
 *
 * With the magic cookie: "the branch parameter in the request is equal to the
 * one in the top Via header field of the request that created the
 * transaction", the sent-by values are equal, and the methods match (ACK
 * matching INVITE).
 *
 * Without it (RFC 2543): Request-URI, From tag, Call-ID, CSeq number and
 * method, and top Via; the To tag is compared by serverMatches().
 */
export function serverKey(request: SipMessage, method: string = transactionMethod(request)): ServerKey | undefined {
  const via = request.topVia;
  if (via === undefined) return undefined;
  const toTag = request.to?.tag ?? null;
  if (hasMagicCookie(via.branch)) {
    const sentBy = `${via.host.toLowerCase()}:${via.port ?? ''}`;
    return { key: `1\u0000${via.branch}\u0000${sentBy}\u0000${method}`, rfc2543: false, toTag };
  }
  const uri = request.uri;
  const cseq = request.cseq;
  const callId = request.callId;
  const from = request.from;
  if (uri === undefined || cseq === undefined || callId === undefined || from === undefined) return undefined;
  const key = ['2', uri.toString(), from.tag ?? '', callId, String(cseq.seq), method, formatVia(via)].join('\u0000');
  return { key, rfc2543: true, toTag };
}

/** What serverMatches() needs of a server transaction: the To tags of its request and of its final response. */
export interface MatchableServerTransaction {
  readonly requestToTag: string | null;
  readonly responseToTag: string | null;
}

/**
 * The To-tag half of RFC 2543 matching (s17.2.3): an ACK "matches a
 * transaction if ... the To tag of the ACK matches the To tag of the response
 * sent by the server transaction"; any other request (a CANCEL looking for its
 * INVITE included) must carry the To tag of the request that created it.
 * Cookie keys need no further check.
 */
export function serverMatches(request: SipMessage, key: ServerKey, transaction: MatchableServerTransaction): boolean {
  if (!key.rfc2543) return true;
  const expected = request.method === 'ACK' ? transaction.responseToTag : transaction.requestToTag;
  return key.toTag === expected;
}
