/**
 * What MD5 (RFC 1321 s3.1-3.2) and SHA-256 (FIPS 180-4 s5.1.1) share: the
 * input as bytes (strings as UTF-8), the 64-byte blocks with the padding
 * (0x80, zeros to 56 mod 64, the bit length in 8 bytes: little-endian for
 * MD5, big-endian for SHA-256), and hex output. Whole blocks are read
 * straight from the input; only the tail is copied.
 */
const encoder = new TextEncoder();

/** Hex of every byte value, built once. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? encoder.encode(input) : input;
}

/** Runs `block(bytes, offset)` over every 64-byte block of the padded message. */
export function forEachPaddedBlock(bytes: Uint8Array, lengthByteOrder: 'little' | 'big', block: (bytes: Uint8Array, offset: number) => void): void {
  const length = bytes.length;
  const whole = length - (length % 64);
  for (let offset = 0; offset < whole; offset += 64) block(bytes, offset);
  const rest = length - whole;
  const tail = new Uint8Array(rest < 56 ? 64 : 128);
  tail.set(bytes.subarray(whole));
  tail[rest] = 0x80;
  const lowBits = (length * 8) >>> 0;
  const highBits = Math.floor(length / 0x20000000) >>> 0;
  const end = tail.length - 8;
  for (let i = 0; i < 4; i++) {
    if (lengthByteOrder === 'little') {
      tail[end + i] = lowBits >>> (8 * i);
      tail[end + 4 + i] = highBits >>> (8 * i);
    } else {
      tail[end + i] = highBits >>> (24 - 8 * i);
      tail[end + 4 + i] = lowBits >>> (24 - 8 * i);
    }
  }
  for (let offset = 0; offset < tail.length; offset += 64) block(tail, offset);
}

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += HEX[bytes[i]!];
  return hex;
}
