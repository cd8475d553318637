/**
 * Regression tests for SDK bugs found by the SDK test suite: a failed
 * Phone.create leaves nothing open; the collection after close(); once/off;
 * bad settings are ConnectionSettingsError.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConnectionError, ConnectionSettingsError, Phone, TypedEvents, completeSettings } from '../../src/sdk/index.ts';
import { LabSite } from '../../src/lab/lab-site.ts';

const openSockets = (): number =>
  process.getActiveResourcesInfo().filter((name) => name === 'UDPWrap' || name === 'TCPServerWrap' || name === 'TCPWrap').length;

test('a Phone.create that fails on a setting closes the sockets it opened', async () => {
  // Sockets of earlier test files may still be closing: count from a settled state.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const before = openSockets();
  for (const connection of [
    { user: 'a b', server: '127.0.0.1:5999' },
    { user: '1001', server: { host: 'bad host', port: 5060 } },
    { user: '1001', server: '127.0.0.1:5999', domain: 'bad domain' },
    { user: '1001', server: '127.0.0.1:5999', reregisterInSeconds: 9_999_999 },
  ]) {
    try {
      await Phone.create({ connections: [connection] });
      assert.unreachable(`must refuse ${JSON.stringify(connection)}`);
    } catch (error) {
      assert.instance(error, ConnectionSettingsError);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.is(openSockets(), before);
});

test('completeSettings: a non-string transport is a ConnectionSettingsError', () => {
  assert.throws(() => completeSettings({ user: '1001', server: '127.0.0.1', transport: 7 as unknown as 'udp' }), (error: unknown) => error instanceof ConnectionSettingsError);
});

test('after close() the collection is readable (every connection disabled) and changes are ConnectionErrors', async () => {
  const phone = await Phone.create({ connections: [{ user: '1001', server: '127.0.0.1:5999' }] });
  await phone.close();
  assert.equal(phone.connections.connections.map((c) => [c.id, c.status, c.enabled]), [[0, 'disabled', false]]);
  assert.equal(phone.connections.registeredIds(), []);
  assert.throws(() => phone.connections.enableConnection(0), (error: unknown) => error instanceof ConnectionError);
  assert.throws(() => phone.connections.addConnection(1, { user: '1001', server: '127.0.0.1:5999' }), (error: unknown) => error instanceof ConnectionError);
});

test('TypedEvents.off removes a handler added with once()', () => {
  const events = new TypedEvents<{ tick: number }>();
  const seen: number[] = [];
  const handler = (n: number): void => void seen.push(n);
  events.once('tick', handler);
  events.off('tick', handler);
  events.emit('tick', 1);
  assert.equal(seen, []);
  assert.is(events.listenerCount('tick'), 0);
});

test('RFC 5626 outbound: a connection given an instance id registers a Contact with +sip.instance and reg-id', async () => {
  const site = await LabSite.start({ name: 'ob', host: '127.0.0.1', users: { '1001': 'secret' } });
  const phone = await Phone.create({
    connections: [{ user: '1001', server: `127.0.0.1:${site.port}`, password: 'secret', instanceId: '6f1c3e5a-0b8e-4c57-9d36-2a4f5e6b7c8d', regId: 2 }],
  });
  const contacts: string[] = [];
  phone.transport.onTrace = (direction, _t, _s, _d, bytes) => {
    const text = new TextDecoder().decode(bytes);
    if (direction === 'out' && text.startsWith('REGISTER')) contacts.push(/^Contact: (.*)$/m.exec(text)![1]!);
  };
  try {
    phone.start();
    const deadline = Date.now() + 5000;
    while (phone.connections.registeredIds().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(phone.connections.registeredIds(), [0]);
    assert.match(contacts[0]!, /\+sip\.instance="<urn:uuid:6f1c3e5a-0b8e-4c57-9d36-2a4f5e6b7c8d>"/);
    assert.match(contacts[0]!, /reg-id=2/);
  } finally {
    await phone.close();
    await site.close();
  }
});

test.run();
