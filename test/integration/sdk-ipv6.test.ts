/**
 * IPv6 sites (issue 10): a Phone whose connections include IPv6 servers
 * listens on IPv6 as well, picks the local address family per registrar, and
 * writes its IPv6 address in Via and Contact in brackets. Lab sites on ::1
 * (UDP and TCP) and on 127.0.0.1 in the same Phone.
 *
 * Not covered here: Kamailio on ::1 (test/interop/sdk-kamailio-ipv6.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Phone } from '../../src/sdk/index.ts';
import { labConnection, labSite, Recorder, registersTo, traceRequests, transportIdle } from './sdk-support.ts';

test('one Phone, sites on ::1 (UDP, TCP) and 127.0.0.1: all registered, IPv6 Via and Contact in brackets', async () => {
  const v6 = await labSite('v6', '::1');
  const v4 = await labSite('v4', '127.0.0.1');
  const phone = await Phone.create({
    connections: [
      labConnection(v6, { transport: 'udp' }),
      labConnection(v6, { transport: 'tcp', user: '1002' }),
      labConnection(v4, { transport: 'udp' }),
    ],
  });
  try {
    const sent = traceRequests(phone);
    const events = new Recorder(phone);
    phone.start();
    await Promise.all([0, 1, 2].map((id) => events.status(id, 'registered', 5000)));
    assert.ok(phone.transport.listeners.some((l) => l.family === 6 && l.transport === 'udp'), 'an IPv6 UDP listener');
    assert.ok(phone.transport.listeners.some((l) => l.family === 6 && l.transport === 'tcp'), 'an IPv6 TCP listener');
    const [overUdp6] = registersTo(sent, '::1').filter((r) => r.to.transport === 'udp');
    const [overTcp6] = registersTo(sent, '::1').filter((r) => r.to.transport === 'tcp');
    const [overUdp4] = registersTo(sent, '127.0.0.1');
    assert.ok(overUdp6 && overTcp6 && overUdp4, 'a REGISTER to each site');
    assert.is(overUdp6.message.header('via')?.match(/^SIP\/2\.0\/UDP \[::1\]:\d+;/)?.length, 1, overUdp6.message.header('via') ?? '');
    assert.match(overUdp6.message.header('contact') ?? '', /^<sip:1001@\[::1\]:\d+;line=[0-9a-f]+>/);
    assert.match(overTcp6.message.header('contact') ?? '', /^<sip:1002@\[::1\]:\d+;transport=tcp;line=[0-9a-f]+>/);
    assert.match(overUdp4.message.header('contact') ?? '', /^<sip:1001@127\.0\.0\.1:\d+;line=[0-9a-f]+>/);
    assert.is(overUdp6.message.uri?.toString(), `sip:[::1]:${v6.port}`, 'Request-URI: the server as written');
    assert.equal(v6.bindings().map((b) => b.contact.replace(/\]:\d+/, ']:P').replace(/;line=[0-9a-f]+/, '')).sort(), ['sip:1001@[::1]:P', 'sip:1002@[::1]:P;transport=tcp']);
  } finally {
    await phone.close();
    await v6.close();
    await v4.close();
  }
  assert.ok(transportIdle(phone), 'every socket closed');
});

test('a Phone with only IPv4 servers binds no IPv6 socket; ipv6: true adds them', async () => {
  const plain = await Phone.create({ connections: [{ user: '1001', server: '127.0.0.1:5999' }] });
  const both = await Phone.create({ connections: [{ user: '1001', server: '127.0.0.1:5999' }] }, { ipv6: true });
  try {
    assert.equal(plain.transport.listeners.map((l) => l.family), [4, 4]);
    assert.equal(both.transport.listeners.map((l) => `${l.transport}/${l.host}`), ['udp/127.0.0.1', 'tcp/127.0.0.1', 'udp/::1', 'tcp/::1']);
  } finally {
    await plain.close();
    await both.close();
  }
});

test('addConnection with an IPv6 server on a Phone without IPv6 listeners: a clear error', async () => {
  const phone = await Phone.create({ connections: [{ user: '1001', server: '127.0.0.1:5999' }] });
  try {
    assert.throws(() => phone.connections.addConnection(5, { user: '1001', server: '[::1]:5070' }), /IPv6.*ipv6: true/);
  } finally {
    await phone.close();
  }
});

test('addConnection to a server elsewhere on a Phone that listens on loopback only: a clear error (a loopback one is taken)', async () => {
  // Never started: nothing is sent (192.0.2.0/24 is TEST-NET-1). A wildcard-bound Phone is not made here: tests bind loopback only.
  const loopback = await Phone.create({ connections: [{ user: '1001', server: '127.0.0.1:5999' }] });
  try {
    assert.throws(() => loopback.connections.addConnection(5, { user: '1001', server: '192.0.2.7:5060' }), /loopback only.*localHost: '0\.0\.0\.0'/);
    assert.not.ok(loopback.connections.connections.some((c) => c.id === 5), 'not added');
    loopback.connections.addConnection(6, { user: '1001', server: 'localhost:5070' });
    assert.ok(loopback.connections.connections.some((c) => c.id === 6));
  } finally {
    await loopback.close();
  }
});

test.run();
