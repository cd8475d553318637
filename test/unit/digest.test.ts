/**
 * Digest-authentication arithmetic (src/registrar-client/digest).
 *
 * Covers: our MD5 (RFC 1321 A.5 suite) and SHA-256 (FIPS 180-2 examples,
 * the 1,000,000 'a' message) against printed values and against node:crypto
 * around the 55/56/64-byte padding boundaries, on strings with non-ASCII
 * and lone surrogates (as TextEncoder bytes), across calls that reuse the
 * working buffers (long, short, beyond what is kept); computeDigest on every
 * computable vector of test/fixtures/conformance/vectors/digest-auth.json,
 * on -sess and auth-int (cross-checked with node:crypto), and its errors;
 * nc formatting, algorithm parsing and ranking, makeCnonce determinism.
 * Not covered: header parsing and the Authorization header (parser team),
 * choosing among challenges (registration).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DigestError,
  algorithmStrength,
  computeDigest,
  formatNonceCount,
  makeCnonce,
  md5,
  md5Hex,
  parseDigestAlgorithm,
  sha256,
  sha256Hex,
} from '../../src/registrar-client/digest/index.ts';
import type { DigestAlgorithm, DigestInput } from '../../src/registrar-client/digest/index.ts';

const nodeHash = (name: 'md5' | 'sha256', data: string | Uint8Array): string =>
  createHash(name).update(data).digest('hex');

/** Deterministic bytes that differ by position and by length. */
function pattern(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 167 + seed * 13 + 7) & 0xff;
  return bytes;
}

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, DigestError);
    assert.is((error as DigestError).code, code);
    assert.is((error as DigestError).name, 'DigestError');
    return;
  }
  assert.unreachable(`expected DigestError ${code}`);
}

// ---------------------------------------------------------------- MD5

test('md5: RFC 1321 appendix A.5 test suite', () => {
  const suite: [string, string][] = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
  ];
  for (const [input, expected] of suite) {
    assert.is(md5Hex(input), expected, JSON.stringify(input));
    assert.is(md5Hex(new TextEncoder().encode(input)), expected);
  }
});

test('md5: raw digest is 16 bytes matching the hex form', () => {
  const digest = md5('abc');
  assert.instance(digest, Uint8Array);
  assert.is(digest.length, 16);
  assert.is(Buffer.from(digest).toString('hex'), md5Hex('abc'));
});

// ---------------------------------------------------------------- SHA-256

test('sha256: FIPS 180-2 examples and the empty string', () => {
  assert.is(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.is(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  // The 448-bit message: padding needs a second block.
  assert.is(
    sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  );
  // The 896-bit message.
  assert.is(
    sha256Hex(
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    ),
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  );
});

test('sha256: one million repetitions of "a"', () => {
  const million = new Uint8Array(1_000_000).fill(0x61);
  assert.is(sha256Hex(million), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  assert.is(md5Hex(million), nodeHash('md5', million));
});

test('sha256: raw digest is 32 bytes matching the hex form', () => {
  const digest = sha256('abc');
  assert.instance(digest, Uint8Array);
  assert.is(digest.length, 32);
  assert.is(Buffer.from(digest).toString('hex'), sha256Hex('abc'));
});

// ---------------------------------------------------------------- both hashes

test('md5/sha256: padding boundaries match node:crypto', () => {
  const lengths = [0, 1, 54, 55, 56, 57, 63, 64, 65, 118, 119, 120, 121, 127, 128, 129, 191, 192, 193, 1000];
  for (const length of lengths) {
    const bytes = pattern(length, length);
    assert.is(md5Hex(bytes), nodeHash('md5', bytes), `md5 of ${length} bytes`);
    assert.is(sha256Hex(bytes), nodeHash('sha256', bytes), `sha256 of ${length} bytes`);
    const text = 'x'.repeat(length);
    assert.is(md5Hex(text), nodeHash('md5', text), `md5 of ${length} chars`);
    assert.is(sha256Hex(text), nodeHash('sha256', text), `sha256 of ${length} chars`);
  }
});

test('md5/sha256: every length 0..300 matches node:crypto', () => {
  for (let length = 0; length <= 300; length++) {
    const bytes = pattern(length, 3);
    assert.is(md5Hex(bytes), nodeHash('md5', bytes));
    assert.is(sha256Hex(bytes), nodeHash('sha256', bytes));
  }
});

test('md5/sha256: strings are hashed as UTF-8', () => {
  const text = 'Jäger € 𝄞 日本';
  assert.is(md5Hex(text), nodeHash('md5', Buffer.from(text, 'utf8')));
  assert.is(sha256Hex(text), nodeHash('sha256', Buffer.from(text, 'utf8')));
});

test('md5/sha256: a subarray view is hashed from its own offset', () => {
  const backing = pattern(300, 9);
  const view = backing.subarray(37, 37 + 130);
  assert.is(md5Hex(view), nodeHash('md5', Buffer.from(view)));
  assert.is(sha256Hex(view), nodeHash('sha256', Buffer.from(view)));
});

test('md5/sha256: strings of every kind and length are hashed as TextEncoder bytes', () => {
  // Non-ASCII at every position and lone surrogates (TextEncoder writes U+FFFD).
  const odd = ['\u00e4', '\u20ac', '\ud83d\ude00', '\ud800', '\udc00', '\udc00\ud800'];
  for (let length = 0; length <= 200; length++) {
    for (const char of odd) {
      const at = (length * 7) % (length + 1); // the odd char wanders through the string
      const text = 'x'.repeat(at) + char + 'y'.repeat(length - at);
      const bytes = new TextEncoder().encode(text);
      assert.is(md5Hex(text), nodeHash('md5', bytes), `md5 of ${JSON.stringify(text.slice(0, 12))} (${length})`);
      assert.is(sha256Hex(text), nodeHash('sha256', bytes), `sha256 of ${JSON.stringify(text.slice(0, 12))} (${length})`);
    }
  }
});

test('md5/sha256: reused working buffers leave nothing behind between calls', () => {
  // Long, then short, then beyond what is kept between calls, then short again.
  const inputs: Array<string | Uint8Array> = [
    pattern(3000, 1),
    'abc',
    '\u65e5'.repeat(5000),
    '',
    'y'.repeat(70_000),
    pattern(90_000, 2),
    'a',
    pattern(10, 4),
  ];
  for (const input of inputs) {
    const label = `${typeof input} of length ${input.length}`;
    assert.is(md5Hex(input), nodeHash('md5', input), `md5 ${label}`);
    assert.is(sha256Hex(input), nodeHash('sha256', input), `sha256 ${label}`);
  }
  // A raw digest is the caller's own: later calls do not change it.
  const first = md5('abc');
  const second = sha256('abc');
  md5('something else');
  sha256('something else');
  assert.is(Buffer.from(first).toString('hex'), '900150983cd24fb0d6963f7d28e17f72');
  assert.is(Buffer.from(second).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

// ---------------------------------------------------------------- fixture vectors

interface FixtureVector {
  id: string;
  algorithm: string;
  inputs: {
    username: string;
    realm: string;
    password: string;
    method: string;
    uri: string;
    nonce: string;
    nc: string | null;
    cnonce: string | null;
    qop: 'auth' | 'auth-int' | null;
  };
  expected?: { ha1: string; ha2: string; response: string };
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/conformance/vectors/digest-auth.json', import.meta.url), 'utf8'),
) as { vectors: FixtureVector[]; parse_only?: { id: string }[] };

test('fixture: every computable vector of digest-auth.json', () => {
  let computed = 0;
  let skipped = 0;
  for (const vector of fixture.vectors) {
    if (vector.expected === undefined) {
      skipped++;
      continue;
    }
    const algorithm = parseDigestAlgorithm(vector.algorithm);
    assert.ok(algorithm, `${vector.id}: algorithm ${vector.algorithm}`);
    const { inputs } = vector;
    const input: DigestInput = {
      algorithm: algorithm!,
      username: inputs.username,
      realm: inputs.realm,
      password: inputs.password,
      method: inputs.method,
      uri: inputs.uri,
      nonce: inputs.nonce,
    };
    if (inputs.nc !== null) input.nc = inputs.nc;
    if (inputs.cnonce !== null) input.cnonce = inputs.cnonce;
    if (inputs.qop !== null) input.qop = inputs.qop;
    const result = computeDigest(input);
    assert.is(result.ha1, vector.expected.ha1, `${vector.id} ha1`);
    assert.is(result.ha2, vector.expected.ha2, `${vector.id} ha2`);
    assert.is(result.response, vector.expected.response, `${vector.id} response`);
    assert.is(result.nc, inputs.qop === null ? undefined : inputs.nc!, `${vector.id} nc`);
    computed++;
  }
  // Header-only entries carry no inputs to compute from: they are the parser's.
  skipped += fixture.parse_only?.length ?? 0;
  assert.is(computed, 4, 'computed vectors');
  assert.is(skipped, 2, 'skipped parse-only entries');
  assert.is(computed + skipped, fixture.vectors.length + (fixture.parse_only?.length ?? 0));
});

test('fixture: a numeric nc gives the same response as its 8-hex form', () => {
  const vector = fixture.vectors.find((v) => v.id === 'rfc7616-3.9.1-sha256')!;
  const { inputs } = vector;
  const result = computeDigest({
    algorithm: 'SHA-256',
    username: inputs.username,
    realm: inputs.realm,
    password: inputs.password,
    method: inputs.method,
    uri: inputs.uri,
    nonce: inputs.nonce,
    cnonce: inputs.cnonce!,
    qop: 'auth',
    nc: 1,
  });
  assert.is(result.nc, '00000001');
  assert.is(result.response, vector.expected!.response);
});

// ---------------------------------------------------------------- -sess and auth-int

const base = {
  username: 'alice',
  realm: 'atlanta.example.com',
  password: 'pässword',
  method: 'REGISTER',
  uri: 'sip:atlanta.example.com',
  nonce: 'ea9c8e88df84f1cec4341ae6cbe5a359',
  cnonce: '0a4f113b',
};

/** The RFC 7616 s3.4 formulas written out again with node:crypto. */
function reference(algorithm: DigestAlgorithm, qop: 'auth' | 'auth-int' | undefined, nc: string, body: Uint8Array) {
  const name = algorithm.startsWith('MD5') ? 'md5' : 'sha256';
  const h = (data: string | Uint8Array) => nodeHash(name, data);
  let ha1 = h(`${base.username}:${base.realm}:${base.password}`);
  if (algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${base.nonce}:${base.cnonce}`);
  const ha2 = h(qop === 'auth-int' ? `${base.method}:${base.uri}:${h(body)}` : `${base.method}:${base.uri}`);
  const response =
    qop === undefined ? h(`${ha1}:${base.nonce}:${ha2}`) : h(`${ha1}:${base.nonce}:${nc}:${base.cnonce}:${qop}:${ha2}`);
  return { ha1, ha2, response };
}

test('computeDigest: every algorithm x qop matches the formulas on node:crypto', () => {
  const body = new TextEncoder().encode('v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\n');
  const algorithms: DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess'];
  for (const algorithm of algorithms) {
    for (const qop of [undefined, 'auth', 'auth-int'] as const) {
      const input: DigestInput = { ...base, algorithm, nc: 0x1a, body };
      if (qop !== undefined) input.qop = qop;
      const result = computeDigest(input);
      const expected = reference(algorithm, qop, '0000001a', body);
      assert.is(result.ha1, expected.ha1, `${algorithm} ${qop} ha1`);
      assert.is(result.ha2, expected.ha2, `${algorithm} ${qop} ha2`);
      assert.is(result.response, expected.response, `${algorithm} ${qop} response`);
      assert.is(result.nc, qop === undefined ? undefined : '0000001a');
      assert.is(result.response.length, algorithm.startsWith('MD5') ? 32 : 64);
    }
  }
});

test('computeDigest: auth-int without a body hashes the empty body', () => {
  const result = computeDigest({ ...base, algorithm: 'MD5', qop: 'auth-int', nc: 1 });
  const expected = reference('MD5', 'auth-int', '00000001', new Uint8Array(0));
  assert.is(result.ha2, expected.ha2);
  assert.is(result.response, expected.response);
  // H(method:uri:H("")) differs from the qop=auth HA2.
  assert.is.not(result.ha2, computeDigest({ ...base, algorithm: 'MD5', qop: 'auth', nc: 1 }).ha2);
});

test('computeDigest: the body only matters for auth-int', () => {
  const body = pattern(100);
  const withBody = computeDigest({ ...base, algorithm: 'SHA-256', qop: 'auth', nc: 2, body });
  const without = computeDigest({ ...base, algorithm: 'SHA-256', qop: 'auth', nc: 2 });
  assert.equal(withBody, without);
});

test('computeDigest: a string nc is hashed as written', () => {
  const upper = computeDigest({ ...base, algorithm: 'MD5', qop: 'auth', nc: '0000000A' });
  assert.is(upper.nc, '0000000A');
  assert.is(upper.response, reference('MD5', 'auth', '0000000A', new Uint8Array(0)).response);
});

test('computeDigest: nc and cnonce are ignored without qop for the plain algorithms', () => {
  const plain = computeDigest({ ...base, algorithm: 'MD5', nc: 7 });
  const { cnonce: _ignored, ...noCnonce } = base;
  assert.equal(plain, computeDigest({ ...noCnonce, algorithm: 'MD5' }));
  assert.is(plain.nc, undefined);
});

// ---------------------------------------------------------------- errors

test('computeDigest: impossible input throws DigestError with a code', () => {
  const { cnonce: _ignored, ...noCnonce } = base;
  throwsCode(() => computeDigest({ ...noCnonce, algorithm: 'MD5', qop: 'auth', nc: 1 }), 'cnonce-required');
  throwsCode(() => computeDigest({ ...base, cnonce: '', algorithm: 'SHA-256', qop: 'auth', nc: 1 }), 'cnonce-required');
  throwsCode(() => computeDigest({ ...noCnonce, algorithm: 'MD5-sess' }), 'cnonce-required');
  throwsCode(() => computeDigest({ ...noCnonce, algorithm: 'SHA-256-sess', qop: 'auth-int', nc: 1 }), 'cnonce-required');
  throwsCode(() => computeDigest({ ...base, algorithm: 'MD5', qop: 'auth' }), 'nc-required');
  throwsCode(() => computeDigest({ ...base, algorithm: 'MD5', qop: 'auth', nc: '1' }), 'invalid-nc');
  throwsCode(() => computeDigest({ ...base, algorithm: 'MD5', qop: 'auth', nc: '0000000g' }), 'invalid-nc');
  throwsCode(() => computeDigest({ ...base, algorithm: 'MD5', qop: 'auth', nc: -1 }), 'invalid-nc');
  throwsCode(
    () => computeDigest({ ...base, algorithm: 'SHA-512-256' as DigestAlgorithm, qop: 'auth', nc: 1 }),
    'unsupported-algorithm',
  );
  throwsCode(() => computeDigest({ ...base, algorithm: 'md5' as DigestAlgorithm }), 'unsupported-algorithm');
  throwsCode(
    () => computeDigest({ ...base, algorithm: 'toString' as DigestAlgorithm }),
    'unsupported-algorithm',
  );
  throwsCode(
    () => computeDigest({ ...base, algorithm: 'MD5', qop: 'auth-conf' as 'auth', nc: 1 }),
    'unsupported-qop',
  );
});

test('DigestError: is a plain Error with message and code', () => {
  const error = new DigestError('invalid-nc', 'bad nc');
  assert.instance(error, Error);
  assert.is(error.message, 'bad nc');
  assert.is(error.code, 'invalid-nc');
});

// ---------------------------------------------------------------- nc, algorithms, cnonce

test('formatNonceCount: 8 lower-case hex digits', () => {
  assert.is(formatNonceCount(1), '00000001');
  assert.is(formatNonceCount(0), '00000000');
  assert.is(formatNonceCount(10), '0000000a');
  assert.is(formatNonceCount(255), '000000ff');
  assert.is(formatNonceCount(0x12345678), '12345678');
  assert.is(formatNonceCount(0xffffffff), 'ffffffff');
  for (const bad of [-1, 1.5, 2 ** 32, Number.NaN, Number.POSITIVE_INFINITY]) {
    throwsCode(() => formatNonceCount(bad), 'invalid-nc');
  }
});

test('parseDigestAlgorithm: case-insensitive, canonical spelling', () => {
  assert.is(parseDigestAlgorithm('MD5'), 'MD5');
  assert.is(parseDigestAlgorithm('md5'), 'MD5');
  assert.is(parseDigestAlgorithm('md5-SESS'), 'MD5-sess');
  assert.is(parseDigestAlgorithm('sha-256'), 'SHA-256');
  assert.is(parseDigestAlgorithm('Sha-256-Sess'), 'SHA-256-sess');
  assert.is(parseDigestAlgorithm(' SHA-256 '), 'SHA-256');
  for (const unknown of ['', 'SHA-512-256', 'SHA256', 'MD5 sess', 'AKAv1-MD5', 'toString', 'constructor']) {
    assert.is(parseDigestAlgorithm(unknown), undefined, unknown);
  }
});

test('algorithmStrength: SHA-256-sess > SHA-256 > MD5-sess > MD5 > unknown', () => {
  assert.is(algorithmStrength('SHA-256-sess'), 3);
  assert.is(algorithmStrength('SHA-256'), 2);
  assert.is(algorithmStrength('MD5-sess'), 1);
  assert.is(algorithmStrength('MD5'), 0);
  assert.is(algorithmStrength('sha-256'), 2);
  assert.is(algorithmStrength('SHA-512-256'), -1);
  assert.is(algorithmStrength(''), -1);
  const offered = ['MD5', 'SHA-512-256', 'sha-256', 'MD5-sess'];
  const best = [...offered].sort((a, b) => algorithmStrength(b) - algorithmStrength(a));
  assert.equal(best, ['sha-256', 'MD5-sess', 'MD5', 'SHA-512-256']);
});

/** A small deterministic generator in [0, 1) (mulberry32). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('makeCnonce: hex from the injected randomness, deterministic', () => {
  assert.is(makeCnonce(() => 0), '0'.repeat(32));
  assert.is(makeCnonce(() => 0.5), '80'.repeat(16));
  assert.is(makeCnonce(() => 0.999999), 'ff'.repeat(16));
  assert.is(makeCnonce(() => 0.5, 4), '80808080');
  const values = [0, 1 / 256, 2 / 256, 0.25, 0.75, 255 / 256];
  let i = 0;
  assert.is(makeCnonce(() => values[i++]!, values.length), '00010240c0ff');
  const a = makeCnonce(seeded(42));
  const b = makeCnonce(seeded(42));
  assert.is(a, b);
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.is.not(makeCnonce(seeded(43)), a);
  assert.is(makeCnonce(seeded(42), 0), '');
});

test.run();
