/**
 * `npm start`: the QuickStart. With no arguments it starts two lab SIP sites
 * on loopback and a Phone with one connection to each, from the bundled
 * examples/quickstart/SipEndpoint.config, and narrates what happens: both
 * connections registered at once; site 0 down -> connection 0 unavailable,
 * connection 1 untouched; site 0 back -> registered; a connection disabled
 * and re-enabled; close -> both unregistered. Exits 0 when every step
 * happened, non-zero naming the step that did not.
 * `npm start -- --config FILE` runs the phone shell against real servers.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { LabSite } from '../lab/lab-site.ts';
import { Phone, configFromXml, type ConnectionStatusChanged } from '../sdk/index.ts';
import { describeChange, runPhoneShell } from './phone-shell.ts';

const BUNDLED = join(dirname(fileURLToPath(import.meta.url)), '../../examples/quickstart/SipEndpoint.config');
const USERS = { '1001': 'secret' };

class StepFailed extends Error {}

export async function runQuickStart(args: string[]): Promise<number> {
  if (args.length > 0) return runPhoneShell(args);
  const started = Date.now();
  const say = (text: string): void => {
    process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`);
  };
  const config = configFromXml(readFileSync(BUNDLED, 'utf8'), BUNDLED);
  const [first, second] = config.connections;
  if (first === undefined || second === undefined) throw new Error('the bundled config must have two connections');

  say('sip-endpoint QuickStart: one endpoint (DN 1001) registered on two SIP Server sites');
  const sites: LabSite[] = [];
  let phone: Phone | undefined;
  const events: ConnectionStatusChanged[] = [];
  let step = '';
  try {
    for (const [index, connection] of config.connections.entries()) {
      const site = await startSite(`site ${index}`, connection.server.host, connection.server.port, say);
      sites.push(site);
      // A busy port moves the lab site; the connection follows it.
      connection.server = { host: connection.server.host, port: site.port };
      say(`site ${index} (lab registrar with digest auth) listening on ${connection.server.host}:${site.port} (UDP and TCP)`);
    }
    const [siteA, siteB] = sites as [LabSite, LabSite];
    phone = await Phone.create(config);
    phone.connections.on('connectionStatusChanged', (event) => {
      events.push(event);
      say(describeChange(event));
    });
    // Waits for an event at or after `mark` (events.length taken before the action: some events are synchronous).
    const waitFor = (mark: number, id: number, status: string, seconds: number): Promise<void> =>
      waitForEvent(events, mark, id, status, seconds * 1000);

    step = 'register on both sites at once';
    say(`step 1: ${step}`);
    let mark = events.length;
    phone.start();
    await Promise.all([waitFor(mark, 0, 'registered', 10), waitFor(mark, 1, 'registered', 10)]);
    say(`  both registered: site 0 has ${siteA.bindings().length} binding, site 1 has ${siteB.bindings().length}`);

    step = 'site 0 goes down: connection 0 unavailable, connection 1 untouched';
    say(`step 2: ${step}`);
    const before = events.filter((e) => e.connectionId === 1).length;
    mark = events.length;
    await siteA.stop('refuse');
    say('  site 0 stopped (its sockets are closed)');
    await waitFor(mark, 0, 'unavailable', first.reregisterInSeconds + 10);
    if (events.filter((e) => e.connectionId === 1).length !== before) throw new StepFailed('connection 1 changed while site 0 was down');
    say('  connection 1 did not change');

    step = 'site 0 comes back: connection 0 registered again';
    say(`step 3: ${step}`);
    mark = events.length;
    await siteA.restart();
    say('  site 0 restarted on the same port');
    await waitFor(mark, 0, 'registered', first.maximumRetrySeconds * 1.5 + 10);

    step = 'disable connection 1 (unregisters), then enable it';
    say(`step 4: ${step}`);
    mark = events.length;
    phone.connections.disableConnection(1);
    await waitFor(mark, 1, 'disabled', 5);
    await until(() => siteB.bindings().length === 0, 5000, 'site 1 still holds the binding after disable');
    say('  site 1 has no binding left');
    mark = events.length;
    phone.connections.enableConnection(1);
    await waitFor(mark, 1, 'registered', 10);

    step = 'close: both connections unregistered';
    say(`step 5: ${step}`);
    await phone.close();
    phone = undefined;
    await until(() => siteA.bindings().length === 0 && siteB.bindings().length === 0, 3000, 'a site still holds a binding after close');
    say('  both sites have no binding left');
    say('QuickStart: all 5 steps happened');
    return 0;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    process.stderr.write(`QuickStart failed at step "${step}": ${why}\n`);
    return 1;
  } finally {
    await phone?.close();
    for (const site of sites) await site.close();
  }
}

async function startSite(name: string, host: string, port: number, say: (text: string) => void): Promise<LabSite> {
  const options = { name, host, users: USERS, minExpires: 2 };
  try {
    return await LabSite.start({ ...options, port });
  } catch (error) {
    say(`${name}: ${host}:${port} is taken (${(error as Error).message}); using a free port`);
    return LabSite.start({ ...options, port: 0 });
  }
}

function waitForEvent(events: ConnectionStatusChanged[], from: number, id: number, status: string, timeoutMs: number): Promise<void> {
  return until(
    () => events.slice(from).some((e) => e.connectionId === id && e.status === status),
    timeoutMs,
    `connection ${id} did not become ${status} within ${timeoutMs / 1000} s`,
  );
}

async function until(condition: () => boolean, timeoutMs: number, failure: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new StepFailed(failure);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
