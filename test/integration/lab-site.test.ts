/**
 * The lab site (in-process registrar with digest) on real loopback sockets:
 * challenge, registration, 423, down (refusing and silent) and back up.
 * Driven by this stack's own client transaction layer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LabSite } from '../../src/lab/lab-site.ts';
import { SipTransportLayer } from '../../src/transport/index.ts';
import { SystemClock, TransactionLayer, type ClientOutcome } from '../../src/transaction/index.ts';
import { computeDigest, parseDigestAlgorithm } from '../../src/registrar-client/digest/index.ts';
import { parseMessage, type MessageParts } from '../../src/parser/index.ts';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

async function client(): Promise<{ layer: TransactionLayer; transport: SipTransportLayer }> {
  const transport = await SipTransportLayer.create({ listeners: [{ transport: 'udp', host: '127.0.0.1', port: 0 }] });
  const layer = new TransactionLayer({ transport, clock: new SystemClock(), user: { onRequest: () => {} }, timers: { T1: 50 } });
  transport.onReceive = layer.receive;
  return { layer, transport };
}

let cseq = 1;
function register(site: LabSite, local: string, expires: number, authorization?: string): MessageParts {
  const headers: Array<[string, string]> = [
    ['From', `<sip:1001@${site.options.host}>;tag=t1`],
    ['To', `<sip:1001@${site.options.host}>`],
    ['Call-ID', 'lab-test-call'],
    ['CSeq', `${cseq++} REGISTER`],
    ['Max-Forwards', '70'],
    ['Contact', `<sip:1001@${local}>`],
    ['Expires', String(expires)],
  ];
  if (authorization !== undefined) headers.push(['Authorization', authorization]);
  return { method: 'REGISTER', uri: `sip:${site.options.host}`, headers };
}

function send(layer: TransactionLayer, site: LabSite, parts: MessageParts): Promise<ClientOutcome> {
  return new Promise((resolve) => layer.sendRequest(parts, site.endpoint('udp'), { onFinal: resolve }));
}

function answer(challenge: string, site: LabSite): string {
  const params = new Map([...challenge.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1]!, m[2]!]));
  const algorithm = parseDigestAlgorithm(params.get('algorithm') ?? 'MD5')!;
  const uri = `sip:${site.options.host}`;
  const digest = computeDigest({ algorithm, username: '1001', realm: params.get('realm')!, password: 'secret', method: 'REGISTER', uri, nonce: params.get('nonce')!, qop: 'auth', cnonce: 'abc', nc: 1 });
  return `Digest username="1001", realm="${params.get('realm')}", nonce="${params.get('nonce')}", uri="${uri}", response="${digest.response}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="abc"`;
}

test('challenge, register, 423, refuse, silent and restart', async () => {
  const site = await LabSite.start({ name: 'a', host: '127.0.0.1', users: { '1001': 'secret' }, algorithm: 'SHA-256', minExpires: 60 });
  const { layer, transport } = await client();
  const local = `${transport.localEndpoint('udp').host}:${transport.localEndpoint('udp').port}`;
  try {
    const first = await send(layer, site, register(site, local, 300));
    assert.is(first.status, 401);
    const challenge = first.response.header('WWW-Authenticate')!;
    assert.match(challenge, /algorithm=SHA-256/);
    const ok = await send(layer, site, register(site, local, 300, answer(challenge, site)));
    assert.is(ok.status, 200);
    assert.is(site.bindings().length, 1);
    assert.match(ok.response.header('Contact')!, /expires=(299|300)/);

    const brief = await send(layer, site, register(site, local, 10, answer(challenge, site)));
    assert.is(brief.status, 423);
    assert.is(brief.response.minExpires, 60);

    await site.stop('refuse');
    const started = performance.now();
    const refused = await send(layer, site, register(site, local, 300, answer(challenge, site)));
    assert.is(refused.status, 503);
    assert.ok(performance.now() - started < 100, 'a refusing site is seen at once');

    await site.restart();
    const back = await send(layer, site, register(site, local, 300, answer(challenge, site)));
    assert.is(back.status, 200);

    await site.stop('silent');
    const silent = await send(layer, site, register(site, local, 300, answer(challenge, site)));
    assert.is(silent.status, 408); // Timer F = 64 * T1 = 3.2 s here
    await site.restart();
    assert.is((await send(layer, site, register(site, local, 0, answer(challenge, site)))).status, 200);
    assert.is(site.bindings().length, 0);
  } finally {
    layer.close();
    await transport.close();
    await site.close();
  }
});

test('nonces are capped (oldest forgotten) and expire: an expired one is answered stale=true', async () => {
  const site = await LabSite.start({ name: 'n', host: '127.0.0.1', users: { '1001': 'secret' }, maxNonces: 3, nonceLifetimeMs: 300 });
  const { layer, transport } = await client();
  const local = `${transport.localEndpoint('udp').host}:${transport.localEndpoint('udp').port}`;
  try {
    const challenges: string[] = [];
    for (let k = 0; k < 5; k++) challenges.push((await send(layer, site, register(site, local, 300))).response!.header('WWW-Authenticate')!);
    assert.is(site.nonces, 3, 'capped');
    // The first nonce was forgotten to make room: the right password with it is stale.
    const forgotten = await send(layer, site, register(site, local, 300, answer(challenges[0]!, site)));
    assert.is(forgotten.status, 401);
    assert.match(forgotten.response!.header('WWW-Authenticate')!, /stale=true/);
    const fresh = (await send(layer, site, register(site, local, 300))).response!.header('WWW-Authenticate')!;
    assert.is((await send(layer, site, register(site, local, 300, answer(fresh, site)))).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.is(site.nonces, 0, 'expired ones forgotten');
    const expired = await send(layer, site, register(site, local, 300, answer(fresh, site)));
    assert.match(expired.response!.header('WWW-Authenticate')!, /stale=true/);
  } finally {
    layer.close();
    await transport.close();
    await site.close();
  }
});

test('responses carry received and rport in the top Via (RFC 3581 s4)', async () => {
  const site = await LabSite.start({ name: 'r', host: '127.0.0.1', users: {} });
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    const request = [
      `OPTIONS sip:${site.options.host} SIP/2.0`,
      'Via: SIP/2.0/UDP 192.0.2.9:5099;branch=z9hG4bKrport1;rport',
      'From: <sip:a@example.com>;tag=1',
      'To: <sip:b@example.com>',
      'Call-ID: rport-test',
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const answer = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    socket.send(request, site.port, '127.0.0.1');
    const response = parseMessage(new Uint8Array(await answer));
    assert.is(response.status, 200);
    assert.is(response.topVia!.rport, port);
    assert.is(response.topVia!.received, '127.0.0.1');
  } finally {
    socket.close();
    await site.close();
  }
});

test('a lab site refuses a non-loopback address', async () => {
  try {
    await LabSite.start({ name: 'x', host: '192.0.2.1', users: {} });
    assert.unreachable('must refuse');
  } catch (error) {
    assert.match((error as Error).message, /not a loopback address/);
  }
});

test('a site draws its ports below the ephemeral range, and a restart waits for a port taken meanwhile', async () => {
  const [ephemeralStart] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const site = await LabSite.start({ name: 'p', host: '127.0.0.1', users: { '1001': 'secret' } });
  try {
    const udp = site.endpoint('udp').port;
    assert.ok(udp >= 10_000 && udp < ephemeralStart!, `UDP/TCP port ${udp} below ${ephemeralStart}`);
    assert.is(site.transport!.listeners.find((l) => l.transport === 'tcp')!.port, udp, 'UDP and TCP share a port');

    await site.stop('refuse');
    // Someone else holds the site's UDP port for 300 ms while it is down.
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(udp, '127.0.0.1', resolve));
    setTimeout(() => squatter.close(), 300);
    await site.restart();
    assert.is(site.state, 'up');
    assert.is(site.endpoint('udp').port, udp, 'the same port after the restart');
  } finally {
    await site.close();
  }
});

test.run();
