/**
 * SipTransportLayer over TLS on real loopback sockets, with a CA and
 * certificates made for the run by the openssl CLI in a temp directory.
 *
 * Covers: a verified connection by IP SAN (127.0.0.1, ::1) with the response
 * on the incoming flow; a verified host name (setTlsServerName); rejected
 * with ETLS within 100 ms: wrong host name (per target and layer default),
 * unknown CA, no CA (Node's roots); rejectUnauthorized: false accepted;
 * mutual TLS with and without a client certificate; TLS 1.2 minimum on the
 * listener; handshake that never completes -> ETIMEDOUT; refused ->
 * ECONNREFUSED; handshakes holding incoming slots (eviction); a handshake
 * never finished destroyed at handshakeTimeoutMs; a TLS listener
 * without certificate refused at create(); close() frees every socket.
 * Not covered: SNI-based certificate selection on our listener (one
 * certificate per listener), revocation.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage } from '../../src/parser/index.ts';
import { hostForHeader } from '../../src/transport/addresses.ts';
import type { FlowInfo, TlsOptions, TransportDiagnostic, TransportLayerOptions } from '../../src/transport/options.ts';
import { SipTransportLayer } from '../../src/transport/transport-layer.ts';
import type { Endpoint, Received, TransportError } from '../../src/transport/types.ts';
import { sleep, waitFor } from './polling.ts';


interface Pki {
  ca: string;
  otherCa: string;
  cert: string;
  key: string;
  clientCert: string;
  clientKey: string;
}

/** CA -> server certificate (sip.test, 127.0.0.1, ::1) and a client certificate; plus an unrelated CA. */
function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'sip-tls-'));
  try {
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=sip-endpoint test CA', ...caExt);
    ssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=unrelated CA', ...caExt);
    const leaf = (name: string, san: string, usage: string): void => {
      writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${usage}\nsubjectAltName=${san}\n`);
      ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
    };
    leaf('server', 'DNS:sip.test,IP:127.0.0.1,IP:::1', 'serverAuth');
    leaf('client', 'DNS:client.test', 'clientAuth');
    const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
    return {
      ca: read('ca.crt'),
      otherCa: read('other.crt'),
      cert: read('server.crt'),
      key: read('server.key'),
      clientCert: read('client.crt'),
      clientKey: read('client.key'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pki = makePki();

interface Harness {
  layer: SipTransportLayer;
  received: Received[];
  diagnostics: TransportDiagnostic[];
  closedFlows: Array<{ flow: FlowInfo; error: TransportError | undefined }>;
}

async function start(tls: TlsOptions, options: Partial<TransportLayerOptions> = {}, host = '127.0.0.1'): Promise<Harness> {
  const received: Received[] = [];
  const diagnostics: TransportDiagnostic[] = [];
  const closedFlows: Harness['closedFlows'] = [];
  const layer = await SipTransportLayer.create({
    listeners: [{ transport: 'tls', host }],
    tls,
    onDiagnostic: (d) => diagnostics.push(d),
    onFlowClosed: (flow, error) => closedFlows.push({ flow, error }),
    ...options,
  });
  layer.onReceive = (r) => received.push(r);
  return { layer, received, diagnostics, closedFlows };
}

const server = (): Promise<Harness> => start({ cert: pki.cert, key: pki.key });

let seq = 0;
function request(method: string, from: Endpoint, to: Endpoint): Uint8Array {
  const sentBy = `${hostForHeader(from.host)}:${from.port}`;
  seq++;
  return formatMessage({
    method,
    uri: `sips:test@${hostForHeader(to.host)}:${to.port}`,
    headers: [
      ['Via', `SIP/2.0/TLS ${sentBy};branch=z9hG4bK-tls-${seq};rport`],
      ['Max-Forwards', '70'],
      ['From', `<sips:a@${sentBy}>;tag=f${seq}`],
      ['To', `<sips:test@${hostForHeader(to.host)}>`],
      ['Call-ID', `tls-${seq}@test`],
      ['CSeq', `${seq} ${method}`],
    ],
  });
}

const client = (tls: TlsOptions, options: Partial<TransportLayerOptions> = {}): Promise<Harness> => start(tls, { listeners: [], ...options });

/** Sends one request from `client` to `target`; resolves with the error (or undefined once it arrived at `to`) and the time to the error. */
async function attempt(client: Harness, to: Harness | undefined, target: Endpoint, timeoutMs = 2000): Promise<{ error: TransportError | undefined; ms: number }> {
  let error: TransportError | undefined;
  let ms = -1;
  const before = to?.received.length ?? 0;
  const t0 = performance.now();
  // Client-only layers have no TLS listener; the Via only has to parse.
  const from: Endpoint = client.layer.listeners.length > 0 ? client.layer.localEndpoint('tls') : { transport: 'tls', host: '127.0.0.1', port: 5061 };
  client.layer.send(request('OPTIONS', from, target), target, {
    onError: (e) => {
      error = e;
      ms = performance.now() - t0;
    },
  });
  await waitFor('delivery or error', () => error !== undefined || (to !== undefined && to.received.length > before), timeoutMs);
  return { error, ms };
}

for (const host of ['127.0.0.1', '::1']) {
  test(`TLS ${host}: certificate verified by IP SAN; response on the incoming flow`, async () => {
    const b = await start({ cert: pki.cert, key: pki.key }, {}, host);
    const a = await start({ ca: pki.ca, cert: pki.cert, key: pki.key }, {}, host);
    try {
      const bEnd = b.layer.localEndpoint('tls');
      const { error } = await attempt(a, b, bEnd);
      assert.is(error, undefined);
      const r = b.received[0]!;
      assert.ok(r.flowId?.startsWith('tls-'));
      assert.is(r.source.transport, 'tls');
      assert.equal(b.layer.responseTarget(r), { transport: 'tls', host, port: a.layer.localEndpoint('tls').port });
      const m = r.message;
      b.layer.send(
        formatMessage({
          status: 200,
          headers: [
            ...b.layer.responseViaFields(r).map((v): [string, string] => ['Via', v]),
            ['From', m.header('from')!],
            ['To', `${m.header('to')!};tag=x`],
            ['Call-ID', m.callId!],
            ['CSeq', m.header('cseq')!],
          ],
        }),
        b.layer.responseTarget(r),
        { flowId: r.flowId! },
      );
      await waitFor('response', () => a.received.length === 1);
      assert.is(a.received[0]!.message.status, 200);
      assert.equal([a.layer.stats().outgoing, b.layer.stats().incoming, b.layer.stats().outgoing], [1, 1, 0]);
    } finally {
      await a.layer.close();
      await b.layer.close();
    }
  });
}

test('TLS: host name verification: the right name passes, a wrong one -> ETLS within 100 ms', async () => {
  const b = await server();
  const good = await client({ ca: pki.ca });
  const wrong = await client({ ca: pki.ca });
  const wrongDefault = await client({ ca: pki.ca, servername: 'wrong.test' });
  try {
    const bEnd = b.layer.localEndpoint('tls');
    good.layer.setTlsServerName(bEnd, 'sip.test');
    assert.is((await attempt(good, b, bEnd)).error, undefined);
    wrong.layer.setTlsServerName(bEnd, 'wrong.test');
    const r1 = await attempt(wrong, b, bEnd);
    assert.is(r1.error?.code, 'ETLS');
    assert.ok(r1.ms < 100, `ETLS after ${r1.ms.toFixed(1)} ms`);
    console.log(`    TLS wrong host name reported in ${r1.ms.toFixed(2)} ms`);
    const r2 = await attempt(wrongDefault, b, bEnd);
    assert.is(r2.error?.code, 'ETLS');
    // A per-target name can be removed again (back to the layer default).
    wrongDefault.layer.setTlsServerName(bEnd, '127.0.0.1');
    assert.is((await attempt(wrongDefault, b, bEnd)).error, undefined);
    wrongDefault.layer.setTlsServerName(bEnd, undefined);
    assert.is(wrong.closedFlows[0]?.error?.code, 'ETLS');
  } finally {
    await Promise.all([good.layer.close(), wrong.layer.close(), wrongDefault.layer.close()]);
    await b.layer.close();
  }
});

test('TLS: unknown CA and no CA -> ETLS within 100 ms; rejectUnauthorized:false accepted', async () => {
  const b = await server();
  const unknown = await client({ ca: pki.otherCa });
  const roots = await client({});
  const lab = await client({ rejectUnauthorized: false });
  try {
    const bEnd = b.layer.localEndpoint('tls');
    const r1 = await attempt(unknown, b, bEnd);
    assert.is(r1.error?.code, 'ETLS');
    assert.ok(r1.ms < 100, `ETLS after ${r1.ms.toFixed(1)} ms`);
    console.log(`    TLS unknown CA reported in ${r1.ms.toFixed(2)} ms`);
    const r2 = await attempt(roots, b, bEnd);
    assert.is(r2.error?.code, 'ETLS');
    assert.is(b.received.length, 0);
    assert.is((await attempt(lab, b, bEnd)).error, undefined);
    assert.is(b.received.length, 1);
    await waitFor('tls client errors seen by the listener', () => b.diagnostics.filter((d) => d.type === 'tls-client-error').length >= 1);
  } finally {
    await Promise.all([unknown.layer.close(), roots.layer.close(), lab.layer.close()]);
    await b.layer.close();
  }
});

test('TLS: mutual TLS: with a client certificate accepted, without one -> ETLS', async () => {
  const b = await start({ cert: pki.cert, key: pki.key, ca: pki.ca, requestCert: true });
  const withCert = await client({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
  const without = await client({ ca: pki.ca });
  try {
    const bEnd = b.layer.localEndpoint('tls');
    const send = async (client: Harness): Promise<TransportError | undefined> => {
      let error: TransportError | undefined;
      const before = b.received.length;
      client.layer.send(request('OPTIONS', bEnd, bEnd), bEnd, { onError: (e) => (error = e) });
      await waitFor('delivery or error', () => error !== undefined || b.received.length > before);
      return error;
    };
    assert.is(await send(withCert), undefined);
    assert.is((await send(without))?.code, 'ETLS');
  } finally {
    await Promise.all([withCert.layer.close(), without.layer.close()]);
    await b.layer.close();
  }
});

test('TLS: the listener refuses TLS 1.1', async () => {
  const b = await server();
  try {
    const outcome = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: b.layer.localEndpoint('tls').port, rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
      socket.on('secureConnect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (error: Error & { code?: string }) => resolve(error.code ?? 'error'));
    });
    assert.is.not(outcome, 'connected');
  } finally {
    await b.layer.close();
  }
});

async function silentServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const srv = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => srv.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = srv.address();
  return { server: srv, port: typeof address === 'object' && address !== null ? address.port : 0, sockets };
}

async function stopServer(s: { server: Server; sockets: Socket[] }): Promise<void> {
  for (const socket of s.sockets) socket.destroy();
  await new Promise<void>((resolve) => s.server.close(() => resolve()));
}

test('TLS: handshake that never completes -> ETIMEDOUT; refused -> ECONNREFUSED', async () => {
  const silent = await silentServer();
  const a = await client({ ca: pki.ca }, { connectTimeoutMs: 80 });
  try {
    const r1 = await attempt(a, undefined, { transport: 'tls', host: '127.0.0.1', port: silent.port });
    assert.is(r1.error?.code, 'ETIMEDOUT');
    assert.ok(r1.ms >= 70 && r1.ms < 500, `after ${r1.ms.toFixed(0)} ms`);
    await stopServer(silent);
    const r2 = await attempt(a, undefined, { transport: 'tls', host: '127.0.0.1', port: silent.port });
    assert.is(r2.error?.code, 'ECONNREFUSED');
    assert.ok(r2.ms < 100);
    console.log(`    TLS refused reported in ${r2.ms.toFixed(2)} ms`);
  } finally {
    await a.layer.close();
    await stopServer(silent).catch(() => {});
  }
});

test('TLS: handshakes hold incoming slots: a new one evicts the oldest; close() frees them', async () => {
  await sleep(20);
  const count = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
  const before = count();
  const b = await start({ cert: pki.cert, key: pki.key }, { maxIncomingConnections: 1 });
  const raws: Socket[] = [];
  try {
    const port = b.layer.localEndpoint('tls').port;
    const closed: boolean[] = [];
    for (let k = 0; k < 2; k++) {
      const socket = createConnection({ host: '127.0.0.1', port });
      const index = k;
      closed[index] = false;
      socket.on('error', () => {});
      socket.on('close', () => (closed[index] = true));
      raws.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
    }
    await waitFor('first evicted', () => closed[0] === true);
    assert.is(closed[1], false);
    assert.is(b.layer.stats().handshaking, 1);
    assert.ok(b.diagnostics.some((d) => d.type === 'connection-evicted'));
    await b.layer.close();
    await waitFor('second closed by close()', () => closed[1] === true);
    assert.equal([b.layer.stats().handshaking, b.layer.stats().listening], [0, 0]);
  } finally {
    for (const socket of raws) socket.destroy();
    await b.layer.close();
  }
  await sleep(5);
  assert.is(count(), before);
});

test('TLS: a handshake not done within handshakeTimeoutMs is destroyed (Node only reports it); garbage at once', async () => {
  const b = await start({ cert: pki.cert, key: pki.key }, { handshakeTimeoutMs: 200 });
  const raws: Socket[] = [];
  try {
    const port = b.layer.localEndpoint('tls').port;
    const closedAt: number[] = [];
    const t0 = performance.now();
    for (let k = 0; k < 3; k++) {
      const socket = createConnection({ host: '127.0.0.1', port });
      const index = k;
      closedAt[index] = -1;
      socket.on('error', () => {});
      socket.on('close', () => (closedAt[index] = performance.now() - t0));
      raws.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
    }
    raws[2]!.write('OPTIONS sip:x SIP/2.0\r\n\r\n');
    await waitFor('garbage closed', () => closedAt[2]! >= 0, 1000);
    assert.ok(closedAt[2]! < 150, `garbage closed after ${closedAt[2]!.toFixed(0)} ms`);
    await waitFor('silent ones closed', () => closedAt[0]! >= 0 && closedAt[1]! >= 0, 2000);
    for (const at of closedAt.slice(0, 2)) assert.ok(at >= 180 && at < 1000, `closed after ${at.toFixed(0)} ms`);
    assert.is(b.diagnostics.filter((d) => d.type === 'connection-expired' && d.why === 'handshake').length, 2, `diagnostics: ${JSON.stringify(b.diagnostics)}; closed at ${closedAt.map((t) => t.toFixed(0)).join(', ')} ms`);
    assert.equal([b.layer.stats().handshaking, b.layer.stats().connections], [0, 0]);
    // The listener still serves.
    const a = await client({ ca: pki.ca });
    try {
      const { error } = await attempt(a, b, b.layer.localEndpoint('tls'));
      assert.is(error, undefined);
    } finally {
      await a.layer.close();
    }
  } finally {
    for (const socket of raws) socket.destroy();
    await b.layer.close();
  }
});

test('TLS: a TLS listener needs a certificate; create() rejects and frees what it bound', async () => {
  let failed: unknown;
  try {
    const layer = await SipTransportLayer.create({ listeners: [{ transport: 'udp', host: '127.0.0.1' }, { transport: 'tls', host: '127.0.0.1' }] });
    await layer.close();
  } catch (error) {
    failed = error;
  }
  assert.match(String(failed), /tls\.cert and tls\.key/);
});

test.run();
