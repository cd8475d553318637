/**
 * The TCP side's limits on real loopback sockets (port 0): what a peer can
 * make the layer hold, and for how long.
 *
 * Covers: the incoming cap evicting the connection idle the longest (never
 * delivered first, then least recently delivered); the outgoing cap apart
 * from it (a full incoming side leaves our own connections alone); the
 * per-address cap; an incoming connection's first message deadline (CRLF
 * pings do not count); a message's deadline from its first byte; a message
 * trickling below the minimum rate; a peer that does not read: reading
 * stops at the write high-water mark, memory stays bounded, and the
 * connection is closed after writeStallMs; response senders released;
 * retained outgoing flows outliving the idle timeout; fairness between a
 * pipelining connection and a single request.
 * Not covered: TLS handshakes (transport-tls test), long attacks
 * (test/reliability).
 */
import { createConnection, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage } from '../../src/parser/index.ts';
import type { TransportDiagnostic, TransportLayerOptions } from '../../src/transport/options.ts';
import { SipTransportLayer } from '../../src/transport/transport-layer.ts';
import type { Endpoint, Received, TransportError } from '../../src/transport/types.ts';
import { sleep, waitFor } from './polling.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Harness {
  layer: SipTransportLayer;
  received: Received[];
  diagnostics: TransportDiagnostic[];
}

async function start(options: Partial<TransportLayerOptions> = {}): Promise<Harness> {
  const received: Received[] = [];
  const diagnostics: TransportDiagnostic[] = [];
  const layer = await SipTransportLayer.create({ listeners: [{ transport: 'tcp', host: '127.0.0.1' }], onDiagnostic: (d) => diagnostics.push(d), ...options });
  layer.onReceive = (r) => received.push(r);
  return { layer, received, diagnostics };
}

interface RawClient {
  socket: Socket;
  data: () => string;
  closed: () => boolean;
  closedAt: () => number;
}

async function rawClient(port: number): Promise<RawClient> {
  const socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
  let data = '';
  let closedAt = -1;
  socket.on('data', (chunk) => (data += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => (closedAt = performance.now()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, data: () => data, closed: () => closedAt >= 0, closedAt: () => closedAt };
}

const OPTIONS = (callId: string): string =>
  'OPTIONS sip:test@127.0.0.1 SIP/2.0\r\n' +
  `Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-${callId}\r\n` +
  'Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\n' +
  `Call-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;

/** A 200 to a received request, on its flow, with a body of `bodyBytes` (to fill a write buffer fast). */
function answer(h: Harness, r: Received, bodyBytes = 0, onError?: (e: TransportError) => void): void {
  const m = r.message;
  const bytes = formatMessage({
    status: 200,
    headers: [
      ...h.layer.responseViaFields(r).map((v): [string, string] => ['Via', v]),
      ['From', m.header('from')!],
      ['To', `${m.header('to')!};tag=t`],
      ['Call-ID', m.callId!],
      ['CSeq', m.header('cseq')!],
      ['Content-Type', 'text/plain'],
    ],
    body: 'x'.repeat(bodyBytes),
  });
  h.layer.send(bytes, h.layer.responseTarget(r), { flowId: r.flowId!, ...(onError ? { onError } : {}) });
}

test('incoming cap: a new connection evicts the one that never delivered, oldest first, then the least recently delivered', async () => {
  const b = await start({ maxIncomingConnections: 3 });
  const clients: RawClient[] = [];
  try {
    const port = b.layer.localEndpoint('tcp').port;
    for (let k = 0; k < 3; k++) clients.push(await rawClient(port));
    // 0 and 2 deliver a message (0 first), 1 stays silent.
    clients[0]!.socket.write(OPTIONS('c0'));
    await waitFor('c0', () => b.received.length === 1);
    clients[2]!.socket.write(OPTIONS('c2'));
    await waitFor('c2', () => b.received.length === 2);
    clients.push(await rawClient(port)); // 3: evicts 1 (never delivered)
    await waitFor('1 evicted', () => clients[1]!.closed());
    clients[3]!.socket.write(OPTIONS('c3'));
    await waitFor('c3', () => b.received.length === 3);
    clients.push(await rawClient(port)); // 4: every other one delivered; evicts 0 (least recent)
    await waitFor('0 evicted', () => clients[0]!.closed());
    await sleep(20);
    assert.equal(clients.map((c) => c.closed()), [true, true, false, false, false]);
    assert.is(b.layer.stats().incoming, 3);
    assert.is(b.diagnostics.filter((d) => d.type === 'connection-evicted').length, 2);
    // The survivors are still served.
    clients[2]!.socket.write(OPTIONS('c2b'));
    await waitFor('c2b', () => b.received.length === 4);
  } finally {
    for (const c of clients) c.socket.destroy();
    await b.layer.close();
  }
});

test('outgoing cap is apart: a full incoming side does not stop our own connections; past its own cap -> ELIMIT', async () => {
  const site = await start();
  const b = await start({ maxIncomingConnections: 2, maxOutgoingConnections: 1 });
  const clients: RawClient[] = [];
  try {
    const port = b.layer.localEndpoint('tcp').port;
    for (let k = 0; k < 3; k++) clients.push(await rawClient(port));
    await waitFor('incoming full', () => b.layer.stats().incoming === 2);
    const siteEnd = site.layer.localEndpoint('tcp');
    const errors: TransportError[] = [];
    b.layer.send(enc(OPTIONS('out1')), siteEnd, { onError: (e) => errors.push(e) });
    await waitFor('at the site', () => site.received.length === 1);
    const other: Endpoint = { transport: 'tcp', host: '127.0.0.2', port: siteEnd.port };
    b.layer.send(enc(OPTIONS('out2')), other, { onError: (e) => errors.push(e) });
    await waitFor('ELIMIT', () => errors.length === 1);
    assert.is(errors[0]!.code, 'ELIMIT');
    assert.match(errors[0]!.message, /outgoing connection cap of 1/);
    assert.equal([b.layer.stats().incoming, b.layer.stats().outgoing], [2, 1]);
  } finally {
    for (const c of clients) c.socket.destroy();
    await b.layer.close();
    await site.layer.close();
  }
});

test('per-address cap (off by default) refuses a third connection from one address', async () => {
  const b = await start({ maxIncomingPerAddress: 2 });
  const clients: RawClient[] = [];
  try {
    const port = b.layer.localEndpoint('tcp').port;
    for (let k = 0; k < 3; k++) clients.push(await rawClient(port));
    await waitFor('third refused', () => clients[2]!.closed());
    assert.equal(clients.map((c) => c.closed()), [false, false, true]);
    assert.ok(b.diagnostics.some((d) => d.type === 'connection-rejected' && d.why === 'address-limit'));
    clients[0]!.socket.destroy();
    await waitFor('slot freed', () => b.layer.stats().incoming === 1);
    clients.push(await rawClient(port));
    await sleep(20);
    assert.is(clients[3]!.closed(), false);
  } finally {
    for (const c of clients) c.socket.destroy();
    await b.layer.close();
  }
});

test('deadlines: no first message (pings do not count) or a message unfinished within messageDeadlineMs -> closed; a delivered one stays', async () => {
  const b = await start({ messageDeadlineMs: 300, minMessageBytesPerSec: 0 });
  try {
    const port = b.layer.localEndpoint('tcp').port;
    const t0 = performance.now();
    const silent = await rawClient(port);
    const pinger = await rawClient(port);
    const partial = await rawClient(port);
    const good = await rawClient(port);
    const timer = setInterval(() => pinger.socket.write('\r\n\r\n'), 50);
    partial.socket.write(OPTIONS('p').slice(0, 60));
    good.socket.write(OPTIONS('g'));
    await waitFor('three closed', () => silent.closed() && pinger.closed() && partial.closed(), 2000);
    clearInterval(timer);
    for (const c of [silent, pinger, partial]) {
      const after = c.closedAt() - t0;
      assert.ok(after >= 280 && after < 1000, `closed after ${after.toFixed(0)} ms`);
    }
    await sleep(100);
    assert.is(good.closed(), false);
    const why = b.diagnostics.flatMap((d) => (d.type === 'connection-expired' ? [d.why] : []));
    assert.equal(why, ['message-deadline', 'message-deadline', 'message-deadline']);
    // A second message that starts and stalls also has its deadline, from its first byte.
    const t1 = performance.now();
    good.socket.write(OPTIONS('g2').slice(0, 30));
    await waitFor('good closed on its stalled second message', () => good.closed(), 2000);
    const after = good.closedAt() - t1;
    assert.ok(after >= 280 && after < 1000, `closed after ${after.toFixed(0)} ms`);
    assert.is(b.received.length, 1);
    good.socket.destroy();
  } finally {
    await b.layer.close();
  }
});

test('slowloris: a message trickling one byte per 50 ms is closed at the rate check (2 s), long before its deadline', async () => {
  const b = await start({ messageDeadlineMs: 20_000, minMessageBytesPerSec: 200 });
  try {
    const slow = await rawClient(b.layer.localEndpoint('tcp').port);
    const text = OPTIONS('slow');
    let k = 0;
    const t0 = performance.now();
    const timer = setInterval(() => {
      if (!slow.closed()) slow.socket.write(text[k++ % text.length]!);
    }, 50);
    await waitFor('closed', () => slow.closed(), 5000);
    clearInterval(timer);
    const after = slow.closedAt() - t0;
    assert.ok(after >= 1900 && after < 4000, `closed after ${after.toFixed(0)} ms`);
    assert.ok(b.diagnostics.some((d) => d.type === 'connection-expired' && d.why === 'message-rate'));
    assert.is(b.received.length, 0);
  } finally {
    await b.layer.close();
  }
});

test('a peer that does not read: reading stops at the high-water mark, memory stays bounded, closed after writeStallMs', async () => {
  const highWater = 16 * 1024;
  const b = await start({ writeHighWaterBytes: highWater, writeStallMs: 400, maxWriteBufferBytes: 64 * 1024 });
  let maxBuffered = 0;
  b.layer.onReceive = (r) => {
    b.received.push(r);
    // Large answers fill the kernel's socket buffers (MBs on loopback) after a few hundred requests, loaded machine or not.
    answer(b, r, 30_000);
    maxBuffered = Math.max(maxBuffered, b.layer.stats().bytesBuffered);
  };
  try {
    const peer = await rawClient(b.layer.localEndpoint('tcp').port);
    peer.socket.pause(); // never reads
    // Far more than the kernel buffers hold, pipelined, as fast as it goes.
    const batch = Array.from({ length: 200 }, (_, k) => OPTIONS(`n${k}`)).join('');
    const t0 = performance.now();
    for (let k = 0; k < 40; k++) {
      peer.socket.write(batch);
      await sleep(5);
    }
    // Generous waits: on a loaded machine the layer may need seconds to answer enough requests to fill the buffers.
    await waitFor('reading paused', () => b.layer.stats().paused === 1, 10_000);
    const handledAtPause = b.received.length;
    await sleep(150);
    assert.is(b.received.length, handledAtPause, 'no request is handled while paused');
    // A paused peer does not see our reset: watch our side.
    await waitFor('closed for not reading', () => b.layer.stats().connections === 0, 9000);
    // Closed by the 400 ms write stall, not by the 10 s message deadline (the diagnostic below says which, too).
    assert.ok(performance.now() - t0 < 9500);
    peer.socket.destroy();
    assert.ok(b.diagnostics.some((d) => d.type === 'connection-expired' && d.why === 'write-stall'));
    assert.ok(handledAtPause < 8000, `${handledAtPause} requests handled`);
    // Write buffer (bounded by the high-water mark plus what one chunk of requests produces) + one message being read.
    assert.ok(maxBuffered < 64 * 1024 + 65535, `max ${maxBuffered} bytes buffered`);
    assert.equal([b.layer.stats().connections, b.layer.stats().pendingSenders], [0, 0]);
  } finally {
    await b.layer.close();
  }
});

test('fairness: a connection pipelining 2,000 requests cannot hold up another connection\'s one request', async () => {
  const b = await start();
  try {
    const port = b.layer.localEndpoint('tcp').port;
    const flood = await rawClient(port);
    const single = await rawClient(port);
    flood.socket.write(Array.from({ length: 2000 }, (_, k) => OPTIONS(`f${k}`)).join(''));
    await waitFor('the flood started', () => b.received.length > 0);
    single.socket.write(OPTIONS('single'));
    await waitFor('all', () => b.received.length === 2001, 10_000);
    const at = b.received.findIndex((r) => r.message.callId === 'single');
    assert.ok(at < 1000, `the single request was handled as number ${at} of 2001`);
    flood.socket.destroy();
    single.socket.destroy();
  } finally {
    await b.layer.close();
  }
});

test('response senders are counted, and released by Transport.release', async () => {
  const b = await start();
  try {
    const peer = await rawClient(b.layer.localEndpoint('tcp').port);
    peer.socket.write(OPTIONS('r1'));
    await waitFor('request', () => b.received.length === 1);
    const onError = (): void => {};
    const r = b.received[0]!;
    answer(b, r, 0, onError);
    assert.is(b.layer.stats().pendingSenders, 1);
    b.layer.release(b.layer.responseTarget(r), { flowId: r.flowId!, onError });
    assert.is(b.layer.stats().pendingSenders, 0);
    peer.socket.destroy();
  } finally {
    await b.layer.close();
  }
});

test('idle timeout: an outgoing flow a registration retains stays open; released, it idles out', async () => {
  const site = await start();
  const b = await start({ idleTimeoutMs: 100 });
  try {
    const siteEnd = site.layer.localEndpoint('tcp');
    b.layer.retainFlow(siteEnd, true);
    b.layer.send(enc(OPTIONS('keep')), siteEnd);
    await waitFor('at the site', () => site.received.length === 1);
    await sleep(350);
    assert.equal([b.layer.stats().outgoing, b.layer.stats().retained], [1, 1]);
    b.layer.retainFlow(siteEnd, false);
    await waitFor('idled out', () => b.layer.stats().outgoing === 0, 1000);
    assert.is(b.layer.stats().retained, 0);
  } finally {
    await b.layer.close();
    await site.layer.close();
  }
});

test.run();
