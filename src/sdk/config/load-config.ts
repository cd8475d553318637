/**
 * Reads a SipEndpoint.config file from disk. The only file of the config
 * loader that touches `node:` modules; the rules live in endpoint-config.ts.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError, configFromXml, type EndpointConfig } from './endpoint-config.ts';
import { XML_DEFAULT_LIMITS } from './xml-reader.ts';

/** Largest file accepted, in bytes (the XML reader's own limit is in characters). */
export const MAX_CONFIG_BYTES = XML_DEFAULT_LIMITS.maxLength;

/**
 * Loads and checks a SipEndpoint.config file: UTF-8 (a byte-order mark is
 * skipped), `env:NAME` passwords read from `env`. Throws `ConfigError` for
 * every problem, including a file that cannot be read.
 */
export function loadEndpointConfig(
  path: string,
  env: Record<string, string | undefined> = process.env,
): EndpointConfig {
  return configFromXml(decodeUtf8(readBounded(path), path), path, env);
}

/**
 * The file's bytes, never more than MAX_CONFIG_BYTES read: the size is
 * checked (stat) before reading, and the read itself stops one byte past the
 * limit, for files whose size stat does not tell (/dev/zero, a pipe).
 */
function readBounded(path: string): Uint8Array {
  const tooBig = (size: string): ConfigError => new ConfigError('io', `file is ${size}, over the limit of ${MAX_CONFIG_BYTES} bytes`, { file: path });
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    if (stat.isFile() && stat.size > MAX_CONFIG_BYTES) throw tooBig(`${stat.size} bytes`);
    const buffer = new Uint8Array(MAX_CONFIG_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > MAX_CONFIG_BYTES) throw tooBig(`more than ${MAX_CONFIG_BYTES} bytes`);
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError('io', `cannot read the file: ${reason}`, { file: path, cause: error });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    // ignoreBOM: false makes the decoder drop a leading byte-order mark.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (error) {
    const offset = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    throw new ConfigError('io', `not valid UTF-8 (byte offset ${offset})`, { file, line, cause: error });
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let length: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      length = 2;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + length > bytes.length) return i;
    let cp = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += length;
  }
  return bytes.length;
}
