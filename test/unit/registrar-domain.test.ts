/**
 * The registrar domain of a connection (issue 10): the REGISTER Request-URI
 * is `sip:DOMAIN` and To/From are `sip:USER@DOMAIN`, where DOMAIN defaults
 * to the `server` value as written (host, and the port only when one is
 * written), because a registrar compares its Request-URI with its own
 * sockets, port included (Kamailio's `uri == myself`). A `domain` setting
 * replaces it, and the request still goes to `server` (outbound proxy).
 *
 * Covers: each server form (IPv4 with and without port, IPv6 with and
 * without port, a host name, the object form), the domain setting, the
 * config file path. Not covered: digest (registrar-digest.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConnectionManager, configFromXml, type ConnectionInput } from '../../src/sdk/index.ts';
import { rig } from './registrar-fakes.ts';

interface Seen {
  readonly requestLine: string;
  readonly to: string | undefined;
  readonly from: string | undefined;
  readonly sentTo: string;
}

/** Registers one connection against a fake site at (host, port) and returns what the site received. */
function firstRegister(input: ConnectionInput, siteHost: string, sitePort: number): Seen {
  const r = rig();
  const site = r.network.site(siteHost, sitePort, 'udp');
  const connections = new ConnectionManager(r.manager, (ms) => ms);
  r.manager.onStatusChanged = (event) => connections.onRegistrationStatus(event);
  connections.addConnection(0, { transport: 'udp', ...input });
  connections.enableConnection(0);
  r.advance(1);
  const first = site.registers[0];
  assert.ok(first, `a REGISTER reached ${siteHost}:${sitePort}`);
  const message = first.message;
  return {
    requestLine: `${message.method} ${message.uri!.toString()}`,
    to: message.to?.uri.toString(),
    from: message.from?.uri.toString(),
    sentTo: `${first.target.host}|${first.target.port}`,
  };
}

const cases: Array<[string, ConnectionInput['server'], string, number, string]> = [
  // [label, server as written, site host, site port, expected domain]
  ['IPv4 with a port', '127.0.0.1:5070', '127.0.0.1', 5070, '127.0.0.1:5070'],
  ['IPv4 without a port', '127.0.0.1', '127.0.0.1', 5060, '127.0.0.1'],
  ['IPv6 with a port', '[2001:db8::1]:5070', '2001:db8::1', 5070, '[2001:db8::1]:5070'],
  ['IPv6 without a port', '[2001:db8::1]', '2001:db8::1', 5060, '[2001:db8::1]'],
  ['a host name', 'pbx.example.com', 'pbx.example.com', 5060, 'pbx.example.com'],
  ['a host name with a port', 'pbx.example.com:5080', 'pbx.example.com', 5080, 'pbx.example.com:5080'],
  ['the object form with a port', { host: '::1', port: 5090 }, '::1', 5090, '[::1]:5090'],
  ['the object form without a port', { host: '10.0.0.7' }, '10.0.0.7', 5060, '10.0.0.7'],
];

for (const [label, server, host, port, domain] of cases) {
  test(`default domain, ${label}: REGISTER sip:${domain}, To/From sip:1001@${domain}`, () => {
    const seen = firstRegister({ user: '1001', server }, host, port);
    assert.equal(seen, {
      requestLine: `REGISTER sip:${domain}`,
      to: `sip:1001@${domain}`,
      from: `sip:1001@${domain}`,
      sentTo: `${host}|${port}`,
    });
  });
}

test('domain setting: Request-URI and AOR use it, the request still goes to the server', () => {
  const seen = firstRegister({ user: '1001', server: '127.0.0.2:5080', domain: 'example.com' }, '127.0.0.2', 5080);
  assert.equal(seen, {
    requestLine: 'REGISTER sip:example.com',
    to: 'sip:1001@example.com',
    from: 'sip:1001@example.com',
    sentTo: '127.0.0.2|5080',
  });
});

test('domain setting with a port of its own', () => {
  const seen = firstRegister({ user: '1001', server: '[::1]:5090', domain: 'sip.example.com:5999' }, '::1', 5090);
  assert.is(seen.requestLine, 'REGISTER sip:sip.example.com:5999');
  assert.is(seen.to, 'sip:1001@sip.example.com:5999');
  assert.is(seen.sentTo, '::1|5090');
});

test('SipEndpoint.config with no domain setting: two sites on non-default ports', () => {
  const config = configFromXml(
    `<Cfg><Container name="Basic">
       <Connectivity user="1001" server="127.0.0.1:5070" protocol="udp"/>
       <Connectivity user="1001" server="[::1]:5090" protocol="tcp"/>
       <Connectivity user="1001" server="pbx.example.com" protocol="tls"/>
     </Container></Cfg>`,
    'sites.config',
  );
  assert.equal(
    config.connections.map((c) => c.domain),
    ['127.0.0.1:5070', '[::1]:5090', 'pbx.example.com'],
  );
});

test('a malformed domain is refused with the setting named', () => {
  assert.throws(() => {
    const r = rig();
    new ConnectionManager(r.manager, (ms) => ms).addConnection(0, { user: '1001', server: '127.0.0.1', domain: 'exa mple.com' });
  }, /domain/);
});

test.run();
