/**
 * Identifiers come from a cryptographic source (issue 10): a Phone built
 * without a `random` option draws its branches, Call-IDs, tags and cnonces
 * from crypto.getRandomValues. The test swaps the platform's Web Crypto for
 * one that counts its calls and returns only zero words, and reads the
 * REGISTER off a plain UDP socket: every identifier is then the all-zero
 * one, which Math.random could not produce.
 *
 * Also: a runtime without Web Crypto gets a MissingRandomSourceError that
 * names the option, not a silent fallback.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { parseMessage } from '../../src/parser/index.ts';
import { Phone } from '../../src/sdk/index.ts';
import { cryptoRandom, MissingRandomSourceError } from '../../src/transaction/index.ts';

/** Runs `body` with globalThis.crypto replaced by `replacement`, then restores it. */
async function withCrypto<T>(replacement: unknown, body: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!;
  Object.defineProperty(globalThis, 'crypto', { configurable: true, get: () => replacement });
  try {
    return await body();
  } finally {
    Object.defineProperty(globalThis, 'crypto', original);
  }
}

test('a Phone without `random` takes every identifier from crypto.getRandomValues', async () => {
  const registrar = createSocket('udp4');
  registrar.bind(0, '127.0.0.1');
  await once(registrar, 'listening');
  const port = registrar.address().port;
  let fills = 0;
  const zeroCrypto = {
    getRandomValues<T extends ArrayBufferView>(array: T): T {
      fills++;
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).fill(0);
      return array;
    },
  };
  const mathRandom = Math.random;
  let mathCalls = 0;
  Math.random = () => {
    mathCalls++;
    return mathRandom();
  };
  try {
    const request = await withCrypto(zeroCrypto, async () => {
      const phone = await Phone.create({ connections: [{ user: '1001', server: `127.0.0.1:${port}`, password: 'secret' }] }, { closeTimeoutMs: 100 });
      try {
        const received = once(registrar, 'message');
        phone.start();
        const [bytes] = (await received) as [Buffer];
        return parseMessage(new Uint8Array(bytes));
      } finally {
        await phone.close();
      }
    });
    assert.ok(fills > 0, 'crypto.getRandomValues was called');
    assert.is(request.method, 'REGISTER');
    // 12 random bytes as hex for the Call-ID, 6 for the tag (registration.ts); all zero.
    assert.is(request.callId, '0'.repeat(24));
    assert.is(request.from?.tag, '0'.repeat(12));
    // The branch: magic cookie, ten characters of the branch alphabet (index 0 = '0'), a counter.
    assert.match(request.topVia?.branch ?? '', /^z9hG4bK0{10}\.[0-9a-z]+$/);
    assert.is(mathCalls, 0, 'Math.random made no identifier');
  } finally {
    Math.random = mathRandom;
    await new Promise<void>((resolve) => registrar.close(() => resolve()));
  }
});

test('cryptoRandom: uniform in [0, 1) from the fill it is given, in batches', () => {
  let calls = 0;
  const random = cryptoRandom((array) => {
    calls++;
    array.fill(0x80000000);
    return array;
  });
  assert.is(random(), 0.5);
  for (let i = 0; i < 255; i++) random();
  assert.is(calls, 1, '256 numbers from one fill');
  random();
  assert.is(calls, 2);
});

test('no Web Crypto in the runtime: a clear error naming the option, at construction', async () => {
  await withCrypto(undefined, async () => {
    try {
      cryptoRandom();
      assert.unreachable('cryptoRandom() must refuse to run without a source');
    } catch (error) {
      assert.instance(error, MissingRandomSourceError);
      assert.match((error as Error).message, /`random` option/);
    }
  });
});

test.run();
