/**
 * The SDK against two real Kamailio sites on 127.0.0.1 and 127.0.0.2 (issue 5
 * interop): registration over UDP, TCP and TLS with MD5 and SHA-256 digest;
 * `kamcmd ul.dump` shows exactly one binding per site, also after 100
 * refreshes; a killed and restarted site gives registered -> unavailable ->
 * registered with no duplicate events; a wrong password gives `failed` with
 * no loop; the phone shell on a SipEndpoint.config does the same.
 * Not covered here: calls (a later release).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Phone, type ConnectionStatusChanged } from '../../src/sdk/index.ts';
import { kamailioMissing, startSite, stopAllSites, type KamailioSite } from './harness/kamailio.ts';
import { stopAllPeers } from './harness/process.ts';

const missing = kamailioMissing();

async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function recorder(phone: Phone): { events: ConnectionStatusChanged[]; statuses: (id: number) => string[] } {
  const events: ConnectionStatusChanged[] = [];
  phone.connections.on('connectionStatusChanged', (e) => events.push(e));
  return { events, statuses: (id) => events.filter((e) => e.connectionId === id).map((e) => e.status) };
}

const bindingsOf = async (site: KamailioSite, user: string): Promise<number> => (await site.ulDump()).filter((b) => b.aor === user).length;

let siteA: KamailioSite;
let siteB: KamailioSite;

test.before(async () => {
  if (missing !== undefined) throw new Error(`Kamailio is needed for these tests: ${missing}`);
  siteA = await startSite({ name: 'sdk-a', address: '127.0.0.1', algorithm: 'MD5', minExpires: 1 });
  siteB = await startSite({ name: 'sdk-b', address: '127.0.0.2', algorithm: 'SHA-256', minExpires: 1 });
});

test.after(async () => {
  await stopAllSites();
  await stopAllPeers();
});

test('UDP (MD5), TCP (SHA-256) and TLS register at once; one binding per site and user', async () => {
  const phone = await Phone.create(
    {
      connections: [
        { user: '1001', server: `127.0.0.1:${siteA.ports.udp}`, transport: 'udp', password: 'secret' },
        { user: '1002', server: `127.0.0.2:${siteB.ports.tcp}`, transport: 'tcp', password: 'secret' },
        { user: '1003', server: `127.0.0.1:${siteA.ports.tls}`, transport: 'tls', password: 'secret' },
        { user: '1001', server: `127.0.0.2:${siteB.ports.udp}`, transport: 'udp', password: 'secret' },
      ],
    },
    { tls: { ca: readFileSync(siteA.caCertPath) } },
  );
  const { statuses } = recorder(phone);
  try {
    phone.start();
    await until(() => phone.connections.registeredIds().length === 4, 10_000, 'four registrations');
    for (const id of [0, 1, 2, 3]) assert.equal(statuses(id), ['registering', 'registered'], `connection ${id}`);
    assert.is(await bindingsOf(siteA, '1001'), 1);
    assert.is(await bindingsOf(siteA, '1003'), 1);
    assert.is(await bindingsOf(siteB, '1002'), 1);
    assert.is(await bindingsOf(siteB, '1001'), 1, 'the same DN on both sites: one binding on each');
    const tls = (await siteA.ulDump()).find((b) => b.aor === '1003')!;
    assert.match(tls.socket ?? '', /^tls:/);
  } finally {
    await phone.close();
  }
  await until(async () => (await siteA.ulDump()).length === 0 && (await siteB.ulDump()).length === 0, 5000, 'unregistered on close');
});

test('100 refreshes keep exactly one binding and one Call-ID', async () => {
  const phone = await Phone.create({
    connections: [{ user: '1001', server: `127.0.0.1:${siteA.ports.udp}`, password: 'secret', reregisterInSeconds: 1 }],
  });
  let registers = 0;
  phone.transport.onTrace = (direction, _t, _s, _d, bytes) => {
    if (direction === 'out' && new TextDecoder().decode(bytes.subarray(0, 8)) === 'REGISTER') registers++;
  };
  const { statuses } = recorder(phone);
  try {
    phone.start();
    await until(() => registers >= 101, 140_000, '100 refreshes');
    const bindings = (await siteA.ulDump()).filter((b) => b.aor === '1001');
    assert.is(bindings.length, 1);
    assert.equal(statuses(0), ['registering', 'registered'], 'refreshes fire no event');
  } finally {
    await phone.close();
  }
});

test('a killed site: registered -> unavailable -> registered after restart, no duplicate events; the other site untouched', async () => {
  const phone = await Phone.create({
    connections: [
      { user: '1001', server: `127.0.0.1:${siteA.ports.udp}`, password: 'secret', reregisterInSeconds: 2, minimumRetrySeconds: 1, maximumRetrySeconds: 2 },
      { user: '1002', server: `127.0.0.2:${siteB.ports.udp}`, password: 'secret', reregisterInSeconds: 2, minimumRetrySeconds: 1, maximumRetrySeconds: 2 },
    ],
  });
  const { statuses } = recorder(phone);
  try {
    phone.start();
    await until(() => phone.connections.registeredIds().length === 2, 10_000, 'both registered');
    await siteA.kill();
    await until(() => statuses(0).includes('unavailable'), 10_000, 'connection 0 unavailable');
    await siteA.start();
    await until(() => statuses(0).at(-1) === 'registered' && statuses(0).length > 2, 15_000, 'connection 0 registered again');
    await new Promise((resolve) => setTimeout(resolve, 2500)); // a few more refreshes and retries: still no duplicates
    assert.equal(statuses(0), ['registering', 'registered', 'unavailable', 'registered']);
    assert.equal(statuses(1), ['registering', 'registered'], 'site B never noticed');
    assert.is(await bindingsOf(siteA, '1001'), 1);
  } finally {
    await phone.close();
  }
});

test('a wrong password: failed, one event, no loop', async () => {
  const phone = await Phone.create({ connections: [{ user: '1001', server: `127.0.0.2:${siteB.ports.udp}`, password: 'wrong' }] });
  let registers = 0;
  phone.transport.onTrace = (direction, _t, _s, _d, bytes) => {
    if (direction === 'out' && new TextDecoder().decode(bytes.subarray(0, 8)) === 'REGISTER') registers++;
  };
  const { statuses, events } = recorder(phone);
  try {
    phone.start();
    await until(() => statuses(0).includes('failed'), 10_000, 'failed');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(statuses(0), ['registering', 'failed']);
    assert.ok(registers <= 2, `${registers} REGISTERs: no loop`);
    assert.ok([401, 403].includes(events.at(-1)!.code!), `code ${events.at(-1)!.code}`);
  } finally {
    await phone.close();
  }
});

test('the phone shell on a SipEndpoint.config: both sites, a killed site reported within one retry period, back when it returns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-kam-'));
  const configPath = join(dir, 'SipEndpoint.config');
  writeFileSync(
    configPath,
    `<Cfg>
  <Container name="Basic">
    <Connectivity user="1001" server="127.0.0.1:${siteA.ports.udp}" protocol="udp"/>
    <Connectivity user="1001" server="127.0.0.2:${siteB.ports.tcp}" protocol="tcp"/>
  </Container>
  <Container name="Genesys">
    <domain name="proxies">
      <section name="proxy0">
        <setting name="reregister_in_seconds" value="2"/>
        <setting name="minimum_time_before_reregistration_in_seconds" value="1"/>
        <setting name="maximum_time_before_reregistration_in_seconds" value="2"/>
        <setting name="password" value="secret"/>
      </section>
      <section name="proxy1">
        <setting name="reregister_in_seconds" value="3"/>
        <setting name="password" value="secret"/>
      </section>
    </domain>
  </Container>
</Cfg>`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'phone', '--config', configPath, '--events', 'json']);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const events = (): Array<Record<string, unknown>> =>
    out
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
  const seq = (id: number): unknown[] => events().filter((e) => e.connectionId === id).map((e) => e.status);
  try {
    await until(() => seq(0).includes('registered') && seq(1).includes('registered'), 10_000, 'both registered');
    const killedAt = Date.now();
    await siteA.kill();
    await until(() => seq(0).includes('unavailable'), 10_000, 'site A reported down');
    assert.ok(Date.now() - killedAt <= 2000 + 2000 + 1500, 'within one refresh period plus one retry period');
    await siteA.start();
    await until(() => seq(0).at(-1) === 'registered' && seq(0).length > 2, 15_000, 'back when site A returns');
    assert.equal(seq(1), ['registering', 'registered']);
    child.stdin.write('quit\n');
    assert.is(await exited, 0);
    await until(async () => (await siteA.ulDump()).length === 0 && (await siteB.ulDump()).length === 0, 5000, 'unregistered on quit');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
