/**
 * Registrations end to end on the real TransactionLayer, a FakeClock and
 * scripted registrar sites (registrar-fakes.ts), over TCP unless said.
 *
 * Covers: the REGISTER (Request-URI, AOR, tags, Call-ID, CSeq, Contact,
 * outbound params, Expires); refresh periods over a simulated day for two
 * connections (60 s and 120 s); a shorter granted expiry (Contact param,
 * Expires header, other contacts ignored); expires=0 for our contact (not
 * registered); expiry clamps; the flow retained while registered; 423 with
 * Min-Expires; digest MD5
 * and SHA-256 with qop=auth, nc counting and pre-emptive refreshes, stale
 * nonces, wrong password after one retry, proxy challenges, no password;
 * status mapping of 3xx/4xx/5xx/6xx, timeouts and transport errors; the
 * retry schedule over a simulated day (refusing and silent sites: every wait
 * in its window, never below the minimum nor above the maximum, min = max,
 * min > max refused); recovery reported once; a week of failures without
 * leaks; stop/remove freeing every timer; unregister (Expires: 0, our
 * contact only) including stop/start while a REGISTER is in flight; two
 * connections with the same user.
 * Not covered: 10,000 registrations (registrar-manager.test.ts), digest
 * arithmetic (digest.test.ts, registrar-digest.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_EXPIRES_SECONDS } from '../../src/registrar-client/index.ts';
import { rig, settingsFor, type Received2, type Rig } from './registrar-fakes.ts';

const H = 3600;
const DAY = 86400;
/**
 * The Expires a REGISTER asks for, worked out from ARCHITECTURE.md "Refresh":
 * the refresh period P plus 32 s (Timer F), so a refresh every P lands before
 * the binding lapses.
 */
const ASKED_FOR_3600 = 3632;
const ASKED_FOR_60 = 92;

function header(r: Received2, name: string): string | undefined {
  return r.message.header(name);
}

function authParams(r: Received2, name = 'Authorization'): Map<string, string> | undefined {
  const list = name === 'Authorization' ? r.message.authorization : r.message.proxyAuthorization;
  return list[0]?.params;
}

function diffs(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

/** No registration, no wake-up, no transaction, no clock timer. */
function assertNothingLeft(r: Rig, registrations = 0): void {
  assert.equal(r.manager.stats(), { registrations, scheduled: 0, clockTimers: 0, inFlight: 0, draining: 0 });
  assert.is(r.layer.stats().transactions, 0, 'transactions');
  assert.is(r.clock.pending, 0, 'clock timers');
}

// ---------------------------------------------------------------- the request

test('REGISTER: AOR in From/To, domain Request-URI, Contact with our address, Expires, statuses', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1', 5070);
  r.manager.add(0, settingsFor(site, { domain: 'example.com', displayName: 'Alice "A"' }));
  assert.is(r.manager.statusOf(0), 'disabled');
  r.manager.start(0);
  assert.equal(r.statuses(0), ['registering']);
  r.advance(0);
  assert.is(site.requests.length, 1, 'sent at once');
  const req = site.requests[0]!;
  const m = req.message;
  assert.is(m.method, 'REGISTER');
  assert.is(m.uri!.toString(), 'sip:example.com');
  assert.equal(req.target, { transport: 'tcp', host: '198.51.100.1', port: 5070 });
  assert.is(m.from!.uri.toString(), 'sip:1001@example.com');
  assert.is(m.to!.uri.toString(), 'sip:1001@example.com');
  assert.is(m.from!.displayName, 'Alice "A"');
  assert.ok(m.from!.tag && m.from!.tag.length >= 8, 'From tag');
  assert.is(m.to!.tag, null);
  assert.is(m.cseq!.seq, 1);
  assert.is(m.cseq!.method, 'REGISTER');
  assert.is(header(req, 'Contact'), '<sip:1001@192.0.2.10:5060;transport=tcp>');
  assert.is(m.expires, ASKED_FOR_3600);
  assert.is(header(req, 'Max-Forwards'), '70');
  assert.is(m.topVia!.transport, 'TCP');
  assert.is(header(req, 'Supported'), undefined);
  r.advance(1);
  assert.equal(r.statuses(0), ['registering', 'registered(200)']);
  assert.equal(r.events[1], { id: 0, status: 'registered', previous: 'registering', code: 200, reason: 'OK', at: 10 });
  const info = r.manager.info(0)!;
  assert.is(info.expires, ASKED_FOR_3600, 'granted what we asked');
  assert.is(info.aor, 'sip:1001@example.com');
  assert.is(info.callId, m.callId);
  assert.ok(info.nextAttemptAt! > 0.9 * H * 1000 && info.nextAttemptAt! <= H * 1000);
  assert.is(info.expiresAt, 3_632_000, 'counted from the REGISTER, sent at 0');
  assert.is(info.inFlight, false);
});

test('REGISTER: RFC 5626 outbound Contact, UDP without transport param, IPv6 server, User-Agent', () => {
  const r = rig({ userAgent: 'sip-endpoint/test' });
  const site = r.network.site('2001:db8::1', 5060, 'udp');
  r.manager.add('a', settingsFor(site, { instanceId: '2D9B2E4A-0A53-4E0C-9C59-6F1B2C3D4E5F', regId: 2 }));
  r.manager.start('a');
  r.advance(1);
  const req = site.requests[0]!;
  assert.is(req.message.uri!.toString(), 'sip:[2001:db8::1]', 'domain defaults to the server host, bracketed');
  assert.is(header(req, 'Contact'), '<sip:1001@192.0.2.10:5060>;+sip.instance="<urn:uuid:2d9b2e4a-0a53-4e0c-9c59-6f1b2c3d4e5f>";reg-id=2');
  assert.is(header(req, 'Supported'), 'path, outbound');
  assert.is(header(req, 'User-Agent'), 'sip-endpoint/test');
  assert.is(r.manager.statusOf('a'), 'registered');
});

// ---------------------------------------------------------------- refresh periods

test('refresh: 60 s and 120 s connections refresh at exactly those periods over a day (no spread)', () => {
  const r = rig({ refreshSpread: 0 });
  const a = r.network.site('198.51.100.1');
  const b = r.network.site('198.51.100.2');
  r.manager.add(0, settingsFor(a, { reregisterInSeconds: 60 }));
  r.manager.add(1, settingsFor(b, { reregisterInSeconds: 120 }));
  r.manager.start(0);
  r.manager.start(1);
  r.advance(DAY);
  const ta = a.times();
  const tb = b.times();
  assert.is(ta.length, DAY / 60 + 1);
  assert.is(tb.length, DAY / 120 + 1);
  assert.equal(ta, Array.from({ length: DAY / 60 + 1 }, (_, k) => k * 60_000));
  assert.equal(tb, Array.from({ length: DAY / 120 + 1 }, (_, k) => k * 120_000));
  assert.ok(a.requests.every((q) => q.message.expires === ASKED_FOR_60));
  assert.equal(r.statuses(0), ['registering', 'registered(200)'], 'refreshes are no events');
  assert.equal(r.statuses(1), ['registering', 'registered(200)']);
  assert.is(r.manager.stats().inFlight, 2, 'the refreshes at 24:00 are in flight');
  r.advance(1);
  assert.equal(r.manager.stats(), { registrations: 2, scheduled: 2, clockTimers: 1, inFlight: 0, draining: 0 });
});

test('refresh: with the default spread only the first refresh is earlier, then the period is exact', () => {
  const r = rig();
  const a = r.network.site('198.51.100.1');
  const b = r.network.site('198.51.100.2');
  r.manager.add(0, settingsFor(a, { reregisterInSeconds: 60 }));
  r.manager.add(1, settingsFor(b, { reregisterInSeconds: 120 }));
  r.manager.start(0);
  r.manager.start(1);
  r.advance(DAY);
  for (const [site, period] of [[a, 60_000], [b, 120_000]] as const) {
    const d = diffs(site.times());
    assert.ok(d[0]! > 0.9 * period && d[0]! <= period, `first refresh ${d[0]} within 10% of ${period}`);
    assert.ok(d.slice(1).every((x) => x === period), 'later refreshes exactly on the period');
    assert.ok(site.times().length >= DAY / (period / 1000), 'count');
  }
});

test('refresh: a shorter granted expiry wins (our Contact expires param; other contacts ignored)', () => {
  const r = rig({ refreshSpread: 0 });
  const site = r.network.site('198.51.100.1');
  site.maxExpires = 60;
  // Another device's binding with a longer expiry comes first in the 200.
  const other = site.bindings.set('sip:1001@198.51.100.1', new Map([['sip:1001@203.0.113.5:5062', 10 * DAY * 1000]]));
  assert.ok(other);
  r.manager.add(0, settingsFor(site, { domain: '198.51.100.1' }));
  r.manager.start(0);
  r.advance(600);
  assert.equal(diffs(site.times()).slice(0, 5), [30_000, 30_000, 30_000, 30_000, 30_000], 'max(60/2, 60-32) = 30 s');
  assert.is(r.manager.info(0)!.expires, 60);
});

test('refresh: Expires header when our Contact is not listed; what we asked when neither is there', () => {
  const r = rig({ refreshSpread: 0 });
  const site = r.network.site('198.51.100.1');
  let n = 0;
  site.script = () => (++n === 1 ? { status: 200, headers: [['Expires', '100']] } : { status: 200 });
  r.manager.add(0, settingsFor(site, { reregisterInSeconds: 3600 }));
  r.manager.start(0);
  r.advance(69);
  assert.equal(site.times(), [0, 68_000], 'refresh 32 s before 100 s');
  r.advance(H);
  assert.equal(site.times(), [0, 68_000, 68_000 + H * 1000], 'then the period (granted = asked)');
});

test('refresh: expires=0 for our contact is not registered (unavailable, retried); malformed Contact falls back to Expires', () => {
  const r = rig({ refreshSpread: 0 });
  const site = r.network.site('198.51.100.1');
  let n = 0;
  site.script = () =>
    ++n === 1
      ? { status: 200, headers: [['Contact', '<sip:1001@192.0.2.10:5060;transport=tcp>;expires=0']] }
      : { status: 200, headers: [['Contact', '<sip:bad@>'], ['Expires', '40']] };
  r.manager.add(0, settingsFor(site, { reregisterInSeconds: 60, minimumRetrySeconds: 5, maximumRetrySeconds: 5 }));
  r.manager.start(0);
  r.advance(1);
  assert.equal(r.statuses(0), ['registering', 'unavailable(200)']);
  assert.match(r.manager.info(0)!.reason!, /expires=0/);
  assert.is(r.manager.info(0)!.expires, undefined);
  r.advance(5);
  assert.equal(r.statuses(0), ['registering', 'unavailable(200)', 'registered(200)'], 'retried at the retry wait');
  assert.is(r.manager.info(0)!.expires, 40, 'Expires header after a malformed Contact');
  const retriedAt = site.times()[1]!;
  r.advance(20);
  assert.equal(site.times(), [0, retriedAt, retriedAt + 20_000]);
});

test('expiry clamped: a granted 2^32 is taken as MAX_EXPIRES_SECONDS (31 days); a Min-Expires above it -> failed, nothing asked', () => {
  const r = rig({ refreshSpread: 0 });
  const site = r.network.site('198.51.100.1');
  site.script = () => ({ status: 200, headers: [['Contact', '<sip:1001@192.0.2.10:5060;transport=tcp>;expires=4294967296']] });
  r.manager.add(0, settingsFor(site));
  r.manager.start(0);
  r.advance(1);
  assert.is(r.manager.info(0)!.expires, MAX_EXPIRES_SECONDS);
  assert.is(MAX_EXPIRES_SECONDS, 31 * DAY);
  r.advance(H);
  assert.equal(site.times(), [0, H * 1000], 'refreshed at the period');
  const r2 = rig();
  const site2 = r2.network.site('198.51.100.2');
  site2.script = () => ({ status: 423, headers: [['Min-Expires', '4294967295']] });
  r2.manager.add(0, settingsFor(site2));
  r2.manager.start(0);
  r2.advance(DAY);
  assert.is(site2.registers.length, 1);
  assert.equal(r2.statuses(0), ['registering', 'failed(423)']);
  assert.match(r2.manager.info(0)!.reason!, /Min-Expires 4294967295 is above/);
});

test('a registered TCP connection retains its flow (Transport.retainFlow) until it leaves registered', () => {
  const calls: Array<[string, boolean]> = [];
  const r = rig({ retainFlow: (target, retain) => calls.push([`${target.transport}:${target.host}:${target.port}`, retain]) });
  const site = r.network.site('198.51.100.1', 5070);
  r.manager.add(0, settingsFor(site));
  r.manager.start(0);
  r.advance(1);
  assert.equal(calls, [['tcp:198.51.100.1:5070', true]]);
  r.advance(H);
  assert.is(calls.length, 1, 'refreshes retain nothing more');
  r.manager.stop(0);
  assert.equal(calls, [['tcp:198.51.100.1:5070', true], ['tcp:198.51.100.1:5070', false]]);
});

// ---------------------------------------------------------------- 423

test('423: retry with Min-Expires at once, keep asking for it on refreshes', () => {
  const r = rig({ refreshSpread: 0 });
  const site = r.network.site('198.51.100.1');
  site.minExpires = 7200;
  r.manager.add(0, settingsFor(site));
  r.manager.start(0);
  r.advance(1);
  assert.equal(site.requests.map((q) => q.message.expires), [3632, 7200]);
  assert.equal(site.answers.map(([, s]) => s), [423, 200]);
  assert.equal(r.statuses(0), ['registering', 'registered(200)']);
  r.advance(H);
  assert.equal(site.requests.map((q) => q.message.expires), [3632, 7200, 7200]);
  assert.is(site.requests[2]!.at, H * 1000, 'the period still counts from the first REGISTER of the cycle');
});

test('423: without Min-Expires, or not above what we asked -> failed, no loop', () => {
  for (const headers of [[], [['Min-Expires', '60']], [['Min-Expires', 'x']]] as Array<Array<[string, string]>>) {
    const r = rig();
    const site = r.network.site('198.51.100.1');
    site.script = () => ({ status: 423, headers });
    r.manager.add(0, settingsFor(site));
    r.manager.start(0);
    r.advance(DAY);
    assert.is(site.registers.length, 1);
    assert.equal(r.statuses(0), ['registering', 'failed(423)']);
    assertNothingLeft(r, 1);
  }
  // A registrar that raises Min-Expires every time: two retries, then failed.
  const r = rig();
  const site = r.network.site('198.51.100.1');
  let min = 4000;
  site.script = () => ({ status: 423, headers: [['Min-Expires', String((min += 1000))]] });
  r.manager.add(0, settingsFor(site));
  r.manager.start(0);
  r.advance(DAY);
  assert.is(site.registers.length, 3);
  assert.equal(r.statuses(0), ['registering', 'failed(423)']);
});

// ---------------------------------------------------------------- digest

test('digest MD5 qop=auth: 401 then credentials; refreshes pre-emptive with nc counting', () => {
  const r = rig({ refreshSpread: 0 });
  const site = r.network.site('198.51.100.1');
  site.digest = { realm: 'lab', passwords: { 'auth-1001': 'secret' }, opaque: 'op4que' };
  r.manager.add(0, settingsFor(site, { password: 'secret', authUsername: 'auth-1001', reregisterInSeconds: 60 }));
  r.manager.start(0);
  r.advance(1);
  assert.equal(site.answers.map(([, s]) => s), [401, 200]);
  const [first, second] = site.requests;
  assert.is(authParams(first!), undefined, 'no credentials before a challenge');
  const p = authParams(second!)!;
  assert.is(p.get('username'), 'auth-1001');
  assert.is(p.get('realm'), 'lab');
  assert.is(p.get('uri'), 'sip:198.51.100.1');
  assert.is(p.get('qop'), 'auth');
  assert.is(p.get('nc'), '00000001');
  assert.is(p.get('opaque'), 'op4que');
  assert.is(p.get('algorithm'), 'MD5');
  assert.ok(p.get('cnonce'));
  r.advance(600);
  assert.equal(site.answers.map(([, s]) => s).slice(2), Array(10).fill(200), 'one REGISTER per refresh');
  const ncs = site.requests.slice(1).map((q) => authParams(q)!.get('nc'));
  assert.equal(ncs, Array.from({ length: 11 }, (_, i) => (i + 1).toString(16).padStart(8, '0')));
  assert.ok(site.requests.slice(1).every((q) => authParams(q)!.get('nonce') === p.get('nonce')), 'same nonce');
  assert.equal(r.statuses(0), ['registering', 'registered(200)']);
});

test('digest SHA-256: chosen over MD5 when both are offered (MD5 listed first)', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1');
  site.digest = { realm: 'lab', passwords: { '1001': 'pw' }, algorithms: ['MD5', 'SHA-256'] };
  r.manager.add(0, settingsFor(site, { password: 'pw' }));
  r.manager.start(0);
  r.advance(1);
  const p = authParams(site.requests[1]!)!;
  assert.is(p.get('algorithm'), 'SHA-256');
  assert.is(p.get('response')!.length, 64);
  assert.is(p.get('qop'), 'auth');
  assert.is(r.manager.statusOf(0), 'registered');
});

test('digest: stale=true -> retried with the new nonce (nc back to 1), no status event', () => {
  const r = rig({ refreshSpread: 0 });
  const site = r.network.site('198.51.100.1');
  site.digest = { realm: 'lab', passwords: { '1001': 'pw' }, algorithms: ['SHA-256'], nonceTtlMs: 100_000 };
  r.manager.add(0, settingsFor(site, { password: 'pw', reregisterInSeconds: 60 }));
  r.manager.start(0);
  r.advance(121);
  // 0: 401, 0: 200 (nc 1), 60: 200 (nc 2), 120: stale 401, 120: 200 (new nonce, nc 1)
  assert.equal(site.answers.map(([, s]) => s), [401, 200, 200, 401, 200]);
  const stale = site.answers[3]!;
  assert.is(stale[0], 120_010);
  const nonces = site.requests.slice(1).map((q) => authParams(q)!.get('nonce'));
  const ncs = site.requests.slice(1).map((q) => authParams(q)!.get('nc'));
  assert.equal(ncs, ['00000001', '00000002', '00000003', '00000001']);
  assert.is(nonces[0], nonces[2]);
  assert.is.not(nonces[3], nonces[2]);
  assert.equal(r.statuses(0), ['registering', 'registered(200)']);
  r.advance(60);
  assert.is(site.registers.length, 6, 'next refresh still on the period (180 s)');
  assert.is(site.registers[5]!.at, 180_000);
});

test('digest: wrong password -> failed after one retry, never loops, nothing left running', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1');
  site.digest = { realm: 'lab', passwords: { '1001': 'right' } };
  r.manager.add(0, settingsFor(site, { password: 'wrong' }));
  r.manager.start(0);
  r.advance(7 * DAY);
  assert.is(site.registers.length, 2, 'one REGISTER without, one with credentials');
  assert.equal(r.statuses(0), ['registering', 'failed(401)']);
  assert.match(r.manager.info(0)!.reason!, /wrong user name or password/);
  assertNothingLeft(r, 1);
  // start() again tries again from scratch (fresh challenge), once.
  r.manager.start(0);
  r.advance(60);
  assert.is(site.registers.length, 4);
  assert.equal(r.statuses(0), ['registering', 'failed(401)', 'registering', 'failed(401)']);
  assert.is(authParams(site.registers[2]!), undefined, 'no stale credentials re-sent');
});

test('digest: credentials with no verdict (timeout) then a new nonce without stale: answered once more, registered', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1');
  site.digest = { realm: 'lab', passwords: { '1001': 'pw' } };
  let n = 0;
  site.script = (_request, s) => {
    if (++n > 1) return undefined;
    s.state = 'silent'; // the answer to this one still goes out; the next REGISTER gets none
    return s.challenge();
  };
  r.manager.add(0, settingsFor(site, { password: 'pw' }));
  r.manager.start(0);
  r.advance(40);
  assert.equal(r.statuses(0), ['registering', 'unavailable(408)']);
  // The site comes back having forgotten its nonces: our old one gets a plain 401.
  site.state = 'up';
  site.nonces.clear();
  r.advance(20);
  assert.equal(site.answers.map(([, st]) => st), [401, 401, 200]);
  assert.equal(r.statuses(0), ['registering', 'unavailable(408)', 'registered(200)']);
});

test('digest: 407 from a proxy answered with Proxy-Authorization; no password -> failed', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1');
  site.digest = { realm: 'proxy', passwords: { '1001': 'pw' }, proxy: true, qop: null };
  r.manager.add(0, settingsFor(site, { password: 'pw' }));
  r.manager.add(1, { ...settingsFor(site), user: '1002' });
  r.manager.start(0);
  r.manager.start(1);
  r.advance(1);
  const ours = site.requests.filter((q) => q.message.from!.uri.user === '1001');
  assert.equal(ours.map((q) => q.message.header('Proxy-Authorization') !== undefined), [false, true]);
  const p = authParams(ours[1]!, 'Proxy-Authorization')!;
  assert.is(p.get('qop'), undefined, 'RFC 2069 mode: no qop, no nc, no cnonce');
  assert.is(p.get('nc'), undefined);
  assert.is(r.manager.statusOf(0), 'registered');
  assert.equal(r.statuses(1), ['registering', 'failed(407)']);
  assert.match(r.manager.info(1)!.reason!, /no password/);
});

// ---------------------------------------------------------------- status mapping

test('statuses: 3xx/4xx/6xx and 501 -> failed (no retry); 408/500/502/503/504 -> unavailable (retried)', () => {
  const cases: Array<[number, string]> = [
    [301, 'failed'], [302, 'failed'], [403, 'failed'], [404, 'failed'], [480, 'failed'], [501, 'failed'], [505, 'failed'], [603, 'failed'],
    [408, 'unavailable'], [500, 'unavailable'], [502, 'unavailable'], [503, 'unavailable'], [504, 'unavailable'],
  ];
  for (const [code, status] of cases) {
    const r = rig();
    const site = r.network.site('198.51.100.1');
    site.script = () => ({ status: code });
    r.manager.add(0, settingsFor(site));
    r.manager.start(0);
    r.advance(1);
    assert.equal(r.statuses(0), ['registering', `${status}(${code})`], `${code}`);
    r.advance(100);
    assert.is(site.registers.length > 1, status === 'unavailable', `${code} retried?`);
    assert.is(r.manager.info(0)!.code, code);
  }
});

test('statuses: no answer (Timer F) -> unavailable(408); connection refused -> unavailable(503)', () => {
  const r = rig();
  const silent = r.network.site('198.51.100.1');
  const refusing = r.network.site('198.51.100.2');
  silent.state = 'silent';
  refusing.state = 'refusing';
  r.manager.add(0, settingsFor(silent));
  r.manager.add(1, settingsFor(refusing));
  r.manager.start(0);
  r.manager.start(1);
  r.advance(1);
  assert.equal(r.statuses(1), ['registering', 'unavailable(503)']);
  assert.match(r.manager.info(1)!.reason!, /ECONNREFUSED/);
  assert.equal(r.statuses(0), ['registering']);
  r.advance(31);
  assert.equal(r.statuses(0), ['registering', 'unavailable(408)'], 'after Timer F = 32 s');
  assert.match(r.manager.info(0)!.reason!, /timeout/);
});

// ---------------------------------------------------------------- backoff and recovery

// The retry schedule as a site that is down sees it. The windows are worked
// out by hand from what the settings promise (registrar-scheduler.test.ts says
// how): with the defaults (20 s, 1800 s) the k-th wait lies in
const DEFAULT_WINDOWS: ReadonlyArray<readonly [number, number]> = [
  [20, 30], [40, 60], [80, 120], [160, 240], [320, 480], [640, 960], [1280, 1800],
];
/** ... and from the 8th on, at the cap: */
const CAP_WINDOW = [1350, 1800] as const;
/** Timer F (64*T1, T1 = 500 ms): how long a silent site takes to fail a REGISTER. */
const TIMER_F_MS = 32_000;

interface Outage {
  readonly r: Rig;
  /** When each REGISTER reached the site, ms (retransmissions left out). */
  readonly times: number[];
  /** Seconds from each failure to the next REGISTER. */
  readonly waits: number[];
}

/** A site down for `seconds` from the start: refusing (the failure comes back after the network latency) or silent (after Timer F). */
function outage(options: { seed?: number; random?: () => number; min?: number; max?: number; state?: 'refusing' | 'silent'; seconds?: number } = {}): Outage {
  const r = rig(options.random === undefined ? {} : { random: options.random }, options.seed);
  const site = r.network.site('198.51.100.1');
  site.state = options.state ?? 'refusing';
  const limits = { ...(options.min === undefined ? {} : { minimumRetrySeconds: options.min }), ...(options.max === undefined ? {} : { maximumRetrySeconds: options.max }) };
  r.manager.add(0, settingsFor(site, limits));
  r.manager.start(0);
  r.advance(options.seconds ?? DAY);
  const failsAfter = site.state === 'silent' ? TIMER_F_MS : r.network.latency;
  const times = site.times();
  return { r, times, waits: diffs(times).map((d) => (d - failsAfter) / 1000) };
}

function assertInDefaultWindows(waits: number[], label: string): void {
  waits.forEach((wait, i) => {
    const [low, high] = DEFAULT_WINDOWS[i] ?? CAP_WINDOW;
    assert.ok(wait >= low && wait <= high, `${label}, failure ${i + 1}: waited ${wait} s, window [${low}, ${high}]`);
  });
}

test('retry over a simulated day, site refusing (defaults): every wait in its window, attempts never stop', () => {
  for (const seed of [1, 2, 3, 4]) {
    const { times, waits, r } = outage({ seed });
    assert.ok(waits.length >= 50, `seed ${seed}: only ${waits.length} retries in a day`);
    assertInDefaultWindows(waits, `seed ${seed}`);
    assert.ok(DAY * 1000 - times.at(-1)! <= 1800_000 + r.network.latency, `seed ${seed}: still retrying at the end of the day`);
    assert.equal(r.statuses(0), ['registering', 'unavailable(503)'], 'one event for the whole outage');
  }
});

test('retry over a simulated day, site silent (408 after Timer F): waits counted from the timeout, same windows', () => {
  for (const seed of [5, 6]) {
    const { waits, r } = outage({ seed, state: 'silent' });
    assert.ok(waits.length >= 45, `seed ${seed}: only ${waits.length} retries in a day`);
    assertInDefaultWindows(waits, `seed ${seed}`);
    assert.equal(r.statuses(0), ['registering', 'unavailable(408)']);
  }
});

test('retry: minimum = maximum = 30 s: after every failure of a day the next REGISTER comes 30 s later, exactly', () => {
  for (const seed of [1, 2]) {
    const { waits } = outage({ seed, min: 30, max: 30 });
    // A 30.01 s cycle (refusal after 10 ms, then 30 s): 2,879 retries fit in a day.
    assert.is(waits.length, 2879);
    assert.ok(waits.every((wait) => wait === 30), `seed ${seed}: ${[...new Set(waits)].join(', ')}`);
  }
  const silent = outage({ min: 30, max: 30, state: 'silent', seconds: H });
  assert.ok(silent.waits.length > 0 && silent.waits.every((wait) => wait === 30), silent.waits.join(', '));
});

test('retry: never below the minimum nor above the maximum for small and odd settings, with the extreme draws of random', () => {
  for (const [min, max] of [[1, 8], [5, 7], [1, 1], [600, 3600]] as const) {
    for (const random of [() => 0, () => 0.999_999_999, undefined]) {
      const { waits } = outage({ min, max, random, seconds: H });
      assert.ok(waits.length > 0);
      assert.ok(waits.every((wait) => wait >= min && wait <= max), `[${min}, ${max}]: ${waits.slice(0, 12).join(', ')}`);
    }
  }
});

test('retry: with the lowest draw the waits are the doubling itself, then the cap less a quarter', () => {
  assert.equal(outage({ random: () => 0, seconds: 3 * H }).waits.slice(0, 10), [20, 40, 80, 160, 320, 640, 1280, 1350, 1350, 1350]);
  assert.equal(outage({ random: () => 0, min: 1, max: 8, seconds: 60 }).waits.slice(0, 6), [1, 2, 4, 6, 6, 6]);
});

test('retry: a minimum above the maximum is refused when the connection is added; nothing is added', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1');
  assert.throws(() => r.manager.add(0, settingsFor(site, { minimumRetrySeconds: 60, maximumRetrySeconds: 30 })), (error: Error) => error instanceof RangeError && /minimum/i.test(error.message));
  assert.is(r.manager.stats().registrations, 0);
  r.manager.add(0, settingsFor(site, { minimumRetrySeconds: 30, maximumRetrySeconds: 30 }));
  assert.is(r.manager.stats().registrations, 1, 'equal limits are fine');
});

test('recovery: unavailable once while down, registered exactly once when it answers again', () => {
  const r = rig({ refreshSpread: 0 });
  const site = r.network.site('198.51.100.1');
  r.manager.add(0, settingsFor(site, { reregisterInSeconds: 60 }));
  r.manager.start(0);
  r.advance(1);
  site.state = 'silent';
  r.advance(2 * H);
  const down = site.registers.length;
  assert.ok(down >= 5, `${down} REGISTERs while down`);
  assert.equal(r.statuses(0), ['registering', 'registered(200)', 'unavailable(408)']);
  site.state = 'up';
  r.advance(1800);
  assert.equal(r.statuses(0), ['registering', 'registered(200)', 'unavailable(408)', 'registered(200)']);
  const back = r.events.at(-1)!;
  assert.equal(back.previous, 'unavailable');
  assert.is(r.manager.info(0)!.failures, 0);
  // Back on the period after recovery.
  const after = site.times().filter((t) => t >= back.at - 100);
  assert.ok(diffs(after).every((d) => d === 60_000));
  // Down again: the backoff starts from the minimum again.
  site.state = 'refusing';
  const t0 = r.clock.now();
  while (site.registers.filter((q) => q.at >= t0).length < 2) r.advance(1);
  const [refused, retry] = site.registers.filter((q) => q.at >= t0);
  const firstWait = retry!.at - refused!.at - r.network.latency;
  assert.ok(firstWait >= 20_000 && firstWait <= 30_000, 'the backoff starts again from the minimum');
});

test('a registration that keeps failing for a week leaks nothing: one wake-up, one transaction at most', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1', 5060, 'udp');
  site.state = 'silent';
  r.manager.add(0, settingsFor(site));
  r.manager.start(0);
  let maxPending = 0;
  for (let hour = 0; hour < 7 * 24; hour++) {
    for (let m = 0; m < 60; m++) {
      r.advance(60);
      const stats = r.manager.stats();
      assert.ok(stats.scheduled <= 1 && stats.clockTimers <= 1 && stats.inFlight <= 1);
      assert.ok(r.layer.stats().transactions <= 1);
      maxPending = Math.max(maxPending, r.clock.pending);
    }
  }
  // The heap timer, or Timer E + Timer F of the REGISTER in flight (UDP).
  assert.ok(maxPending <= 2, `clock timers ${maxPending}`);
  const n = site.registers.length;
  assert.ok(n >= (7 * DAY) / (1800 + 32) && n <= (7 * DAY) / (900 + 32) + 10, `${n} REGISTERs in a week`);
  assert.equal(r.statuses(0), ['registering', 'unavailable(408)']);
  r.manager.remove(0);
  r.advance(60);
  assertNothingLeft(r);
});

// ---------------------------------------------------------------- Call-ID, CSeq

test('Call-ID constant and CSeq increasing across refreshes, challenges, failures and stop/start', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1');
  site.digest = { realm: 'lab', passwords: { '1001': 'pw' }, nonceTtlMs: 200_000 };
  r.manager.add(0, settingsFor(site, { password: 'pw', reregisterInSeconds: 60 }));
  r.manager.start(0);
  r.advance(600);
  site.state = 'refusing';
  r.advance(300);
  site.state = 'up';
  r.advance(300);
  r.manager.stop(0);
  r.advance(1);
  r.manager.start(0);
  r.advance(1);
  const all = site.requests;
  assert.ok(all.length > 20);
  const callIds = new Set(all.map((q) => q.message.callId));
  assert.is(callIds.size, 1);
  const fromTags = new Set(all.map((q) => q.message.from!.tag));
  assert.is(fromTags.size, 1);
  const seqs = all.map((q) => q.message.cseq!.seq);
  assert.equal(seqs, seqs.map((_, i) => i + 1), 'CSeq + 1 for every REGISTER');
  assert.is(r.manager.info(0)!.cseq, seqs.length);
});

// ---------------------------------------------------------------- stop, remove, unregister

test('stop: disabled at once, unregister with Expires: 0 and our contact only, then nothing left', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1');
  site.digest = { realm: 'lab', passwords: { '1001': 'pw' } };
  site.bindings.set('sip:1001@198.51.100.1', new Map([['sip:1001@203.0.113.5:5062', 10 * DAY * 1000]]));
  r.manager.add(0, settingsFor(site, { password: 'pw' }));
  r.manager.start(0);
  r.advance(1);
  assert.is(site.bindings.get('sip:1001@198.51.100.1')!.size, 2);
  r.manager.stop(0);
  assert.equal(r.statuses(0), ['registering', 'registered(200)', 'disabled']);
  assert.equal(r.events.at(-1), { id: 0, status: 'disabled', previous: 'registered', code: undefined, reason: undefined, at: 1000 });
  r.advance(1);
  const unregister = site.requests.at(-1)!;
  assert.is(unregister.message.expires, 0);
  assert.equal(unregister.message.headerValues('Contact'), ['<sip:1001@192.0.2.10:5060;transport=tcp>'], 'our contact, not *');
  assert.ok(authParams(unregister), 'pre-emptive credentials');
  assert.is(unregister.message.callId, site.requests[0]!.message.callId);
  assert.equal([...site.bindings.get('sip:1001@198.51.100.1')!.keys()], ['sip:1001@203.0.113.5:5062'], 'other device kept');
  assertNothingLeft(r, 1);
  r.manager.stop(0); // again: nothing
  assert.is(r.events.length, 3);
});

test('stop: an unregister that gets challenged answers the challenge', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1');
  site.digest = { realm: 'lab', passwords: { '1001': 'pw' }, nonceTtlMs: 1000 };
  r.manager.add(0, settingsFor(site, { password: 'pw' }));
  r.manager.start(0);
  r.advance(10);
  r.manager.stop(0);
  r.advance(1);
  assert.equal(site.answers.map(([, s]) => s), [401, 200, 401, 200], 'stale nonce on the unregister, then accepted');
  assert.equal(site.requests.slice(2).map((q) => q.message.expires), [0, 0]);
  assert.is(site.bindings.get('sip:1001@198.51.100.1')!.size, 0);
  assertNothingLeft(r, 1);
});

test('stop while unavailable or failed: no unregister; while a REGISTER is in flight: unregister after its 200', () => {
  const r = rig();
  const down = r.network.site('198.51.100.1');
  down.state = 'refusing';
  r.manager.add(0, settingsFor(down));
  r.manager.start(0);
  r.advance(1);
  r.manager.stop(0);
  r.advance(3600);
  assert.is(down.registers.length, 1);
  assert.equal(r.statuses(0), ['registering', 'unavailable(503)', 'disabled']);

  const slow = r.network.site('198.51.100.2');
  r.manager.add(1, settingsFor(slow));
  r.manager.start(1);
  r.advance(0); // REGISTER sent, 200 in 10 ms
  r.manager.stop(1);
  assert.is(r.manager.stats().inFlight, 1);
  r.advance(1);
  assert.equal(slow.requests.map((q) => q.message.expires), [ASKED_FOR_3600, 0]);
  assert.equal(r.statuses(1), ['registering', 'disabled'], 'the late 200 is no event');
  assert.is(slow.bindings.get('sip:1001@198.51.100.2')!.size, 0);

  // Stopped in flight, and the REGISTER fails: nothing more.
  const failing = r.network.site('198.51.100.3');
  failing.script = () => ({ status: 403 });
  r.manager.add(2, settingsFor(failing));
  r.manager.start(2);
  r.advance(0);
  r.manager.stop(2);
  r.advance(1);
  assert.is(failing.registers.length, 1);
  assert.equal(r.statuses(2), ['registering', 'disabled']);
  assertNothingLeft(r, 3);
});

test('start during an unregister registers after it; stop+start during a REGISTER keeps it', () => {
  const r = rig();
  const site = r.network.site('198.51.100.1');
  r.manager.add(0, settingsFor(site));
  r.manager.start(0);
  r.advance(1);
  r.manager.stop(0);
  r.advance(0); // the unregister goes out at the next turn of the heap
  r.manager.start(0); // unregister in flight
  assert.equal(r.statuses(0), ['registering', 'registered(200)', 'disabled', 'registering']);
  r.advance(1);
  assert.equal(site.requests.map((q) => q.message.expires), [3632, 0, 3632]);
  assert.equal(r.statuses(0), ['registering', 'registered(200)', 'disabled', 'registering', 'registered(200)']);
  assert.is(site.bindings.get('sip:1001@198.51.100.1')!.size, 1);

  const other = r.network.site('198.51.100.2');
  r.manager.add(1, settingsFor(other));
  r.manager.start(1);
  r.advance(0);
  r.manager.stop(1);
  r.manager.start(1);
  r.advance(1);
  assert.is(other.registers.length, 1, 'the REGISTER in flight serves the restart');
  assert.equal(r.statuses(1), ['registering', 'disabled', 'registering', 'registered(200)']);
  assert.is(r.manager.stats().scheduled, 2, 'both refreshing');
});

test('remove: stops timers, unregisters, forgets; the unregister drains; close() unregisters all', async () => {
  const r = rig();
  const a = r.network.site('198.51.100.1');
  const b = r.network.site('198.51.100.2');
  const c = r.network.site('198.51.100.3');
  c.state = 'silent';
  r.manager.add(0, settingsFor(a));
  r.manager.add(1, settingsFor(b));
  r.manager.add(2, settingsFor(c));
  r.manager.start(0);
  r.manager.start(1);
  r.manager.start(2);
  r.advance(1);
  r.manager.remove(0);
  assert.is(r.manager.statusOf(0), undefined);
  assert.is(r.manager.info(0), undefined);
  assert.is(r.manager.has(0), false);
  assert.equal(r.manager.ids(), [1, 2]);
  let stats = r.manager.stats();
  assert.is(stats.registrations, 2);
  assert.is(stats.draining, 1);
  r.advance(1);
  assert.is(r.manager.stats().draining, 0);
  assert.is(a.requests.at(-1)!.message.expires, 0);
  r.manager.remove(0); // unknown now: ignored
  let closed = false;
  const done = r.manager.close().then(() => (closed = true));
  stats = r.manager.stats();
  assert.is(stats.registrations, 0);
  assert.is(stats.draining, 2, 'unregister of 1, REGISTER in flight of 2');
  r.advance(1);
  await Promise.resolve();
  assert.is(closed, false, 'site 2 has not answered yet');
  r.advance(40);
  await done;
  assert.is(closed, true);
  assert.is(b.requests.at(-1)!.message.expires, 0);
  assert.is(c.registers.length, 1, 'no unregister to a site that never answered');
  assertNothingLeft(r);
  assert.throws(() => r.manager.add(5, settingsFor(a)), /closed/);
  await r.manager.close();
});

test('same user on two sites: two registrations, both start at once, separate Call-IDs', () => {
  const r = rig();
  const a = r.network.site('198.51.100.1', 5070, 'udp');
  const b = r.network.site('198.51.100.2', 5080, 'tcp');
  r.manager.add(0, settingsFor(a, { domain: 'example.com' }));
  r.manager.add(1, settingsFor(b, { domain: 'example.com' }));
  r.manager.start(0);
  r.manager.start(1);
  r.advance(0);
  assert.equal([a.requests[0]!.at, b.requests[0]!.at], [0, 0]);
  assert.is.not(a.requests[0]!.message.callId, b.requests[0]!.message.callId);
  r.advance(1);
  assert.equal(r.manager.ids().map((id) => r.manager.statusOf(id)), ['registered', 'registered']);
  b.state = 'silent';
  r.advance(H);
  assert.is(r.manager.statusOf(0), 'registered', 'site A untouched');
  assert.is(r.manager.statusOf(1), 'unavailable');
});

test.run();
