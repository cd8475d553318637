/**
 * Keep-alive of registered connections (keep-alive.ts, issue 10), on the
 * fake clock and the fake network of registrar-fakes.ts.
 *
 * Covers: the OPTIONS probe over UDP (when, to where, what it carries, a new
 * branch each time, any answer counting as alive); the flow ping over TCP
 * (through an injected prober); an unanswered probe -> `unavailable` (408)
 * once, the retry schedule, `registered` again once when the site answers;
 * an immediate transport error; no probe while a REGISTER is in flight, while
 * disabled, failed, removed or after close; one clock timer for the probes of
 * many connections. Not covered: real sockets and Kamailio (interop).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SipMessage } from '../../src/parser/index.ts';
import type { Endpoint } from '../../src/transport/types.ts';
import { rig, settingsFor, type FakeSite, type Rig } from './registrar-fakes.ts';

const options = (site: FakeSite): SipMessage[] => {
  const seen = new Set<string>();
  return site.requests
    .filter((r) => r.message.method === 'OPTIONS')
    .map((r) => r.message)
    .filter((m) => {
      const branch = m.topVia?.branch ?? '';
      if (seen.has(branch)) return false;
      seen.add(branch);
      return true;
    });
};
const optionTimes = (site: FakeSite): number[] => {
  const seen = new Set<string>();
  return site.requests
    .filter((r) => r.message.method === 'OPTIONS' && !seen.has(r.message.topVia!.branch!) && seen.add(r.message.topVia!.branch!))
    .map((r) => r.at);
};
/** The site answers OPTIONS with `status` (REGISTER as a registrar). */
const answerOptions = (site: FakeSite, status: number): void => {
  site.script = (request) => (request.method === 'OPTIONS' ? { status } : undefined);
};

function registeredOnUdp(interval: number, extra: Record<string, unknown> = {}): { r: Rig; site: FakeSite } {
  const r = rig();
  const site = r.network.site('198.51.100.7', 5070, 'udp');
  answerOptions(site, 200);
  r.manager.add(0, settingsFor(site, { sendKeepAlive: true, keepAliveIntervalSeconds: interval, reregisterInSeconds: 3600, minimumRetrySeconds: 5, maximumRetrySeconds: 5, domain: '198.51.100.7:5070', ...extra }));
  r.manager.start(0);
  r.advance(1);
  assert.equal(r.statuses(0), ['registering', 'registered(200)']);
  return { r, site };
}

test('UDP: an OPTIONS every interval while registered, to the registrar, with our AOR and a new branch each time', () => {
  const { r, site } = registeredOnUdp(30);
  const registeredAt = site.registers[0]!.at;
  r.advance(95);
  // The interval counts from registering (the REGISTER's answer came 10 ms after it was sent).
  assert.equal(optionTimes(site), [registeredAt + 10 + 30_000, registeredAt + 10 + 60_000, registeredAt + 10 + 90_000]);
  const sent = options(site);
  for (const message of sent) {
    assert.is(message.uri!.toString(), 'sip:198.51.100.7:5070', 'Request-URI sip:DOMAIN');
    assert.is(message.from!.uri.toString(), 'sip:1001@198.51.100.7:5070');
    assert.is(message.to!.uri.toString(), 'sip:1001@198.51.100.7:5070');
    assert.ok(message.from!.tag, 'From has a tag');
    assert.is(message.to!.tag, null, 'To has none (outside a dialog)');
    assert.is(message.cseq!.method, 'OPTIONS');
  }
  assert.is(new Set(sent.map((m) => m.topVia!.branch)).size, 3, 'a fresh branch per probe');
  assert.equal(sent.map((m) => m.cseq!.seq), [1, 2, 3], 'one Call-ID, CSeq counting');
  assert.is(new Set(sent.map((m) => m.callId)).size, 1);
  assert.equal(r.statuses(0), ['registering', 'registered(200)'], 'answered probes are no events');
});

test('UDP: any answer means alive (404, 405, 501, 200)', () => {
  for (const status of [404, 405, 501, 200]) {
    const { r, site } = registeredOnUdp(10);
    answerOptions(site, status);
    r.advance(60);
    assert.is(options(site).length, 6, `status ${status}`);
    assert.equal(r.statuses(0), ['registering', 'registered(200)'], `status ${status}`);
  }
});

test('UDP: a probe unanswered within min(interval, 10 s) -> unavailable(408) once; retry; registered once when the site is back', () => {
  const { r, site } = registeredOnUdp(2);
  r.advance(3); // one probe answered (at ~2 s)
  const before = r.events.length;
  site.state = 'silent';
  const silentAt = r.clock.now();
  r.advance(4.5); // 2 x interval: the next probe (within 2 s) and its 2 s deadline
  const down = r.events.slice(before);
  assert.equal(down.map((e) => `${e.status}(${e.code})`), ['unavailable(408)']);
  assert.match(down[0]!.reason ?? '', /keep-alive/);
  assert.ok(down[0]!.at - silentAt <= 4000, `noticed ${down[0]!.at - silentAt} ms after the site froze`);
  site.state = 'up';
  r.advance(5.5); // the retry wait is 5 s (min = max = 5)
  const [unavailable, registered] = r.events.slice(before);
  assert.equal(r.events.slice(before).map((e) => `${e.status}(${e.code})`), ['unavailable(408)', 'registered(200)']);
  assert.equal(optionTimes(site).filter((t) => t > unavailable!.at && t < registered!.at), [], 'no probe while unavailable: the retry REGISTER probes');
  r.advance(2.5);
  assert.ok(optionTimes(site).some((t) => t > registered!.at), 'probing again once registered');
});

test('UDP: an interval above 10 s waits at most 10 s for the answer', () => {
  const { r, site } = registeredOnUdp(60);
  site.state = 'silent';
  const before = r.events.length;
  r.advance(60); // the first probe goes one interval after registering
  const sentAt = optionTimes(site).at(-1)!;
  r.clock.advance(sentAt + 9_900 - r.clock.now());
  assert.is(r.events.length, before, 'not yet at 9.9 s');
  r.advance(0.2);
  const event = r.events[before]!;
  assert.is(event.status, 'unavailable');
  assert.is(event.at - sentAt, 10_000);
});

test('UDP: a transport error on the probe (ICMP refused) -> unavailable at once, not after the deadline', () => {
  const { r, site } = registeredOnUdp(30);
  site.state = 'refusing';
  const before = r.events.length;
  r.advance(30.05);
  // A transport error, not a timeout: 503 (RFC 3261 s8.1.3.1).
  assert.equal(r.events.slice(before).map((e) => `${e.status}(${e.code})`), ['unavailable(503)']);
  assert.match(r.events[before]!.reason ?? '', /transport error ECONNREFUSED/);
});

test('TCP/TLS: the flow ping through the transport; no pong -> unavailable; a pong keeps it registered', () => {
  const pings: Array<{ at: number; target: Endpoint; timeoutMs: number; done: (alive: boolean, reason: string) => void }> = [];
  const r = rig({ probeFlow: (target, timeoutMs, done) => pings.push({ at: r.clock.now(), target, timeoutMs, done }) });
  const site = r.network.site('198.51.100.8', 5080, 'tcp');
  r.manager.add(0, settingsFor(site, { sendKeepAlive: true, keepAliveIntervalSeconds: 20, minimumRetrySeconds: 5, maximumRetrySeconds: 5 }));
  r.manager.start(0);
  r.advance(21);
  assert.is(pings.length, 1);
  assert.equal(pings[0]!.target, { transport: 'tcp', host: '198.51.100.8', port: 5080 });
  assert.is(pings[0]!.timeoutMs, 10_000, 'min(20 s, 10 s)');
  assert.is(options(site).length, 0, 'no OPTIONS over TCP');
  pings[0]!.done(true, 'pong');
  r.advance(20);
  assert.is(pings.length, 2, 'next ping one interval after the first');
  assert.is(pings[1]!.at - pings[0]!.at, 20_000);
  pings[1]!.done(false, 'no keep-alive pong within 10000 ms');
  assert.equal(r.statuses(0), ['registering', 'registered(200)', 'unavailable(408)'], 'no pong: a timeout');
  pings[1]!.done(true, 'late'); // ignored
  r.advance(6);
  assert.equal(r.statuses(0), ['registering', 'registered(200)', 'unavailable(408)', 'registered(200)']);
  r.advance(20);
  pings.at(-1)!.done(false, 'no open TCP connection to the site');
  assert.equal(r.statuses(0).at(-1), 'unavailable(503)', 'the flow is gone: a transport error');
});

test('TCP: a ping with no answer at all is settled by the deadline on the heap', () => {
  const r = rig({ probeFlow: () => {} });
  const site = r.network.site('198.51.100.8', 5080, 'tcp');
  r.manager.add(0, settingsFor(site, { sendKeepAlive: true, keepAliveIntervalSeconds: 4, minimumRetrySeconds: 5, maximumRetrySeconds: 5 }));
  r.manager.start(0);
  r.advance(8.5);
  assert.equal(r.statuses(0), ['registering', 'registered(200)', 'unavailable(408)']);
});

test('no probe while a REGISTER is in flight (a refresh probes the site already)', () => {
  const { r, site } = registeredOnUdp(10, { reregisterInSeconds: 30 });
  r.network.latency = 15_000; // the refresh at ~30 s is answered at ~45 s
  r.advance(29);
  const probes = options(site).length;
  r.advance(14);
  assert.is(options(site).length, probes, 'the probe due at 40 s is skipped while the REGISTER is out');
});

test('no probe while disabled, failed, after remove, after close; keep-alive off by default', async () => {
  const { r, site } = registeredOnUdp(5);
  r.manager.stop(0);
  r.advance(1);
  const afterStop = options(site).length;
  r.advance(60);
  assert.is(options(site).length, afterStop, 'disabled: no probe');
  r.manager.start(0);
  r.advance(1);
  site.script = (request) => (request.method === 'REGISTER' ? { status: 403 } : { status: 200 });
  r.advance(3700); // the refresh is refused: failed
  assert.is(r.manager.statusOf(0), 'failed');
  const afterFail = options(site).length;
  r.advance(60);
  assert.is(options(site).length, afterFail, 'failed: no probe');
  r.manager.remove(0);
  r.advance(60);
  assert.is(options(site).length, afterFail, 'removed: no probe');

  const plain = rig();
  const other = plain.network.site('198.51.100.9', 5060, 'udp');
  plain.manager.add(0, settingsFor(other));
  plain.manager.start(0);
  plain.advance(600);
  assert.is(options(other).length, 0, 'sendKeepAlive defaults to off');

  const closing = registeredOnUdp(5);
  const closed = closing.r.manager.close();
  closing.r.advance(60); // the unregister is answered on the fake clock
  await closed;
  assert.is(options(closing.site).length, 0, 'closed: no probe');
  assert.is(closing.r.manager.stats().scheduled, 0);
});

test('one clock timer for the probes of a thousand connections', () => {
  const r = rig();
  const sites: FakeSite[] = [];
  for (let i = 0; i < 1000; i++) {
    const site = r.network.site(`198.51.${100 + Math.floor(i / 250)}.${i % 250}`, 5060, 'tcp');
    answerOptions(site, 200);
    sites.push(site);
  }

  sites.forEach((site, id) => {
    r.manager.add(id, settingsFor(site, { transport: 'udp', sendKeepAlive: true, keepAliveIntervalSeconds: 30 }));
  });
  // UDP sites of the same addresses (settingsFor took TCP from the site): answer OPTIONS there too.
  for (const site of sites) answerOptions(r.network.site(site.endpoint.host, 5060, 'udp'), 200);
  sites.forEach((_, id) => r.manager.start(id));
  r.advance(31);
  assert.is(r.manager.stats().clockTimers, 1);
  assert.is(r.manager.stats().scheduled, 2000, 'a refresh and a probe per connection, all in one heap');
  r.advance(20); // the OPTIONS transactions of ~30 s are done (Timer K 5 s)
  assert.is(r.layer.stats().transactions, 0);
  assert.is(r.clock.pending, 1, 'one clock timer in all');
  const probes = [...r.network.sites.values()].reduce((n, site) => n + options(site).length, 0);
  assert.is(probes, 1000, 'each connection probed once in its first interval');
});

test.run();
