/**
 * Response routing (src/transport/response-target.ts, target.ts,
 * addresses.ts): RFC 3261 s18.2.2 with RFC 3581.
 *
 * Covers, as a table, every row of s18.2.2: reliable transports (the flow
 * is the caller's; else the source address, sent-by port or the default
 * 5060/5061, rport not applying), UDP with rport (source address and port),
 * UDP without rport (received or sent-by address, sent-by port or 5060),
 * maddr (IP only; before rport), IPv6 and IPv4-mapped sources. This is the
 * one rule: server transactions (transaction-server-non-invite test),
 * stateless replies and the lab proxy all use it; the received/rport annotations
 * (when each is added, replacing old values, quoted params kept);
 * responseViaFields on parsed requests; sips/sip target selection; the
 * address helpers.
 * formatOwnVia (branch cookie, rport).
 * Not covered: actually sending (integration tests).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage, parseUri } from '../../src/parser/index.ts';
import {
  defaultPort,
  endpointKey,
  formatEndpoint,
  hostForHeader,
  isIP,
  isIPv4,
  isIPv6,
  isWildcard,
  normalizeHost,
  sameHost,
} from '../../src/transport/addresses.ts';
import { annotateViaValue, responseTarget, responseTargetFor, responseViaFields, viaAnnotations, type ViaFacts } from '../../src/transport/response-target.ts';
import { formatOwnVia } from '../../src/transport/own-via.ts';
import { secureTransportRequired, targetFromUri } from '../../src/transport/target.ts';
import type { Endpoint, Received } from '../../src/transport/types.ts';

const via = (host: string, port: number | null, rport: number | true | null = null, extra: Partial<ViaFacts> = {}): ViaFacts => ({
  host,
  port,
  rport,
  received: null,
  ...extra,
});
const ep = (transport: Endpoint['transport'], host: string, port: number): Endpoint => ({ transport, host, port });

const TABLE: Array<[string, ViaFacts | undefined, Endpoint, Endpoint]> = [
  ['UDP, rport, NAT', via('10.0.0.1', 5060, true), ep('udp', '203.0.113.5', 41000), ep('udp', '203.0.113.5', 41000)],
  ['UDP, rport, same host', via('203.0.113.5', 5062, true), ep('udp', '203.0.113.5', 41000), ep('udp', '203.0.113.5', 41000)],
  ['UDP, no rport, NAT -> received + sent-by port', via('10.0.0.1', 5062), ep('udp', '203.0.113.5', 41000), ep('udp', '203.0.113.5', 5062)],
  ['UDP, no rport, no port -> 5060', via('pc.example.com', null), ep('udp', '203.0.113.5', 41000), ep('udp', '203.0.113.5', 5060)],
  ['UDP, maddr IP', via('10.0.0.1', 5070, null, { maddr: '239.1.1.1' }), ep('udp', '203.0.113.5', 41000), ep('udp', '239.1.1.1', 5070)],
  ['UDP, maddr and rport -> maddr (RFC 3581 s4 applies without maddr only)', via('10.0.0.1', null, true, { maddr: '239.1.1.1' }), ep('udp', '203.0.113.5', 41000), ep('udp', '239.1.1.1', 5060)],
  ['UDP, maddr name ignored', via('10.0.0.1', 5070, null, { maddr: 'mc.example.com' }), ep('udp', '203.0.113.5', 41000), ep('udp', '203.0.113.5', 5070)],
  ['TCP -> source address, sent-by port', via('10.0.0.1', 5070, true), ep('tcp', '203.0.113.5', 50123), ep('tcp', '203.0.113.5', 5070)],
  ['TLS without port -> 5061', via('10.0.0.1', null), ep('tls', '203.0.113.5', 50123), ep('tls', '203.0.113.5', 5061)],
  ['IPv6 rport', via('[2001:db8::1]', 5060, true), ep('udp', '2001:db8::9', 6000), ep('udp', '2001:db8::9', 6000)],
  ['IPv4-mapped source', via('10.0.0.1', 5080), ep('udp', '::ffff:192.0.2.1', 6000), ep('udp', '192.0.2.1', 5080)],
  ['no Via -> source', undefined, ep('udp', '192.0.2.1', 6000), ep('udp', '192.0.2.1', 6000)],
];

for (const [name, v, source, expected] of TABLE) {
  test(`responseTargetFor: ${name}`, () => {
    assert.equal(responseTargetFor(v, source), expected);
  });
}

test('viaAnnotations: received only when needed, always with rport', () => {
  assert.equal(viaAnnotations(via('10.0.0.1', 5060), ep('udp', '10.0.0.1', 5060)), { received: undefined, rport: undefined });
  assert.equal(viaAnnotations(via('10.0.0.1', 5060), ep('udp', '10.0.0.2', 5060)), { received: '10.0.0.2', rport: undefined });
  assert.equal(viaAnnotations(via('10.0.0.1', 5060, true), ep('udp', '10.0.0.1', 7000)), { received: '10.0.0.1', rport: 7000 });
  assert.equal(viaAnnotations(via('[::1]', 5060), ep('udp', '::1', 5060)), { received: undefined, rport: undefined });
});

test('annotateViaValue: replaces old values, keeps quoted params and others', () => {
  const text = 'SIP/2.0/UDP 10.0.0.1:5060 ; branch=z9hG4bK1;rport;received=1.1.1.1;x="a;b"';
  assert.is(
    annotateViaValue(text, via('10.0.0.1', 5060, true), ep('udp', '192.0.2.3', 4444)),
    'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;x="a;b";rport=4444;received=192.0.2.3',
  );
  assert.is(annotateViaValue('SIP/2.0/UDP 10.0.0.1', via('10.0.0.1', null), ep('udp', '10.0.0.1', 1)), 'SIP/2.0/UDP 10.0.0.1');
});

test('annotateViaValue: empty parameters dropped; RPORT and Received in any case replaced; an rport kept when not asked for', () => {
  assert.is(
    annotateViaValue('SIP/2.0/UDP h;;branch=z9hG4bK2; ;RPORT=9;Received=5.5.5.5;', via('h', null, true), ep('udp', '192.0.2.3', 4444)),
    'SIP/2.0/UDP h;branch=z9hG4bK2;rport=4444;received=192.0.2.3',
  );
  // received= only (the address differs, no rport asked): an rport=9 the client wrote stays.
  assert.is(annotateViaValue('SIP/2.0/UDP h;rport=9', via('h', null), ep('udp', '192.0.2.3', 4444)), 'SIP/2.0/UDP h;rport=9;received=192.0.2.3');
});

test('annotateViaValue: a quoted value ending in an escape keeps its last parameter', () => {
  assert.is(
    annotateViaValue('SIP/2.0/UDP h;x="a;\\', via('h', null), ep('udp', '192.0.2.3', 1)),
    'SIP/2.0/UDP h;x="a;\\;received=192.0.2.3',
  );
});

function received(raw: string, source: Endpoint): Received {
  return { message: parseMessage(new TextEncoder().encode(raw)), source, local: ep(source.transport, '127.0.0.1', 5060), flowId: undefined };
}

const REQUEST =
  'OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKa;rport, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKc\r\n' +
  'From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n';

test('responseViaFields / responseTarget on a parsed request', () => {
  const r = received(REQUEST, ep('udp', '198.51.100.4', 33333));
  assert.equal(responseViaFields(r), [
    'SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKa;rport=33333;received=198.51.100.4, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb',
    'SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKc',
  ]);
  assert.equal(responseTarget(r), ep('udp', '198.51.100.4', 33333));
  const noVia = received('SIP/2.0 200 OK\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n', ep('udp', '1.2.3.4', 5));
  assert.equal(responseViaFields(noVia), []);
});

test('targetFromUri: sip/sips, transport param, ports, errors', () => {
  const t = (uri: string, fallback?: 'udp' | 'tcp' | 'tls') => targetFromUri(parseUri(uri), fallback);
  assert.equal(t('sip:a@192.0.2.1'), { ok: true, target: ep('udp', '192.0.2.1', 5060) });
  assert.equal(t('sip:a@192.0.2.1:5070;transport=TCP'), { ok: true, target: ep('tcp', '192.0.2.1', 5070) });
  assert.equal(t('sip:a@[2001:db8::1];transport=tls'), { ok: true, target: ep('tls', '2001:db8::1', 5061) });
  assert.equal(t('sips:a@192.0.2.1'), { ok: true, target: ep('tls', '192.0.2.1', 5061) });
  assert.equal(t('sips:a@192.0.2.1;transport=tcp'), { ok: true, target: ep('tls', '192.0.2.1', 5061) });
  assert.equal(t('sip:a@192.0.2.1', 'tcp'), { ok: true, target: ep('tcp', '192.0.2.1', 5060) });
  // A UDP named by the URI is kept even for a large request (RFC 3261 s18.1.1 moves unnamed ones only).
  assert.equal(t('sip:a@192.0.2.1;transport=udp'), { ok: true, target: { ...ep('udp', '192.0.2.1', 5060), explicitTransport: true } });
  assert.is(t('sips:a@192.0.2.1;transport=udp').ok, false);
  assert.is(t('sip:a@192.0.2.1;transport=sctp').ok, false);
  assert.is(t('sip:a@example.com').ok, false);
  assert.is(t('tel:+1234').ok, false);
  assert.is(secureTransportRequired(parseUri('sips:a@192.0.2.1'), ep('tcp', '192.0.2.1', 5061)), true);
  assert.is(secureTransportRequired(parseUri('sips:a@192.0.2.1'), ep('tls', '192.0.2.1', 5061)), false);
  assert.is(secureTransportRequired(parseUri('sip:a@192.0.2.1'), ep('udp', '192.0.2.1', 5060)), false);
});

test('formatOwnVia: cookie, rport, IPv6 brackets; parses back', () => {
  const v = formatOwnVia(ep('udp', '::1', 5070), 'abc');
  assert.is(v, 'SIP/2.0/UDP [::1]:5070;branch=z9hG4bKabc;rport');
  assert.is(formatOwnVia(ep('tls', '192.0.2.1', 5061), 'z9hG4bKx'), 'SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKx;rport');
  const m = parseMessage(new TextEncoder().encode(`OPTIONS sip:x SIP/2.0\r\nVia: ${v}\r\nContent-Length: 0\r\n\r\n`));
  assert.is(m.topVia?.rport, true);
  assert.is(m.topVia?.branch, 'z9hG4bKabc');
});

test('address helpers', () => {
  assert.is(defaultPort('udp'), 5060);
  assert.is(defaultPort('tls'), 5061);
  assert.is(normalizeHost('[2001:DB8::1]'), '2001:db8::1');
  assert.is(normalizeHost('::ffff:127.0.0.1'), '127.0.0.1');
  assert.ok(isIPv4('10.0.0.255'));
  assert.not.ok(isIPv4('10.0.0.256'));
  assert.not.ok(isIPv4('10.0.0'));
  assert.not.ok(isIPv4('a.b.c.d'));
  assert.ok(isIPv6('::1'));
  assert.ok(isIPv6('[fe80::1%eth0]'));
  assert.ok(isIPv6('::ffff:1.2.3.4'));
  assert.not.ok(isIPv6('::ffff:1.2.3.400'));
  assert.not.ok(isIPv6('1::2::3'));
  assert.not.ok(isIPv6('example.com'));
  assert.not.ok(isIP('example.com'));
  assert.ok(sameHost('[::1]', '::1'));
  assert.is(hostForHeader('::1'), '[::1]');
  assert.is(hostForHeader('[::1]'), '[::1]');
  assert.is(hostForHeader('1.2.3.4'), '1.2.3.4');
  assert.is(endpointKey(ep('tcp', '[::1]', 5)), 'tcp|::1|5');
  assert.is(formatEndpoint(ep('udp', '::1', 5060)), 'udp:[::1]:5060');
  assert.ok(isWildcard('0.0.0.0'));
  assert.ok(isWildcard('[::]'));
  assert.not.ok(isWildcard('127.0.0.1'));
});

test.run();
