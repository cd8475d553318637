/**
 * Calls through one Kamailio site (harness/kamailio.ts, the stock routing of
 * test/interop/kamailio/kamailio.cfg, started with `callAuth: true`: an
 * initial INVITE from a local user gets 407) between our dialog layer
 * (harness/dialog-ua.ts) and SIPp, both ways. The site record-routes
 * (`Record-Route: <sip:SITE;lr>`), so every in-dialog request, ours and
 * SIPp's, goes through it. The callee is found with lookup("location"): the
 * test registers it first (our UA registers itself, or a binding for the
 * SIPp UAS's address), a user of its own per test.
 *
 * Covers, on our trace:
 * - 407 on our INVITE from 1001, answered with Proxy-Authorization (digest
 *   checked by Kamailio): the ACK for the 407 on the first INVITE's branch,
 *   the second INVITE with CSeq + 1, the same Call-ID and From tag, and the
 *   ACK for the 2xx with the same Proxy-Authorization (s13.2.2.4);
 * - route set: the site's Record-Route in the responses to our INVITE and in
 *   SIPp's INVITE to us; our 180 and 200 copy it (s12.1.1); each request of
 *   ours in the dialog (ACK, re-INVITE, INFO, OPTIONS, BYE) carries
 *   `Route: <sip:SITE;lr>` and goes to the site's address, with the peer's
 *   Contact as Request-URI (loose routing, s12.2.1.1); SIPp's requests reach
 *   us from the site;
 * - re-INVITE hold/resume both ways with the SDP directions, INFO and
 *   OPTIONS both ways, BYE both ways (dialog-uas-hold.xml, dialog-uac-hold.xml,
 *   dialog-uas-call.xml, dialog-uac-nosdp.xml);
 * - CANCEL both ways while ringing: the site answers the CANCEL and cancels
 *   its own branch; the 487 reaches the caller, whose ACK goes to the site;
 * - nothing left in our UA afterwards (a UDP INVITE that got 407 waits out
 *   Timer D, 32 s, first).
 * UDP throughout, and one call over TCP.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_PASSWORD, kamailioMissing, startSite, stopAllSites, type KamailioSite } from './harness/kamailio.ts';
import { delay } from './harness/process.ts';
import { requireSipp, startSipp, stopAllSipp, type Sipp } from './harness/sipp.ts';
import { SETTLE_MS, TIMERS, assertSippSucceeded } from './harness/sipp-suite.ts';
import { DialogUa, cseqOf, digest, distinctMessages, headerValues, label, sdpDirection, topBranch, type TraceEntry } from './harness/dialog-ua.ts';
import type { Endpoint, TransportKind } from '../../src/transport/index.ts';

const test = suite('dialog: through a Kamailio site, both ways');

let site: KamailioSite;
let uas: DialogUa[] = [];

test.before(async () => {
  const missing = kamailioMissing();
  if (missing !== undefined) throw new Error(`Kamailio is needed for these tests: ${missing}`);
  requireSipp();
  site = await startSite({ name: 'dialog', address: '127.0.0.1', callAuth: true });
});

test.after.each(async () => {
  for (const ua of uas) await ua.close();
  uas = [];
  await stopAllSipp();
});

test.after(async () => {
  await stopAllSites();
});

async function ourUa(): Promise<DialogUa> {
  const ua = await DialogUa.start({ timers: TIMERS, userAgent: 'sip-endpoint-interop' });
  uas.push(ua);
  return ua;
}

const siteHop = (kind: TransportKind): Endpoint => ({ transport: kind, host: site.address, port: site.ports[kind] });
/** The site's "domain": Kamailio's myself is its address and port. */
const domain = (kind: TransportKind): string => `${site.uriHost}:${site.ports[kind]}`;
const aor = (user: string, kind: TransportKind): string => `sip:${user}@${domain(kind)}${kind === 'udp' ? '' : ';transport=tcp'}`;

/**
 * A binding at the site for `user` pointing at a SIPp UAS that listens on
 * `kind`. Registered over UDP, from our own address: over TCP the site
 * would take our connection for the contact's flow (NAT handling, the
 * connection's source port is not our Via's) and route the calls to us.
 */
async function registerSipp(ua: DialogUa, user: string, sipp: Sipp, kind: TransportKind): Promise<void> {
  const status = await ua.register({ registrar: siteHop('udp'), user, password: DEFAULT_PASSWORD, contact: `<sip:${user}@${sipp.host}:${sipp.port}${kind === 'udp' ? '' : ';transport=tcp'}>` });
  assert.is(status, 200, `REGISTER ${user} for SIPp`);
}

async function assertIdle(ua: DialogUa, timerD: boolean): Promise<void> {
  await ua.settled(timerD ? 32_000 + SETTLE_MS : SETTLE_MS);
  assert.equal(ua.dialogs.stats(), { dialogs: 0, incomingInvites: 0, outgoingInvites: 0, timers: 0 });
  assert.equal(ua.transactions.stats(), { clientInvite: 0, clientNonInvite: 0, serverInvite: 0, serverNonInvite: 0, transactions: 0, timers: 0 });
  assert.equal(ua.diagnostics, [], 'transport diagnostics');
  await ua.close();
  assert.is(ua.clock.pending, 0, 'no timer left on the clock');
}

const labels = (entries: TraceEntry[]): string[] => entries.map(label);
/** Responses the site sends on its own, hop by hop (100 Trying), left out. */
const endToEnd = (entries: TraceEntry[]): TraceEntry[] => entries.filter((t) => !t.startLine.startsWith('SIP/2.0 100 '));
/**
 * `actual` with each pair of neighbours that `expected` has the other way
 * round put back in its order. A peer's back-to-back messages (a 180 and
 * its 200; a 200 and the next request) can reach us the other way round:
 * the site's two workers forward them, and UDP promises no order. Anything
 * else that differs stays, for the assertion to show.
 */
const undoNeighbourSwaps = (actual: string[], expected: string[]): string[] => {
  const result = [...actual];
  for (let k = 0; k + 1 < result.length && k + 1 < expected.length; k++) {
    if (result[k] !== expected[k] && result[k] === expected[k + 1] && result[k + 1] === expected[k]) {
      [result[k], result[k + 1]] = [result[k + 1]!, result[k]!];
    }
  }
  return result;
};

/** The ladder of a call through the site, as expected up to neighbour swaps (undoNeighbourSwaps). */
const assertLadder = (actual: string[], expected: string[]): void => assert.equal(undoNeighbourSwaps(actual, expected), expected);
const directions = (entries: TraceEntry[]): string[] => entries.filter((t) => sdpDirection(t.text) !== undefined).map((t) => `${label(t)} ${sdpDirection(t.text)}`);
const requestsOf = (entries: TraceEntry[]): TraceEntry[] => entries.filter((t) => !t.startLine.startsWith('SIP/2.0 '));
const header = (t: TraceEntry, name: string): string => headerValues(t.text, name)[0] ?? '';

/**
 * SIPp takes our next request only once it has the message we sent before
 * it (an ACK, or our answer to its request), and nothing tells us when it
 * has: the site's two workers may forward our next request first, and SIPp
 * drops the call on it (seen under load: our re-INVITE then timed out).
 * So we leave the site time to deliver the earlier one.
 */
const untilDelivered = (): Promise<void> => delay(250);

/** The site's Record-Route value as Kamailio writes it. */
const siteRoute = (kind: TransportKind): RegExp => new RegExp(`^<sip:${site.address.replace(/\./g, '\\.')}:${site.ports[kind]};(?:transport=tcp;)?lr(?:;[^>]*)?>$`);

/** Every request of ours in the dialog: to the site's address, Route = the site, Request-URI = the peer's Contact. */
function assertRouted(entries: TraceEntry[], kind: TransportKind, peerContact: RegExp): void {
  const requests = requestsOf(entries);
  assert.ok(requests.length > 0);
  for (const t of requests) {
    assert.equal([t.peer.host, t.peer.port, t.peer.transport], [site.address, site.ports[kind], kind], `${t.startLine} goes to the site`);
    assert.equal(headerValues(t.text, 'Route').length, 1, `${t.startLine}: one Route`);
    assert.match(header(t, 'Route'), siteRoute(kind), `${t.startLine}: Route is the site's Record-Route`);
    assert.match(t.startLine.split(' ')[1]!, peerContact, `${t.startLine}: Request-URI is the peer's Contact`);
  }
}

/** CSeq of our requests in the dialog up by one (s12.2.1.1); ACKs on their INVITE's number, their own branch. */
function assertOurCSeqs(entries: TraceEntry[]): void {
  let last: number | undefined;
  let invite: { seq: number; branch: string | undefined } | undefined;
  for (const entry of requestsOf(entries)) {
    const { seq, method } = cseqOf(entry.text);
    if (method === 'ACK') {
      assert.is(seq, invite?.seq, 'ACK on its INVITE\'s number');
      continue;
    }
    if (last !== undefined) assert.is(seq, last + 1, `${method} ${seq} after ${last}`);
    last = seq;
    if (method === 'INVITE') invite = { seq, branch: topBranch(entry.text) };
  }
}

/**
 * The start of a call of ours as 1001 through the site: INVITE, 407, ACK on
 * the INVITE's branch, INVITE with Proxy-Authorization (CSeq + 1, same
 * Call-ID and From tag, new branch). Returns the second INVITE.
 */
function assertChallenged(outbound: TraceEntry[], inbound: TraceEntry[], requestUri: string): TraceEntry {
  const [first, ack407, second] = requestsOf(outbound);
  assert.equal([first, ack407, second].map((t) => t && label(t)), ['INVITE', 'ACK', 'INVITE']);
  const challenge = inbound.find((t) => t.startLine.startsWith('SIP/2.0 407 '));
  assert.ok(challenge, 'the site challenged our INVITE with 407');
  assert.match(header(challenge!, 'Proxy-Authenticate'), /^Digest /);
  assert.is(headerValues(first!.text, 'Proxy-Authorization').length, 0);
  // s17.1.1.3: the ACK for a non-2xx is part of the INVITE's transaction.
  assert.equal([cseqOf(ack407!.text).seq, topBranch(ack407!.text)], [cseqOf(first!.text).seq, topBranch(first!.text)]);
  // s22.2 (and s8.1.3.5): the same Call-ID, From (tag), To; CSeq + 1; a new transaction.
  assert.is(cseqOf(second!.text).seq, cseqOf(first!.text).seq + 1);
  assert.is(header(second!, 'From'), header(first!, 'From'));
  assert.is(header(second!, 'Call-ID'), header(first!, 'Call-ID'));
  assert.is.not(topBranch(second!.text), topBranch(first!.text));
  const credentials = header(second!, 'Proxy-Authorization');
  assert.match(credentials, /^Digest username="1001", realm="127\.0\.0\.1"/);
  assert.ok(credentials.includes(`uri="${requestUri}"`), credentials);
  return second!;
}

test('UDP: our UAC (1001, 407 answered) -> site -> SIPp UAS: hold, held, resume, resumed; INFO, OPTIONS both ways; BYE from SIPp, all through the site', async () => {
  const ua = await ourUa();
  const sipp = await startSipp({ scenario: 'dialog-uas-hold.xml', transport: 'udp', timeoutSec: 40 });
  await registerSipp(ua, 'u00101', sipp, 'udp');
  const requestUri = aor('u00101', 'udp');
  const call = ua.dial({ nextHop: siteHop('udp'), requestUri, from: `<sip:1001@${domain('udp')}>`, auth: digest('1001', DEFAULT_PASSWORD) });
  const session = await call.answered();
  // The route set: the site's Record-Route, for us as the caller (s12.1.2, reversed: one entry).
  assert.equal(session.dialog.routeSet.length, 1);
  assert.match(session.dialog.routeSet[0]!, siteRoute('udp'));
  await untilDelivered(); // our ACK for the 200
  assert.is((await call.hold()).ok, true);
  assert.equal((await call.waitForNth('media', 2)).detail, { direction: 'inactive', remoteHold: true, localHold: true, codec: 'PCMU' });
  await call.waitForNth('confirmed', 1);
  const resumed = await call.resume();
  assert.equal(resumed.ok && resumed.media?.direction, 'recvonly');
  assert.equal((await call.waitForNth('media', 4)).detail, { direction: 'sendrecv', remoteHold: false, localHold: false, codec: 'PCMU' });
  await call.waitForNth('confirmed', 2);
  assert.is((await call.dtmf('5')).status, 200);
  assert.is((await call.options()).status, 200);
  assert.equal((await call.waitFor('info')).detail, { contentType: 'application/dtmf-relay', digit: '#', durationMs: 200 });
  assert.equal((await call.waitFor('terminated')).detail, { by: 'remote', cause: 'bye', code: undefined });
  assertSippSucceeded(await sipp.exit());

  const trace = ua.traceOf(session.dialog.callId);
  const outbound = distinctMessages(trace, 'out');
  const inbound = distinctMessages(trace, 'in');
  const second = assertChallenged(outbound, inbound, requestUri);
  // Every message of the call came from and went to the site.
  for (const t of trace) assert.equal([t.peer.host, t.peer.port], [site.address, site.ports.udp], t.startLine);
  const dialogOut = outbound.slice(outbound.indexOf(second) + 1);
  assertLadder(labels(dialogOut), ['ACK', 'INVITE', 'ACK', '200 INVITE', 'INVITE', 'ACK', '200 INVITE', 'INFO', 'OPTIONS', '200 INFO', '200 OPTIONS', '200 BYE']);
  assertLadder(labels(endToEnd(inbound)), ['407 INVITE', '180 INVITE', '200 INVITE', '200 INVITE', 'INVITE', 'ACK', '200 INVITE', 'INVITE', 'ACK', '200 INFO', '200 OPTIONS', 'INFO', 'OPTIONS', 'BYE']);
  assert.equal(directions(outbound), ['INVITE sendrecv', 'INVITE sendrecv', 'INVITE sendonly', '200 INVITE inactive', 'INVITE sendrecv', '200 INVITE sendrecv']);
  assert.equal(directions(inbound), ['200 INVITE sendrecv', '200 INVITE recvonly', 'INVITE inactive', '200 INVITE sendonly', 'INVITE sendrecv']);
  // The 180 and 200 came with the site's Record-Route.
  for (const t of inbound.filter((t) => /^SIP\/2\.0 (180|200) /.test(t.startLine) && cseqOf(t.text).seq === cseqOf(second.text).seq)) {
    assert.match(header(t, 'Record-Route'), siteRoute('udp'), t.startLine);
  }
  assertRouted(dialogOut, 'udp', /^sip:uas@127\.0\.0\.1:\d+;transport=udp$/i);
  assertOurCSeqs(outbound.slice(outbound.indexOf(second)));
  // s13.2.2.4: "The ACK MUST contain the same credentials as the INVITE."
  assert.is(header(dialogOut[0]!, 'Proxy-Authorization'), header(second, 'Proxy-Authorization'));
  // SIPp's requests (re-INVITEs, INFO, OPTIONS, BYE) arrived through the site: its Via on top.
  for (const t of requestsOf(inbound)) assert.match(headerValues(t.text, 'Via')[0] ?? '', new RegExp(`^SIP/2\\.0/UDP ${site.address.replace(/\./g, '\\.')}:${site.ports.udp};`), t.startLine);
  await assertIdle(ua, true);
});

test('UDP: SIPp UAC -> site -> our UAS (registered): held and resumed by SIPp, we hold and resume; INFO, OPTIONS both ways; BYE from SIPp; our 180/200 copy the Record-Route', async () => {
  const ua = await ourUa();
  assert.is(await ua.register({ registrar: siteHop('udp'), user: 'u00102', password: DEFAULT_PASSWORD }), 200);
  const sipp = await startSipp({ scenario: 'dialog-uac-hold.xml', transport: 'udp', remote: siteHop('udp'), timeoutSec: 40, extraArgs: ['-s', 'u00102'] });
  const call = await ua.nextIncoming();
  const invite = call.incoming!.request;
  call.ring();
  const session = call.accept();
  assert.equal(session.dialog.routeSet.length, 1);
  assert.match(session.dialog.routeSet[0]!, siteRoute('udp'));
  await call.waitFor('confirmed');
  assert.equal((await call.waitForNth('media', 1)).detail, { direction: 'recvonly', remoteHold: true, localHold: false, codec: 'PCMU' });
  assert.equal((await call.waitForNth('media', 2)).detail, { direction: 'sendrecv', remoteHold: false, localHold: false, codec: 'PCMU' });
  assert.equal((await call.waitFor('info')).detail, { contentType: 'application/dtmf-relay', digit: '7', durationMs: 160 });
  await ua.waitForMessage('out', '200 OPTIONS');
  await call.waitForNth('confirmed', 3);
  await untilDelivered(); // our 200 to SIPp's OPTIONS
  const held = await call.hold();
  assert.equal(held.ok && held.media?.direction, 'sendonly', JSON.stringify(held));
  await untilDelivered(); // our ACK for the hold
  const resumed = await call.resume();
  assert.equal(resumed.ok && resumed.media?.direction, 'sendrecv', JSON.stringify(resumed));
  await untilDelivered(); // our ACK for the resume
  assert.is((await call.dtmf('9')).status, 200);
  assert.is((await call.options()).status, 200);
  assert.equal((await call.waitFor('terminated')).detail, { by: 'remote', cause: 'bye', code: undefined });
  assertSippSucceeded(await sipp.exit());

  const trace = ua.traceOf(invite.callId!);
  for (const t of trace) assert.equal([t.peer.host, t.peer.port], [site.address, site.ports.udp], t.startLine);
  const outbound = distinctMessages(trace, 'out');
  const inbound = distinctMessages(trace, 'in');
  assertLadder(labels(endToEnd(inbound)), ['INVITE', 'ACK', 'INVITE', 'ACK', 'INVITE', 'ACK', 'INFO', 'OPTIONS', '200 INVITE', '200 INVITE', '200 INFO', '200 OPTIONS', 'BYE']);
  assertLadder(labels(outbound), ['180 INVITE', '200 INVITE', '200 INVITE', '200 INVITE', '200 INFO', '200 OPTIONS', 'INVITE', 'ACK', 'INVITE', 'ACK', 'INFO', 'OPTIONS', '200 BYE']);
  assert.equal(directions(outbound), ['200 INVITE sendrecv', '200 INVITE recvonly', '200 INVITE sendrecv', 'INVITE sendonly', 'INVITE sendrecv']);
  assert.match(invite.header('Record-Route') ?? '', siteRoute('udp'));
  // s12.1.1: "the UAS MUST copy all Record-Route header field values from the request into the response".
  for (const t of outbound.filter((t) => /^SIP\/2\.0 (180|200) /.test(t.startLine) && cseqOf(t.text).seq === 1 && cseqOf(t.text).method === 'INVITE')) {
    assert.equal(headerValues(t.text, 'Record-Route'), invite.headerFields('Record-Route'), `${t.startLine} copies the Record-Route`);
  }
  assertRouted(requestsOf(outbound), 'udp', /^sip:sipp@127\.0\.0\.1:\d+;transport=UDP$/i);
  assertOurCSeqs(outbound);
  await assertIdle(ua, false);
});

test('UDP: our UAC (1001, 407 answered) -> site -> SIPp UAS ringing: our CANCEL, the site\'s 200 and the callee\'s 487, our ACK to the site', async () => {
  const ua = await ourUa();
  const sipp = await startSipp({ scenario: 'dialog-uas-cancel.xml', transport: 'udp', timeoutSec: 30 });
  await registerSipp(ua, 'u00103', sipp, 'udp');
  const requestUri = aor('u00103', 'udp');
  const call = ua.dial({ nextHop: siteHop('udp'), requestUri, from: `<sip:1001@${domain('udp')}>`, auth: digest('1001', DEFAULT_PASSWORD) });
  const callId = call.outgoing!.callId;
  await call.waitFor('provisional');
  await call.waitForNth('provisional', 2);
  await call.hangup();
  assert.is((await call.waitFor('failed')).detail['status'], 487);
  assertSippSucceeded(await sipp.exit());
  const trace = ua.traceOf(callId);
  for (const t of trace) assert.equal([t.peer.host, t.peer.port], [site.address, site.ports.udp], t.startLine);
  const outbound = distinctMessages(trace, 'out');
  const inbound = distinctMessages(trace, 'in');
  const second = assertChallenged(outbound, inbound, requestUri);
  const after = requestsOf(outbound).slice(requestsOf(outbound).indexOf(second));
  assert.equal(labels(after), ['INVITE', 'CANCEL', 'ACK']);
  // The site relays our CANCEL before it answers it, so the callee's 487 may overtake the site's 200.
  assertLadder(labels(endToEnd(inbound)), ['407 INVITE', '180 INVITE', '200 CANCEL', '487 INVITE']);
  const [, cancel, ack] = after;
  // s9.1 and s17.1.1.3: the CANCEL and the ACK for the 487 on the challenged-and-answered INVITE's branch and number.
  assert.equal([cseqOf(cancel!.text).seq, topBranch(cancel!.text)], [cseqOf(second.text).seq, topBranch(second.text)]);
  assert.equal([cseqOf(ack!.text).seq, topBranch(ack!.text)], [cseqOf(second.text).seq, topBranch(second.text)]);
  await assertIdle(ua, true);
});

test('UDP: SIPp UAC -> site -> our UAS ringing: SIPp cancels; the site cancels its branch to us; our 200 and 487 go back through it', async () => {
  const ua = await ourUa();
  assert.is(await ua.register({ registrar: siteHop('udp'), user: 'u00104', password: DEFAULT_PASSWORD }), 200);
  const sipp = await startSipp({ scenario: 'dialog-uac-cancel.xml', transport: 'udp', remote: siteHop('udp'), timeoutSec: 30, extraArgs: ['-s', 'u00104'] });
  const call = await ua.nextIncoming();
  call.ring();
  assert.equal((await call.waitFor('ended')).detail, { why: 'cancelled' });
  assertSippSucceeded(await sipp.exit());
  await ua.waitForMessage('in', 'ACK');
  const trace = ua.traceOf(call.incoming!.request.callId!);
  for (const t of trace) assert.equal([t.peer.host, t.peer.port], [site.address, site.ports.udp], t.startLine);
  assert.equal(labels(distinctMessages(trace, 'in')), ['INVITE', 'CANCEL', 'ACK']);
  assert.equal(labels(distinctMessages(trace, 'out')), ['180 INVITE', '200 CANCEL', '487 INVITE']);
  await assertIdle(ua, false);
});

test('UDP: SIPp UAC -> site -> our UAS: INVITE and re-INVITE without SDP (offer in our 200, answer in the ACK); our BYE through the site', async () => {
  const ua = await ourUa();
  assert.is(await ua.register({ registrar: siteHop('udp'), user: 'u00105', password: DEFAULT_PASSWORD }), 200);
  const sipp = await startSipp({ scenario: 'dialog-uac-nosdp.xml', transport: 'udp', remote: siteHop('udp'), timeoutSec: 30, extraArgs: ['-s', 'u00105'] });
  const call = await ua.nextIncoming();
  call.ring();
  const session = call.accept();
  await call.waitForNth('media', 2);
  await call.waitForNth('confirmed', 2);
  assert.is((await call.hangup())?.status, 200);
  assertSippSucceeded(await sipp.exit());
  const outbound = distinctMessages(ua.traceOf(session.dialog.callId), 'out');
  assert.equal(labels(outbound), ['180 INVITE', '200 INVITE', '200 INVITE', 'BYE']);
  assert.equal(directions(distinctMessages(ua.traceOf(session.dialog.callId), 'in')), ['ACK sendrecv', 'ACK recvonly']);
  assertRouted(requestsOf(outbound), 'udp', /^sip:sipp@127\.0\.0\.1:\d+;transport=UDP$/i);
  await assertIdle(ua, false);
});

test('TCP: our UAC (not a local user: no challenge) -> site -> SIPp UAS; our BYE through the site over the same connection', async () => {
  const ua = await ourUa();
  const sipp = await startSipp({ scenario: 'dialog-uas-call.xml', transport: 'tcp', timeoutSec: 30 });
  await registerSipp(ua, 'u00106', sipp, 'tcp');
  const call = ua.dial({ nextHop: siteHop('tcp'), requestUri: aor('u00106', 'tcp') });
  const session = await call.answered();
  assert.match(session.dialog.routeSet[0] ?? '', siteRoute('tcp'));
  assert.is((await call.hangup())?.status, 200);
  assertSippSucceeded(await sipp.exit());
  const trace = ua.traceOf(session.dialog.callId);
  for (const t of trace) assert.equal([t.peer.host, t.peer.port, t.transport], [site.address, site.ports.tcp, 'tcp'], t.startLine);
  const outbound = distinctMessages(trace, 'out');
  assert.equal(labels(outbound), ['INVITE', 'ACK', 'BYE']);
  assertRouted(outbound.slice(1), 'tcp', /^sip:uas@127\.0\.0\.1:\d+;transport=tcp$/i);
  assertOurCSeqs(outbound);
  await assertIdle(ua, false);
});

test.run();
