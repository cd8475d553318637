/**
 * Digest client (src/registrar-client/digest-client.ts).
 *
 * Covers: the Authorization value for every computable vector of
 * test/fixtures/conformance/vectors/digest-auth.json (response value, and
 * the whole header against the printed one); challenge parsing (algorithm
 * default, qop choice, stale, unsupported schemes/algorithms/qop, missing
 * realm or nonce); the choice among several challenges (strongest algorithm,
 * ties in server order); DigestClient: nc counting per nonce and reset on a
 * new nonce, stale=true retry without new credentials, wrong password after
 * one retry, a proven nonce refreshed once, proxy and www answers together,
 * no credentials, the challenge cap, -sess cnonce, auth-int.
 * Not covered here: REGISTER flows (registrar-registration.test.ts).
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage, parseAuthHeader, parseMessage, type SipMessage } from '../../src/parser/index.ts';
import {
  DigestClient,
  MAX_CHALLENGES,
  authorizationValue,
  chooseChallenge,
  computeDigest,
  credentialsHeader,
  parseChallenge,
  type DigestChallenge,
} from '../../src/registrar-client/index.ts';
import { seededRandom } from './registrar-fakes.ts';

interface Vector {
  id: string;
  inputs: {
    username: string;
    realm: string;
    password: string;
    method: string;
    uri: string;
    nonce: string;
    nc: string | null;
    cnonce: string | null;
    qop: string | null;
    opaque: string | null;
  };
  expected: { ha1: string; ha2: string; response: string };
  challenge_header_value: string;
  authorization_header_value: string;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/conformance/vectors/digest-auth.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

function challengeOf(value: string, kind: 'www' | 'proxy' = 'www'): DigestChallenge {
  const challenge = parseChallenge(parseAuthHeader(value, 'WWW-Authenticate'), kind);
  assert.ok(challenge, `challenge parses: ${value}`);
  return challenge!;
}

function response(status: number, challenges: string[], header = status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate'): SipMessage {
  const headers: Array<[string, string]> = [
    ['Via', 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKabc'],
    ['From', '<sip:1001@example.com>;tag=a'],
    ['To', '<sip:1001@example.com>;tag=b'],
    ['Call-ID', 'c1'],
    ['CSeq', '1 REGISTER'],
    ...challenges.map((value): [string, string] => [header, value]),
  ];
  return parseMessage(formatMessage({ status, headers }));
}

const REQUEST = { method: 'REGISTER', uri: 'sip:example.com' };

/** Params of an Authorization value. */
function paramsOf(value: string): Map<string, string> {
  return parseAuthHeader(value, 'Authorization').params;
}

// ---------------------------------------------------------------- vectors

test('vectors: the Authorization we build carries the printed response for every vector', () => {
  assert.ok(fixture.vectors.length >= 4);
  for (const vector of fixture.vectors) {
    const { inputs } = vector;
    const challenge = challengeOf(vector.challenge_header_value);
    assert.is(challenge.qop ?? null, inputs.qop, `${vector.id}: qop chosen`);
    const value = authorizationValue(
      challenge,
      { username: inputs.username, password: inputs.password },
      { method: inputs.method, uri: inputs.uri },
      inputs.nc === null ? 1 : parseInt(inputs.nc, 16),
      inputs.cnonce ?? 'unused',
    );
    const ours = paramsOf(value);
    assert.is(ours.get('response'), vector.expected.response, `${vector.id}: response`);
    // Every param of the printed header, and no other.
    assert.equal(ours, paramsOf(vector.authorization_header_value), `${vector.id}: params`);
    assert.is(parseAuthHeader(value, 'Authorization').scheme, 'Digest');
  }
});

test('vectors: the header text equals the printed one where the RFC order is ours (RFC 2617 s3.5, RFC 2069 style)', () => {
  for (const id of ['rfc2617-3.5', 'no-qop-md5-rfc2069-style']) {
    const vector = fixture.vectors.find((v) => v.id === id)!;
    const { inputs } = vector;
    const value = authorizationValue(
      challengeOf(vector.challenge_header_value),
      { username: inputs.username, password: inputs.password },
      { method: inputs.method, uri: inputs.uri },
      1,
      inputs.cnonce ?? 'x',
    );
    assert.is(value, vector.authorization_header_value, id);
  }
});

// ---------------------------------------------------------------- parsing challenges

test('parseChallenge: defaults, qop choice, stale, opaque', () => {
  let c = challengeOf('Digest realm="r", nonce="n1"');
  assert.is(c.algorithm, 'MD5');
  assert.is(c.algorithmNamed, false);
  assert.is(c.qop, undefined);
  assert.is(c.stale, false);
  assert.is(c.opaque, undefined);
  c = challengeOf('Digest realm="r", nonce="n1", qop="auth-int,auth", algorithm=sha-256, stale=TRUE, opaque=""');
  assert.is(c.algorithm, 'SHA-256');
  assert.is(c.algorithmNamed, true);
  assert.is(c.qop, 'auth', 'auth preferred over auth-int');
  assert.is(c.stale, true);
  assert.is(c.opaque, '');
  c = challengeOf('Digest realm="r", nonce="n1", qop="auth-int"');
  assert.is(c.qop, 'auth-int', 'auth-int only when it is the only one');
  c = challengeOf('Digest realm="r", nonce="n1", stale=false', 'proxy');
  assert.is(c.stale, false);
  assert.is(c.kind, 'proxy');
});

test('parseChallenge: what we cannot answer is skipped', () => {
  const skip = (value: string) => parseChallenge(parseAuthHeader(value, 'WWW-Authenticate'), 'www');
  assert.is(skip('Basic realm="r"'), undefined, 'other scheme');
  assert.is(skip('Digest realm="r", nonce="n", algorithm=SHA-512-256'), undefined, 'unsupported algorithm');
  assert.is(skip('Digest realm="r", nonce="n", qop="auth-conf"'), undefined, 'unsupported qop');
  assert.is(skip('Digest nonce="n"'), undefined, 'no realm');
  assert.is(skip('Digest realm="r"'), undefined, 'no nonce');
  assert.is(skip('Digest realm="r", nonce=""'), undefined, 'empty nonce');
});

test('chooseChallenge: strongest supported algorithm, ties in server order', () => {
  const r = response(401, [
    'Digest realm="a", nonce="1", algorithm=MD5',
    'Basic realm="b"',
    'Digest realm="c", nonce="3", algorithm=SHA-256',
    'Digest realm="d", nonce="4", algorithm=SHA-512-256',
    'Digest realm="e", nonce="5", algorithm=SHA-256',
  ]);
  const c = chooseChallenge(r)!;
  assert.is(c.algorithm, 'SHA-256');
  assert.is(c.realm, 'c', 'first of the strongest');
  assert.is(chooseChallenge(response(401, ['Digest realm="a", nonce="1", algorithm=SHA-256', 'Digest realm="a", nonce="2", algorithm=SHA-256-sess']))!.nonce, '2');
  assert.is(chooseChallenge(response(401, ['Digest realm="a", nonce="1"', 'Digest realm="a", nonce="2", algorithm=MD5-sess']))!.algorithm, 'MD5-sess');
  // 407 reads Proxy-Authenticate, 401 does not.
  assert.is(chooseChallenge(response(407, ['Digest realm="p", nonce="9"']))!.kind, 'proxy');
  assert.is(chooseChallenge(response(401, ['Digest realm="p", nonce="9"'], 'Proxy-Authenticate')), undefined);
  assert.is(chooseChallenge(response(403, [])), undefined, 'not a challenge status');
  assert.is(chooseChallenge(response(401, ['Digest realm="a", nonce="1", algorithm=SHA-512'])), undefined, 'nothing supported');
  assert.is(chooseChallenge(response(401, ['Digest realm="a" nonce'])), undefined, 'malformed header');
  assert.is(credentialsHeader('www'), 'Authorization');
  assert.is(credentialsHeader('proxy'), 'Proxy-Authorization');
});

test('authorizationValue: -sess uses the cnonce without qop; auth-int hashes the body', () => {
  const sess = challengeOf('Digest realm="r", nonce="n", algorithm=MD5-sess');
  const value = authorizationValue(sess, { username: 'u', password: 'p' }, REQUEST, 1, 'cn');
  const params = paramsOf(value);
  assert.is(params.get('cnonce'), 'cn');
  assert.is(params.get('qop'), undefined);
  assert.is(params.get('nc'), undefined);
  assert.is(params.get('algorithm'), 'MD5-sess');
  assert.is(
    params.get('response'),
    computeDigest({ algorithm: 'MD5-sess', username: 'u', realm: 'r', password: 'p', method: 'REGISTER', uri: 'sip:example.com', nonce: 'n', cnonce: 'cn' }).response,
  );
  const int = challengeOf('Digest realm="r", nonce="n", qop="auth-int", algorithm=SHA-256');
  const body = new TextEncoder().encode('hello');
  const withBody = paramsOf(authorizationValue(int, { username: 'u', password: 'p' }, { ...REQUEST, body }, 3, 'cn'));
  assert.is(withBody.get('qop'), 'auth-int');
  assert.is(withBody.get('nc'), '00000003');
  assert.is(
    withBody.get('response'),
    computeDigest({ algorithm: 'SHA-256', username: 'u', realm: 'r', password: 'p', method: 'REGISTER', uri: 'sip:example.com', nonce: 'n', cnonce: 'cn', nc: 3, qop: 'auth-int', body }).response,
  );
  // Quotes and backslashes in values are escaped.
  const odd = paramsOf(authorizationValue(challengeOf('Digest realm="a\\"b", nonce="n"'), { username: 'x"y', password: 'p' }, REQUEST, 1, 'c'));
  assert.is(odd.get('realm'), 'a"b');
  assert.is(odd.get('username'), 'x"y');
});

// ---------------------------------------------------------------- DigestClient

const CREDS = { username: '1001', password: 'secret' };

test('DigestClient: nothing to send before a challenge; nc counts per nonce and restarts with a new one', () => {
  const client = new DigestClient(CREDS, seededRandom(3));
  assert.equal(client.headersFor(REQUEST), []);
  assert.equal(client.onChallenge(response(401, ['Digest realm="r", nonce="n1", qop="auth"'])), { retry: true });
  const first = paramsOf(client.headersFor(REQUEST)[0]![1]);
  assert.is(first.get('nc'), '00000001');
  client.onAnswered();
  const second = client.headersFor(REQUEST);
  assert.is(second.length, 1);
  assert.is(second[0]![0], 'Authorization');
  const p2 = paramsOf(second[0]![1]);
  assert.is(p2.get('nc'), '00000002');
  assert.is(p2.get('cnonce'), first.get('cnonce'), 'one cnonce per nonce');
  assert.is(client.held('www')!.nc, 2);
  // stale=true with a new nonce: retry at once, nc back to 1, new cnonce.
  assert.equal(client.onChallenge(response(401, ['Digest realm="r", nonce="n2", qop="auth", stale=true'])), { retry: true });
  const p3 = paramsOf(client.headersFor(REQUEST)[0]![1]);
  assert.is(p3.get('nonce'), 'n2');
  assert.is(p3.get('nc'), '00000001');
  assert.is.not(p3.get('cnonce'), first.get('cnonce'));
});

test('DigestClient: a second challenge without stale after answering one -> give up (wrong password), and the nonce is forgotten', () => {
  const client = new DigestClient(CREDS, seededRandom(4));
  assert.ok(client.onChallenge(response(401, ['Digest realm="r", nonce="n1"'])).retry);
  client.headersFor(REQUEST);
  const verdict = client.onChallenge(response(401, ['Digest realm="r", nonce="n2"']));
  assert.is(verdict.retry, false);
  assert.match((verdict as { reason: string }).reason, /wrong user name or password/);
  assert.is(client.held('www'), undefined);
  assert.equal(client.headersFor(REQUEST), [], 'next attempt starts without credentials');
  // Same nonce again, no stale: also wrong.
  assert.ok(client.onChallenge(response(401, ['Digest realm="r", nonce="n3"'])).retry);
  client.headersFor(REQUEST);
  assert.is(client.onChallenge(response(401, ['Digest realm="r", nonce="n3"'])).retry, false);
});

test('DigestClient: stale=true naming the nonce just used gives up', () => {
  const client = new DigestClient(CREDS, seededRandom(5));
  client.onChallenge(response(401, ['Digest realm="r", nonce="n1"']));
  client.headersFor(REQUEST);
  const verdict = client.onChallenge(response(401, ['Digest realm="r", nonce="n1", stale=true']));
  assert.equal(verdict, { retry: false, reason: 'stale=true for the nonce just used' });
});

test('DigestClient: credentials that worked, challenged without stale, are answered once more', () => {
  const client = new DigestClient(CREDS, seededRandom(6));
  client.onChallenge(response(401, ['Digest realm="r", nonce="n1"']));
  client.headersFor(REQUEST);
  client.onAnswered(); // 200 (or a timeout: no verdict)
  client.headersFor(REQUEST); // refresh, pre-emptive
  assert.ok(client.onChallenge(response(401, ['Digest realm="r", nonce="n2"'])).retry, 'server wants a new nonce');
  client.headersFor(REQUEST);
  assert.is(client.onChallenge(response(401, ['Digest realm="r", nonce="n3"'])).retry, false, 'then it is the password');
});

test('DigestClient: proxy and registrar challenges are answered together', () => {
  const client = new DigestClient(CREDS, seededRandom(7));
  assert.ok(client.onChallenge(response(407, ['Digest realm="proxy", nonce="p1", qop="auth"'])).retry);
  let headers = client.headersFor(REQUEST);
  assert.equal(headers.map(([name]) => name), ['Proxy-Authorization']);
  assert.ok(client.onChallenge(response(401, ['Digest realm="reg", nonce="r1", qop="auth"'])).retry, 'first www challenge');
  headers = client.headersFor(REQUEST);
  assert.equal(headers.map(([name]) => name), ['Proxy-Authorization', 'Authorization']);
  assert.is(paramsOf(headers[0]![1]).get('nc'), '00000002');
  assert.is(paramsOf(headers[1]![1]).get('nc'), '00000001');
});

test('DigestClient: no credentials, nothing supported, too many challenges', () => {
  const none = new DigestClient(undefined, seededRandom(8));
  const v1 = none.onChallenge(response(401, ['Digest realm="r", nonce="n1"']));
  assert.is(v1.retry, false);
  assert.match((v1 as { reason: string }).reason, /no password/);
  assert.equal(none.headersFor(REQUEST), []);
  const client = new DigestClient(CREDS, seededRandom(9));
  const v2 = client.onChallenge(response(401, ['Basic realm="r"']));
  assert.equal(v2, { retry: false, reason: 'no supported Digest challenge in the 401' });
  // A server that answers stale=true with a new nonce every time.
  let verdict = client.onChallenge(response(401, ['Digest realm="r", nonce="s0"']));
  let rounds = 0;
  while (verdict.retry) {
    client.headersFor(REQUEST);
    rounds++;
    verdict = client.onChallenge(response(401, [`Digest realm="r", nonce="s${rounds}", stale=true`]));
  }
  assert.is(rounds, MAX_CHALLENGES);
  assert.match((verdict as { reason: string }).reason, /challenged 4 times/);
});

test('DigestClient: cnonce comes from the injected random', () => {
  const a = new DigestClient(CREDS, seededRandom(11));
  const b = new DigestClient(CREDS, seededRandom(11));
  const challenge = response(401, ['Digest realm="r", nonce="n1", qop="auth"']);
  a.onChallenge(challenge);
  b.onChallenge(challenge);
  assert.is(a.headersFor(REQUEST)[0]![1], b.headersFor(REQUEST)[0]![1]);
});

test.run();
