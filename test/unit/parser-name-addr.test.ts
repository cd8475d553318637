/**
 * name-addr / addr-spec values (src/parser/headers/name-addr.ts): parseNameAddr
 * directly and From/To/Contact/Route/Record-Route through messages.
 *
 * Covers: quoted display names with quoted-pairs, token display names (with
 * and without LWS before "<"), empty and UTF-8 display names, addr-spec with
 * params (header params, never URI params), bracketed URIs with URI params
 * and headers, tags, wildcard Contact, list splitting on commas outside
 * quotes and <>, formatNameAddr, and the rejected forms.
 * Not covered: registration semantics of Contact (src/registrar-client).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatNameAddr, isWildcard, parseMessage, parseNameAddr, SipParseError, SipUri, validateMessage } from '../../src/parser/index.ts';
import type { ContactValue, NameAddr, SipMessage } from '../../src/parser/index.ts';

const encoder = new TextEncoder();

function message(...headers: string[]): SipMessage {
  const lines = [
    'REGISTER sip:registrar.example.com SIP/2.0',
    'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
    'Call-ID: name-addr-test',
    'CSeq: 1 REGISTER',
    'Max-Forwards: 70',
    ...headers,
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(encoder.encode(lines.join('\r\n')));
}

function parseError(fn: () => unknown): SipParseError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, SipParseError);
    return error as SipParseError;
  }
  return assert.unreachable('accepted') as never;
}

const binding = (value: ContactValue | undefined): NameAddr => {
  assert.ok(value !== undefined && !isWildcard(value));
  return value as NameAddr;
};

interface Case {
  input: string;
  displayName: string | null;
  uri: string;
  params?: Array<[string, string | null]>;
  uriParams?: Array<[string, string | null]>;
  tag?: string | null;
}

const cases: Case[] = [
  { input: '<sip:alice@atlanta.com>', displayName: null, uri: 'sip:alice@atlanta.com' },
  { input: 'sip:alice@atlanta.com', displayName: null, uri: 'sip:alice@atlanta.com' },
  { input: 'Alice <sip:alice@atlanta.com>;tag=1928301774', displayName: 'Alice', uri: 'sip:alice@atlanta.com', params: [['tag', '1928301774']], tag: '1928301774' },
  { input: '"Alice Liddell" <sip:alice@atlanta.com>', displayName: 'Alice Liddell', uri: 'sip:alice@atlanta.com' },
  // quoted-pairs: \" -> ", \\ -> \ (RFC 3261 s25.1)
  { input: '"A \\"quoted\\" \\\\ name" <sip:a@b>', displayName: 'A "quoted" \\ name', uri: 'sip:a@b' },
  { input: '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>', displayName: 'J Rosenberg \\"', uri: 'sip:jdrosen@example.com' },
  { input: '"" <sip:a@b>;tag=1', displayName: '', uri: 'sip:a@b', params: [['tag', '1']], tag: '1' },
  { input: '"Bell, Alexander" <sip:a.g.bell@example.com>', displayName: 'Bell, Alexander', uri: 'sip:a.g.bell@example.com' },
  // token display names: several tokens, and no LWS before "<" (RFC 4475 s3.1.1.6)
  { input: 'Mr. Watson <sip:watson@worcester.bell-telephone.com>', displayName: 'Mr. Watson', uri: 'sip:watson@worcester.bell-telephone.com' },
  { input: 'caller<sip:caller@example.com>;tag=323', displayName: 'caller', uri: 'sip:caller@example.com', params: [['tag', '323']], tag: '323' },
  { input: "token1~` token2'+_ token3*%!.- <sip:a@b>", displayName: "token1~` token2'+_ token3*%!.-", uri: 'sip:a@b' },
  { input: '  "Bob"   <sips:bob@biloxi.com>  ', displayName: 'Bob', uri: 'sips:bob@biloxi.com' },
  // addr-spec form: every ";" param is a header param (RFC 3261 s20.10, RFC 4475 s3.3.12)
  {
    input: 'sip:+12125551212@phone2net.com;user=phone;tag=887s',
    displayName: null,
    uri: 'sip:+12125551212@phone2net.com',
    params: [['user', 'phone'], ['tag', '887s']],
    uriParams: [],
    tag: '887s',
  },
  // name-addr form: params inside <> are URI params
  {
    input: '<sip:+19725552222@gw1.example.net;unknownparam>;expires=60;q=0.7',
    displayName: null,
    uri: 'sip:+19725552222@gw1.example.net;unknownparam',
    params: [['expires', '60'], ['q', '0.7']],
    uriParams: [['unknownparam', null]],
  },
  {
    input: '<sip:user@example.com?Route=%3Csip:sip.example.com%3E>',
    displayName: null,
    uri: 'sip:user@example.com?Route=%3Csip:sip.example.com%3E',
  },
  // whitespace around ";" and "=", names lower-cased, values as written, quoted values keep quotes
  {
    input: '<sip:a@b> ; Tag = AbC ; Expires="3600" ; +sip.instance="<urn:uuid:1>" ; flag',
    displayName: null,
    uri: 'sip:a@b',
    params: [['tag', 'AbC'], ['expires', '"3600"'], ['+sip.instance', '"<urn:uuid:1>"'], ['flag', null]],
    tag: 'AbC',
  },
  { input: 'Anonymous <sip:anonymous@anonymous.invalid>;tag=x;received=[2001:db8::1]', displayName: 'Anonymous', uri: 'sip:anonymous@anonymous.invalid', params: [['tag', 'x'], ['received', '[2001:db8::1]']], tag: 'x' },
  { input: '<tel:+1-201-555-0123>', displayName: null, uri: 'tel:+1-201-555-0123' },
  { input: 'Bob <mailto:bob@example.com>', displayName: 'Bob', uri: 'mailto:bob@example.com' },
];

for (const c of cases) {
  test(`name-addr ${c.input}`, () => {
    const value = parseNameAddr(c.input, 'to', 64);
    assert.is(value.displayName, c.displayName);
    assert.is(String(value.uri), c.uri);
    assert.equal([...value.params], c.params ?? []);
    assert.is(value.tag, c.tag ?? null);
    if (c.uriParams !== undefined) assert.equal([...value.uri.params], c.uriParams);
    // formatNameAddr always writes the name-addr form; it parses back to the same value.
    const again = parseNameAddr(formatNameAddr(value), 'to', 64);
    assert.is(again.displayName, value.displayName);
    assert.is(String(again.uri), String(value.uri));
    assert.equal([...again.params], [...value.params]);
  });
}

test('formatNameAddr quotes the display name and escapes " and \\', () => {
  assert.is(formatNameAddr(parseNameAddr('"A \\"q\\" \\\\" <sip:a@b;lr>;tag=1;x', 'to', 64)), '"A \\"q\\" \\\\" <sip:a@b;lr>;tag=1;x');
  assert.is(formatNameAddr(parseNameAddr('sip:a@b;tag=1', 'to', 64)), '<sip:a@b>;tag=1');
  assert.is(formatNameAddr(parseNameAddr('Alice <sip:a@b>', 'to', 64)), '"Alice" <sip:a@b>');
});

const rejected: Array<[string, RegExp]> = [
  ['', /./],
  ['<sip:a@b', /">" expected/],
  ['"Alice <sip:a@b>', /unterminated/],
  ['"Alice" sip:a@b', /"<" expected/],
  ['<sip:a@b> junk', /unexpected/],
  ['<>', /empty URI/],
  ['sip:a@b?subject=x', /enclosed in <>/],
  ['< sip:a@b >', /URI|whitespace/],
  ['<sip:a b@c>', /URI|whitespace|character/],
  ['<sip:a@b>;', /empty parameter/],
  ['<sip:a@b>;tag=', /empty value/],
  ['<sip:a@b>;;tag=1', /empty parameter/],
  ['Bell, Alexander <sip:a@b>', /display name/],
  ['<not a uri>', /URI|whitespace|scheme/],
  ['<sip:a@b>;q="open', /unterminated/],
];

for (const [input, reason] of rejected) {
  test(`rejects name-addr ${JSON.stringify(input)}`, () => {
    // The URI itself may be checked on first access: read it too.
    const error = parseError(() => parseNameAddr(input, 'from', 64).uri.toString());
    assert.is(error.status, 400);
    assert.is(error.header, 'from');
    assert.match(error.reason, reason);
  });
}

test('maxParams is enforced', () => {
  const error = parseError(() => parseNameAddr('<sip:a@b>;a;b;c', 'contact', 2).params);
  assert.match(error.reason, /more than 2 parameters/);
});

test('From/To through a message: tags, display names, any case and compact forms', () => {
  const m = message('f: "Alice" <sip:alice@atlanta.com>;tag=9fxced76sl', 'TO: Bob <sip:bob@biloxi.com>');
  assert.is(m.from!.displayName, 'Alice');
  assert.is(m.from!.tag, '9fxced76sl');
  assert.is(m.to!.displayName, 'Bob');
  assert.is(m.to!.tag, null);
  assert.is((m.to!.uri as SipUri).host, 'biloxi.com');
  const utf8 = message('From: "Jöhn Dœ" <sip:a@b>;tag=12', 'To: Zoë <sip:z@b>');
  assert.is(utf8.from!.displayName, 'Jöhn Dœ');
  assert.is(utf8.from!.tag, '12');
  assert.is(utf8.to!.displayName, 'Zoë');
  const none = message();
  assert.is(none.from, undefined);
  assert.is(none.to, undefined);
});

test('Contact lists split on commas outside quotes and <>, across fields and compact m', () => {
  const m = message(
    'Contact: "Mr. Watson" <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600, "Mr. Watson" <mailto:watson@bell-telephone.com> ;q=0.1',
    'm: "Doe, John" <sip:j@x>, <sip:a,b@host;transport=tcp>',
    'CONTACT: sip:plain@host;expires=0',
  );
  validateMessage(m);
  assert.equal(
    m.contact.map((value) => {
      const b = binding(value);
      return [b.displayName, String(b.uri), Object.fromEntries(b.params)];
    }),
    [
      ['Mr. Watson', 'sip:watson@worcester.bell-telephone.com', { q: '0.7', expires: '3600' }],
      ['Mr. Watson', 'mailto:watson@bell-telephone.com', { q: '0.1' }],
      ['Doe, John', 'sip:j@x', {}],
      [null, 'sip:a,b@host;transport=tcp', {}],
      [null, 'sip:plain@host', { expires: '0' }],
    ],
  );
  assert.is(m.count('contact'), 3);
  assert.equal(m.headerValues('m'), [
    '"Mr. Watson" <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600',
    '"Mr. Watson" <mailto:watson@bell-telephone.com> ;q=0.1',
    '"Doe, John" <sip:j@x>',
    '<sip:a,b@host;transport=tcp>',
    'sip:plain@host;expires=0',
  ]);
});

test('wildcard Contact "*" (RFC 3261 s10.2.2)', () => {
  const m = message('Contact: *', 'Expires: 0');
  assert.is(m.contact.length, 1);
  assert.ok(isWildcard(m.contact[0]!));
  assert.is(m.expires, 0);
  const spaced = message('Contact:   *  ');
  assert.ok(isWildcard(spaced.contact[0]!));
  assert.not.ok(isWildcard(message('Contact: <sip:a@b>').contact[0]!));
  assert.equal(message().contact, []);
});

test('"*" with params or inside a list is not a wildcard and is rejected', () => {
  for (const value of ['*;expires=0', '*, <sip:a@b>']) {
    const m = message(`Contact: ${value}`);
    const error = parseError(() => validateMessage(m));
    assert.is(error.header, 'contact');
  }
});

test('Route and Record-Route lists', () => {
  const m = message('Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>', 'Route: <sip:p3.example.com;lr>', 'Record-Route: <sip:rr.example.com;lr;transport=tcp>');
  assert.equal(m.route.map((route) => String(route.uri)), ['sip:p1.example.com;lr', 'sip:p2.example.com;lr', 'sip:p3.example.com;lr']);
  assert.ok(m.route.every((route) => route.uri.params.has('lr')));
  assert.equal(m.recordRoute.map((route) => route.uri.params.get('transport')), ['tcp']);
  assert.equal(message().route, []);
  assert.equal(message().recordRoute, []);
  assert.is(m.route, m.route);
});

test('a bad Route is a SipParseError on access and in validateMessage', () => {
  const m = message('Route: <sip:p1.example.com;lr');
  assert.is(parseError(() => m.route).header, 'route');
  assert.is(parseError(() => validateMessage(m)).header, 'route');
});

test.run();
