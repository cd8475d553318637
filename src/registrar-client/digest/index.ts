export { md5, md5Hex } from './md5.ts';
export { sha256, sha256Hex } from './sha256.ts';
export {
  DigestError,
  algorithmStrength,
  computeDigest,
  formatNonceCount,
  makeCnonce,
  parseDigestAlgorithm,
} from './digest-response.ts';
export type { DigestAlgorithm, DigestErrorCode, DigestInput, DigestQop, DigestResult } from './digest-response.ts';
