/**
 * Every connection setting the SipEndpoint.config loader accepts changes what
 * goes on the wire (issue 10): use_rport, display_name, auth_username,
 * domain (registrar-domain.test.ts), send_sip_keep_alive_messages and
 * keep_alive_interval_in_seconds (registrar-keep-alive.test.ts), the periods
 * (registrar-scheduler.test.ts). Here: the first three, from a config file
 * through the ConnectionManager to the fake registrar.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConnectionManager, configFromXml } from '../../src/sdk/index.ts';
import { rig } from './registrar-fakes.ts';
import type { SipMessage } from '../../src/parser/index.ts';

/** Registers the config's connection 0 against a fake digest site and returns the REGISTERs it sent. */
function registersFor(settingsXml: string): SipMessage[] {
  const config = configFromXml(
    `<Cfg><Container name="Basic"><Connectivity user="1001" server="198.51.100.20:5070"/></Container>
     <Container name="Genesys"><domain name="proxies"><section name="proxy0">
       <setting name="password" value="secret"/>${settingsXml}
     </section></domain></Container></Cfg>`,
    'effects.config',
  );
  const r = rig();
  const site = r.network.site('198.51.100.20', 5070, 'udp');
  site.digest = { realm: 'sites', passwords: { 1001: 'secret', 'agent-7': 'secret' } };
  const connections = new ConnectionManager(r.manager, (ms) => ms);
  r.manager.onStatusChanged = (event) => connections.onRegistrationStatus(event);
  connections.addConnection(0, config.connections[0]!);
  connections.enableConnection(0);
  r.advance(1);
  return site.registers.map((q) => q.message);
}

test('use_rport: 1 (default) puts rport in the Via, 0 leaves it out', () => {
  const withDefault = registersFor('');
  const off = registersFor('<setting name="use_rport" value="0"/>');
  assert.ok(withDefault.length > 0 && off.length > 0);
  for (const message of withDefault) assert.ok(message.topVia!.params.has('rport'), message.header('via') ?? '');
  for (const message of off) assert.not.ok(message.topVia!.params.has('rport'), message.header('via') ?? '');
});

test('display_name: quoted in From and To', () => {
  const [first] = registersFor('<setting name="display_name" value="Agent &quot;7&quot;"/>');
  assert.is(first!.header('from')!.split(';tag=')[0], '"Agent \\"7\\"" <sip:1001@198.51.100.20:5070>');
  assert.is(first!.header('to'), '"Agent \\"7\\"" <sip:1001@198.51.100.20:5070>');
});

test('auth_username: the digest username; the AOR keeps the user', () => {
  const sent = registersFor('<setting name="auth_username" value="agent-7"/>');
  const authorized = sent.find((m) => m.authorization.length > 0);
  assert.ok(authorized, 'a REGISTER answered the challenge');
  assert.is(authorized!.authorization[0]!.params.get('username'), 'agent-7');
  assert.is(authorized!.to!.uri.user, '1001');
  // Without it the digest username is the user.
  const plain = registersFor('').find((m) => m.authorization.length > 0);
  assert.is(plain!.authorization[0]!.params.get('username'), '1001');
});

test.run();
