/**
 * Site failure detection by keep-alive against real Kamailio (issue 10): two
 * sites, connection 0 to site A, connection 1 to site B, both with
 * send_sip_keep_alive_messages every 2 s and the refresh far away (3600 s),
 * so only the keep-alive can notice anything. Site A is frozen with SIGSTOP
 * (every PID of it): its sockets stay open, the kernel still queues UDP and
 * accepts TCP, but nothing answers, as with a hung server. Then:
 *
 *   - connection 0 is `unavailable` with 408 within 2 x interval of the
 *     freeze (a probe is due at most one interval after the last answered
 *     one, and may go unanswered for min(interval, 10 s));
 *   - after SIGCONT it is `registered` again within one retry wait
 *     (every retry wait is at most maximum_time_before_reregistration);
 *   - connection 1 fires no event from its registration to the end, and its
 *     own probes are answered throughout.
 *
 * Over UDP (OPTIONS probes) and over TCP (RFC 5626 CRLF pings). The
 * measured times are printed (`keep-alive UDP: ...`) for the README figures;
 * the freeze lands at a random phase of the probe period, so repeated runs
 * sample the whole range. A site is always thawed in `finally`, and
 * stopAllSites() in after() thaws before it stops.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Phone, type ConnectionInput } from '../../src/sdk/index.ts';
import { Recorder, traceRequests } from '../integration/sdk-support.ts';
import { DEFAULT_PASSWORD, kamailioMissing, startSite, stopAllSites, type KamailioSite } from './harness/kamailio.ts';
import { stopAllPeers } from './harness/process.ts';

const missing = kamailioMissing();

const INTERVAL_S = 2;
const MIN_RETRY_S = 2;
const MAX_RETRY_S = 4;
const KEEP_ALIVE = {
  sendKeepAlive: true,
  keepAliveIntervalSeconds: INTERVAL_S,
  reregisterInSeconds: 3600,
  minimumRetrySeconds: MIN_RETRY_S,
  maximumRetrySeconds: MAX_RETRY_S,
};
/**
 * Timer lateness allowed on top of 2 x interval: the deadline is a
 * setTimeout on a machine whose 2 cores also run two Kamailio sites.
 */
const DETECT_SLACK_MS = 250;
/**
 * On top of the retry wait: the REGISTER exchange (REGISTER, 401, REGISTER
 * with credentials, 200) with a Kamailio that has just been thawed and first
 * works off what queued while it was stopped (our probes' retransmissions).
 */
const REGISTER_SLACK_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let siteA: KamailioSite;
let siteB: KamailioSite;

test.before(async () => {
  if (missing !== undefined) throw new Error(`Kamailio is needed for these tests: ${missing}`);
  siteA = await startSite({ name: 'ka-a', address: '127.0.0.1' });
  siteB = await startSite({ name: 'ka-b', address: '127.0.0.2' });
});

test.after(async () => {
  await stopAllSites();
  await stopAllPeers();
});

function connection(site: KamailioSite, transport: 'udp' | 'tcp'): ConnectionInput {
  return { user: '1001', server: `${site.uriHost}:${site.ports[transport]}`, transport, password: DEFAULT_PASSWORD, ...KEEP_ALIVE };
}

async function frozenSite(transport: 'udp' | 'tcp'): Promise<void> {
  const phone = await Phone.create({ connections: [connection(siteA, transport), connection(siteB, transport)] });
  const events = new Recorder(phone);
  const sent = traceRequests(phone);
  try {
    phone.start();
    await Promise.all([0, 1].map((id) => events.status(id, 'registered', 10_000)));
    // At least one probe answered on each, then a random phase of the period.
    await sleep(INTERVAL_S * 1000 + 200 + Math.random() * INTERVAL_S * 1000);
    assert.equal(events.seq(0), ['registering', 'registered(200)'], 'the probes before the freeze were answered');

    const since = events.events.length;
    const frozenAt = performance.now();
    const pids = siteA.freeze();
    let thawedAt: number;
    let down;
    try {
      assert.ok(pids.length >= 3, `every process of site A stopped: ${pids.join(' ')}`);
      down = await events.status(0, 'unavailable', 2 * INTERVAL_S * 1000 + 5000, since);
    } finally {
      thawedAt = performance.now();
      siteA.thaw();
    }
    const detectMs = down.at - frozenAt;
    assert.is(down.code, 408, `unanswered probe -> 408 (${down.reason})`);
    const up = await events.status(0, 'registered', MAX_RETRY_S * 1000 + 5000, since);
    const backMs = up.at - thawedAt;
    console.log(
      `keep-alive ${transport.toUpperCase()}: unavailable ${Math.round(detectMs)} ms after SIGSTOP (${down.reason}); ` +
        `registered ${Math.round(backMs)} ms after SIGCONT (${Math.round(up.at - down.at)} ms after unavailable)`,
    );
    assert.ok(detectMs <= 2 * INTERVAL_S * 1000 + DETECT_SLACK_MS, `noticed ${Math.round(detectMs)} ms after the freeze`);
    assert.ok(detectMs >= 0, 'not before the freeze');
    assert.ok(backMs <= MAX_RETRY_S * 1000 + REGISTER_SLACK_MS, `registered again ${Math.round(backMs)} ms after SIGCONT`);

    // One more probe period: connection 0 stays registered (its probes resumed), nothing flaps.
    await sleep(INTERVAL_S * 1000 + 500);
    assert.equal(events.seq(0, since), ['unavailable(408)', 'registered(200)'], 'connection 0: exactly one outage');
    assert.equal(events.seq(1), ['registering', 'registered(200)'], 'connection 1: no event after its registration');
    assert.is((await siteA.ulLookup('1001')).length, 1, 'one binding on site A');
    assert.is((await siteB.ulLookup('1001')).length, 1, 'one binding on site B');
    if (transport === 'udp') {
      const toB = sent.filter((r) => r.message.method === 'OPTIONS' && r.to.port === siteB.ports.udp && r.at > frozenAt && r.at < thawedAt);
      assert.ok(toB.length >= 1, `site B kept being probed while A was frozen (${toB.length} OPTIONS)`);
    } else {
      assert.equal(
        sent.filter((r) => r.message.method === 'OPTIONS'),
        [],
        'over TCP the probes are CRLF pings, not OPTIONS',
      );
    }
  } finally {
    siteA.thaw();
    await phone.close();
  }
}

test('UDP: a site frozen with SIGSTOP is unavailable(408) within 2 x 2 s; registered within one retry wait of SIGCONT; the other site never changes', async () => {
  await frozenSite('udp');
});

test('TCP: the same with CRLF pings on the flow', async () => {
  await frozenSite('tcp');
});

test.run();
