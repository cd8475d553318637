/**
 * `npm start`: the QuickStart. With no arguments it starts two lab SIP sites
 * on loopback (each a registrar with digest auth and a proxy to what is
 * registered there), a lab answering party (DN 1002, registered at both,
 * answering every call), and a Phone (DN 1001) with one connection to each
 * site from the bundled examples/quickstart/SipEndpoint.config. It narrates:
 *
 *   1. both connections registered at once;
 *   2. a call from connection 0: connected, held, retrieved, hung up;
 *   3. site 0 taken down: connection 0 unavailable;
 *   4. a dial on connection 0 connects through site 1;
 *   5. a call arriving while that one is connected rings, and answered, holds it;
 *   6. site 0 back: connection 0 registered again;
 *   7. close: both connections unregistered.
 *
 * Exits 0 when every step happened, non-zero naming the step that did not.
 * `npm start -- --config FILE` runs the phone shell against real servers.
 */
import { readFileSync } from 'node:fs';
import type { LabSite } from '../lab/lab-site.ts';
import { answeringParty, BUNDLED_CONFIG, startLabSite } from './lab-cast.ts';
import { Phone, configFromXml, type ConnectionStatusChanged, type SessionStatusChanged } from '../sdk/index.ts';
import { describeChange, describeSession, runPhoneShell } from './phone-shell.ts';


export const QUICKSTART_HELP = `usage: sip-endpoint quickstart            (npm start)
       sip-endpoint quickstart --config FILE [phone options]

Without options: two lab sites on 127.0.0.1:5070 and 127.0.0.2:5080, a lab
answering party (DN 1002) and a Phone (DN 1001) from the bundled
examples/quickstart/SipEndpoint.config; narrates registration on both sites,
a call held and retrieved, site 0 going down, a dial failing over to site 1,
a second call holding the first, site 0 coming back, close.
Exit status: 0 when every step happened, 1 naming the step that did not.
With --config: the phone shell (sip-endpoint phone --help).
`;

class StepFailed extends Error {}

type Say = (text: string) => void;

export async function runQuickStart(args: string[]): Promise<number> {
  if (args.length > 0) return runPhoneShell(args);
  const started = Date.now();
  const say: Say = (text) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`);
  const config = configFromXml(readFileSync(BUNDLED_CONFIG, 'utf8'), BUNDLED_CONFIG);
  if (config.connections.length !== 2) throw new Error('the bundled config must have two connections');

  say('sip-endpoint QuickStart: one endpoint (DN 1001) on two SIP Server sites, calls to and from DN 1002');
  const sites: LabSite[] = [];
  let phone: Phone | undefined;
  let party: Phone | undefined;
  let step = '';
  try {
    for (const [index, connection] of config.connections.entries()) {
      const site = await startLabSite(`site ${index}`, connection.server.host, connection.server.port, say);
      sites.push(site);
      // A busy port moves the lab site; the connection follows it.
      connection.server = { host: connection.server.host, port: site.port };
      say(`site ${index} (lab registrar + proxy) on ${connection.server.host}:${site.port} (UDP and TCP)`);
    }
    const [site0, site1] = sites as [LabSite, LabSite];
    phone = await Phone.create(config);
    party = await answeringParty(config.connections.map((c) => ({ host: c.server.host, port: c.server.port, transport: c.transport })));
    const story = new Story(phone, say);
    phone.connections.on('connectionStatusChanged', (event) => story.onConnection(event));
    phone.sessions.on('sessionStatusChanged', (event) => story.onSession(event));

    step = 'both connections registered at once';
    say(`step 1: ${step}`);
    let mark = story.mark();
    phone.start();
    party.start();
    await Promise.all([story.connection(mark, 0, 'registered', 10), story.connection(mark, 1, 'registered', 10)]);
    await until(() => party!.connections.registeredIds().length === 2, 10_000, 'the answering party did not register at both sites');
    say(`  both registered; the answering party (1002) too: site 0 holds ${site0.bindings().length} bindings, site 1 ${site1.bindings().length}`);
    // Our bindings are the ones whose Contact carries our connections' line= tokens: another
    // phone registering 1001 at these ports (a shell left running) must not fail step 7.
    const lines = [0, 1].map((id) => `;line=${phone!.connections.lineOf(id)}`);

    step = 'a call from connection 0: connected, held, retrieved, hung up';
    say(`step 2: ${step}`);
    mark = story.mark();
    const first = await phone.calls.dial(0, '1002');
    await story.session(mark, first.id, 'connected', 5);
    await phone.calls.hold(first.id);
    await story.session(mark, first.id, 'held', 5);
    await phone.calls.retrieve(first.id);
    await story.session(mark, first.id, 'connected', 5);
    await phone.calls.hangup(first.id);
    const ended = await story.session(mark, first.id, 'disconnected', 5);
    if (ended.connectionId !== 0 || ended.reason !== 'Normal') throw new StepFailed(`the call ended on connection ${ended.connectionId} with ${ended.reason}`);

    step = 'site 0 taken down: connection 0 unavailable';
    say(`step 3: ${step}`);
    mark = story.mark();
    await site0.stop('refuse');
    say('  site 0 stopped (its sockets are closed)');
    await story.connection(mark, 0, 'unavailable', 5);
    if (story.changesOf(1, mark) > 0) throw new StepFailed('connection 1 changed while site 0 went down');

    step = 'a dial on connection 0 connects through site 1';
    say(`step 4: ${step}`);
    mark = story.mark();
    const second = await phone.calls.dial(0, '1002');
    const connected = await story.session(mark, second.id, 'connected', 5);
    if (connected.connectionId !== 1) throw new StepFailed(`the call connected on connection ${connected.connectionId}, not through site 1`);
    say('  connected through site 1 (connectionID 1)');

    step = 'a call arriving while another is connected rings, and answered, holds the first';
    say(`step 5: ${step}`);
    mark = story.mark();
    await party.calls.dial(1, '1001');
    const ringing = await story.inbound(mark, 5);
    say(`  session ${ringing.sessionId} rings while session ${second.id} is connected; answering it`);
    await phone.calls.answer(ringing.sessionId);
    await story.session(mark, second.id, 'held', 5);
    await story.session(mark, ringing.sessionId, 'connected', 5);
    say(`  session ${second.id} is held, session ${ringing.sessionId} connected`);
    await phone.calls.hangup(ringing.sessionId);
    await phone.calls.hangup(second.id);
    await story.session(mark, second.id, 'disconnected', 5);
    await story.session(mark, ringing.sessionId, 'disconnected', 5);

    step = 'site 0 back: connection 0 registered again';
    say(`step 6: ${step}`);
    mark = story.mark();
    await site0.restart();
    say('  site 0 restarted on the same port');
    await story.connection(mark, 0, 'registered', config.connections[0]!.maximumRetrySeconds + 5);

    step = 'close: both connections unregistered';
    say(`step 7: ${step}`);
    const ours = (site: LabSite): number => site.bindings().filter((b) => b.aor.startsWith('sip:1001@') && lines.some((line) => b.contact.includes(line))).length;
    if (ours(site0) !== 1 || ours(site1) !== 1) throw new Error(`before close, site 0 holds ${ours(site0)} and site 1 ${ours(site1)} bindings of ours (1 each expected)`);
    await phone.close();
    phone = undefined;
    await until(() => ours(site0) === 0 && ours(site1) === 0, 3000, 'a site still holds a binding of our 1001 after close');
    say('  neither site holds a binding of our 1001');
    say(`QuickStart: all 7 steps happened in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    process.stderr.write(`QuickStart failed at step "${step}": ${why}\n`);
    return 1;
  } finally {
    await phone?.close();
    await party?.close();
    for (const site of sites) await site.close();
  }
}

/** The events of the QuickStart's Phone, narrated as they come, with waits on them. */
class Story {
  readonly #connections: ConnectionStatusChanged[] = [];
  readonly #sessions: SessionStatusChanged[] = [];
  readonly #wakers = new Set<() => void>();

  readonly phone: Phone;
  readonly say: Say;

  constructor(phone: Phone, say: Say) {
    this.phone = phone;
    this.say = say;
  }

  onConnection(event: ConnectionStatusChanged): void {
    this.#connections.push(event);
    this.say(`  ${describeChange(event)}`);
    this.#wake();
  }

  onSession(event: SessionStatusChanged): void {
    this.#sessions.push(event);
    this.say(`  ${describeSession(event)}`);
    this.#wake();
  }

  /** A mark: waits look at events after it. */
  mark(): { connections: number; sessions: number } {
    return { connections: this.#connections.length, sessions: this.#sessions.length };
  }

  changesOf(id: number, mark: { connections: number }): number {
    return this.#connections.slice(mark.connections).filter((e) => e.connectionId === id).length;
  }

  connection(mark: { connections: number }, id: number, status: string, seconds: number): Promise<ConnectionStatusChanged> {
    return this.#wait(() => this.#connections.slice(mark.connections).find((e) => e.connectionId === id && e.status === status), seconds, `connection ${id} did not become ${status}`);
  }

  session(mark: { sessions: number }, id: string, status: string, seconds: number): Promise<SessionStatusChanged> {
    return this.#wait(() => this.#sessions.slice(mark.sessions).find((e) => e.sessionId === id && e.status === status), seconds, `session ${id} did not become ${status}`);
  }

  inbound(mark: { sessions: number }, seconds: number): Promise<SessionStatusChanged> {
    return this.#wait(() => this.#sessions.slice(mark.sessions).find((e) => e.direction === 'inbound' && e.status === 'ringing'), seconds, 'no incoming call rang');
  }

  #wait<T>(find: () => T | undefined, seconds: number, failure: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = find();
        if (found === undefined) return;
        clearTimeout(timer);
        this.#wakers.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#wakers.delete(check);
        reject(new StepFailed(`${failure} within ${seconds} s`));
      }, seconds * 1000);
      this.#wakers.add(check);
      check();
    });
  }

  #wake(): void {
    for (const check of [...this.#wakers]) check();
  }
}

async function until(condition: () => boolean, timeoutMs: number, failure: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new StepFailed(failure);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
