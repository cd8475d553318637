/**
 * The cryptographic source of every identifier the core makes (branches,
 * tags, Call-IDs, cnonces, SDP session ids): `crypto.getRandomValues`,
 * present in every runtime the core targets. Identifiers must not be
 * predictable (Math.random is not a CSPRNG), so a runtime without Web Crypto
 * gets a clear error naming the option to inject a source, never a silent
 * fallback.
 */

/** A uniform number in [0, 1). */
import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
export type RandomSource = () => number;

/** Fills the array with cryptographically strong random words (the shape of crypto.getRandomValues). */
export type RandomFill = (array: Uint32Array) => Uint32Array;

export class MissingRandomSourceError extends SipEndpointError {
  override readonly name = 'MissingRandomSourceError';
  constructor(message: string) {
    super('ERR_NO_RANDOM_SOURCE', message);
  }
}

/** Words drawn per getRandomValues call: one call per 256 identifiers' worth, not one per character. */
const BATCH = 256;

function platformFill(): RandomFill {
  const crypto = (globalThis as { crypto?: { getRandomValues?: RandomFill } }).crypto;
  if (typeof crypto?.getRandomValues !== 'function') {
    throw new MissingRandomSourceError(
      'this runtime has no crypto.getRandomValues: pass a cryptographically secure `random` option (uniform in [0, 1))',
    );
  }
  return (array) => crypto.getRandomValues!(array);
}

/**
 * A uniform [0, 1) source backed by `fill` (default: the platform's
 * crypto.getRandomValues, looked up now, so a missing one fails at
 * construction). Each source keeps its own batch: nothing is shared at
 * module level.
 */
export function cryptoRandom(fill: RandomFill = platformFill()): RandomSource {
  const pool = new Uint32Array(BATCH);
  let left = 0;
  return () => {
    if (left === 0) {
      fill(pool);
      left = BATCH;
    }
    return pool[--left]! / 0x100000000;
  };
}
