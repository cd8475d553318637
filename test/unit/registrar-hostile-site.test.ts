/**
 * Hostile or broken registrars against the RegistrationManager (on a real
 * TransactionLayer, the FakeClock and registrar-fakes.ts' FakeNetwork):
 * seeded runs where each site answers REGISTER at random with what broken
 * registrars send (challenges without a nonce, with an unknown algorithm or
 * qop, stale for ever; 423 with a Min-Expires that is missing, garbage,
 * lower than what we asked or huge; 2xx without our binding, with garbage or
 * zero expiry; 3xx-6xx with odd Retry-After), or like a real registrar with
 * digest, or goes silent or refuses; the application adds, starts, stops,
 * removes registrations and reports sites down at random.
 *
 * Covers, for every run: nothing throws; every status event is a change
 * whose `previous` is the status reported before; no registration sends
 * REGISTERs in a loop (a bound per registration over each minute the
 * application left it alone); and once every registration is removed and
 * the clock has run past every timer, nothing is left (transactions,
 * registrations, wake-ups, clock timers).
 *
 * Does not cover: what the right status is for each answer (the
 * registrar-registration tests), real sockets (interop). `HOSTILE_SEED=N`
 * runs one seed, `HOSTILE_RUNS=N` seeds 1..N (100 by default).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SipMessage } from '../../src/parser/index.ts';
import type { RegistrationStatus } from '../../src/registrar-client/index.ts';
import { rig, seededRandom, settingsFor, type FakeSite, type Reply, type Rig } from './registrar-fakes.ts';

const RUNS = Number(process.env['HOSTILE_RUNS'] ?? 100);
const STEPS = 80;
const IDS = [0, 1, 2, 3];
/** REGISTER transactions one registration may start in a minute nobody touched it: a challenge answered, a 423 retried, a refresh; not a loop. */
const MAX_PER_QUIET_MINUTE = 6;

type Pick = <T>(items: readonly T[]) => T;

/** What broken registrars answer; undefined: the site's own registrar logic. */
function hostileReply(request: SipMessage, site: FakeSite, pick: Pick): Reply | undefined {
  const asked = request.expires ?? 3600;
  const binding = request.header('contact') ?? '<sip:x@192.0.2.10>';
  const replies: Array<() => Reply | undefined> = [
    () => undefined,
    () => undefined,
    () => ({ status: 401, headers: [['WWW-Authenticate', 'Digest realm="r"']] }),
    () => ({ status: 401, headers: [['WWW-Authenticate', `Digest realm="r", nonce="${site.newNonce()}", algorithm=ROT13`]] }),
    () => ({ status: 401, headers: [['WWW-Authenticate', `Digest realm="r", nonce="${site.newNonce()}", qop="auth-int-plus"`]] }),
    () => ({ status: 407, headers: [['Proxy-Authenticate', `Digest realm="r", nonce="${site.newNonce()}", stale=true`]] }),
    () => ({ status: 401, headers: [['WWW-Authenticate', 'Basic realm="r"']] }),
    () => ({ status: 401 }),
    () => ({ status: 423 }),
    () => ({ status: 423, headers: [['Min-Expires', 'soon']] }),
    () => ({ status: 423, headers: [['Min-Expires', String(Math.max(1, asked - 10))]] }),
    () => ({ status: 423, headers: [['Min-Expires', '4294967295']] }),
    () => ({ status: 200 }),
    () => ({ status: 200, headers: [['Contact', `${binding};expires=0`]] }),
    () => ({ status: 200, headers: [['Contact', `${binding};expires=never`]] }),
    () => ({ status: 200, headers: [['Expires', '0']] }),
    () => ({ status: 200, headers: [['Contact', '<sip:someone-else@198.51.100.9>;expires=60']] }),
    () => ({ status: 200, headers: [['Contact', `${binding};expires=1`]] }),
    () => ({ status: 302, headers: [['Contact', '<sip:elsewhere@198.51.100.9>']] }),
    () => ({ status: 403 }),
    () => ({ status: 480, headers: [['Retry-After', '0']] }),
    () => ({ status: 500, headers: [['Retry-After', 'x']] }),
    () => ({ status: 503, headers: [['Retry-After', '99999999']] }),
    () => ({ status: 504 }),
    () => ({ status: 603 }),
  ];
  return pick(replies)();
}

interface Watch {
  /** Last status reported per id (disabled before any event). */
  readonly last: Map<number, RegistrationStatus>;
  /** Clock time of the application's last action on each id. */
  readonly touched: Map<number, number>;
}

function checkEvents(r: Rig, watch: Watch, from: number, where: string): void {
  for (const event of r.events.slice(from)) {
    const id = event.id as number;
    const before = watch.last.get(id) ?? 'disabled';
    assert.is(event.previous, before, `${where}: event ${JSON.stringify(event)} after ${before}`);
    assert.is.not(event.status, event.previous, `${where}: an event without a change`);
    watch.last.set(id, event.status);
  }
}

/** REGISTER transactions (distinct branches) of one user in [start, end). */
function registersOf(r: Rig, user: string, start: number, end: number): number {
  const branches = new Set<string>();
  for (const site of r.network.sites.values()) {
    for (const { at, message } of site.requests) {
      if (at >= start && at < end && message.from?.uri.user === user) branches.add(message.topVia?.branch ?? '');
    }
  }
  return branches.size;
}

async function hostileRun(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const pick: Pick = (items) => items[Math.floor(random() * items.length)]!;
  const r = rig({}, seed);
  const sites = [r.network.site('198.51.100.1', 5060, 'udp'), r.network.site('198.51.100.2', 5060, 'tcp'), r.network.site('198.51.100.3', 5060, 'udp')];
  for (const site of sites) {
    if (random() < 0.5) site.digest = { realm: 'r', passwords: { u0: 'pw', u1: 'pw', u2: 'pw', u3: 'pw' }, nonceTtlMs: 30_000 };
    site.script = (request, s) => (random() < 0.6 ? hostileReply(request, s, pick) : undefined);
  }
  const watch: Watch = { last: new Map(), touched: new Map() };
  const where = (step: number | string): string => `seed ${seed}, step ${step}`;
  let seen = 0;
  // stop() and remove() never reject: a rejection is collected and named at the end of the run.
  const rejections: unknown[] = [];
  const settle = (promise: Promise<void>): void => void promise.then(undefined, (error: unknown) => rejections.push(error));
  for (let step = 0; step < STEPS; step++) {
    try {
      const id = pick(IDS);
      const move = pick(['add', 'start', 'start', 'stop', 'remove', 'siteDown', 'site', 'nothing', 'nothing']);
      if (move === 'add' && !r.manager.has(id)) {
        const site = pick(sites);
        r.manager.add(id, settingsFor(site, { user: `u${id}`, password: random() < 0.8 ? 'pw' : 'wrong', reregisterInSeconds: pick([60, 300, 3600]), minimumRetrySeconds: pick([1, 20]) }));
        watch.last.set(id, 'disabled');
      }
      if (move === 'start' && r.manager.has(id)) r.manager.start(id);
      if (move === 'stop' && r.manager.has(id)) settle(r.manager.stop(id));
      if (move === 'remove') settle(r.manager.remove(id));
      if (move === 'siteDown') r.manager.siteDown(id, 408, 'hostile test');
      if (move === 'site') pick(sites).state = pick(['up', 'up', 'silent', 'refusing'] as const);
      if (move !== 'nothing' && move !== 'site') watch.touched.set(id, r.clock.now());
      r.advance(Math.floor(random() * random() * 600));
    } catch (error) {
      assert.unreachable(`${where(step)}: ${error instanceof Error ? error.stack : String(error)}`);
    }
    checkEvents(r, watch, seen, where(step));
    seen = r.events.length;
  }
  // No loop: in every whole minute after the application's last touch of an id, a bounded number of REGISTERs.
  const end = r.clock.now();
  for (const id of IDS) {
    for (let start = (watch.touched.get(id) ?? 0) + 1000; start + 60_000 <= end; start += 60_000) {
      const count = registersOf(r, `u${id}`, start, start + 60_000);
      assert.ok(count <= MAX_PER_QUIET_MINUTE, `${where('end')}: u${id} sent ${count} REGISTERs in the minute from ${start} ms`);
    }
  }
  for (const id of IDS) settle(r.manager.remove(id));
  for (let t = 0; t < 200; t++) r.advance(10);
  checkEvents(r, watch, seen, where('end'));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  assert.equal(rejections.map(String), [], `${where('end')}: stop() or remove() rejected`);
  assert.equal(r.manager.stats(), { registrations: 0, scheduled: 0, clockTimers: 0, inFlight: 0, draining: 0 }, `${where('end')}: manager`);
  assert.is(r.layer.stats().transactions, 0, `${where('end')}: transactions`);
  assert.is(r.clock.pending, 0, `${where('end')}: clock timers`);
}

const only = Number(process.env['HOSTILE_SEED'] ?? NaN);
const seeds = Number.isInteger(only) ? [only] : Array.from({ length: RUNS }, (_, i) => i + 1);

test(`hostile registrars, ${seeds.length} seeded runs: nothing throws, events consistent, no REGISTER loop, nothing left`, async () => {
  for (const seed of seeds) {
    await hostileRun(seed);
    // Promises (stop/remove) settle between runs.
    await Promise.resolve();
  }
});

test.run();
