/**
 * The client side of digest authentication (RFC 3261 s22, RFC 7616, RFC 8760)
 * for one registration: pick a challenge from a 401/407, answer it, count
 * nonce uses, and decide when to stop.
 *
 * Choice among several challenges. RFC 7616 s3.7 asks a client to use the
 * first challenge it supports in the order the server sent them, and RFC 8760
 * s2.4 the topmost, "unless a local policy dictates otherwise". Our policy is
 * the strongest algorithm we support: SHA-256-sess > SHA-256 > MD5-sess > MD5
 * (ties keep the server's order). A server that lists MD5 first for old
 * phones still gets SHA-256 from us, and a downgrade needs more than
 * reordering headers. Challenges for other schemes, with an algorithm or qop
 * we do not support, or without realm or nonce are skipped. Only one realm is
 * answered per response (a forked 401 with challenges from several realms is
 * not supported; a REGISTER seldom forks).
 *
 * qop: `auth` when offered; `auth-int` only when it is the only one offered;
 * none (RFC 2069 compatibility, RFC 3261 s22.4) when the challenge has no qop.
 * One cnonce per nonce; nc counts the requests sent with that nonce and starts
 * again at 1 with a new one. Credentials are re-sent pre-emptively on later
 * requests (refreshes, unregister) with the next nc, so a refresh costs one
 * transaction while the server keeps the nonce.
 *
 * When to stop (never loop):
 * - a challenge answering a request that carried credentials for a challenge
 *   received in this attempt, without `stale=true`: the credentials are wrong;
 * - `stale=true` naming the nonce we just used: nonsense, stop;
 * - credentials that were not judged wrong before (they worked, or their
 *   request got no verdict: a timeout, a 5xx, a 403) challenged without
 *   stale: the server wants a new nonce (an expired or forgotten one);
 *   answered once, then the first rule applies;
 * - more than MAX_CHALLENGES challenges in a row without a non-challenge answer.
 */
import { hasLineBreakOrNul, isDigest, ownedString, quote, type AuthHeader, type SipMessage } from '../parser/index.ts';
import {
  algorithmStrength,
  computeDigest,
  makeCnonce,
  parseDigestAlgorithm,
  type DigestAlgorithm,
  type DigestQop,
} from './digest/index.ts';

/** 401 -> WWW-Authenticate / Authorization; 407 -> Proxy-Authenticate / Proxy-Authorization. */
export type ChallengeKind = 'www' | 'proxy';

export interface DigestChallenge {
  readonly kind: ChallengeKind;
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly algorithm: DigestAlgorithm;
  /** The server named the algorithm: echo it (RFC 7616 s3.4: absent means MD5). */
  readonly algorithmNamed: boolean;
  /** The qop we answer with, chosen from what the server offered. */
  readonly qop: DigestQop | undefined;
  readonly stale: boolean;
}

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

/** The request being authorised: its method, Request-URI as written, and body (for auth-int). */
export interface DigestRequest {
  readonly method: string;
  readonly uri: string;
  readonly body?: Uint8Array;
}

/** Challenges in a row (without another answer) after which we give up. */
export const MAX_CHALLENGES = 4;

/** Reads one challenge; undefined when it is not one we can answer. */
export function parseChallenge(header: AuthHeader, kind: ChallengeKind): DigestChallenge | undefined {
  if (!isDigest(header)) return undefined;
  const params = header.params;
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined || nonce === '') return undefined;
  // Echoed in our Authorization: a value that would break its line makes the challenge unanswerable.
  if (hasLineBreakOrNul(realm) || hasLineBreakOrNul(nonce) || hasLineBreakOrNul(params.get('opaque') ?? '')) return undefined;
  const named = params.get('algorithm');
  const algorithm = named === undefined ? 'MD5' : parseDigestAlgorithm(named);
  if (algorithm === undefined) return undefined;
  let qop: DigestQop | undefined;
  const offered = params.get('qop');
  if (offered === 'auth') {
    qop = 'auth'; // what nearly every server offers: spare the split
  } else if (offered !== undefined) {
    const options = offered.split(',').map((token) => token.trim().toLowerCase());
    if (options.includes('auth')) qop = 'auth';
    else if (options.includes('auth-int')) qop = 'auth-int';
    else return undefined;
  }
  const opaque = params.get('opaque');
  // Kept as long as the nonce is used (a registration's lifetime): not as views into the response's text.
  return {
    kind,
    realm: ownedString(realm),
    nonce: ownedString(nonce),
    opaque: opaque === undefined ? undefined : ownedString(opaque),
    algorithm,
    algorithmNamed: named !== undefined,
    qop,
    stale: params.get('stale')?.trim().toLowerCase() === 'true',
  };
}

/** The challenge of a 401 or 407 we answer (see the policy above); undefined when none fits. */
export function chooseChallenge(response: SipMessage): DigestChallenge | undefined {
  const kind: ChallengeKind | undefined = response.status === 401 ? 'www' : response.status === 407 ? 'proxy' : undefined;
  if (kind === undefined) return undefined;
  let headers: AuthHeader[];
  try {
    headers = kind === 'www' ? response.wwwAuthenticate : response.proxyAuthenticate;
  } catch {
    return undefined; // a malformed challenge cannot be answered
  }
  let best: DigestChallenge | undefined;
  for (const header of headers) {
    const challenge = parseChallenge(header, kind);
    if (challenge === undefined) continue;
    if (best === undefined || algorithmStrength(challenge.algorithm) > algorithmStrength(best.algorithm)) best = challenge;
  }
  return best;
}

/** Name of the header that answers a challenge of that kind. */
export function credentialsHeader(kind: ChallengeKind): 'Authorization' | 'Proxy-Authorization' {
  return kind === 'www' ? 'Authorization' : 'Proxy-Authorization';
}

/**
 * The Authorization / Proxy-Authorization value for one request (RFC 3261
 * s25.1 digest-response; RFC 7616 s3.4): username, realm, nonce, uri,
 * [algorithm], [qop, nc, cnonce], response, [opaque]. `cnonce` is used only
 * with a qop or a -sess algorithm.
 */
export function authorizationValue(
  challenge: DigestChallenge,
  credentials: DigestCredentials,
  request: DigestRequest,
  nc: number,
  cnonce: string,
): string {
  const { algorithm, qop } = challenge;
  const needsCnonce = qop !== undefined || algorithm.endsWith('-sess');
  // One literal of fixed shape: computeDigest treats an undefined field as absent.
  const result = computeDigest({
    algorithm,
    username: credentials.username,
    realm: challenge.realm,
    password: credentials.password,
    method: request.method,
    uri: request.uri,
    nonce: challenge.nonce,
    cnonce: needsCnonce ? cnonce : undefined,
    qop,
    nc: qop !== undefined ? nc : undefined,
    body: request.body,
  });
  let value =
    `Digest username=${quote(credentials.username)}, realm=${quote(challenge.realm)}, ` +
    `nonce=${quote(challenge.nonce)}, uri=${quote(request.uri)}`;
  if (challenge.algorithmNamed) value += `, algorithm=${algorithm}`;
  if (qop !== undefined) value += `, qop=${qop}, nc=${result.nc!}`;
  if (needsCnonce) value += `, cnonce=${quote(cnonce)}`;
  value += `, response=${quote(result.response)}`;
  if (challenge.opaque !== undefined) value += `, opaque=${quote(challenge.opaque)}`;
  return value;
}

/** What to do with a 401/407. */
export type ChallengeVerdict = { readonly retry: true } | { readonly retry: false; readonly reason: string };

interface Answer {
  readonly challenge: DigestChallenge;
  readonly cnonce: string;
  /** Requests sent with this nonce so far (the last nc used). */
  nc: number;
  /** Sent on a request since it was received. */
  sent: boolean;
  /**
   * A request carrying it got an answer other than a challenge (it worked,
   * or there was no verdict on it): a later challenge without stale is
   * answered once more instead of ending as a wrong password.
   */
  trusted: boolean;
}

/** Digest state of one registration: at most one answer per header kind. */
export class DigestClient {
  readonly #credentials: DigestCredentials | undefined;
  readonly #random: () => number;
  readonly #answers = new Map<ChallengeKind, Answer>();
  #challenges = 0;

  constructor(credentials: DigestCredentials | undefined, random: () => number) {
    this.#credentials = credentials;
    this.#random = random;
  }

  /** Header fields for the next request: one per challenge held, each with the next nc. */
  headersFor(request: DigestRequest): Array<[string, string]> {
    const headers: Array<[string, string]> = [];
    if (this.#credentials === undefined) return headers;
    for (const answer of this.#answers.values()) {
      answer.nc++;
      answer.sent = true;
      headers.push([credentialsHeader(answer.challenge.kind), authorizationValue(answer.challenge, this.#credentials, request, answer.nc, answer.cnonce)]);
    }
    return headers;
  }

  /** A 401 or 407 came: keep its challenge and retry, or give up with a reason. */
  onChallenge(response: SipMessage): ChallengeVerdict {
    const challenge = chooseChallenge(response);
    if (challenge === undefined) return this.#giveUp(`no supported Digest challenge in the ${response.status}`);
    if (this.#credentials === undefined) return this.#giveUp(`authentication required for realm "${challenge.realm}" and no password is set`);
    if (++this.#challenges > MAX_CHALLENGES) return this.#giveUp(`challenged ${MAX_CHALLENGES} times in a row`);
    const held = this.#answers.get(challenge.kind);
    if (held !== undefined && held.sent) {
      if (challenge.stale) {
        // RFC 7616 s3.3: stale=true "indicat[es] that the previous request from
        // the client was rejected because the nonce value was stale" and the
        // client "may wish to simply retry the request with a new encrypted
        // response, without re-prompting the user". A stale flag on the very
        // nonce we used cannot be right.
        if (challenge.nonce === held.challenge.nonce) return this.#giveUp('stale=true for the nonce just used');
      } else if (!held.trusted) {
        // RFC 7616 s3.3: "If stale is false, or anything other than 'true', or
        // the stale parameter is not present, the username, password or both
        // are invalid".
        return this.#giveUp('credentials rejected (wrong user name or password)');
      }
    }
    this.#answers.set(challenge.kind, { challenge, cnonce: makeCnonce(this.#random), nc: 0, sent: false, trusted: false });
    return { retry: true };
  }

  /**
   * The attempt ended with anything but a challenge (a 2xx, a timeout, a
   * transport error, another final): the credentials sent were not judged
   * wrong, and the count of challenges in a row starts again.
   */
  onAnswered(): void {
    this.#challenges = 0;
    for (const answer of this.#answers.values()) if (answer.sent) answer.trusted = true;
  }

  /** Forgets every nonce (fresh start). */
  reset(): void {
    this.#answers.clear();
    this.#challenges = 0;
  }

  /** The nonce and last nc held for a kind (for tests and diagnostics). */
  held(kind: ChallengeKind): { readonly nonce: string; readonly nc: number; readonly algorithm: DigestAlgorithm } | undefined {
    const answer = this.#answers.get(kind);
    return answer === undefined ? undefined : { nonce: answer.challenge.nonce, nc: answer.nc, algorithm: answer.challenge.algorithm };
  }

  /** Giving up also forgets the nonces: a later start() begins with a fresh challenge. */
  #giveUp(reason: string): ChallengeVerdict {
    this.reset();
    return { retry: false, reason };
  }
}
