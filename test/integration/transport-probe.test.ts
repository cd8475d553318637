/**
 * Transport.probeFlow (RFC 5626 s4.4.1 keep-alive of one flow, used by the
 * registration keep-alive over TCP/TLS), on real loopback sockets with raw
 * node:net peers: a peer that pongs -> alive; a peer that never pongs ->
 * not alive after the timeout and the flow failed; no connection -> not
 * alive at once; UDP has no flow.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SipTransportLayer } from '../../src/transport/transport-layer.ts';
import type { Endpoint } from '../../src/transport/types.ts';

const OPTIONS = (port: number): Uint8Array =>
  new TextEncoder().encode(
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKprobe\r\nMax-Forwards: 70\r\n` +
      `From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  );

/** A raw TCP peer; `pong` decides whether it answers CRLFCRLF with CRLF. */
async function peer(pong: boolean): Promise<{ server: Server; port: number; pings: () => number; sockets: Socket[] }> {
  let pings = 0;
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').includes('\r\n\r\n') && chunk.length === 4) {
        pings++;
        if (pong) socket.write('\r\n');
      }
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0, pings: () => pings, sockets };
}

const probe = (layer: SipTransportLayer, target: Endpoint, timeoutMs: number): Promise<{ alive: boolean; reason: string; ms: number }> =>
  new Promise((resolve) => {
    const start = performance.now();
    layer.probeFlow(target, timeoutMs, (alive, reason) => resolve({ alive, reason, ms: performance.now() - start }));
  });

test('a peer that pongs: alive; one that does not: not alive after the timeout, and the flow is failed', async () => {
  const layer = await SipTransportLayer.create({ listeners: [{ transport: 'tcp', host: '127.0.0.1', port: 0 }] });
  const good = await peer(true);
  const mute = await peer(false);
  try {
    for (const p of [good, mute]) layer.send(OPTIONS(p.port), { transport: 'tcp', host: '127.0.0.1', port: p.port });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ok = await probe(layer, { transport: 'tcp', host: '127.0.0.1', port: good.port }, 1000);
    assert.equal([ok.alive, ok.reason], [true, 'pong']);
    assert.is(good.pings(), 1);
    const flowsBefore = layer.stats().outgoing;
    const dead = await probe(layer, { transport: 'tcp', host: '127.0.0.1', port: mute.port }, 300);
    assert.is(dead.alive, false);
    assert.match(dead.reason, /no keep-alive pong within 300 ms/);
    assert.ok(dead.ms >= 290, `${dead.ms} ms`);
    assert.is(mute.pings(), 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.is(layer.stats().outgoing, flowsBefore - 1, 'the silent flow was closed');
  } finally {
    await layer.close();
    good.server.close();
    mute.server.close();
    for (const s of [...good.sockets, ...mute.sockets]) s.destroy();
  }
});

test('no open connection to the target, or UDP: not alive, at once', async () => {
  const layer = await SipTransportLayer.create({ listeners: [{ transport: 'tcp', host: '127.0.0.1', port: 0 }, { transport: 'udp', host: '127.0.0.1', port: 0 }] });
  try {
    const none = await probe(layer, { transport: 'tcp', host: '127.0.0.1', port: 9 }, 1000);
    assert.equal([none.alive, none.reason], [false, 'no open TCP connection to the site']);
    assert.ok(none.ms < 100);
    const udp = await probe(layer, { transport: 'udp', host: '127.0.0.1', port: 9 }, 1000);
    assert.is(udp.alive, false);
  } finally {
    await layer.close();
  }
});

test.run();
