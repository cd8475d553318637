/** Small helpers shared by the comparison parsers' adapters. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The installed version of a comparison parser (from bench/node_modules). */
export function packageVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}

/**
 * The bytes as a Buffer, without copying: the anchors decode with
 * `Buffer#toString`, the cheapest way Node offers.
 */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
