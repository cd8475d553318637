/**
 * RFC 3261 s18.1.1 size fallback (src/transport/size-policy.ts), the
 * pending-sender registry (pending-senders.ts), error classification
 * (errors.ts) and option checking (options.ts).
 *
 * Covers: the decision table (UDP within/over 1300 bytes, fallback allowed or
 * not, over the datagram limit, non-UDP targets, custom threshold); Via
 * rewriting (transport token and sent-by, compact form, IPv6, params kept,
 * body untouched, no Via); the sender window (dedup by callback, expiry,
 * cap, one report each, throwing callbacks contained); Node error codes ->
 * TransportError codes per phase; option validation and defaults.
 * Not covered: the layer's use of them on sockets (integration tests).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from '../../src/parser/index.ts';
import { classify, fromNodeError } from '../../src/transport/errors.ts';
import { DEFAULTS, resolveOptions } from '../../src/transport/options.ts';
import { PendingSenders, callSafely } from '../../src/transport/pending-senders.ts';
import { decideRequestTransport, MAX_UDP_PAYLOAD, rewriteTopVia } from '../../src/transport/size-policy.ts';
import { TransportError, type Endpoint } from '../../src/transport/types.ts';

const udp: Endpoint = { transport: 'udp', host: '192.0.2.1', port: 5060 };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

test('decideRequestTransport: the s18.1.1 table', () => {
  assert.equal(decideRequestTransport(1300, udp), { action: 'send', target: udp });
  assert.equal(decideRequestTransport(1301, udp), { action: 'tcp', target: { transport: 'tcp', host: '192.0.2.1', port: 5060 } });
  assert.equal(decideRequestTransport(1301, udp, { udpMaxBytes: 1300, allowTcpFallback: false }), { action: 'send', target: udp });
  assert.equal(decideRequestTransport(MAX_UDP_PAYLOAD + 1, udp, { udpMaxBytes: 1300, allowTcpFallback: false }), {
    action: 'too-big',
    reason: `request of ${MAX_UDP_PAYLOAD + 1} bytes does not fit a datagram (65507 bytes) and no TCP listener can carry it`,
  });
  // A target that names transport=udp is never moved: refused, naming the size and the limit.
  assert.equal(decideRequestTransport(1301, { ...udp, explicitTransport: true }), {
    action: 'too-big',
    reason: 'request of 1301 bytes is over the UDP limit of 1300 bytes (RFC 3261 s18.1.1) and its target names transport=udp',
  });
  assert.equal(decideRequestTransport(1300, { ...udp, explicitTransport: true }).action, 'send');
  assert.equal(decideRequestTransport(900, udp, { udpMaxBytes: 800, allowTcpFallback: true }).action, 'tcp');
  const tls: Endpoint = { transport: 'tls', host: '192.0.2.1', port: 5061 };
  assert.equal(decideRequestTransport(100000, tls), { action: 'send', target: tls });
});

const BIG =
  'MESSAGE sip:b@192.0.2.1 SIP/2.0\r\n' +
  'Max-Forwards: 70\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKbig;rport\r\n' +
  'Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKsecond\r\n' +
  'From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: big\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n' +
  'Content-Length: 20\r\n\r\nVia: SIP/2.0/UDP bo!';

test('rewriteTopVia: transport and sent-by of the first Via only', () => {
  const out = rewriteTopVia(enc(BIG), { transport: 'tcp', host: '10.0.0.1', port: 5070 });
  const m = parseMessage(out);
  assert.is(m.topVia?.transport, 'TCP');
  assert.is(m.topVia?.port, 5070);
  assert.is(m.topVia?.branch, 'z9hG4bKbig');
  assert.is(m.topVia?.rport, true);
  assert.is(m.via[1]?.transport, 'UDP');
  assert.is(dec(m.body), 'Via: SIP/2.0/UDP bo!');
});

test('rewriteTopVia: compact form, IPv6, no port before, no Via at all', () => {
  const compact = 'OPTIONS sip:x SIP/2.0\r\nv: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKc\r\nContent-Length: 0\r\n\r\n';
  assert.ok(dec(rewriteTopVia(enc(compact), { transport: 'tcp', host: '2001:db8::1', port: 5080 })).includes('v: SIP/2.0/TCP [2001:db8::1]:5080;branch=z9hG4bKc\r\n'));
  const none = enc('OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\nVia: SIP/2.0/UDP body');
  assert.is(rewriteTopVia(none, { transport: 'tcp', host: '1.2.3.4', port: 1 }), none);
  const oneLine = enc('OPTIONS sip:x SIP/2.0');
  assert.is(rewriteTopVia(oneLine, { transport: 'tcp', host: '1.2.3.4', port: 1 }), oneLine);
});

test('PendingSenders: dedup, window, cap, report once', () => {
  let now = 0;
  const errors: string[] = [];
  const pending = new PendingSenders(1000, 2, () => now);
  const a = (e: TransportError): void => void errors.push(`a:${e.code}`);
  const b = (e: TransportError): void => void errors.push(`b:${e.code}`);
  const c = (e: TransportError): void => void errors.push(`c:${e.code}`);
  pending.add(undefined);
  pending.add(a);
  pending.add(a);
  assert.is(pending.size, 1);
  now = 500;
  pending.add(b);
  now = 1200; // a (t=0) has expired, b (t=500) has not
  pending.prune();
  assert.is(pending.size, 1);
  pending.add(a);
  pending.add(c); // cap 2: the oldest (b) goes
  assert.is(pending.size, 2);
  const error = new TransportError('ECONNRESET', { transport: 'tcp', host: '1.2.3.4', port: 5 }, 'x');
  pending.fail(error);
  pending.fail(error);
  assert.equal(errors, ['a:ECONNRESET', 'c:ECONNRESET']);
  assert.is(pending.size, 0);
  pending.add(a);
  pending.clear();
  assert.is(pending.size, 0);
});

test('callSafely: a throwing callback is contained and reported', () => {
  const seen: unknown[] = [];
  const error = new TransportError('ECLOSED', { transport: 'udp', host: '1.2.3.4', port: 5 }, 'x');
  callSafely(() => {
    throw new Error('boom');
  }, error, (e) => seen.push(e));
  assert.is((seen[0] as Error).message, 'boom');
  callSafely(() => {
    throw new Error('boom');
  }, error, () => {
    throw new Error('hook too');
  });
  callSafely(() => {
    throw new Error('no hook');
  }, error);
  const pending = new PendingSenders(1000, 10, () => 0, (e) => seen.push(e));
  pending.add(() => {
    throw new Error('in fail');
  });
  pending.fail(error);
  assert.is((seen[1] as Error).message, 'in fail');
});

test('classify: node codes per phase', () => {
  const e = (code?: string): unknown => Object.assign(new Error('x'), code === undefined ? {} : { code });
  assert.is(classify(e('ECONNREFUSED'), 'datagram'), 'ECONNREFUSED');
  assert.is(classify(e('ETIMEDOUT'), 'connect'), 'ETIMEDOUT');
  assert.is(classify(e('EHOSTUNREACH'), 'connect'), 'EUNREACHABLE');
  assert.is(classify(e('EMSGSIZE'), 'datagram'), 'ETOOBIG');
  assert.is(classify(e('DEPTH_ZERO_SELF_SIGNED_CERT'), 'handshake'), 'ETLS');
  assert.is(classify(e('ECONNRESET'), 'handshake'), 'ETLS');
  assert.is(classify(e('EWHATEVER'), 'datagram'), 'EUNREACHABLE');
  assert.is(classify(e('EPIPE'), 'open'), 'ECONNRESET');
  assert.is(classify(null, 'open'), 'ECONNRESET');
  const te = fromNodeError('plain string', { transport: 'tcp', host: '::1', port: 5 }, 'connect');
  assert.is(te.code, 'ECONNRESET');
  assert.ok(te.message.includes('tcp:[::1]:5'));
  assert.is(te.name, 'TransportError');
});

test('resolveOptions: defaults, overrides, rejects nonsense', () => {
  const d = resolveOptions({ listeners: [] });
  assert.equal(d, { ...DEFAULTS, keepAlive: { ...DEFAULTS.keepAlive } });
  const o = resolveOptions({ listeners: [], limits: { maxMessageBytes: 4000 }, keepAlive: { intervalMs: 0 }, idleTimeoutMs: 0, udpConnectedPeers: false });
  assert.is(o.maxBufferedBytes, 4000);
  assert.is(o.idleTimeoutMs, 0);
  assert.is(o.udpConnectedPeers, false);
  assert.throws(() => resolveOptions({ listeners: [], maxIncomingConnections: 0 }), /maxIncomingConnections/);
  assert.throws(() => resolveOptions({ listeners: [], connectTimeoutMs: -1 }), /connectTimeoutMs/);
  assert.throws(() => resolveOptions({ listeners: [], udpMaxBytes: Number.NaN }), /udpMaxBytes/);
});

test('PendingSenders: add() prunes at most once a second; fail() always prunes first', () => {
  let now = 0;
  const heard: string[] = [];
  const pending = new PendingSenders(100, 100, () => now);
  const a = (e: TransportError): void => void heard.push(`a:${e.code}`);
  const b = (e: TransportError): void => void heard.push(`b:${e.code}`);
  const c = (e: TransportError): void => void heard.push(`c:${e.code}`);
  pending.add(a);
  now = 150;
  pending.add(b); // a expired at 100, but the last prune was at 0: kept for now
  assert.is(pending.size, 2);
  now = 1000;
  pending.add(c); // a second since the last prune: a and b (150) go
  assert.is(pending.size, 1);
  now = 1050;
  pending.add(a);
  now = 1120; // c (1000) expired, a (1050) not
  pending.fail(new TransportError('ECONNREFUSED', { transport: 'udp', host: '192.0.2.1', port: 5060 }, 'x'));
  assert.equal(heard, ['a:ECONNREFUSED']);
});

test.run();
