/**
 * Via (src/parser/headers/via.ts) through messages, table-driven.
 *
 * Covers: sent-protocol with whitespace around "/", transports upper-cased,
 * host names, IPv4 and IPv6 sent-by, ports, branch, received (IPv4 and IPv6),
 * rport as a flag (true) or a value, maddr, ttl, params Map, whitespace
 * around ";", "=" and ":", several values in one field and across fields,
 * folded values; formatVia; rejected values and out-of-range numbers.
 * Not covered: transaction matching on branch (src/transaction).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatVia, parseMessage, SipParseError, validateMessage } from '../../src/parser/index.ts';
import type { SipMessage, Via } from '../../src/parser/index.ts';

const encoder = new TextEncoder();

function withVia(...vias: string[]): SipMessage {
  const lines = [
    'OPTIONS sip:bob@biloxi.com SIP/2.0',
    ...vias.map((via) => `Via: ${via}`),
    'To: <sip:bob@biloxi.com>',
    'From: <sip:alice@atlanta.com>;tag=1',
    'Call-ID: via-test',
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(encoder.encode(lines.join('\r\n')));
}

/** All Via values, or the SipParseError parsing or validating them throws. */
function viasOf(...vias: string[]): Via[] {
  const m = withVia(...vias);
  validateMessage(m);
  return m.via;
}

function viaError(value: string): SipParseError {
  try {
    viasOf(value);
  } catch (error) {
    assert.instance(error, SipParseError);
    return error as SipParseError;
  }
  return assert.unreachable(`Via ${JSON.stringify(value)} was accepted`) as never;
}

type Expected = Partial<Pick<Via, 'protocol' | 'transport' | 'host' | 'port' | 'branch' | 'received' | 'rport' | 'maddr' | 'ttl'>> & {
  params?: Array<[string, string | null]>;
};

const accepted: Array<[string, Expected]> = [
  [
    'SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds',
    { protocol: 'SIP/2.0', transport: 'UDP', host: 'pc33.atlanta.com', port: null, branch: 'z9hG4bK776asdhds', received: null, rport: null, maddr: null, ttl: null, params: [['branch', 'z9hG4bK776asdhds']] },
  ],
  // rport as a flag (a request asking for it, RFC 3581) vs with a value (filled in by the server).
  ['SIP/2.0/UDP h;rport;branch=z9hG4bK1', { rport: true, params: [['rport', null], ['branch', 'z9hG4bK1']] }],
  ['SIP/2.0/UDP h:5060;branch=z9hG4bK1;received=192.0.2.1;rport=5070', { port: 5060, received: '192.0.2.1', rport: 5070 }],
  ['SIP/2.0/UDP h;rport=0', { rport: 0 }],
  // received, maddr and ttl.
  [
    'SIP/2.0/UDP h;maddr=224.2.0.1;ttl=16;branch=z9hG4bK1',
    { maddr: '224.2.0.1', ttl: 16, params: [['maddr', '224.2.0.1'], ['ttl', '16'], ['branch', 'z9hG4bK1']] },
  ],
  ['SIP/2.0/UDP h;ttl=0', { ttl: 0 }],
  ['SIP/2.0/UDP h;ttl=255', { ttl: 255 }],
  // IPv6 sent-by and received.
  ['SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK1;received=2001:db8::9', { transport: 'TCP', host: '[2001:db8::1]', port: 5061, received: '2001:db8::9' }],
  ['SIP/2.0/UDP [::1];branch=z9hG4bK1', { host: '[::1]', port: null }],
  ['SIP/2.0/UDP [2001:db8::1];received=[2001:db8::2]', { host: '[2001:db8::1]', received: '[2001:db8::2]' }],
  // Whitespace around "/", ":", ";" and "=" (LWS and SWS of RFC 3261 s25.1).
  [
    'SIP / 2.0 / udp  host.example.com : 5060 ; branch = z9hG4bK1 ; RPort',
    { protocol: 'SIP/2.0', transport: 'UDP', host: 'host.example.com', port: 5060, branch: 'z9hG4bK1', rport: true, params: [['branch', 'z9hG4bK1'], ['rport', null]] },
  ],
  ['SIP/2.0/UDP\th;branch=z9hG4bK1', { host: 'h' }],
  // Transports: known ones and extensions, upper-cased.
  ['SIP/2.0/tls t3.example.com', { transport: 'TLS' }],
  ['SIP/2.0/sctp t2.example.com', { transport: 'SCTP' }],
  ['SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1', { transport: 'WSS', host: 'df7jal23ls0d.invalid' }],
  ['SIP/2.0/ws h', { transport: 'WS' }],
  ['SIP/2.0/unknown t4.example.com', { transport: 'UNKNOWN' }],
  ['HIP/9.9/X h', { protocol: 'HIP/9.9', transport: 'X' }],
  // Param names are case-insensitive; values as written; a quoted value keeps its quotes.
  ['SIP/2.0/UDP h;BRANCH=z9hG4bKAbC;Received=192.0.2.1;x-note="a;b"', { branch: 'z9hG4bKAbC', received: '192.0.2.1', params: [['branch', 'z9hG4bKAbC'], ['received', '192.0.2.1'], ['x-note', '"a;b"']] }],
  ['SIP/2.0/UDP 192.0.2.1:5060', { host: '192.0.2.1', port: 5060, branch: null, params: [] }],
  ['SIP/2.0/UDP under_score.example.com', { host: 'under_score.example.com' }],
];

for (const [value, expected] of accepted) {
  test(`Via: ${value}`, () => {
    const [via, ...rest] = viasOf(value);
    assert.is(rest.length, 0);
    const { params, ...fields } = expected;
    for (const [key, want] of Object.entries(fields)) assert.equal(via![key as keyof Via], want, key);
    if (params !== undefined) assert.equal([...via!.params], params);
  });
}

test('several values in one field and across fields keep their order; count() counts fields', () => {
  const m = withVia('SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5080;branch=z9hG4bK2', 'SIP/2.0/TLS c.example.com;branch=z9hG4bK3');
  assert.equal(
    m.via.map((via) => [via.transport, via.host, via.port, via.branch]),
    [
      ['UDP', 'a.example.com', null, 'z9hG4bK1'],
      ['TCP', 'b.example.com', 5080, 'z9hG4bK2'],
      ['TLS', 'c.example.com', null, 'z9hG4bK3'],
    ],
  );
  assert.is(m.count('via'), 2);
  assert.is(m.count('v'), 2);
  assert.equal(m.headerValues('Via').length, 3);
});

test('a folded Via value is unfolded', () => {
  const m = withVia('SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1\r\n ;received=192.0.2.2');
  assert.is(m.via[0]!.received, '192.0.2.2');
  assert.is(m.header('via'), 'SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1 ;received=192.0.2.2');
});

test('compact form v and any case of the name', () => {
  const m = parseMessage(
    encoder.encode('SIP/2.0 200 OK\r\nv: SIP/2.0/UDP a;branch=z9hG4bK1\r\nVIA: SIP/2.0/UDP b;branch=z9hG4bK2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'),
  );
  assert.equal(m.via.map((via) => via.host), ['a', 'b']);
  assert.is(m.header('V'), 'SIP/2.0/UDP a;branch=z9hG4bK1');
});

test('a message without Via has an empty list', () => {
  const m = parseMessage(encoder.encode('SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(m.via, []);
});

const rejected: Array<[string, RegExp]> = [
  ['', /empty|protocol/],
  ['SIP2.0/UDP h', /"\/"/],
  ['SIP/2.0 UDP h', /"\/"/],
  ['SIP/2.0/ h', /transport|whitespace|host/], // SWS around "/": "h" is the transport, no sent-by
  ['SIP//UDP h', /version/],
  ['/2.0/UDP h', /protocol/],
  ['SIP/2.0/UDPh', /whitespace/],
  ['SIP/2.0/UDP', /whitespace|host/],
  ['SIP/2.0/UDP ;branch=1', /host/],
  ['SIP/2.0/UDP [2001:zz::1]', /IPv6/],
  ['SIP/2.0/UDP [2001::1', /IPv6/],
  ['SIP/2.0/UDP h:', /number/],
  ['SIP/2.0/UDP h:99999', /range|65535/],
  ['SIP/2.0/UDP h;rport=70000', /range|65535/],
  ['SIP/2.0/UDP h;rport=x', /number/],
  ['SIP/2.0/UDP h;ttl=256', /range|255/],
  ['SIP/2.0/UDP h;ttl=-1', /number|character/],
  ['SIP/2.0/UDP h x', /unexpected/],
  ['SIP/2.0/UDP h;;branch=1', /empty/],
  ['SIP/2.0/UDP h;branch=', /empty/],
  ['SIP/2.0/UDP h;branch="open', /unterminated/],
  ['SIP/2.0/UDP a, ', /empty/],
  ['SIP/2.0/UDP a,,SIP/2.0/UDP b', /empty/],
];

for (const [value, reason] of rejected) {
  test(`rejects Via ${JSON.stringify(value)}`, () => {
    const error = viaError(value);
    assert.is(error.status, 400);
    assert.is(error.header, 'via');
    assert.match(error.reason, reason);
  });
}

test('formatVia writes protocol/transport, sent-by and the params in order', () => {
  const cases: Array<[string, string]> = [
    ['SIP/2.0/UDP h;branch=z9hG4bK1', 'SIP/2.0/UDP h;branch=z9hG4bK1'],
    ['SIP / 2.0 / udp  h : 5060 ; branch = z9hG4bK1 ; rport', 'SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport'],
    ['SIP/2.0/TCP [2001:db8::1]:5061;received=2001:db8::9', 'SIP/2.0/TCP [2001:db8::1]:5061;received=2001:db8::9'],
    ['SIP/2.0/TLS h', 'SIP/2.0/TLS h'],
  ];
  for (const [input, output] of cases) {
    const via = viasOf(input)[0]!;
    assert.is(formatVia(via), output);
    // And what it writes parses to the same fields.
    const again = viasOf(output)[0]!;
    assert.equal([again.transport, again.host, again.port, again.branch, again.rport, again.received], [via.transport, via.host, via.port, via.branch, via.rport, via.received]);
  }
});

test('the Via list is parsed once and cached', () => {
  const m = withVia('SIP/2.0/UDP h;branch=z9hG4bK1');
  assert.is(m.via, m.via);
  assert.is(m.via[0]!.params, m.via[0]!.params);
});

test.run();
