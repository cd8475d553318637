/**
 * Sites named by host name, on real loopback sockets: SipTransportLayer
 * sends to names (a scripted resolver maps test names to 127.0.0.x, so no
 * DNS query leaves the machine), and a Phone whose connections name their
 * sites `localhost` (the system resolver answers it from /etc/hosts).
 *
 * Covers: UDP and TCP sends to a name arriving, in order, the ones sent
 * before the lookup answered included; the Via/Contact address for a name
 * (localEndpoint) once it is looked up, and after its answer went stale; an
 * address of a family we listen on, the same one while the answers hold it;
 * a silent UDP address left for the next one when a request sent there got
 * no response (noResponse), and only then; a name that does not resolve, or
 * that is not a host name, failing with EUNREACHABLE and the reason; a Phone
 * registering to `localhost:PORT` and listening on loopback only, a call out
 * through that site and one in from it, on its connection, ended cleanly.
 * Not covered: the resolver's cache rules (test/unit/transport-host-resolver.test.ts),
 * TLS to a name (the certificate is checked against the name: tls.ts's
 * servername, set per resolved address by the layer).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage } from '../../src/parser/index.ts';
import { HostResolver, SipTransportLayer, type LookupAll } from '../../src/transport/index.ts';
import type { Endpoint, Received, TransportError } from '../../src/transport/types.ts';
import { createSocket } from 'node:dgram';
import { Phone } from '../../src/sdk/index.ts';
import { PASSWORD, Recorder, SessionLog, labSite, until } from './sdk-support.ts';
import { waitFor } from './polling.ts';

const NAMES: Record<string, string> = { 'site-a.test': '127.0.0.1', 'site-b.test': '127.0.0.2' };

/** Answers test names after `delayMs`, counting queries; anything else does not resolve. */
function scriptedLookup(delayMs: number): { lookup: LookupAll; queries: string[] } {
  const queries: string[] = [];
  const lookup: LookupAll = (host, done) => {
    queries.push(host);
    setTimeout(() => {
      const address = NAMES[host];
      if (address === undefined) done(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
      else done(null, [address]);
    }, delayMs);
  };
  return { lookup, queries };
}

let seq = 0;
function options(target: string, transport: 'UDP' | 'TCP'): Uint8Array {
  seq++;
  return formatMessage({
    method: 'OPTIONS',
    uri: `sip:probe@${target}`,
    headers: [
      ['Via', `SIP/2.0/${transport} 127.0.0.9:5060;branch=z9hG4bK-names-${seq}`],
      ['Max-Forwards', '70'],
      ['From', `<sip:a@127.0.0.9>;tag=n${seq}`],
      ['To', `<sip:probe@${target}>`],
      ['Call-ID', `names-${seq}@test`],
      ['CSeq', `${seq} OPTIONS`],
    ],
    body: '',
  });
}

/** A receiver on 127.0.0.2 (`receives`), a sender on 127.0.0.1 (UDP and TCP) looking names up with `lookup`, and what the receiver got. */
async function sendAndReceive(lookup: LookupAll, receives: ReadonlyArray<'udp' | 'tcp'> = ['udp', 'tcp']): Promise<{ receiver: SipTransportLayer; sender: SipTransportLayer; got: Received[] }> {
  const receiver = await SipTransportLayer.create({ listeners: receives.map((transport) => ({ transport, host: '127.0.0.2', port: 0 })) });
  const sender = await SipTransportLayer.create({
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 }],
    resolver: new HostResolver({ lookup }),
  });
  const got: Received[] = [];
  receiver.onReceive = (r) => got.push(r);
  return { receiver, sender, got };
}

test('UDP and TCP sends to a host name arrive in order, those sent before the lookup answered included; Via/Contact use its address after', async () => {
  const { lookup, queries } = scriptedLookup(30);
  const { receiver, sender, got } = await sendAndReceive(lookup);
  const errors: TransportError[] = [];
  try {
    for (const kind of ['udp', 'tcp'] as const) {
      const port = receiver.listeners.find((l) => l.transport === kind)!.port;
      const target: Endpoint = { transport: kind, host: 'site-b.test', port };
      const first = got.length;
      const seqs: number[] = [];
      for (let i = 0; i < 3; i++) {
        sender.send(options(`site-b.test:${port}`, kind === 'udp' ? 'UDP' : 'TCP'), target, { onError: (e) => errors.push(e) });
        seqs.push(seq);
      }
      await waitFor(`three ${kind} requests`, () => got.length === first + 3);
      assert.equal(got.slice(first).map((r) => r.message.cseq?.seq), seqs, 'in the order sent');
      assert.ok(got.slice(first).every((r) => r.source.host === '127.0.0.1'));
      assert.equal(sender.localEndpoint(kind, target), { transport: kind, host: '127.0.0.1', port: sender.listeners.find((l) => l.transport === kind)!.port });
    }
    assert.equal(queries, ['site-b.test'], 'one lookup for every send');
    assert.equal(sender.addressesOf('SITE-B.test'), ['127.0.0.2']);
    assert.equal(errors, []);
  } finally {
    await sender.close();
    await receiver.close();
  }
});

test("a name's address: of a family we listen on (::1 first, no IPv6 socket: 127.0.0.x), kept while the answer holds it, and Via/Contact keep it when the answer goes stale", async () => {
  const answers: Record<string, string[][]> = {
    'dual.test': [['::1', '127.0.0.2']],
    'turning.test': [['127.0.0.2', '127.0.0.3'], ['127.0.0.3', '127.0.0.2']],
    'v6.test': [['::1']],
  };
  const asked = new Map<string, number>();
  const lookup: LookupAll = (host, done) => {
    const n = asked.get(host) ?? 0;
    asked.set(host, n + 1);
    const list = answers[host]!;
    setTimeout(() => done(null, list[Math.min(n, list.length - 1)]!), 1);
  };
  const receiver = await SipTransportLayer.create({ listeners: [{ transport: 'udp', host: '127.0.0.2', port: 0 }] });
  const v4only = await SipTransportLayer.create({ listeners: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], resolver: new HostResolver({ lookup, ttlMs: 30 }) });
  const both = await SipTransportLayer.create({
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'udp', host: '::1', port: 0 }],
    resolver: new HostResolver({ lookup, ttlMs: 30 }),
  });
  const got: Received[] = [];
  receiver.onReceive = (r) => got.push(r);
  const port = receiver.listeners[0]!.port;
  try {
    v4only.send(options(`dual.test:${port}`, 'UDP'), { transport: 'udp', host: 'dual.test', port });
    await waitFor('the request to dual.test', () => got.length === 1);

    v4only.send(options(`turning.test:${port}`, 'UDP'), { transport: 'udp', host: 'turning.test', port });
    await waitFor('the first request to turning.test', () => got.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the answer goes stale; the next one lists 127.0.0.3 first
    v4only.send(options(`turning.test:${port}`, 'UDP'), { transport: 'udp', host: 'turning.test', port });
    await waitFor('the second request to turning.test, to the same address', () => got.length === 3);
    assert.is(asked.get('turning.test'), 2, 'asked again after the TTL');

    const v4 = both.listeners.find((l) => l.family === 4)!;
    const v6 = both.listeners.find((l) => l.family === 6)!;
    const target: Endpoint = { transport: 'udp', host: 'v6.test', port: 5060 };
    assert.equal(both.localEndpoint('udp', target), { transport: 'udp', host: v4.advertisedHost, port: v4.port }, 'never looked up: the first listener');
    const errors: TransportError[] = [];
    both.send(options('v6.test', 'UDP'), target, { onError: (e) => errors.push(e) });
    await waitFor('v6.test looked up', () => asked.get('v6.test') === 1 && both.addressesOf('v6.test').length === 1);
    assert.equal(both.localEndpoint('udp', target), { transport: 'udp', host: v6.advertisedHost, port: v6.port }, 'its address: the IPv6 listener');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(both.localEndpoint('udp', target), { transport: 'udp', host: v6.advertisedHost, port: v6.port }, 'stale: still the IPv6 listener');
  } finally {
    await v4only.close();
    await both.close();
    await receiver.close();
  }
});

test("an address of a name that refuses hands the name's next address to the sends after it (UDP: ICMP; TCP: RST)", async () => {
  const lookup: LookupAll = (host, done) => setTimeout(() => done(null, host.startsWith('pair-') ? ['127.0.0.3', '127.0.0.2'] : []), 1);
  const { receiver, sender, got } = await sendAndReceive(lookup);
  try {
    for (const kind of ['udp', 'tcp'] as const) {
      const port = receiver.listeners.find((l) => l.transport === kind)!.port;
      // A name per transport keeps the two cases apart (each (transport, name, port) has its own address anyway).
      const name = `pair-${kind}.test`;
      const target: Endpoint = { transport: kind, host: name, port };
      const errors: TransportError[] = [];
      const onError = (e: TransportError): void => void errors.push(e);
      const before = got.length;
      sender.send(options(`${name}:${port}`, kind === 'udp' ? 'UDP' : 'TCP'), target, { onError });
      await waitFor(`the ${kind} send to 127.0.0.3 refused`, () => errors.length === 1);
      assert.is(errors[0]!.code, 'ECONNREFUSED');
      assert.is(errors[0]!.target.host, '127.0.0.3', 'the first address of the answer, first');
      sender.send(options(`${name}:${port}`, kind === 'udp' ? 'UDP' : 'TCP'), target, { onError });
      await waitFor(`the next ${kind} send at 127.0.0.2`, () => got.length === before + 1);
      assert.ok(sender.stats().pendingSenders > 0);
      // The callback went out on two addresses (wrapped): release() takes it off both.
      sender.release(target, { onError });
      assert.is(sender.stats().pendingSenders, 0, 'released from every address it was sent to');
    }
  } finally {
    await sender.close();
    await receiver.close();
  }
});

test("a UDP address of a name that stays silent: noResponse of a sender that went there hands the next address over; of a sender that did not, nothing", async () => {
  const lookup: LookupAll = (host, done) => setTimeout(() => done(null, ['127.0.0.3', '127.0.0.2']), 1);
  const { receiver, sender, got } = await sendAndReceive(lookup, ['udp']);
  const port = receiver.listeners[0]!.port;
  // 127.0.0.3 on the same port takes the datagrams and never answers: no ICMP, no error, silence.
  const silent = createSocket('udp4');
  let swallowed = 0;
  silent.on('message', () => swallowed++);
  await new Promise<void>((resolve) => silent.bind(port, '127.0.0.3', resolve));
  try {
    const target: Endpoint = { transport: 'udp', host: 'silent-pair.test', port };
    const first = { onError: (): void => undefined };
    sender.send(options(`silent-pair.test:${port}`, 'UDP'), target, first);
    await waitFor('the first send swallowed at 127.0.0.3', () => swallowed === 1);
    // A sender that never went to the name (no wrapper of its callback) moves nothing.
    sender.noResponse(target, { onError: (): void => undefined });
    sender.send(options(`silent-pair.test:${port}`, 'UDP'), target, first);
    await waitFor('the second send swallowed too', () => swallowed === 2);
    assert.is(got.length, 0);
    // The transaction that went to 127.0.0.3 timed out with no response: the next send goes to 127.0.0.2.
    sender.noResponse(target, first);
    const second = { onError: (): void => undefined };
    sender.send(options(`silent-pair.test:${port}`, 'UDP'), target, second);
    await waitFor('the next send at 127.0.0.2', () => got.length === 1);
    assert.is(swallowed, 2);
    assert.is(sender.localEndpoint('udp', target).host, '127.0.0.1');
    // A late silence of the first sender (its address already left) does not move the name back or on.
    sender.noResponse(target, first);
    sender.send(options(`silent-pair.test:${port}`, 'UDP'), target, second);
    await waitFor('still at 127.0.0.2', () => got.length === 2);
    assert.is(swallowed, 2);
    sender.release(target, first);
    sender.release(target, second);
    assert.is(sender.stats().pendingSenders, 0);
  } finally {
    silent.close();
    await sender.close();
    await receiver.close();
  }
});

test('each (transport, name, port) keeps its own address: a TCP refusal does not move UDP; an IPv4-mapped answer is compared as IPv4', async () => {
  const lookup: LookupAll = (host, done) => setTimeout(() => done(null, host === 'mapped.test' ? ['::ffff:127.0.0.3', '::ffff:127.0.0.2'] : ['127.0.0.2', '127.0.0.3']), 1);
  // The receiver takes UDP on 127.0.0.2 and no TCP: a TCP send to shared.test is refused there.
  const { receiver, sender, got } = await sendAndReceive(lookup, ['udp']);
  const port = receiver.listeners[0]!.port;
  try {
    const udp: Endpoint = { transport: 'udp', host: 'shared.test', port };
    sender.send(options(`shared.test:${port}`, 'UDP'), udp);
    await waitFor('UDP at 127.0.0.2', () => got.length === 1);
    const tcpErrors: TransportError[] = [];
    sender.send(options(`shared.test:${port}`, 'TCP'), { transport: 'tcp', host: 'shared.test', port }, { onError: (e) => tcpErrors.push(e) });
    await waitFor('TCP refused at 127.0.0.2', () => tcpErrors.length === 1);
    assert.is(tcpErrors[0]!.target.host, '127.0.0.2');
    sender.send(options(`shared.test:${port}`, 'UDP'), udp);
    await waitFor('UDP still at 127.0.0.2', () => got.length === 2);

    const errors: TransportError[] = [];
    const mapped: Endpoint = { transport: 'udp', host: 'mapped.test', port };
    sender.send(options(`mapped.test:${port}`, 'UDP'), mapped, { onError: (e) => errors.push(e) });
    await waitFor('127.0.0.3 refused', () => errors.length === 1);
    assert.is(errors[0]!.target.host, '127.0.0.3');
    assert.equal(sender.addressesOf('mapped.test'), ['127.0.0.3', '127.0.0.2'], 'normalized');
    sender.send(options(`mapped.test:${port}`, 'UDP'), mapped, { onError: (e) => errors.push(e) });
    await waitFor('moved on to 127.0.0.2', () => got.length === 3);
  } finally {
    await sender.close();
    await receiver.close();
  }
});

test('a name that does not resolve, and a host that is not a name: EUNREACHABLE with the reason, nothing sent', async () => {
  const { lookup } = scriptedLookup(5);
  const sender = await SipTransportLayer.create({ listeners: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], resolver: new HostResolver({ lookup }) });
  let sent = 0;
  sender.onTrace = (direction) => void (direction === 'out' && sent++);
  try {
    const errors: TransportError[] = [];
    sender.send(options('nowhere.test', 'UDP'), { transport: 'udp', host: 'nowhere.test', port: 5060 }, { onError: (e) => errors.push(e) });
    sender.send(options('bad_name', 'UDP'), { transport: 'udp', host: 'bad_name!', port: 5060 }, { onError: (e) => errors.push(e) });
    await waitFor('two errors', () => errors.length === 2);
    const byHost = new Map(errors.map((e) => [e.target.host, e]));
    assert.is(byHost.get('bad_name!')?.code, 'EUNREACHABLE');
    assert.match(byHost.get('bad_name!')!.message, /IP address or a host name/);
    assert.is(byHost.get('nowhere.test')?.code, 'EUNREACHABLE');
    assert.match(byHost.get('nowhere.test')!.message, /cannot resolve nowhere\.test: ENOTFOUND/);
    assert.is(sent, 0, 'nothing sent');
  } finally {
    await sender.close();
  }
});

test('a Phone whose connection names its site localhost: registers, calls out through it, takes a call in from it', async () => {
  const site = await labSite('named', '127.0.0.1');
  const phone = await Phone.create({
    connections: [{ user: '1001', server: `localhost:${site.port}`, transport: 'udp', password: PASSWORD, reregisterInSeconds: 60 }],
  });
  const party = await Phone.create({ connections: [{ user: '1002', server: `127.0.0.1:${site.port}`, transport: 'udp', password: PASSWORD }] });
  const connections = new Recorder(phone);
  const sessions = new SessionLog(phone);
  party.sessions.on('sessionStatusChanged', (e) => {
    if (e.direction === 'inbound' && e.status === 'ringing') void party.calls.answer(e.sessionId).catch(() => {});
  });
  try {
    assert.ok(phone.transport.listeners.every((l) => l.host === '127.0.0.1'), 'localhost is loopback: the Phone listens on loopback only');
    await Promise.all([phone.start(), party.start()]);
    await connections.status(0, 'registered', 8000);
    assert.is(phone.connections.connection(0)?.settings.server.host, 'localhost', 'the connection keeps its name');
    await until(() => party.connections.registeredIds().length === 1, 8000, 'the far party registered');

    const out = await phone.calls.dial(0, '1002');
    await until(() => phone.sessions.session(out.id)?.status === 'connected', 8000, 'the call out connected');
    await phone.calls.hangup(out.id);

    const inbound = await party.calls.dial(0, '1001');
    const ringing = await sessions.incoming(8000);
    assert.is(ringing.connectionId, 0);
    await phone.calls.answer(ringing.sessionId);
    await until(() => party.sessions.session(inbound.id)?.status === 'connected', 8000, 'the call in connected');
    await party.calls.hangup(inbound.id);
    await until(() => phone.sessions.session(ringing.sessionId) === undefined, 8000, 'the call in ended');
  } finally {
    await phone.close();
    await party.close();
    await site.stop();
  }
});

test.run();
