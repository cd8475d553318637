/**
 * SipTransportLayer over TCP on real loopback sockets (127.0.0.1 and ::1,
 * port 0 only), with raw node:net peers where the test needs to misbehave.
 *
 * Covers: framing of a request written one byte at a time and of several
 * messages (and CRLF keep-alives) in one chunk; connection reuse (two sends
 * -> one connection); the response and a request back on the incoming flow;
 * a closed flowId falling back to a new connection; a header section that
 * never ends and a Content-Length over the limit -> 413 then closed; a malformed
 * but framed request -> 400 on the same, still open, connection; RFC 5626
 * ping -> pong; our pings answered keep the flow; no pong -> flow dead,
 * ETIMEDOUT to the sender and onFlowClosed; refused (IPv4, IPv6) and reset
 * reported within 100 ms; a peer that closes -> ECONNRESET; idle timeout;
 * write-buffer cap; close() frees every socket.
 * Not covered: TLS (transport-tls test), UDP (transport-udp test), caps,
 * deadlines and backpressure (transport-limits test).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage } from '../../src/parser/index.ts';
import { hostForHeader } from '../../src/transport/addresses.ts';
import type { FlowInfo, TransportDiagnostic, TransportLayerOptions } from '../../src/transport/options.ts';
import { SipTransportLayer } from '../../src/transport/transport-layer.ts';
import type { Endpoint, Received, TransportError } from '../../src/transport/types.ts';
import { sleep, waitFor } from './polling.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

interface Harness {
  layer: SipTransportLayer;
  received: Received[];
  diagnostics: TransportDiagnostic[];
  closedFlows: Array<{ flow: FlowInfo; error: TransportError | undefined }>;
}

async function start(options: Partial<TransportLayerOptions> = {}, host = '127.0.0.1'): Promise<Harness> {
  const received: Received[] = [];
  const diagnostics: TransportDiagnostic[] = [];
  const closedFlows: Harness['closedFlows'] = [];
  const layer = await SipTransportLayer.create({
    listeners: [{ transport: 'tcp', host }],
    onDiagnostic: (d) => diagnostics.push(d),
    onFlowClosed: (flow, error) => closedFlows.push({ flow, error }),
    ...options,
  });
  layer.onReceive = (r) => received.push(r);
  return { layer, received, diagnostics, closedFlows };
}

let seq = 0;
function request(method: string, from: Endpoint, to: Endpoint, body = ''): Uint8Array {
  const sentBy = `${hostForHeader(from.host)}:${from.port}`;
  seq++;
  return formatMessage({
    method,
    uri: `sip:test@${hostForHeader(to.host)}:${to.port};transport=tcp`,
    headers: [
      ['Via', `SIP/2.0/${from.transport.toUpperCase()} ${sentBy};branch=z9hG4bK-tcp-${seq};rport`],
      ['Max-Forwards', '70'],
      ['From', `<sip:a@${sentBy}>;tag=f${seq}`],
      ['To', `<sip:test@${hostForHeader(to.host)}>`],
      ['Call-ID', `tcp-${seq}@test`],
      ['CSeq', `${seq} ${method}`],
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

interface RawClient {
  socket: Socket;
  data: () => string;
  closed: () => boolean;
}

async function rawClient(port: number, host = '127.0.0.1'): Promise<RawClient> {
  const socket = createConnection({ host, port, noDelay: true });
  let data = '';
  let closed = false;
  socket.on('data', (chunk) => (data += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, data: () => data, closed: () => closed };
}

interface RawServer {
  server: Server;
  port: number;
  sockets: Socket[];
  data: () => string;
  close: () => Promise<void>;
}

/** A TCP server that does what `onSocket` says (by default: reads and never answers). */
async function rawServer(onSocket: (socket: Socket, chunk: Buffer) => void = () => {}, host = '127.0.0.1'): Promise<RawServer> {
  const sockets: Socket[] = [];
  let data = '';
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      onSocket(socket, chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address !== null ? address.port : 0,
    sockets,
    data: () => data,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TCP port on `host` nobody listens on. */
async function closedTcpPort(host: string): Promise<number> {
  const raw = await rawServer(undefined, host);
  await raw.close();
  return raw.port;
}

const OPTIONS_RAW = (port: number, callId: string): string =>
  'OPTIONS sip:test@127.0.0.1 SIP/2.0\r\n' +
  `Via: SIP/2.0/TCP 127.0.0.1:${port};branch=z9hG4bK-${callId}\r\n` +
  'Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\n' +
  `Call-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello`;

test('TCP: a request written one byte at a time is framed; several messages in one chunk', async () => {
  const b = await start();
  const raw = await rawClient(b.layer.localEndpoint('tcp').port);
  try {
    const bytes = enc(OPTIONS_RAW(raw.socket.localPort!, 'bytewise'));
    for (const byte of bytes) {
      raw.socket.write(new Uint8Array([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor('bytewise request', () => b.received.length === 1);
    assert.is(b.received[0]!.message.callId, 'bytewise');
    assert.is(dec(b.received[0]!.message.body), 'hello');
    assert.ok(b.received[0]!.flowId?.startsWith('tcp-'));
    raw.socket.write(enc(`${OPTIONS_RAW(1, 'one')}\r\n\r\n${OPTIONS_RAW(1, 'two')}\r\n${OPTIONS_RAW(1, 'three')}`));
    await waitFor('three more', () => b.received.length === 4);
    assert.equal(b.received.map((r) => r.message.callId), ['bytewise', 'one', 'two', 'three']);
    assert.equal(new Set(b.received.map((r) => r.flowId)).size, 1);
    await waitFor('the pong to the CRLFCRLF ping in the middle', () => raw.data() === '\r\n');
    assert.is(b.layer.stats().incoming, 1);
  } finally {
    raw.socket.destroy();
    await b.layer.close();
  }
});

for (const host of ['127.0.0.1', '::1']) {
  test(`TCP ${host}: two sends -> one connection; response and request back on the incoming flow`, async () => {
    const a = await start({}, host);
    const b = await start({}, host);
    try {
      const aEnd = a.layer.localEndpoint('tcp');
      const bEnd = b.layer.localEndpoint('tcp');
      const errors: TransportError[] = [];
      a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd, { onError: (e) => errors.push(e) });
      a.layer.send(request('INFO', aEnd, bEnd), bEnd, { onError: (e) => errors.push(e) });
      await waitFor('two requests', () => b.received.length === 2);
      assert.is(a.layer.stats().outgoing, 1);
      assert.is(b.layer.stats().incoming, 1);
      const [first, second] = b.received as [Received, Received];
      assert.is(first.flowId, second.flowId);
      assert.is(first.source.host, host);
      assert.equal(b.layer.responseTarget(first), { transport: 'tcp', host, port: aEnd.port });
      // The response goes back on the flow, not to a new connection to aEnd.
      b.layer.send(response(first, 200, b.layer), b.layer.responseTarget(first), { flowId: first.flowId!, onError: (e) => errors.push(e) });
      await waitFor('response at A', () => a.received.length === 1);
      assert.is(a.received[0]!.message.status, 200);
      assert.is(a.received[0]!.message.topVia?.received, host);
      // A request back to A on that flow (RFC 5626 style), addressed to its source.
      b.layer.send(request('NOTIFY', bEnd, first.source), first.source, { flowId: first.flowId!, onError: (e) => errors.push(e) });
      await waitFor('request at A', () => a.received.length === 2);
      assert.is(a.received[1]!.message.method, 'NOTIFY');
      assert.is(a.received[1]!.flowId, a.layer.stats().outgoing === 1 ? a.received[0]!.flowId : 'no');
      // Without the flowId, the source address still finds the connection.
      b.layer.send(request('NOTIFY', bEnd, first.source), first.source);
      await waitFor('second request at A', () => a.received.length === 3);
      assert.is(b.layer.stats().outgoing, 0);
      assert.is(a.layer.stats().incoming, 0);
      assert.equal(errors, []);
    } finally {
      await a.layer.close();
      await b.layer.close();
    }
  });

  test(`TCP ${host}: connection refused -> ECONNREFUSED within 100 ms`, async () => {
    const a = await start({}, host);
    try {
      const target: Endpoint = { transport: 'tcp', host, port: await closedTcpPort(host) };
      const t0 = performance.now();
      let elapsed = -1;
      let code = '';
      a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), target), target, {
        onError: (e) => {
          elapsed = performance.now() - t0;
          code = e.code;
        },
      });
      await waitFor('ECONNREFUSED', () => elapsed >= 0, 1000);
      assert.is(code, 'ECONNREFUSED');
      assert.ok(elapsed < 100, `reported after ${elapsed.toFixed(1)} ms`);
      console.log(`    TCP ${host} refused reported in ${elapsed.toFixed(2)} ms`);
      await waitFor('flow closed', () => a.closedFlows.length === 1);
      assert.is(a.closedFlows[0]!.error?.code, 'ECONNREFUSED');
      assert.is(a.layer.stats().connections, 0);
    } finally {
      await a.layer.close();
    }
  });
}

test('TCP: reset by the peer -> ECONNRESET within 100 ms; a peer that closes -> ECONNRESET', async () => {
  let t0 = 0;
  const resetter = await rawServer((socket) => {
    t0 = performance.now();
    socket.resetAndDestroy();
  });
  const closer = await rawServer((socket) => socket.end());
  const a = await start();
  try {
    let elapsed = -1;
    let code = '';
    const target: Endpoint = { transport: 'tcp', host: '127.0.0.1', port: resetter.port };
    a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), target), target, {
      onError: (e) => {
        elapsed = performance.now() - t0;
        code = e.code;
      },
    });
    await waitFor('ECONNRESET', () => elapsed >= 0, 1000);
    assert.is(code, 'ECONNRESET');
    assert.ok(elapsed < 100, `reported after ${elapsed.toFixed(1)} ms`);
    console.log(`    TCP reset reported in ${elapsed.toFixed(2)} ms`);
    const errors: TransportError[] = [];
    const target2: Endpoint = { transport: 'tcp', host: '127.0.0.1', port: closer.port };
    a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), target2), target2, { onError: (e) => errors.push(e) });
    await waitFor('closed by peer', () => errors.length === 1);
    assert.is(errors[0]!.code, 'ECONNRESET');
    assert.match(errors[0]!.message, /closed by peer/);
  } finally {
    await a.layer.close();
    await resetter.close();
    await closer.close();
  }
});

test('TCP: release() makes the connection forget a sender; when the peer then closes, only the others hear it', async () => {
  let peerSocket: Socket | undefined;
  const server = await rawServer((socket) => {
    peerSocket = socket;
  });
  const a = await start();
  try {
    const target: Endpoint = { transport: 'tcp', host: '127.0.0.1', port: server.port };
    const heard: string[] = [];
    const done = { onError: (e: TransportError) => heard.push(`done ${e.code}`) };
    const waiting = { onError: (e: TransportError) => heard.push(`waiting ${e.code}`) };
    a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), target), target, done);
    a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), target), target, waiting);
    await waitFor('connected, requests written', () => peerSocket !== undefined && a.layer.stats().pendingSenders === 2);
    a.layer.release(target, done);
    assert.is(a.layer.stats().pendingSenders, 1);
    peerSocket!.end();
    await waitFor('closed by peer', () => heard.length > 0);
    await sleep(20);
    assert.equal(heard, ['waiting ECONNRESET']);
  } finally {
    await a.layer.close();
    await server.close();
  }
});

test('TCP: a flowId whose connection is gone falls back to a new connection', async () => {
  const a = await start();
  const b = await start();
  try {
    const aEnd = a.layer.localEndpoint('tcp');
    const bEnd = b.layer.localEndpoint('tcp');
    a.layer.send(request('OPTIONS', aEnd, bEnd), bEnd);
    await waitFor('request', () => b.received.length === 1);
    const r = b.received[0]!;
    await a.layer.close(); // the flow disappears...
    const a2 = await start({ listeners: [{ transport: 'tcp', host: '127.0.0.1', port: aEnd.port }] });
    try {
      await waitFor('flow closed at B', () => b.closedFlows.length === 1);
      assert.is(b.closedFlows[0]!.error?.code, 'ECONNRESET');
      // ...so the response opens a connection to received:sent-by port (s18.2.2).
      b.layer.send(response(r, 200, b.layer), b.layer.responseTarget(r), { flowId: r.flowId! });
      await waitFor('response at the new A', () => a2.received.length === 1);
      assert.is(b.layer.stats().outgoing, 1);
    } finally {
      await a2.layer.close();
    }
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('TCP: header section without end / Content-Length over the limit -> 413, conflicting Content-Lengths -> 400, on the connection, then closed', async () => {
  const b = await start({ maxBufferedBytes: 2000 });
  try {
    const port = b.layer.localEndpoint('tcp').port;
    const endless = await rawClient(port);
    endless.socket.write(enc('OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1\r\n'));
    for (let k = 0; k < 30 && !endless.closed(); k++) {
      endless.socket.write(enc(`X-Filler-${k}: ${'a'.repeat(100)}\r\n`));
      await sleep(1);
    }
    await waitFor('endless header closed', () => endless.closed());
    const big = await rawClient(port);
    big.socket.write(enc('MESSAGE sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1\r\nContent-Length: 5000\r\n\r\n'));
    await waitFor('big body closed', () => big.closed());
    const conflicting = await rawClient(port);
    conflicting.socket.write(enc('MESSAGE sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:2\r\nContent-Length: 5\r\nl: 6\r\n\r\n'));
    await waitFor('conflicting lengths closed', () => conflicting.closed());
    assert.match(conflicting.data(), /^SIP\/2\.0 400 /);
    // RFC 3261 s18.3: a request line was read, so each got its 413 before the close.
    for (const client of [endless, big]) assert.match(client.data(), /^SIP\/2\.0 413 /);
    assert.match(big.data(), /\r\nVia: SIP\/2\.0\/TCP 127\.0\.0\.1:1\r\n/);
    const framing = b.diagnostics.filter((d) => d.type === 'framing-error');
    assert.equal(framing.map((d) => (d.type === 'framing-error' ? d.status : 0)), [413, 413, 400]);
    assert.is(b.received.length, 0);
    await waitFor('our side closed too', () => b.layer.stats().connections === 0);
  } finally {
    await b.layer.close();
  }
});

test('TCP: a framed but malformed request gets a 400 on the same connection, which stays open', async () => {
  const b = await start();
  const raw = await rawClient(b.layer.localEndpoint('tcp').port);
  try {
    raw.socket.write(enc(OPTIONS_RAW(raw.socket.localPort!, 'bad').replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE')));
    await waitFor('400', () => raw.data().includes('\r\n\r\n'));
    const reply = parseMessage(enc(raw.data()));
    assert.is(reply.status, 400);
    assert.is(reply.callId, 'bad');
    raw.socket.write(enc(OPTIONS_RAW(raw.socket.localPort!, 'good')));
    await waitFor('good request', () => b.received.length === 1);
    assert.is(raw.closed(), false);
  } finally {
    raw.socket.destroy();
    await b.layer.close();
  }
});

test('TCP: keep-alive: ping -> pong; our pings answered keep the flow; manual ping', async () => {
  const b = await start();
  const a = await start({ keepAlive: { intervalMs: 20, pongTimeoutMs: 200 } });
  const raw = await rawClient(b.layer.localEndpoint('tcp').port);
  try {
    raw.socket.write(enc('\r\n\r\n'));
    await waitFor('pong', () => raw.data() === '\r\n');
    const bEnd = b.layer.localEndpoint('tcp');
    a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), bEnd), bEnd);
    await waitFor('request', () => b.received.length === 1);
    await sleep(150); // several ping/pong rounds
    assert.is(a.closedFlows.length, 0);
    assert.is(a.layer.stats().outgoing, 1);
    const flowId = b.received[0]!.flowId!;
    assert.is(b.layer.ping(flowId), true);
    assert.is(b.layer.ping('tcp-999'), false);
    await sleep(20);
    assert.is(b.closedFlows.length, 0);
  } finally {
    raw.socket.destroy();
    await a.layer.close();
    await b.layer.close();
  }
});

test('TCP: no pong -> flow declared dead, ETIMEDOUT to the sender and onFlowClosed', async () => {
  const silent = await rawServer();
  const a = await start({ keepAlive: { intervalMs: 20, pongTimeoutMs: 50 } });
  try {
    const target: Endpoint = { transport: 'tcp', host: '127.0.0.1', port: silent.port };
    const errors: TransportError[] = [];
    const t0 = performance.now();
    a.layer.send(request('REGISTER', a.layer.localEndpoint('tcp'), target), target, { onError: (e) => errors.push(e) });
    await waitFor('ETIMEDOUT', () => errors.length === 1, 2000);
    const elapsed = performance.now() - t0;
    assert.is(errors[0]!.code, 'ETIMEDOUT');
    assert.match(errors[0]!.message, /pong/);
    assert.ok(elapsed >= 60 && elapsed < 500, `dead after ${elapsed.toFixed(0)} ms`);
    assert.ok(silent.data().endsWith('\r\n\r\n'));
    assert.is(a.closedFlows.length, 1);
    assert.is(a.closedFlows[0]!.error?.code, 'ETIMEDOUT');
    assert.is(a.closedFlows[0]!.flow.direction, 'outgoing');
    assert.is(a.layer.stats().connections, 0);
  } finally {
    await a.layer.close();
    await silent.close();
  }
});

test('TCP: idle timeout closes quietly; write-buffer cap -> ELIMIT', async () => {
  const b = await start();
  const a = await start({ idleTimeoutMs: 40, maxWriteBufferBytes: 1000 });
  try {
    const bEnd = b.layer.localEndpoint('tcp');
    const errors: TransportError[] = [];
    a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), bEnd), bEnd, { onError: (e) => errors.push(e) });
    a.layer.send(request('MESSAGE', a.layer.localEndpoint('tcp'), bEnd, 'z'.repeat(2000)), bEnd, { onError: (e) => errors.push(e) });
    await waitFor('ELIMIT', () => errors.length === 1);
    assert.is(errors[0]!.code, 'ELIMIT');
    await waitFor('request', () => b.received.length === 1);
    await waitFor('idle close', () => a.closedFlows.length === 1, 1000);
    assert.is(a.closedFlows[0]!.error, undefined);
    assert.is(errors.length, 1);
  } finally {
    await a.layer.close();
    await b.layer.close();
  }
});

test('TCP: close() frees every socket; sends during close hear ECLOSED', async () => {
  await sleep(20);
  const count = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
  const before = count();
  const a = await start();
  const b = await start();
  const silent = await rawServer();
  const bEnd = b.layer.localEndpoint('tcp');
  a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), bEnd), bEnd);
  await waitFor('request', () => b.received.length === 1);
  const errors: TransportError[] = [];
  // A connection still connecting when close() is called: its queued message hears ECLOSED.
  const target: Endpoint = { transport: 'tcp', host: '127.0.0.1', port: silent.port };
  a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), target), target, { onError: (e) => errors.push(e) });
  const closing = a.layer.close();
  a.layer.send(request('OPTIONS', a.layer.localEndpoint('tcp'), bEnd), bEnd, { onError: (e) => errors.push(e) });
  await closing;
  await b.layer.close();
  await silent.close();
  await sleep(5);
  assert.equal(errors.map((e) => e.code), ['ECLOSED', 'ECLOSED']);
  const stats = a.layer.stats();
  assert.equal([stats.connections, stats.listening, stats.bytesBuffered, stats.handshaking], [0, 0, 0, 0]);
  assert.is(count(), before);
});

test.run();
