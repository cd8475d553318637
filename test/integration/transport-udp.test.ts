/**
 * SipTransportLayer over UDP on real loopback sockets (127.0.0.1 and ::1,
 * port 0 only).
 *
 * Covers: requests and responses both ways on IPv4 and IPv6 with RFC 3581
 * rport/received; the source port of a request equal to the Via port (the
 * per-target connected socket shares the listener's port); stateless 400 to
 * a malformed request, dropped malformed and foreign responses, Via-less and
 * non-SIP datagrams; ICMP port unreachable -> ECONNREFUSED within 100 ms
 * (IPv4, IPv6) and again on a later send; RFC 3261 s18.1.1 ETOOBIG and the
 * planRequest + rewriteTopVia path over TCP; no listener for the family ->
 * EUNREACHABLE; a taken port -> create() rejects; udpConnectedPeers: false;
 * a throwing onReceive contained; trace hook; close() frees every socket.
 * Not covered: TCP/TLS flows (transport-tcp/tls tests), Timer B/F
 * (transaction layer).
 */
import { createSocket, type Socket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage } from '../../src/parser/index.ts';
import { hostForHeader } from '../../src/transport/addresses.ts';
import { rewriteTopVia } from '../../src/transport/size-policy.ts';
import { SipTransportLayer } from '../../src/transport/index.ts';
import type { TransportDiagnostic, TransportLayerOptions } from '../../src/transport/options.ts';
import type { Endpoint, Received, TransportError } from '../../src/transport/types.ts';
import { sleep, waitFor } from './polling.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

interface Harness {
  layer: SipTransportLayer;
  received: Received[];
  diagnostics: TransportDiagnostic[];
}

async function start(options: Partial<TransportLayerOptions> & Pick<TransportLayerOptions, 'listeners'>): Promise<Harness> {
  const received: Received[] = [];
  const diagnostics: TransportDiagnostic[] = [];
  const layer = await SipTransportLayer.create({ onDiagnostic: (d) => diagnostics.push(d), ...options });
  layer.onReceive = (r) => received.push(r);
  return { layer, received, diagnostics };
}


let branchSeq = 0;
function request(method: string, from: Endpoint, to: Endpoint, extra: Array<[string, string]> = [], body = ''): Uint8Array {
  const sentBy = `${hostForHeader(from.host)}:${from.port}`;
  return formatMessage({
    method,
    uri: `sip:test@${hostForHeader(to.host)}:${to.port}`,
    headers: [
      ['Via', `SIP/2.0/${from.transport.toUpperCase()} ${sentBy};branch=z9hG4bK-udp-${++branchSeq};rport`],
      ['Max-Forwards', '70'],
      ['From', `<sip:a@${sentBy}>;tag=f${branchSeq}`],
      ['To', `<sip:test@${hostForHeader(to.host)}>`],
      ['Call-ID', `call-${branchSeq}@test`],
      ['CSeq', `1 ${method}`],
      ...extra,
    ],
    body,
  });
}

function response(r: Received, status: number, layer: SipTransportLayer): Uint8Array {
  const m = r.message;
  return formatMessage({
    status,
    headers: [
      ...layer.responseViaFields(r).map((v): [string, string] => ['Via', v]),
      ['From', m.header('from')!],
      ['To', `${m.header('to')!};tag=t1`],
      ['Call-ID', m.callId!],
      ['CSeq', m.header('cseq')!],
    ],
  });
}

async function rawUdp(host: string): Promise<{ socket: Socket; messages: Array<{ bytes: Uint8Array; port: number }>; port: number }> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const messages: Array<{ bytes: Uint8Array; port: number }> = [];
  socket.on('message', (msg, rinfo) => messages.push({ bytes: new Uint8Array(msg), port: rinfo.port }));
  await new Promise<void>((resolve) => socket.bind({ address: host, port: 0 }, resolve));
  return { socket, messages, port: socket.address().port };
}

/** A UDP port on `host` with nobody listening (bound, then closed). */
async function closedUdpPort(host: string): Promise<number> {
  const raw = await rawUdp(host);
  await new Promise<void>((resolve) => raw.socket.close(resolve));
  return raw.port;
}

for (const host of ['127.0.0.1', '::1']) {
  test(`UDP ${host}: request and response both ways, rport/received, source port = Via port`, async () => {
    const a = await start({ listeners: [{ transport: 'udp', host }] });
    const b = await start({ listeners: [{ transport: 'udp', host }] });
    try {
      const aEnd = a.layer.localEndpoint('udp');
      const bEnd = b.layer.localEndpoint('udp');
      assert.is(aEnd.host, host);
      const errors: TransportError[] = [];
      a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd, { onError: (e) => errors.push(e) });
      await waitFor('request at B', () => b.received.length === 1);
      const r = b.received[0]!;
      assert.is(r.message.method, 'OPTIONS');
      assert.is(r.flowId, undefined);
      assert.equal(r.source, { transport: 'udp', host, port: aEnd.port });
      assert.equal(r.local, bEnd);
      assert.equal(b.layer.responseTarget(r), { transport: 'udp', host, port: aEnd.port });
      b.layer.send(response(r, 200, b.layer), b.layer.responseTarget(r), { onError: (e) => errors.push(e) });
      await waitFor('response at A', () => a.received.length === 1);
      const resp = a.received[0]!.message;
      assert.is(resp.status, 200);
      assert.is(resp.topVia?.rport, aEnd.port);
      assert.is(resp.topVia?.received, host);
      // And a request the other way.
      b.layer.send(request('MESSAGE', bEnd, aEnd, [], 'hi'), aEnd);
      await waitFor('request at A', () => a.received.length === 2);
      assert.is(dec(a.received[1]!.message.body), 'hi');
      assert.equal(errors, []);
      assert.is(a.layer.stats().udpPeers, 1);
    } finally {
      await a.layer.close();
      await b.layer.close();
    }
  });

  test(`UDP ${host}: ICMP port unreachable -> ECONNREFUSED within 100 ms, again on the next send`, async () => {
    const a = await start({ listeners: [{ transport: 'udp', host }] });
    try {
      const target: Endpoint = { transport: 'udp', host, port: await closedUdpPort(host) };
      for (let round = 0; round < 2; round++) {
        const t0 = performance.now();
        let elapsed = -1;
        let code = '';
        a.layer.send(request('OPTIONS', a.layer.localEndpoint('udp'), target), target, {
          onError: (e) => {
            elapsed = performance.now() - t0;
            code = e.code;
          },
        });
        await waitFor('ECONNREFUSED', () => elapsed >= 0, 1000);
        assert.is(code, 'ECONNREFUSED');
        assert.ok(elapsed < 100, `reported after ${elapsed.toFixed(1)} ms`);
        console.log(`    UDP ${host} ICMP unreachable reported in ${elapsed.toFixed(2)} ms`);
      }
    } finally {
      await a.layer.close();
    }
  });
}

const BAD_REQUEST = (port: number): string =>
  'OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n' +
  `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKbad;rport\r\n` +
  'From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: bad@x\r\nCSeq: 1 OPTIONS\r\n' +
  'Content-Length: 12x\r\n\r\n';

test('UDP: malformed request -> stateless 400; bad version -> 505; ACK/responses/garbage dropped', async () => {
  const b = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }] });
  const raw = await rawUdp('127.0.0.1');
  try {
    const bEnd = b.layer.localEndpoint('udp');
    raw.socket.send(enc(BAD_REQUEST(raw.port)), bEnd.port, '127.0.0.1');
    await waitFor('400', () => raw.messages.length === 1);
    const reply = parseMessage(raw.messages[0]!.bytes);
    assert.is(reply.status, 400);
    assert.is(reply.callId, 'bad@x');
    assert.is(reply.topVia?.rport, raw.port);
    assert.is(reply.topVia?.received, '127.0.0.1');
    assert.ok(reply.to?.tag);
    assert.is(raw.messages[0]!.port, bEnd.port);
    raw.socket.send(enc(BAD_REQUEST(raw.port).replace('OPTIONS sip:x@127.0.0.1 SIP/2.0', 'OPTIONS sip:x@127.0.0.1 SIP/3.0').replace('12x', '0')), bEnd.port, '127.0.0.1');
    await waitFor('505', () => raw.messages.length === 2);
    assert.is(parseMessage(raw.messages[1]!.bytes).status, 505);
    // Dropped: a malformed ACK, a malformed response, garbage, a request without Via.
    raw.socket.send(enc(BAD_REQUEST(raw.port).replace(/OPTIONS/g, 'ACK')), bEnd.port, '127.0.0.1');
    raw.socket.send(enc(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:${bEnd.port};branch=z9hG4bKx\r\nContent-Length: 5x\r\n\r\n`), bEnd.port, '127.0.0.1');
    raw.socket.send(enc('\x00\x01garbage'), bEnd.port, '127.0.0.1');
    raw.socket.send(enc('OPTIONS sip:x SIP/2.0\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'), bEnd.port, '127.0.0.1');
    await waitFor('four diagnostics', () => b.diagnostics.length === 6);
    await sleep(20);
    assert.is(raw.messages.length, 2);
    assert.is(b.received.length, 0);
    const whys = b.diagnostics.map((d) => ('why' in d ? d.why : 'action' in d ? d.action : d.type));
    assert.equal(whys, ['replied', 'replied', 'ack', 'response', 'not-sip', 'no-via']);
  } finally {
    await new Promise<void>((resolve) => raw.socket.close(resolve));
    await b.layer.close();
  }
});

test('UDP: a response whose sent-by is not ours is dropped (s18.1.2); aliases and the check can be relaxed', async () => {
  const a = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }] });
  const lax = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }], checkResponseSentBy: false });
  const alias = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }], sentByAliases: ['pc.example.com'] });
  const raw = await rawUdp('127.0.0.1');
  try {
    const resp = (sentBy: string): Uint8Array =>
      enc(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP ${sentBy};branch=z9hG4bKx\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    raw.socket.send(resp('192.0.2.1:5060'), a.layer.localEndpoint('udp').port, '127.0.0.1');
    raw.socket.send(resp(`127.0.0.1:${a.layer.localEndpoint('udp').port + 1}`), a.layer.localEndpoint('udp').port, '127.0.0.1');
    raw.socket.send(resp('192.0.2.1:5060'), lax.layer.localEndpoint('udp').port, '127.0.0.1');
    raw.socket.send(resp(`pc.example.com:${alias.layer.localEndpoint('udp').port}`), alias.layer.localEndpoint('udp').port, '127.0.0.1');
    await waitFor('lax and alias deliveries', () => lax.received.length === 1 && alias.received.length === 1);
    await waitFor('two drops', () => a.diagnostics.length === 2);
    assert.equal(a.diagnostics.map((d) => (d.type === 'dropped' ? d.why : d.type)), ['sent-by-mismatch', 'sent-by-mismatch']);
    assert.is(a.received.length, 0);
  } finally {
    await new Promise<void>((resolve) => raw.socket.close(resolve));
    await Promise.all([a.layer.close(), lax.layer.close(), alias.layer.close()]);
  }
});

test('UDP: s18.1.1 -> ETOOBIG from send(); planRequest + rewriteTopVia deliver it over TCP', async () => {
  const a = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }, { transport: 'tcp', host: '127.0.0.1' }] });
  const b = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }, { transport: 'tcp', host: '127.0.0.1' }] });
  try {
    const bUdp = b.layer.localEndpoint('udp');
    assert.is(b.layer.localEndpoint('tcp').port, bUdp.port, 'UDP and TCP share the port the system chose');
    const big = request('MESSAGE', a.layer.localEndpoint('udp'), bUdp, [['Content-Type', 'text/plain']], 'x'.repeat(1400));
    const errors: TransportError[] = [];
    a.layer.send(big, bUdp, { onError: (e) => errors.push(e) });
    await waitFor('ETOOBIG', () => errors.length === 1);
    assert.is(errors[0]!.code, 'ETOOBIG');
    const plan = a.layer.planRequest(big.length, bUdp);
    assert.equal(plan, { action: 'tcp', target: { transport: 'tcp', host: '127.0.0.1', port: bUdp.port } });
    if (plan.action !== 'tcp') return;
    a.layer.send(rewriteTopVia(big, a.layer.localEndpoint('tcp')), plan.target, { onError: (e) => errors.push(e) });
    await waitFor('big request over TCP', () => b.received.length === 1);
    assert.is(b.received[0]!.message.topVia?.transport, 'TCP');
    assert.is(b.received[0]!.message.body.length, 1400);
    assert.is(errors.length, 1);
    // A response may exceed 1300 bytes over UDP; a datagram over 65507 never.
    const small = request('OPTIONS', a.layer.localEndpoint('udp'), bUdp);
    a.layer.send(small, bUdp);
    await waitFor('small request', () => b.received.length === 2);
    const bigResponse = formatMessage({ status: 200, headers: [['Via', `SIP/2.0/UDP 127.0.0.1:${a.layer.localEndpoint('udp').port}`], ['Call-ID', 'x'], ['CSeq', '1 OPTIONS']], body: 'y'.repeat(2000) });
    b.layer.send(bigResponse, a.layer.localEndpoint('udp'), { onError: (e) => errors.push(e) });
    await waitFor('big response', () => a.received.length === 1);
    b.layer.send(new Uint8Array(70000), a.layer.localEndpoint('udp'), { onError: (e) => errors.push(e) });
    await waitFor('ETOOBIG for 70000 bytes', () => errors.length === 2);
    assert.is(errors[1]!.code, 'ETOOBIG');
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('UDP: no listener for the family -> EUNREACHABLE; taken port -> create() rejects', async () => {
  const a = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }] });
  try {
    const errors: TransportError[] = [];
    a.layer.send(enc('OPTIONS sip:x SIP/2.0\r\n\r\n'), { transport: 'udp', host: '::1', port: 5060 }, { onError: (e) => errors.push(e) });
    await waitFor('EUNREACHABLE', () => errors.length === 1);
    assert.is(errors[0]!.code, 'EUNREACHABLE');
    const port = a.layer.localEndpoint('udp').port;
    let failed: unknown;
    try {
      const other = await SipTransportLayer.create({ listeners: [{ transport: 'udp', host: '127.0.0.1', port }] });
      await other.close();
    } catch (error) {
      failed = error;
    }
    assert.is((failed as { code?: string })?.code, 'EBIND');
    assert.is(((failed as Error).cause as { code?: string })?.code, 'EADDRINUSE');
    assert.throws(() => a.layer.localEndpoint('tls'), /no tls listener/);
  } finally {
    await a.layer.close();
  }
});

test('UDP: udpConnectedPeers false still delivers (no ICMP detection); maxUdpPeers 0 likewise', async () => {
  for (const opts of [{ udpConnectedPeers: false }, { maxUdpPeers: 0 }]) {
    const a = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }], ...opts });
    const b = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }] });
    try {
      a.layer.send(request('OPTIONS', a.layer.localEndpoint('udp'), b.layer.localEndpoint('udp')), b.layer.localEndpoint('udp'));
      await waitFor('request', () => b.received.length === 1);
      assert.is(b.received[0]!.source.port, a.layer.localEndpoint('udp').port);
      assert.is(a.layer.stats().udpPeers, 0);
    } finally {
      await a.layer.close();
      await b.layer.close();
    }
  }
});

test('UDP: a throwing onReceive, trace hook and throwing hooks do not break the socket', async () => {
  const traces: string[] = [];
  const a = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }] });
  const b = await start({
    listeners: [{ transport: 'udp', host: '127.0.0.1' }],
    onTrace: (direction, transport, source, destination, bytes) => traces.push(`${direction} ${transport} ${source.port}->${destination.port} ${dec(bytes).split('\r\n')[0]}`),
  });
  try {
    let calls = 0;
    b.layer.onReceive = () => {
      calls++;
      throw new Error('upper layer bug');
    };
    const aEnd = a.layer.localEndpoint('udp');
    const bEnd = b.layer.localEndpoint('udp');
    a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd);
    a.layer.send(request('INFO', aEnd, bEnd), bEnd);
    await waitFor('two deliveries', () => calls === 2);
    assert.is(b.diagnostics.filter((d) => d.type === 'handler-error').length, 2);
    b.layer.send(request('OPTIONS', bEnd, aEnd), aEnd);
    await waitFor('delivery at A', () => a.received.length === 1);
    assert.equal(traces, [
      `in udp ${aEnd.port}->${bEnd.port} OPTIONS sip:test@127.0.0.1:${bEnd.port} SIP/2.0`,
      `in udp ${aEnd.port}->${bEnd.port} INFO sip:test@127.0.0.1:${bEnd.port} SIP/2.0`,
      `out udp ${bEnd.port}->${aEnd.port} OPTIONS sip:test@127.0.0.1:${aEnd.port} SIP/2.0`,
    ]);
    b.layer.onTrace = () => {
      throw new Error('trace bug');
    };
    b.layer.onDiagnostic = () => {
      throw new Error('diagnostic bug');
    };
    a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd);
    await waitFor('third delivery', () => calls === 3);
    // An onError that throws is contained too.
    const closedPort = await closedUdpPort('127.0.0.1');
    let thrown = false;
    a.layer.send(request('OPTIONS', aEnd, { transport: 'udp', host: '127.0.0.1', port: closedPort }), { transport: 'udp', host: '127.0.0.1', port: closedPort }, {
      onError: () => {
        thrown = true;
        throw new Error('onError bug');
      },
    });
    await waitFor('onError called', () => thrown);
    await sleep(5);
    assert.ok(a.diagnostics.some((d) => d.type === 'handler-error'));
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('UDP: an idle connected socket is closed; bad targets -> EUNREACHABLE without a throw', async () => {
  const a = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }], udpPeerIdleMs: 30 });
  const b = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }] });
  try {
    const aEnd = a.layer.localEndpoint('udp');
    const bEnd = b.layer.localEndpoint('udp');
    a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd);
    await waitFor('request', () => b.received.length === 1);
    assert.is(a.layer.stats().udpPeers, 1);
    await waitFor('idle peer closed', () => a.layer.stats().udpPeers === 0, 1000);
    // Traffic from B now reaches A's listener socket.
    b.layer.send(request('OPTIONS', bEnd, aEnd), aEnd);
    await waitFor('request at A', () => a.received.length === 1);
    const errors: TransportError[] = [];
    for (const target of [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'udp', host: 'example.com', port: 5060 },
      { transport: 'tcp', host: '127.0.0.1', port: 70000 },
    ] as Endpoint[]) {
      a.layer.send(request('OPTIONS', aEnd, bEnd), target, { onError: (e) => errors.push(e) });
    }
    a.layer.send(request('OPTIONS', aEnd, bEnd), { transport: 'udp', host: '127.0.0.1', port: 0 });
    await waitFor('three errors', () => errors.length === 3);
    assert.equal(errors.map((e) => e.code), ['EUNREACHABLE', 'EUNREACHABLE', 'EUNREACHABLE']);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('UDP: release() makes the connected socket forget a sender at once; a released sender hears no later ICMP error', async () => {
  const a = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }] });
  const b = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }] });
  try {
    const aEnd = a.layer.localEndpoint('udp');
    const bEnd = b.layer.localEndpoint('udp');
    const heard: string[] = [];
    const first = { onError: (e: TransportError) => heard.push(`first ${e.code}`) };
    const second = { onError: (e: TransportError) => heard.push(`second ${e.code}`) };
    a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd, first);
    a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd, first); // a retransmission: the same entry
    a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd, second);
    await waitFor('three requests at B', () => b.received.length === 3);
    assert.is(a.layer.stats().pendingSenders, 2);
    a.layer.release(bEnd, first);
    assert.is(a.layer.stats().pendingSenders, 1);
    a.layer.release({ ...bEnd }, first); // another object for the same address; already gone: harmless
    a.layer.release(bEnd, {}); // no callback: nothing to do
    assert.is(a.layer.stats().pendingSenders, 1);
    // B goes away: the next send gets ICMP unreachable, which reaches only the senders still held.
    await b.layer.close();
    a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd, second);
    await waitFor('ECONNREFUSED', () => heard.length > 0, 1000);
    await sleep(20);
    assert.equal(heard, ['second ECONNREFUSED']);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('UDP: close() frees every socket and timer; later sends report ECLOSED', async () => {
  await sleep(20); // let sockets closed by earlier tests finish closing
  const before = process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
  const a = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }, { transport: 'udp', host: '::1' }] });
  const b = await start({ listeners: [{ transport: 'udp', host: '127.0.0.1' }] });
  const bEnd = b.layer.localEndpoint('udp');
  for (let k = 0; k < 3; k++) a.layer.send(request('OPTIONS', a.layer.localEndpoint('udp'), bEnd), bEnd);
  await waitFor('three requests', () => b.received.length === 3);
  assert.is(a.layer.stats().udpSockets, 3); // two listeners + one connected peer
  await Promise.all([a.layer.close(), b.layer.close(), a.layer.close()]);
  const stats = a.layer.stats();
  assert.equal([stats.udpSockets, stats.udpPeers, stats.connections, stats.listening, stats.pendingSenders, stats.closed], [0, 0, 0, 0, 0, true]);
  assert.is(process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length, before);
  const errors: TransportError[] = [];
  a.layer.send(request('OPTIONS', { transport: 'udp', host: '127.0.0.1', port: 1 }, bEnd), bEnd, { onError: (e) => errors.push(e) });
  a.layer.send(request('OPTIONS', { transport: 'udp', host: '127.0.0.1', port: 1 }, bEnd), { ...bEnd, transport: 'tcp' }, { onError: (e) => errors.push(e) });
  await waitFor('ECLOSED', () => errors.length === 2);
  assert.equal(errors.map((e) => e.code), ['ECLOSED', 'ECLOSED']);
});

test.run();
