/**
 * Issue 10 against Kamailio sites that check `uri == myself` as Kamailio
 * ships it (host and port), on non-default ports: a Phone with no `domain`
 * setting registers over UDP, TCP and TLS, to a site on 127.0.0.1 and to one
 * on [::1], and to both from one Phone. On the wire the REGISTER's
 * Request-URI, To and From carry the server as written, port included; the
 * site holds one binding per user on the listener of that transport. A
 * connection whose domain drops the port gets Kamailio's `403 Not my domain`,
 * which shows that the check is really made.
 *
 * Already in sdk-kamailio.test.ts (not repeated): MD5 and SHA-256, one
 * binding after 100 refreshes, killed site, wrong password, the phone shell.
 * Site failure detection by keep-alive: sdk-kamailio-keep-alive.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Phone, type ConnectionInput } from '../../src/sdk/index.ts';
import { Recorder, registersTo, traceRequests } from '../integration/sdk-support.ts';
import { DEFAULT_PASSWORD, kamailioMissing, startSite, stopAllSites, type KamailioSite } from './harness/kamailio.ts';
import { stopAllPeers } from './harness/process.ts';

const missing = kamailioMissing();

async function until(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Transport = 'udp' | 'tcp' | 'tls';

/** A connection with the default domain (none given) to `site` over `transport`. */
function to(site: KamailioSite, transport: Transport, user: string, extra: Partial<ConnectionInput> = {}): ConnectionInput {
  return { user, server: `${site.uriHost}:${site.ports[transport]}`, transport, password: DEFAULT_PASSWORD, ...extra };
}

let v4: KamailioSite;
let v6: KamailioSite;

test.before(async () => {
  if (missing !== undefined) throw new Error(`Kamailio is needed for these tests: ${missing}`);
  v4 = await startSite({ name: 'stock-v4', address: '127.0.0.1', algorithm: 'MD5' });
  v6 = await startSite({ name: 'stock-v6', address: '::1', algorithm: 'SHA-256' });
});

test.after(async () => {
  await stopAllSites();
  await stopAllPeers();
});

/**
 * UDP (1001), TCP (1002) and TLS (1003) to `site` with the default domain,
 * plus 1001 over UDP with the port dropped from the domain (the control).
 */
async function everyTransport(site: KamailioSite): Promise<void> {
  const users: Array<[Transport, string]> = [['udp', '1001'], ['tcp', '1002'], ['tls', '1003']];
  const phone = await Phone.create(
    { connections: [...users.map(([transport, user]) => to(site, transport, user)), to(site, 'udp', 'u00001', { domain: site.uriHost })] },
    { tls: { ca: readFileSync(site.caCertPath) } },
  );
  const events = new Recorder(phone);
  const sent = traceRequests(phone);
  try {
    phone.start();
    await Promise.all([0, 1, 2].map((id) => events.status(id, 'registered', 10_000)));
    const control = await events.waitFor((e) => e.connectionId === 3 && e.status !== 'registering', 10_000, 0, 'the control connection settled');
    for (const id of [0, 1, 2]) assert.equal(events.seq(id), ['registering', 'registered(200)'], `connection ${id}`);
    assert.is(control.status, 'failed', 'a domain without the port is not this site');
    assert.is(control.code, 403);
    assert.is(control.reason, 'Not my domain');

    const registers = registersTo(sent, site.address);
    for (const [transport, user] of users) {
      const port = site.ports[transport];
      const first = registers.find((r) => r.to.transport === transport && r.message.to?.uri.user === user);
      assert.ok(first !== undefined, `a REGISTER over ${transport}`);
      const aor = `sip:${user}@${site.uriHost}:${port}`;
      assert.is(first.message.uri?.toString(), `sip:${site.uriHost}:${port}`, `${transport}: Request-URI is the server as written`);
      assert.is(first.message.to?.uri.toString(), aor, `${transport}: To`);
      assert.is(first.message.from?.uri.toString(), aor, `${transport}: From`);
      const via = first.message.header('via') ?? '';
      assert.ok(via.startsWith(`SIP/2.0/${transport.toUpperCase()} ${site.uriHost}:`), `${transport}: Via of the site's family: ${via}`);
      const contact = first.message.header('contact') ?? '';
      assert.ok(contact.startsWith(`<sip:${user}@${site.uriHost}:`), `${transport}: Contact of the site's family: ${contact}`);

      const bindings = await site.ulLookup(user);
      assert.is(bindings.length, 1, `${transport}: one binding for ${user}`);
      assert.is(bindings[0]!.socket, `${transport}:${site.uriHost}:${port}`, `${transport}: taken by the ${transport} listener`);
    }
    const refused = registers.find((r) => r.message.to?.uri.user === 'u00001');
    assert.is(refused?.message.uri?.toString(), `sip:${site.uriHost}`, 'the control REGISTER went to the site without a port');
    assert.equal(await site.ulLookup('u00001'), [], 'and stored nothing');
  } finally {
    await phone.close();
  }
  await until(async () => (await site.ulStats()).contacts === 0, 5000, 'every binding removed on close');
}

test('127.0.0.1 on non-default ports: UDP, TCP and TLS register with the default domain (port in Request-URI, To, From)', async () => {
  await everyTransport(v4);
});

test('[::1]: UDP, TCP and TLS register with the default domain; Via/Contact IPv6, TLS verified against the site CA (SAN IP ::1)', async () => {
  await everyTransport(v6);
});

test('one Phone, a site on 127.0.0.1 and one on ::1: each binding from the listener of its family', async () => {
  const phone = await Phone.create(
    {
      connections: [to(v4, 'udp', '1001'), to(v6, 'udp', '1001'), to(v4, 'tcp', '1002'), to(v6, 'tls', '1002')],
    },
    { tls: { ca: [readFileSync(v4.caCertPath), readFileSync(v6.caCertPath)] } },
  );
  const events = new Recorder(phone);
  const sent = traceRequests(phone);
  try {
    phone.start();
    await Promise.all([0, 1, 2, 3].map((id) => events.status(id, 'registered', 10_000)));
    for (const id of [0, 1, 2, 3]) assert.equal(events.seq(id), ['registering', 'registered(200)'], `connection ${id}`);
    assert.equal([...new Set(phone.transport.listeners.map((l) => l.family))].sort(), [4, 6], 'IPv4 and IPv6 listeners');

    const expected: Array<[KamailioSite, Transport, string]> = [[v4, 'udp', '1001'], [v6, 'udp', '1001'], [v4, 'tcp', '1002'], [v6, 'tls', '1002']];
    for (const [site, transport, user] of expected) {
      const [register] = registersTo(sent, site.address).filter((r) => r.to.transport === transport && r.message.to?.uri.user === user);
      assert.ok(register !== undefined, `a REGISTER to ${site.uriHost} over ${transport}`);
      const via = register.message.header('via') ?? '';
      assert.ok(via.startsWith(`SIP/2.0/${transport.toUpperCase()} ${site.uriHost}:`), `${site.name} ${transport}: Via from our ${site.uriHost} listener: ${via}`);
      const bindings = await site.ulLookup(user);
      assert.is(bindings.length, 1, `${site.name}: one binding for ${user}`);
      assert.ok(bindings[0]!.contact.startsWith(`sip:${user}@${site.uriHost}:`), `${site.name}: contact ${bindings[0]!.contact}`);
      assert.is(bindings[0]!.socket, `${transport}:${site.uriHost}:${site.ports[transport]}`);
    }
  } finally {
    await phone.close();
  }
  await until(async () => (await v4.ulStats()).contacts === 0 && (await v6.ulStats()).contacts === 0, 5000, 'every binding removed on close');
});

test.run();
