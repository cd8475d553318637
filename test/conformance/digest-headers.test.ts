/**
 * Digest challenge and credentials headers of vectors/digest-auth.json
 * through parseAuthHeader.
 *
 * Covers: every challenge_header_value and authorization_header_value of the
 * vectors, and every parse_only entry (value_as_printed unfolded first), give
 * exactly the expected params (names lower-cased, values unquoted). The
 * vectors carry no expected_params, so theirs are written out here and
 * cross-checked against the vector's inputs and expected response.
 * Not covered: the digest arithmetic (test/unit/digest.test.ts).
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDigest, parseAuthHeader, parseMessage } from '../../src/parser/index.ts';
import { FIXTURES, readFixture } from './fixtures.ts';

interface Vector {
  id: string;
  inputs: Record<string, string | null>;
  expected: { response: string };
  challenge_header_value: string;
  authorization_header_value: string;
}

interface ParseOnly {
  id: string;
  header: string;
  value_as_printed: string;
  expected_params: Record<string, string>;
}

const data = JSON.parse(readFileSync(FIXTURES + 'vectors/digest-auth.json', 'utf8')) as { vectors: Vector[]; parse_only: ParseOnly[] };

const unfold = (value: string): string => value.replace(/\r\n[ \t]+/g, ' ');

function parsed(value: string, header: string): Record<string, string> {
  const auth = parseAuthHeader(value, header, 64);
  return { scheme: auth.scheme, ...Object.fromEntries(auth.params) };
}

/** Challenges as the vectors print them (qop and algorithm are not inputs). */
const challenges: Record<string, Record<string, string>> = {
  'rfc2617-3.5': {
    scheme: 'Digest',
    realm: 'testrealm@host.com',
    qop: 'auth,auth-int',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    opaque: '5ccc069c403ebaf9f0171e9517f40e41',
  },
  'rfc7616-3.9.1-md5': {
    scheme: 'Digest',
    realm: 'http-auth@example.org',
    qop: 'auth, auth-int',
    algorithm: 'MD5',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  },
  'rfc7616-3.9.1-sha256': {
    scheme: 'Digest',
    realm: 'http-auth@example.org',
    qop: 'auth, auth-int',
    algorithm: 'SHA-256',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  },
  'no-qop-md5-rfc2069-style': {
    scheme: 'Digest',
    realm: 'testrealm@host.com',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    opaque: '5ccc069c403ebaf9f0171e9517f40e41',
  },
};

/** Which auth-params each Authorization carries beyond the always-present ones. */
const authorizationExtras: Record<string, string[]> = {
  'rfc2617-3.5': ['qop', 'nc', 'cnonce'],
  'rfc7616-3.9.1-md5': ['algorithm', 'qop', 'nc', 'cnonce'],
  'rfc7616-3.9.1-sha256': ['algorithm', 'qop', 'nc', 'cnonce'],
  'no-qop-md5-rfc2069-style': [],
};

function expectedAuthorization(vector: Vector): Record<string, string> {
  const { inputs } = vector;
  const expected: Record<string, string> = {
    scheme: 'Digest',
    username: inputs['username']!,
    realm: inputs['realm']!,
    nonce: inputs['nonce']!,
    uri: inputs['uri']!,
    response: vector.expected.response,
    opaque: inputs['opaque']!,
  };
  for (const name of authorizationExtras[vector.id]!) {
    // algorithm is named by the vector (RFC 7616 spells it as the token): MD5 / SHA-256.
    expected[name] = name === 'algorithm' ? (vector.id.endsWith('sha256') ? 'SHA-256' : 'MD5') : inputs[name]!;
  }
  return expected;
}

test('the vectors file has 4 vectors and 2 parse-only headers, all with a table entry here', () => {
  assert.is(data.vectors.length, 4);
  assert.is(data.parse_only.length, 2);
  for (const vector of data.vectors) {
    assert.ok(vector.id in challenges, vector.id);
    assert.ok(vector.id in authorizationExtras, vector.id);
  }
});

for (const vector of data.vectors) {
  test(`${vector.id}: challenge gives exactly the expected params`, () => {
    const got = parsed(vector.challenge_header_value, 'www-authenticate');
    assert.equal(got, challenges[vector.id]);
    // The table agrees with the inputs.
    for (const name of ['realm', 'nonce', 'opaque'] as const) assert.is(got[name], vector.inputs[name]);
    assert.ok(isDigest(parseAuthHeader(vector.challenge_header_value, 'www-authenticate', 64)));
  });

  test(`${vector.id}: authorization gives exactly the expected params`, () => {
    const got = parsed(vector.authorization_header_value, 'authorization');
    assert.equal(got, expectedAuthorization(vector));
    // Parameter order as written is kept.
    const order = [...parseAuthHeader(vector.authorization_header_value, 'authorization', 64).params.keys()];
    const written = [...vector.authorization_header_value.matchAll(/([a-z]+)=/g)].map((match) => match[1]);
    assert.equal(order, written);
  });
}

for (const entry of data.parse_only) {
  test(`${entry.id}: ${entry.header} (as printed, unfolded) gives exactly expected_params`, () => {
    assert.ok(/\r\n[ \t]/.test(entry.value_as_printed), 'value_as_printed is folded');
    const got = parsed(unfold(entry.value_as_printed), entry.header.toLowerCase());
    assert.equal(got, entry.expected_params);
  });
}

test('parse_only F3: the missing comma after realm is accepted leniently; the comma-fixed form gives the same params', () => {
  const entry = data.parse_only.find((candidate) => candidate.id === 'rfc3665-2.1-F3-authorization')!;
  const printed = unfold(entry.value_as_printed);
  assert.ok(printed.includes('realm="atlanta.example.com" nonce='), 'the printed value lacks the comma');
  const fixed = printed.replace('realm="atlanta.example.com" nonce=', 'realm="atlanta.example.com", nonce=');
  assert.equal(parsed(fixed, 'authorization'), parsed(printed, 'authorization'));
});

test('parse_only entries agree with the .sip files they come from', () => {
  const sources: Record<string, [string, 'wwwAuthenticate' | 'authorization']> = {
    'rfc3665-2.1-F2-www-authenticate': ['rfc3665/registration-2.1/F02-401-Unauthorized.sip', 'wwwAuthenticate'],
    'rfc3665-2.1-F3-authorization': ['rfc3665/registration-2.1/F03-REGISTER.sip', 'authorization'],
  };
  for (const entry of data.parse_only) {
    const [file, accessor] = sources[entry.id]!;
    const message = parseMessage(readFixture(file));
    assert.is(message[accessor].length, 1);
    const auth = message[accessor][0]!;
    assert.equal({ scheme: auth.scheme, ...Object.fromEntries(auth.params) }, entry.expected_params);
  }
});

test.run();
