/**
 * Digest response arithmetic (RFC 2617 s3.2.2, RFC 7616 s3.4, used by SIP per
 * RFC 3261 s22.4 and RFC 8760). Pure computation: the challenge has already
 * been parsed and the Authorization header is written by someone else.
 */

import { SipEndpointError } from '../../errors/sip-endpoint-error.ts';
import { HEX } from './block-hash.ts';
import { md5Hex } from './md5.ts';
import { sha256Hex } from './sha256.ts';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export type DigestQop = 'auth' | 'auth-int';

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  /** The SIP method of the request (REGISTER, INVITE, ...). */
  method: string;
  /** The digest-uri, normally the Request-URI as written in the request. */
  uri: string;
  nonce: string;
  /** Required with `qop` and with the -sess algorithms. */
  cnonce?: string;
  /** Required with `qop`: a count (written as 8 hex digits) or the 8 hex digits themselves. */
  nc?: number | string;
  qop?: DigestQop;
  /** The message body, hashed for `qop=auth-int`; absent means empty. */
  body?: Uint8Array;
}

export interface DigestResult {
  ha1: string;
  ha2: string;
  /** The `response` parameter value (lower-case hex). */
  response: string;
  /** The `nc` parameter value as hashed, present when `qop` was given. */
  nc?: string;
}

/** Stable codes of {@link DigestError}. */
export type DigestErrorCode =
  | 'cnonce-required'
  | 'nc-required'
  | 'invalid-nc'
  | 'unsupported-algorithm'
  | 'unsupported-qop';

/** Input that cannot give a digest response (a bug in the caller, not in the peer). */
export class DigestError extends SipEndpointError {
  override readonly name = 'DigestError';
  declare readonly code: DigestErrorCode;

  constructor(code: DigestErrorCode, message: string) {
    super(code, message);
  }
}

/** Algorithms by strength, weakest first; the index is the strength. */
const BY_STRENGTH: readonly DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess'];

/** The canonical spelling of an algorithm token (case-insensitive), or undefined if unsupported. */
export function parseDigestAlgorithm(name: string): DigestAlgorithm | undefined {
  // Nearly every server writes the canonical spelling: no lower-cased copies.
  const exact = BY_STRENGTH.indexOf(name as DigestAlgorithm);
  if (exact >= 0) return BY_STRENGTH[exact];
  const wanted = name.trim().toLowerCase();
  return BY_STRENGTH.find((algorithm) => algorithm.toLowerCase() === wanted);
}

/**
 * Rank of an algorithm for choosing among several challenges: SHA-256-sess 3,
 * SHA-256 2, MD5-sess 1, MD5 0, anything unsupported -1.
 */
export function algorithmStrength(name: string): number {
  const exact = BY_STRENGTH.indexOf(name as DigestAlgorithm);
  if (exact >= 0) return exact;
  const algorithm = parseDigestAlgorithm(name);
  return algorithm === undefined ? -1 : BY_STRENGTH.indexOf(algorithm);
}

/** RFC 2617 s3.2.2: nc-value = 8LHEX, e.g. 1 -> "00000001". */
export function formatNonceCount(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new DigestError('invalid-nc', `nonce count ${n} is not an integer in 0..0xffffffff`);
  }
  return n.toString(16).padStart(8, '0');
}

/**
 * A client nonce of `bytes` random bytes as lower-case hex. `random` returns
 * numbers in [0, 1) like Math.random; inject a fixed one in tests.
 */
export function makeCnonce(random: () => number, bytes = 16): string {
  let hex = '';
  for (let i = 0; i < bytes; i++) hex += HEX[(random() * 256) & 0xff];
  return hex;
}

/** H() of each algorithm (RFC 7616 s3.4: the -sess variants use the same hash). */
const HASH: Readonly<Record<DigestAlgorithm, (data: string | Uint8Array) => string>> = {
  MD5: md5Hex,
  'MD5-sess': md5Hex,
  'SHA-256': sha256Hex,
  'SHA-256-sess': sha256Hex,
};

const NC_DIGITS = /^[0-9a-fA-F]{8}$/;

function nonceCount(nc: number | string): string {
  if (typeof nc === 'number') return formatNonceCount(nc);
  if (!NC_DIGITS.test(nc)) throw new DigestError('invalid-nc', `nonce count "${nc}" is not 8 hex digits`);
  return nc;
}

/** Computes HA1, HA2 and the response for one request. Throws {@link DigestError}. */
export function computeDigest(input: DigestInput): DigestResult {
  const { algorithm, qop, cnonce } = input;
  // The type rules out other names, but callers in plain JS or with a value
  // straight from a header may still pass one.
  if (!Object.hasOwn(HASH, algorithm)) {
    throw new DigestError('unsupported-algorithm', `unsupported digest algorithm "${String(algorithm)}"`);
  }
  const hash = HASH[algorithm];
  const sess = algorithm.endsWith('-sess');
  if (qop !== undefined && qop !== 'auth' && qop !== 'auth-int') {
    throw new DigestError('unsupported-qop', `unsupported qop "${String(qop)}"`);
  }
  if ((qop !== undefined || sess) && (cnonce === undefined || cnonce === '')) {
    throw new DigestError('cnonce-required', `a cnonce is required with ${qop !== undefined ? `qop=${qop}` : algorithm}`);
  }

  // RFC 7616 s3.4.2: "If the algorithm parameter's value is "<algorithm>-sess"
  // ... A1 = H( unq(username) ":" unq(realm) ":" passwd ) ":" unq(nonce-prime) ":" unq(cnonce-prime)".
  let ha1 = hash(`${input.username}:${input.realm}:${input.password}`);
  if (sess) ha1 = hash(`${ha1}:${input.nonce}:${cnonce!}`);

  // RFC 7616 s3.4.3: "If the qop value is "auth-int", then A2 is:
  // A2 = Method ":" request-uri ":" H(entity-body)".
  const a2 =
    qop === 'auth-int'
      ? `${input.method}:${input.uri}:${hash(input.body ?? new Uint8Array(0))}`
      : `${input.method}:${input.uri}`;
  const ha2 = hash(a2);

  // RFC 2617 s3.2.2.1: without qop, request-digest = KD(H(A1), nonce ":" H(A2)).
  if (qop === undefined) return { ha1, ha2, response: hash(`${ha1}:${input.nonce}:${ha2}`) };

  if (input.nc === undefined) throw new DigestError('nc-required', `a nonce count is required with qop=${qop}`);
  const nc = nonceCount(input.nc);
  // RFC 7616 s3.4.1: response = KD(H(A1), nonce:nc:cnonce:qop:H(A2)).
  const response = hash(`${ha1}:${input.nonce}:${nc}:${cnonce!}:${qop}:${ha2}`);
  return { ha1, ha2, response, nc };
}
