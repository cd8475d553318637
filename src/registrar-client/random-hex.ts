/** Random identifiers (Call-IDs, tags) as hex, from the injected uniform source. */

const HEX = '0123456789abcdef';

/** `bytes` random bytes as hex, from `random` (uniform in [0, 1); cryptoRandom in production). */
export function randomHex(random: () => number, bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes * 2; i++) out += HEX[Math.floor(random() * 16) & 15];
  return out;
}
