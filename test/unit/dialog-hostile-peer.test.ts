/**
 * A hostile or broken peer against one UA (TransactionLayer + DialogLayer on
 * the FakeClock, dialog-fakes.ts uaRig): seeded random runs of requests and
 * responses built from what the UA sent (its Call-IDs, tags, branches and
 * CSeqs) and from nothing: new INVITEs with good, odd and broken offers,
 * requests inside and outside dialogs with right and wrong tags and CSeqs,
 * CANCELs, ACKs, answers to the UA's requests with any status and To tag
 * (forks, challenges, glare), retransmissions, and messages with a header
 * dropped, repeated or garbled. The UA's application rings, answers, rejects,
 * holds, sends DTMF and hangs up at random, and dials out.
 *
 * Covers, for every run: no exception escapes the stack (not even later, as
 * an uncaught one); every message the UA sends parses; every request the
 * peer sent (ACK aside) gets a response; the dialog cap holds at every step;
 * and once the application has ended its calls and the clock has run past
 * every timer, nothing is left: dialogs, INVITEs, transactions, timers.
 *
 * Every third seed runs over TCP (reliable timers), the others over UDP.
 *
 * Does not cover: bytes that do not parse (the transport answers those
 * before the stack: the parser fuzzer and test/reliability), stream
 * framing, the SDK above the layer. A failing run names its seed and
 * step; `HOSTILE_SEED=N` runs that one alone, `HOSTILE_RUNS=N` runs seeds
 * 1..N (150 by default; 2,000 passed when it was written).
 *
 * What it found, each fixed with a test of its own: a request without
 * Call-ID, From, To or CSeq was dropped in silence (now a stateless 400,
 * transaction-layer.test.ts); a re-INVITE answered 183 and never a final
 * response held its transaction and promise for ever (dialog-reinvite
 * tests); a 2xx to a re-INVITE with a Contact that does not parse threw out
 * of the stack, unacknowledged (dialog-reinvite tests).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage, serializeMessage, type MessageParts, type SipMessage } from '../../src/parser/index.ts';
import { SipEndpointError } from '../../src/errors/sip-endpoint-error.ts';
import type { IncomingInvite, SessionDialog } from '../../src/dialog/index.ts';
import { PEER_CONTACT, UA_URI, assertIdle, dial, flush, peerSdp, seeded, uaRig, type Dialled, type UaRig } from './dialog-fakes.ts';

const CAP = 6;
const STEPS = 120;
const RUNS = Number(process.env['HOSTILE_RUNS'] ?? 150);

/** Offers the peer sends: usable, on hold, without a common codec, broken, none. */
const OFFERS: ReadonlyArray<string | undefined> = [
  peerSdp(),
  peerSdp({ direction: 'sendonly', version: 2 }),
  peerSdp({ direction: 'inactive', version: 3 }),
  peerSdp({ address: '0.0.0.0', version: 4 }),
  'v=0\r\no=peer 1 1 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\nm=audio 30000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n',
  'v=0\r\no=peer 1 1 IN IP4 198.51.100.9\r\ns=-\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n',
  'v=0\r\nm=audio 0 RTP/AVP\r\n',
  'this is not sdp',
  undefined,
];

const GARBAGE = ['', ';', '<>', 'sip:', '<sip:x@[::1>', 'a'.repeat(300), ';tag=;tag=', '0', '-1 INVITE', '99999999999 BYE', 'SIP/2.0/UDP'];
const STATUSES = [100, 180, 183, 200, 200, 200, 202, 301, 401, 407, 408, 481, 486, 487, 491, 500, 503, 603, 699];
const METHODS = ['BYE', 'INVITE', 'INFO', 'OPTIONS', 'ACK', 'UPDATE', 'NOTIFY', 'MESSAGE', 'PRACK', 'REFER', 'CANCEL'];

/** What the peer knows of a dialog-forming exchange: a Call-ID, both tags, a CSeq. */
interface Leg {
  readonly callId: string;
  readonly peerTag: string;
  readonly uaTag: string | undefined;
  readonly peerIsCaller: boolean;
  cseq: number;
}

class HostilePeer {
  readonly #rig: UaRig;
  readonly #random: () => number;
  /** Every message the peer delivered that parsed, for retransmissions. */
  readonly #delivered: SipMessage[] = [];
  /** Requests the peer sent (ACK aside): each must be answered. */
  readonly requests: SipMessage[] = [];
  #branch = 0;

  constructor(rig: UaRig, random: () => number) {
    this.#rig = rig;
    this.#random = random;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  /** One random move of the peer. */
  act(): void {
    const move = this.#random();
    if (move < 0.18) this.#newInvite();
    else if (move < 0.45) this.#inLeg();
    else if (move < 0.75) this.#answerUa();
    else if (move < 0.87) this.#retransmit();
    else this.#stray();
  }

  #nextBranch(): string {
    return `z9hG4bKhostile${++this.#branch}`;
  }

  #send(parts: MessageParts): void {
    if (this.chance(0.12)) this.#mutate(parts);
    let message: SipMessage;
    try {
      message = parseMessage(formatMessage(parts));
    } catch {
      return; // the transport answers (or drops) what does not parse; the stack never sees it
    }
    this.#deliver(message);
  }

  #deliver(message: SipMessage): void {
    this.#delivered.push(message);
    // A request without a Via has nowhere to be answered: the transport drops it.
    if (message.kind === 'request' && message.method !== 'ACK' && message.topVia !== undefined) this.requests.push(message);
    this.#rig.ua.transport.deliver(message, this.#rig.peer);
  }

  #mutate(parts: MessageParts): void {
    const headers = parts.headers;
    if (headers.length === 0) return;
    const index = Math.floor(this.#random() * headers.length);
    const kind = this.#random();
    if (kind < 0.35) headers.splice(index, 1);
    else if (kind < 0.6) headers.push([headers[index]![0], headers[index]![1]]);
    else headers[index] = [headers[index]![0], this.pick(GARBAGE)];
  }

  /** The legs the UA's sent messages reveal: its answers to the peer's INVITEs, its own INVITEs. */
  #legs(): Leg[] {
    const legs: Leg[] = [];
    for (const { message } of this.#rig.ua.transport.sent.slice(-40)) {
      const from = message.from?.tag ?? undefined;
      const to = message.to?.tag ?? undefined;
      if (message.callId === undefined || from === undefined) continue;
      const cseq = message.cseq?.seq ?? 1;
      if (message.kind === 'response') legs.push({ callId: message.callId, peerTag: from, uaTag: to, peerIsCaller: true, cseq });
      else legs.push({ callId: message.callId, peerTag: to ?? `fork${Math.floor(this.#random() * 3)}`, uaTag: from, peerIsCaller: false, cseq });
    }
    return legs;
  }

  #newInvite(): void {
    const callId = `hostile-${Math.floor(this.#random() * 12)}@198.51.100.7`;
    const offer = this.pick(OFFERS);
    const headers: Array<[string, string]> = [
      ['Via', `SIP/2.0/UDP 198.51.100.7:5070;branch=${this.#nextBranch()}`],
      ['Max-Forwards', '70'],
      ['From', `<sip:peer@example.com>;tag=pt${Math.floor(this.#random() * 4)}`],
      ['To', '<sip:ua@example.com>'],
      ['Call-ID', callId],
      ['CSeq', `${1 + Math.floor(this.#random() * 5)} INVITE`],
    ];
    if (this.chance(0.9)) headers.push(['Contact', PEER_CONTACT]);
    if (this.chance(0.2)) headers.push(['Record-Route', '<sip:198.51.100.8;lr>']);
    if (offer !== undefined) headers.push(['Content-Type', 'application/sdp']);
    this.#send({ method: 'INVITE', uri: UA_URI, headers, ...(offer === undefined ? {} : { body: offer }) });
  }

  /** A request on a leg the UA revealed, with its tags right, swapped or missing, and a CSeq near the known one. */
  #inLeg(): void {
    const legs = this.#legs();
    if (legs.length === 0) return this.#newInvite();
    const leg = this.pick(legs);
    const method = this.pick(METHODS);
    const uaTag = this.chance(0.85) ? leg.uaTag : `wrong${Math.floor(this.#random() * 3)}`;
    const seq = Math.max(1, leg.cseq + Math.floor(this.#random() * 5) - 1);
    const headers: Array<[string, string]> = [
      ['Via', `SIP/2.0/UDP 198.51.100.7:5070;branch=${this.#nextBranch()}`],
      ['Max-Forwards', '70'],
      ['From', `<sip:peer@example.com>;tag=${leg.peerTag}`],
      ['To', `<sip:ua@example.com>${uaTag === undefined ? '' : `;tag=${uaTag}`}`],
      ['Call-ID', leg.callId],
      ['CSeq', `${seq} ${method}`],
      ['Contact', PEER_CONTACT],
    ];
    let body: string | undefined;
    if (method === 'INVITE' || method === 'ACK' || method === 'UPDATE') {
      body = this.pick(OFFERS);
      if (body !== undefined) headers.push(['Content-Type', 'application/sdp']);
    } else if (method === 'INFO') {
      body = this.chance(0.5) ? 'Signal=5\r\nDuration=160\r\n' : 'Signal=\u0000?';
      headers.push(['Content-Type', 'application/dtmf-relay']);
    }
    this.#send({ method, uri: UA_URI, headers, ...(body === undefined ? {} : { body }) });
  }

  /** A response to a request the UA sent: any status, the UA's To tag or a fork's, with or without an answer. */
  #answerUa(): void {
    const requests = this.#rig.ua.transport.sent.filter((s) => s.message.kind === 'request' && s.message.method !== 'ACK').slice(-12);
    if (requests.length === 0) return this.#inLeg();
    const request = this.pick(requests).message;
    const status = this.pick(STATUSES);
    const hasTag = request.to?.tag != null;
    const toTag = status === 100 || hasTag ? undefined : this.chance(0.8) ? `fork${Math.floor(this.#random() * 3)}` : undefined;
    const headers: Array<[string, string]> = [];
    for (const name of ['via', 'from', 'call-id', 'cseq']) for (const value of request.headerFields(name)) headers.push([name, value]);
    headers.splice(2, 0, ['To', `${request.header('to') ?? '<sip:peer@example.com>'}${toTag === undefined ? '' : `;tag=${toTag}`}`]);
    if (status < 300 && this.chance(0.9)) headers.push(['Contact', PEER_CONTACT]);
    if (status === 401) headers.push(['WWW-Authenticate', 'Digest realm="r", nonce="n1", qop="auth"']);
    if (status === 407) headers.push(['Proxy-Authenticate', 'Digest realm="r", nonce="n2"']);
    if (status === 491 || status === 503) headers.push(['Retry-After', this.pick(['1', '0', 'x'])]);
    const body = status >= 180 && status < 300 && request.method === 'INVITE' ? this.pick(OFFERS) : undefined;
    if (body !== undefined) headers.push(['Content-Type', 'application/sdp']);
    this.#send({ status, reason: 'Hostile', headers, ...(body === undefined ? {} : { body }) });
  }

  #retransmit(): void {
    if (this.#delivered.length === 0) return this.#newInvite();
    this.#deliver(this.pick(this.#delivered.slice(-10)));
  }

  /** A response to nothing the UA sent. */
  #stray(): void {
    const status = this.pick(STATUSES);
    this.#send({
      status,
      headers: [
        ['Via', `SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnever${this.#branch++}`],
        ['From', '<sip:ua@example.com>;tag=x'],
        ['To', '<sip:peer@example.com>;tag=y'],
        ['Call-ID', 'stray@192.0.2.10'],
        ['CSeq', `1 ${this.pick(METHODS)}`],
      ],
    });
  }
}

/** The UA's application: answers, rejects, holds, hangs up and dials at random; ends everything at the end. */
class RandomApplication {
  readonly sessions: SessionDialog[] = [];
  readonly dialled: Dialled[] = [];
  readonly errors: unknown[] = [];
  #seenInvites = 0;

  constructor(
    private readonly rig: UaRig,
    private readonly peer: HostilePeer,
  ) {}

  act(): void {
    const ua = this.rig.ua;
    for (; this.#seenInvites < ua.invites.length; this.#seenInvites++) this.#onInvite(ua.invites[this.#seenInvites]!);
    const move = this.peer.pick(['nothing', 'nothing', 'answer', 'bye', 'hold', 'dtmf', 'options', 'dial', 'cancel']);
    const waiting = ua.invites.filter((invite) => invite.end === undefined);
    const live = this.sessions.filter((session) => session.state !== 'terminated');
    if (move === 'answer' && waiting.length > 0) this.#answer(this.peer.pick(waiting));
    if (move === 'bye' && live.length > 0) this.#watch(this.peer.pick(live).bye());
    if (move === 'hold' && live.length > 0) this.#watch(this.peer.pick(live).reinvite(this.peer.chance(0.5)));
    if (move === 'dtmf' && live.length > 0) this.#watch(this.peer.pick(live).sendDtmf(this.peer.pick(['1', '#', 'A'])));
    if (move === 'options' && live.length > 0) this.#watch(this.peer.pick(live).sendOptions());
    if (move === 'cancel' && this.dialled.length > 0) this.peer.pick(this.dialled).call.cancel();
    if (move === 'dial') {
      try {
        this.dialled.push(dial(this.rig));
      } catch (error) {
        this.#expected(error); // past the cap: ERR_LIMIT
      }
    }
    for (const d of this.dialled) if (d.answered !== undefined && !this.sessions.includes(d.answered)) this.sessions.push(d.answered);
  }

  /** Ends every call: BYE for live sessions, a rejection for INVITEs waiting, CANCEL for ours. */
  endAll(): void {
    for (const invite of this.rig.ua.invites) if (invite.end === undefined) invite.reject(486);
    for (const d of this.dialled) d.call.cancel();
    for (const d of this.dialled) if (d.answered !== undefined && !this.sessions.includes(d.answered)) this.sessions.push(d.answered);
    for (const session of this.sessions) if (session.state !== 'terminated') this.#watch(session.bye());
  }

  #onInvite(invite: IncomingInvite): void {
    const choice = this.peer.pick(['ring', 'answer', 'reject', 'wait']);
    if (choice === 'ring') invite.ring({ contact: `<${UA_URI}>`, earlyMedia: this.peer.chance(0.3) });
    if (choice === 'answer') this.#answer(invite);
    if (choice === 'reject') invite.reject(this.peer.pick([486, 603, 480]));
  }

  #answer(invite: IncomingInvite): void {
    try {
      this.sessions.push(invite.accept({ contact: `<${UA_URI}>`, hold: this.peer.chance(0.2) }));
    } catch (error) {
      this.#expected(error);
    }
  }

  #watch(promise: Promise<unknown>): void {
    promise.then(undefined, (error: unknown) => this.#expected(error));
  }

  /** The layer's own typed errors (a state that moved on, a limit) are answers; anything else is a bug. */
  #expected(error: unknown): void {
    if (!(error instanceof SipEndpointError)) this.errors.push(error);
  }
}

function branchOf(message: SipMessage): string | null | undefined {
  return message.topVia?.branch;
}

/** What a run reached, so a group can check that its runs went where the hostile paths are. */
interface Reached {
  readonly capped: boolean;
  readonly sessions: number;
  readonly reinvites: number;
}

async function hostileRun(seed: number): Promise<Reached> {
  // Every third run over TCP: reliable timers (no retransmissions, Timers J and K zero).
  const base = uaRig({ layer: { maxDialogs: CAP } });
  const rig: UaRig = seed % 3 === 0 ? { ...base, peer: { ...base.peer, transport: 'tcp' } } : base;
  const random = seeded(seed);
  const peer = new HostilePeer(rig, random);
  const app = new RandomApplication(rig, peer);
  const where = (step: number | string): string => `seed ${seed}, step ${step}`;
  for (let step = 0; step < STEPS; step++) {
    try {
      peer.act();
      app.act();
    } catch (error) {
      assert.unreachable(`${where(step)}: ${error instanceof Error ? error.stack : String(error)}`);
    }
    await rig.advance(Math.floor(random() * random() * 20_000));
    const stats = rig.ua.dialogs.stats();
    assert.ok(stats.dialogs + stats.incomingInvites + stats.outgoingInvites <= CAP, `${where(step)}: over the cap: ${JSON.stringify(stats)}`);
  }
  app.endAll();
  for (let t = 0; t < 600; t++) await rig.advance(1000);
  assert.equal(app.errors, [], where('end'));
  // Every request of the peer got a response: matched by branch and method.
  const answered = new Set<string>();
  for (const { message } of rig.ua.transport.sent) if (message.kind === 'response') answered.add(`${branchOf(message)} ${message.cseq?.method ?? 'no CSeq'}`);
  for (const request of peer.requests) {
    const key = `${branchOf(request)} ${request.cseq?.method ?? 'no CSeq'}`;
    assert.ok(answered.has(key), `${where('end')}: no response to ${request.method} ${key}:\n${new TextDecoder().decode(serializeMessage(request))}`);
  }
  assert.equal(rig.ua.transactions.stats(), { ...rig.ua.transactions.stats(), transactions: 0, timers: 0 }, `${where('end')}: transactions left`);
  assertIdle(rig.clock, rig.ua);
  const sent = rig.ua.transport.sent.map((x) => x.message);
  return {
    capped: sent.some((m) => m.status === 503 && m.cseq?.method === 'INVITE'),
    sessions: app.sessions.length,
    reinvites: sent.filter((m) => m.method === 'INVITE' && m.to?.tag != null).length,
  };
}

const only = Number(process.env['HOSTILE_SEED'] ?? NaN);
const seeds = Number.isInteger(only) ? [only] : Array.from({ length: RUNS }, (_, i) => i + 1);
const GROUPS = 5;

for (let g = 0; g < GROUPS; g++) {
  const group = seeds.filter((_, i) => i % GROUPS === g);
  if (group.length === 0) continue;
  test(`a hostile peer, seeds ${group[0]}..${group[group.length - 1]} (every ${GROUPS}th): nothing escapes, every request answered, the cap holds, nothing left`, async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const reached: Reached[] = [];
      for (const seed of group) {
        reached.push(await hostileRun(seed));
        await flush();
        assert.equal(uncaught, [], `seed ${seed}: an exception escaped later`);
      }
      if (group.length >= 10) {
        // The runs go where the checks bite: the cap is hit, calls are set up, re-INVITEs are sent.
        assert.ok(reached.some((r) => r.capped), 'some run hit the dialog cap');
        assert.ok(reached.reduce((n, r) => n + r.sessions, 0) >= group.length, 'calls were set up');
        assert.ok(reached.some((r) => r.reinvites > 0), 'some run sent re-INVITEs');
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
}

test.run();
