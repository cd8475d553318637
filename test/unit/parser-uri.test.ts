/**
 * parseUri and decodeEscapes (src/parser/uri.ts), table-driven.
 *
 * Covers: sip/sips (scheme case, user, password, host names, IPv4, IPv6
 * references, ports up to 65535, params as a Map with lower-cased names and
 * values as written, headers), tel (number and params), other absolute URIs
 * kept opaque; the Request-URI ban on headers; rejected forms (no scheme,
 * empty host or user, bad escapes, bad IPv6, port out of range, stray
 * characters); single-pass %HH decoding.
 * Not covered: URI comparison (RFC 3261 s19.1.4): not a parser feature.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeEscapes, OtherUri, parseUri, SipParseError, SipUri } from '../../src/parser/index.ts';

interface SipCase {
  input: string;
  scheme: 'sip' | 'sips';
  user: string | null;
  password?: string | null;
  host: string;
  port: number | null;
  params?: Array<[string, string | null]>;
  headers?: Array<[string, string]>;
}

const sipCases: SipCase[] = [
  { input: 'sip:alice@atlanta.com', scheme: 'sip', user: 'alice', host: 'atlanta.com', port: null },
  { input: 'sips:bob@biloxi.example.com:5061', scheme: 'sips', user: 'bob', host: 'biloxi.example.com', port: 5061 },
  { input: 'SIP:Alice@Atlanta.COM', scheme: 'sip', user: 'Alice', host: 'Atlanta.COM', port: null },
  { input: 'sip:registrar.biloxi.com', scheme: 'sip', user: null, host: 'registrar.biloxi.com', port: null },
  { input: 'sip:192.0.2.4', scheme: 'sip', user: null, host: '192.0.2.4', port: null },
  { input: 'sip:127.0.0.1:5080', scheme: 'sip', user: null, host: '127.0.0.1', port: 5080 },
  { input: 'sip:alice:secretword@atlanta.com;transport=tcp', scheme: 'sip', user: 'alice', password: 'secretword', host: 'atlanta.com', port: null, params: [['transport', 'tcp']] },
  { input: 'sip:alice@[2001:db8::1]:5060', scheme: 'sip', user: 'alice', host: '[2001:db8::1]', port: 5060 },
  { input: 'sip:[2001:db8::10]', scheme: 'sip', user: null, host: '[2001:db8::10]', port: null },
  { input: 'sip:[::ffff:192.0.2.1]:5070;lr', scheme: 'sip', user: null, host: '[::ffff:192.0.2.1]', port: 5070, params: [['lr', null]] },
  { input: 'sip:+1-212-555-1212:1234@gateway.com;user=phone', scheme: 'sip', user: '+1-212-555-1212', password: '1234', host: 'gateway.com', port: null, params: [['user', 'phone']] },
  { input: 'sip:alice;day=tuesday@atlanta.com', scheme: 'sip', user: 'alice;day=tuesday', host: 'atlanta.com', port: null },
  {
    input: 'sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com',
    scheme: 'sip',
    user: null,
    host: 'atlanta.com',
    port: null,
    params: [['method', 'REGISTER']],
    headers: [['to', 'alice%40atlanta.com']],
  },
  {
    input: 'sip:alice@atlanta.com?subject=project%20x&priority=urgent',
    scheme: 'sip',
    user: 'alice',
    host: 'atlanta.com',
    port: null,
    headers: [['subject', 'project%20x'], ['priority', 'urgent']],
  },
  {
    input: 'sip:p1.example.com;LR;Transport=TCP;maddr=239.255.255.1;ttl=15',
    scheme: 'sip',
    user: null,
    host: 'p1.example.com',
    port: null,
    params: [['lr', null], ['transport', 'TCP'], ['maddr', '239.255.255.1'], ['ttl', '15']],
  },
  { input: 'sip:host:65535', scheme: 'sip', user: null, host: 'host', port: 65535 },
  { input: 'sip:host:0', scheme: 'sip', user: null, host: 'host', port: 0 },
  { input: 'sip:under_score.example.com', scheme: 'sip', user: null, host: 'under_score.example.com', port: null },
  { input: "sip:user-._!~*'()&=+$,;?/@h", scheme: 'sip', user: "user-._!~*'()&=+$,;?/", host: 'h', port: null },
];

for (const c of sipCases) {
  test(`sip URI ${c.input}`, () => {
    const uri = parseUri(c.input);
    assert.instance(uri, SipUri);
    const sip = uri as SipUri;
    assert.is(sip.scheme, c.scheme);
    assert.is(sip.user, c.user);
    assert.is(sip.password, c.password ?? null);
    assert.is(sip.host, c.host);
    assert.is(sip.port, c.port);
    assert.equal([...sip.params], c.params ?? []);
    assert.equal([...sip.headers], c.headers ?? []);
    assert.is(sip.hasHeaders, c.headers !== undefined);
    // Written back exactly as received.
    assert.is(sip.toString(), c.input);
    assert.is(JSON.stringify(sip), JSON.stringify(c.input));
    assert.is(sip.hostport, c.port === null ? c.host : `${c.host}:${c.port}`);
  });
}

test('tel URIs keep the number and expose params; user/host/port are null', () => {
  const cases: Array<[string, string, Array<[string, string | null]>]> = [
    ['tel:+1-201-555-0123', '+1-201-555-0123', []],
    ['tel:7042;phone-context=example.com', '7042', [['phone-context', 'example.com']]],
    ['TEL:+358-555-1234567;postd=pp22;isub=1411', '+358-555-1234567', [['postd', 'pp22'], ['isub', '1411']]],
  ];
  for (const [input, number, params] of cases) {
    const uri = parseUri(input);
    assert.instance(uri, OtherUri);
    assert.is(uri.scheme, 'tel');
    assert.is((uri as OtherUri).opaque, number);
    assert.equal([...uri.params], params);
    assert.equal([uri.user, uri.host, uri.port], [null, null, null]);
    assert.is(String(uri), input);
    assert.is(JSON.stringify(uri), JSON.stringify(input));
  }
});

test('other absolute URIs are kept opaque with a lower-cased scheme', () => {
  const cases: Array<[string, string, string]> = [
    ['mailto:watson@bell-telephone.com', 'mailto', 'watson@bell-telephone.com'],
    ['http://www.example.com/a?b=c', 'http', '//www.example.com/a?b=c'],
    ['urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'urn', 'uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6'],
    ['Soap.Beep://192.0.2.103:3002', 'soap.beep', '//192.0.2.103:3002'],
    ['im+x-y:a', 'im+x-y', 'a'],
  ];
  for (const [input, scheme, opaque] of cases) {
    const uri = parseUri(input) as OtherUri;
    assert.instance(uri, OtherUri);
    assert.is(uri.scheme, scheme);
    assert.is(uri.opaque, opaque);
    assert.is(uri.params.size, 0);
    assert.equal([uri.user, uri.host, uri.port], [null, null, null]);
    assert.is(uri.toString(), input);
  }
});

const rejected: Array<[string, RegExp, string?]> = [
  ['', /scheme/],
  ['alice@atlanta.com', /scheme/],
  ['1sip:a@b', /scheme/],
  [':foo', /scheme/],
  ['sip:', /host/],
  ['sip:alice@', /host/],
  ['sip:@atlanta.com', /user/],
  ['sip:a%zz@host', /escape/],
  ['sip:a%4@host', /escape/],
  ['sip:a%@host', /escape/],
  ['sip:host;p=%4', /escape/],
  ['sip:host;p=%', /escape/],
  ['sip:host?h=%g0', /escape/],
  ['sip:a b@c', /character/],
  ['sip:a"b@c', /character/],
  ['sip:host:65536', /range|65535/],
  ['sip:host:99999999999', /range|65535/],
  ['sip:host:', /number/],
  ['sip:host:50x', /character/],
  ['sip:[2001:db8::g]', /IPv6/],
  ['sip:[2001:db8::1', /IPv6/],
  ['sip:[2001]', /IPv6/],
  ['sip:host;;lr', /empty/],
  ['sip:host;=x', /empty/],
  ['sip:host;a=b=c', /character/],
  ['sip:host#frag', /character/],
  ['sip:h<st', /character/],
  ['tel:', /empty/],
  ['tel:+1 555', /character/],
  ['mailto:a b', /character/],
  ['http:<x>', /character/],
];

for (const [input, reason] of rejected) {
  test(`rejects ${JSON.stringify(input)}`, () => {
    let caught: unknown;
    try {
      parseUri(input, 'contact');
    } catch (error) {
      caught = error;
    }
    assert.instance(caught, SipParseError);
    const error = caught as SipParseError;
    assert.is(error.status, 400);
    assert.is(error.header, 'contact');
    assert.match(error.reason, reason);
  });
}

test('the Request-URI may not carry headers; other URIs may', () => {
  assert.throws(() => parseUri('sip:host?a=b', 'request-uri', { allowHeaders: false }), (error: unknown) => error instanceof SipParseError && /headers/.test(error.reason));
  assert.is((parseUri('sip:host?a=b', 'contact') as SipUri).headers.get('a'), 'b');
  assert.is((parseUri('sip:host?flag', 'contact') as SipUri).headers.get('flag'), '');
});

test('escapes are kept as written; decodedUser decodes them once', () => {
  const cases: Array<[string, string, string]> = [
    ['sip:%61lice@atlanta.com', '%61lice', 'alice'],
    ['sip:sips%3Auser%40example.com@example.net', 'sips%3Auser%40example.com', 'sips:user@example.com'],
    ['sip:null-%00-null@example.com', 'null-%00-null', 'null-\0-null'],
    ['sip:value%2541@h', 'value%2541', 'value%41'],
    ['sip:caf%C3%A9@h', 'caf%C3%A9', 'café'],
    ['sip:plain@h', 'plain', 'plain'],
  ];
  for (const [input, user, decoded] of cases) {
    const uri = parseUri(input) as SipUri;
    assert.is(uri.user, user);
    assert.is(uri.decodedUser, decoded);
  }
  assert.is((parseUri('sip:host') as SipUri).decodedUser, null);
});

test('decodeEscapes: single pass, invalid escapes left alone, UTF-8 assembled from bytes', () => {
  const cases: Array<[string, string]> = [
    ['', ''],
    ['abc', 'abc'],
    ['%41', 'A'],
    ['%2541', '%41'],
    ['v%61lue%25%34%31', 'value%41'],
    ['a%C3%A9b', 'aéb'],
    ['%e2%82%ac', '€'],
    ['a%zz', 'a%zz'],
    ['a%4', 'a%4'],
    ['%', '%'],
    ['é%41', 'éA'],
    ['%00', '\0'],
  ];
  for (const [input, expected] of cases) assert.is(decodeEscapes(input), expected, input);
});

test('params and headers maps are built once and cached', () => {
  const uri = parseUri('sip:a@b;x=1?h=2') as SipUri;
  assert.is(uri.params, uri.params);
  assert.is(uri.headers, uri.headers);
});

test.run();
