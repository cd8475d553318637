/**
 * A user agent on the real dialog layer for the interop tests and the calls
 * benchmark: SipTransportLayer (UDP and TCP on one loopback port) under a
 * TransactionLayer on the real clock, with the DialogLayer as the
 * transactions' user, wired as the SDK wires them (src/sdk/phone.ts), minus
 * registrations and RTP (an OfferAnswer per call with an RTP port number that
 * nothing listens on: the tests check signalling only).
 *
 *   const ua = await DialogUa.start({ timers: TIMERS });
 *   const call = ua.dial({ to: sipp, transport: 'udp' });     // our UAC
 *   await call.answered();  await call.hold();  await call.hangup();
 *   const incoming = await ua.nextIncoming();                   // our UAS
 *   incoming.ring();  incoming.accept();
 *   await ua.settled(5000);  // nothing left: dialogs, INVITEs, transactions, timers
 *
 * Every call records what happened to it (`call.events`: provisional,
 * answered, failed, media, confirmed, info, terminated, ended), each with
 * the time; `waitFor(type)` waits for one. The SIP trace (`ua.trace`, the
 * transport's onTrace) keeps every message in and out, as stack.ts does, so
 * tests assert on the wire with its `distinctMessages` and `label`.
 *
 * register() sends a REGISTER with digest (a DigestClient answers the 401)
 * for any Contact: ours, or a SIPp UAS's, so that a Kamailio site routes
 * calls for that user to it.
 *
 * For the benchmark: `trace: false` and `record: false` leave only what the
 * dialog layer itself keeps per call.
 */
import type { MessageParts } from '../../../src/parser/index.ts';
import {
  DialogLayer,
  OfferAnswer,
  type AcceptOptions,
  type Authenticator,
  type DialogStats,
  type IncomingInvite,
  type InviteFailure,
  type OutgoingInvite,
  type ReinviteResult,
  type RequestResult,
  type SessionDialog,
  type Termination,
} from '../../../src/dialog/index.ts';
import { DigestClient } from '../../../src/registrar-client/index.ts';
import {
  SystemClock,
  TransactionLayer,
  cryptoRandom,
  type ClientOutcome,
  type TimerSettings,
  type TransactionStats,
} from '../../../src/transaction/index.ts';
import {
  SipTransportLayer,
  type Endpoint,
  type TransportDiagnostic,
  type TransportKind,
  type TransportLayerOptions,
} from '../../../src/transport/index.ts';
import { distinctMessages, label, type TraceEntry } from './stack.ts';

export { distinctMessages, label, type TraceEntry } from './stack.ts';

export interface DialogUaOptions {
  /** Loopback address of the listeners (127.0.0.1 by default). */
  readonly host?: string;
  /** Port for UDP and TCP (0, the default: one the system picks, shared by both). */
  readonly port?: number;
  /** T1, T2, T4, trying; RFC 3261 defaults otherwise. */
  readonly timers?: Partial<TimerSettings>;
  /** More SipTransportLayer options. */
  readonly transport?: Partial<Omit<TransportLayerOptions, 'listeners'>>;
  /** Keep every message in and out (default true; off for the benchmark). */
  readonly trace?: boolean;
  /** Record call events (default true; off for the benchmark). */
  readonly record?: boolean;
  /** User part of our From and Contact (default "ua"). */
  readonly user?: string;
  readonly userAgent?: string;
  /** Most dialogs at once (the DialogLayer's default otherwise). */
  readonly maxDialogs?: number;
}

export type UaEventType =
  | 'provisional'
  | 'answered'
  | 'failed'
  | 'media'
  | 'confirmed'
  | 'info'
  | 'terminated'
  | 'incoming'
  | 'ended';

export interface UaEvent {
  /** performance.now() */
  readonly at: number;
  readonly type: UaEventType;
  readonly detail: Record<string, unknown>;
}

export interface DialOptions {
  /** Where the INVITE goes first (the peer itself, or a site). */
  readonly nextHop: Endpoint;
  /** Request-URI (default: sip:service@nextHop). */
  readonly requestUri?: string;
  /** From name-addr without tag (default: <sip:USER@our address>). */
  readonly from?: string;
  /** To name-addr (default: <Request-URI>). */
  readonly to?: string;
  readonly auth?: Authenticator;
}

/** Digest credentials for a call (the SDK's way: a DigestClient per call). */
export function digest(username: string, password: string): DigestClient {
  return new DigestClient({ username, password }, cryptoRandom());
}

const hostPart = (host: string): string => (host.includes(':') ? `[${host}]` : host);

let nextRtpPort = 20_000;

/** A call of ours, either way, from the INVITE to the end of its dialog. */
export class UaCall {
  readonly id: string;
  readonly role: 'uac' | 'uas';
  readonly media: OfferAnswer;
  readonly events: UaEvent[] = [];
  outgoing: OutgoingInvite | undefined;
  incoming: IncomingInvite | undefined;
  session: SessionDialog | undefined;
  readonly #ua: DialogUa;
  readonly #waiters: Array<{ type: UaEventType; resolve: (event: UaEvent) => void }> = [];

  constructor(ua: DialogUa, id: string, role: 'uac' | 'uas', media: OfferAnswer) {
    this.#ua = ua;
    this.id = id;
    this.role = role;
    this.media = media;
  }

  /** The first event of `type` (already recorded or still to come). */
  waitFor(type: UaEventType, timeoutMs = 5000): Promise<UaEvent> {
    if (!this.#ua.recording) return Promise.reject(new Error(`call ${this.id}: this UA records no events (record: false)`));
    const found = this.events.find((event) => event.type === type);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#waiters.findIndex((w) => w.resolve === done);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(new Error(`call ${this.id}: no ${type} within ${timeoutMs} ms; events: ${this.describe()}`));
      }, timeoutMs);
      const done = (event: UaEvent): void => {
        clearTimeout(timer);
        resolve(event);
      };
      this.#waiters.push({ type, resolve: done });
    });
  }

  /** The `n`th event of `type` (1-based), waiting for it. */
  async waitForNth(type: UaEventType, n: number, timeoutMs = 5000): Promise<UaEvent> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const matching = this.events.filter((event) => event.type === type);
      if (matching.length >= n) return matching[n - 1]!;
      if (performance.now() > deadline) throw new Error(`call ${this.id}: ${matching.length} ${type} events, waited for ${n}; events: ${this.describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** The answered session (UAC), or fails with the call's failure. */
  async answered(timeoutMs = 5000): Promise<SessionDialog> {
    const event = await Promise.race([this.waitFor('answered', timeoutMs), this.waitFor('failed', timeoutMs)]);
    if (event.type === 'failed') throw new Error(`call ${this.id} failed: ${JSON.stringify(event.detail)}`);
    return this.session!;
  }

  /** Events as "type(detail)" for messages. */
  describe(): string {
    return this.events.map((event) => `${event.type}${JSON.stringify(event.detail)}`).join(', ');
  }

  /** UAS: 180 Ringing (or 183 with early media). */
  ring(status: 180 | 183 = 180): void {
    this.incoming!.ring({ status, contact: this.#ua.contact(this.incoming!.received.source.transport), earlyMedia: status === 183 });
  }

  /** UAS: 200 with our answer (or our offer for an INVITE without SDP). */
  accept(options: Partial<AcceptOptions> = {}): SessionDialog {
    const session = this.incoming!.accept({ contact: this.#ua.contact(this.incoming!.received.source.transport), ...options });
    this.attach(session);
    return session;
  }

  /** UAS: a final non-2xx. */
  reject(status: number, reason?: string): void {
    this.incoming!.reject(status, reason);
  }

  hold(): Promise<ReinviteResult> {
    return this.#confirmed().reinvite(true);
  }

  resume(): Promise<ReinviteResult> {
    return this.#confirmed().reinvite(false);
  }

  /** A re-INVITE that keeps the hold as it is. */
  refresh(): Promise<ReinviteResult> {
    return this.#confirmed().reinvite();
  }

  dtmf(digit: string, durationMs?: number): Promise<RequestResult> {
    return this.#confirmed().sendDtmf(digit, durationMs);
  }

  options(): Promise<RequestResult> {
    return this.#confirmed().sendOptions();
  }

  /**
   * Ends the call: BYE on a session; CANCEL for our INVITE still in progress
   * (resolves undefined once it has failed); 480 for an incoming INVITE not
   * answered.
   */
  async hangup(): Promise<RequestResult | undefined> {
    if (this.session !== undefined) return this.session.bye();
    if (this.outgoing !== undefined) {
      this.outgoing.cancel();
      await this.waitFor('failed');
      return undefined;
    }
    if (this.incoming?.state === 'proceeding') this.incoming.reject(480);
    return undefined;
  }

  /** @internal */
  record(type: UaEventType, detail: Record<string, unknown> = {}): void {
    if (!this.#ua.recording) return;
    const event: UaEvent = { at: performance.now(), type, detail };
    this.events.push(event);
    for (let i = 0; i < this.#waiters.length; ) {
      const waiter = this.#waiters[i]!;
      if (waiter.type === type) {
        this.#waiters.splice(i, 1);
        waiter.resolve(event);
      } else i++;
    }
  }

  /** @internal A session of this call: its events are recorded. */
  attach(session: SessionDialog): void {
    this.session = session;
    session.events = {
      onMedia: (media) =>
        this.record('media', media === undefined ? {} : { direction: media.direction, remoteHold: media.remoteHold, localHold: media.localHold, codec: media.codec.name }),
      onConfirmed: () => this.record('confirmed'),
      onInfo: (info) => this.record('info', { contentType: info.contentType, digit: info.dtmf?.digit, durationMs: info.dtmf?.durationMs }),
      onTerminated: (termination: Termination) => this.record('terminated', { by: termination.by, cause: termination.cause, code: termination.code }),
    };
  }

  #confirmed(): SessionDialog {
    if (this.session === undefined) throw new Error(`call ${this.id} has no session`);
    return this.session;
  }
}

export class DialogUa {
  readonly transport: SipTransportLayer;
  readonly transactions: TransactionLayer;
  readonly dialogs: DialogLayer;
  readonly clock: SystemClock;
  readonly host: string;
  readonly user: string;
  readonly recording: boolean;
  /** The UA's one random source (branches, tags, SDP session ids), as the SDK shares one. */
  readonly random: () => number;
  readonly trace: TraceEntry[] = [];
  readonly diagnostics: TransportDiagnostic[] = [];
  /** Every call, in the order made or received. */
  readonly calls: UaCall[] = [];
  /**
   * What to do with a new incoming call (default: queue it for
   * nextIncoming()); set it to answer at once (the benchmark).
   */
  onIncoming: ((call: UaCall) => void) | undefined;
  readonly #queue: UaCall[] = [];
  readonly #queueWaiters: Array<(call: UaCall) => void> = [];
  #seq = 0;

  private constructor(transport: SipTransportLayer, options: DialogUaOptions) {
    this.transport = transport;
    this.host = options.host ?? '127.0.0.1';
    this.user = options.user ?? 'ua';
    this.recording = options.record ?? true;
    this.clock = new SystemClock();
    const random = cryptoRandom();
    this.random = random;
    let dialogs: DialogLayer | undefined;
    this.transactions = new TransactionLayer({
      transport,
      clock: this.clock,
      random,
      ...(options.timers === undefined ? {} : { timers: options.timers }),
      user: {
        onRequest: (incoming) => dialogs!.onRequest(incoming),
        onAck: (ack) => dialogs!.onAck(ack),
        onStrayResponse: (response) => dialogs!.onStrayResponse(response),
      },
    });
    transport.onReceive = this.transactions.receive;
    transport.onDiagnostic = (diagnostic) => this.diagnostics.push(diagnostic);
    if (options.trace ?? true) {
      transport.onTrace = (direction, kind, source, destination, bytes) => {
        const text = Buffer.from(bytes).toString('latin1');
        const end = text.indexOf('\r\n');
        this.trace.push({ at: performance.now(), direction, transport: kind, startLine: end < 0 ? text.slice(0, 200) : text.slice(0, end), text, peer: direction === 'in' ? source : destination });
      };
    }
    const timers = options.timers;
    dialogs = new DialogLayer({
      transactions: this.transactions,
      clock: this.clock,
      random,
      ...(timers?.T1 !== undefined || timers?.T2 !== undefined ? { timers: { ...(timers.T1 === undefined ? {} : { T1: timers.T1 }), ...(timers.T2 === undefined ? {} : { T2: timers.T2 }) } } : {}),
      ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
      ...(options.maxDialogs === undefined ? {} : { maxDialogs: options.maxDialogs }),
      mediaFor: () => this.media(),
    });
    this.dialogs = dialogs;
    dialogs.onInvite = (invite) => this.#onInvite(invite);
  }

  static async start(options: DialogUaOptions = {}): Promise<DialogUa> {
    const host = options.host ?? '127.0.0.1';
    if (!/^127\.|^::1$/.test(host)) throw new Error(`the harness UA only runs on loopback, not ${host}`);
    const port = options.port ?? 0;
    const transport = await SipTransportLayer.create({
      ...options.transport,
      listeners: [
        { transport: 'udp', host, port },
        { transport: 'tcp', host, port },
      ],
    });
    return new DialogUa(transport, options);
  }

  /** Our address for a transport (Via sent-by, Contact). */
  endpoint(kind: TransportKind): Endpoint {
    return this.transport.localEndpoint(kind);
  }

  /** Our Contact header value for a transport. */
  contact(kind: TransportKind, user = this.user): string {
    const local = this.endpoint(kind);
    return `<sip:${user}@${hostPart(local.host)}:${local.port}${kind === 'udp' ? '' : `;transport=${kind}`}>`;
  }

  /** A fresh OfferAnswer: RTP on our address, a port number per call (nothing is bound: no RTP here). */
  media(): OfferAnswer {
    nextRtpPort = nextRtpPort >= 60_000 ? 20_000 : nextRtpPort + 2;
    return new OfferAnswer({ local: { address: this.host, port: nextRtpPort }, random: this.random });
  }

  /** Starts a call (our UAC). */
  dial(options: DialOptions): UaCall {
    const hop = options.nextHop;
    const requestUri = options.requestUri ?? `sip:service@${hostPart(hop.host)}:${hop.port}${hop.transport === 'udp' ? '' : `;transport=${hop.transport}`}`;
    const local = this.endpoint(hop.transport);
    const media = this.media();
    const call = new UaCall(this, `c${++this.#seq}`, 'uac', media);
    if (this.recording) this.calls.push(call);
    call.outgoing = this.dialogs.invite(
      {
        requestUri,
        from: options.from ?? `<sip:${this.user}@${hostPart(local.host)}:${local.port}>`,
        to: options.to ?? `<${requestUri}>`,
        contact: this.contact(hop.transport),
        nextHop: hop,
        media,
        ...(options.auth === undefined ? {} : { auth: options.auth }),
      },
      {
        onProvisional: (info) => call.record('provisional', { status: info.status, tag: info.tag }),
        onAnswered: (session) => {
          call.outgoing = undefined;
          call.attach(session);
          const negotiated = media.media;
          call.record('answered', negotiated === undefined ? {} : { direction: negotiated.direction, codec: negotiated.codec.name });
        },
        onFailed: (failure: InviteFailure) => {
          call.outgoing = undefined;
          call.record('failed', { status: failure.status, cause: failure.cause, reason: failure.reason });
        },
      },
    );
    return call;
  }

  /** The next incoming call not yet taken (the default onIncoming queues them). */
  nextIncoming(timeoutMs = 15_000): Promise<UaCall> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#queueWaiters.indexOf(done);
        if (at >= 0) this.#queueWaiters.splice(at, 1);
        reject(new Error(`no incoming call within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (call: UaCall): void => {
        clearTimeout(timer);
        resolve(call);
      };
      this.#queueWaiters.push(done);
    });
  }

  /**
   * REGISTER `user` at a registrar with digest (the 401 answered once), for
   * `contact` (default: ours on the registrar's transport). Resolves with the
   * final status.
   */
  async register(options: { readonly registrar: Endpoint; readonly user: string; readonly password: string; readonly contact?: string; readonly expires?: number }): Promise<number> {
    const { registrar } = options;
    const domain = `${hostPart(registrar.host)}:${registrar.port}`;
    const requestUri = `sip:${domain}${registrar.transport === 'udp' ? '' : `;transport=${registrar.transport}`}`;
    const auth = digest(options.user, options.password);
    const tag = `r${++this.#seq}${Math.random().toString(36).slice(2, 8)}`;
    const callId = `reg-${tag}@${this.host}`;
    let cseq = 1;
    for (let round = 0; round < 3; round++) {
      const parts: MessageParts = {
        method: 'REGISTER',
        uri: requestUri,
        headers: [
          ['Max-Forwards', '70'],
          ['From', `<sip:${options.user}@${domain}>;tag=${tag}`],
          ['To', `<sip:${options.user}@${domain}>`],
          ['Call-ID', callId],
          ['CSeq', `${cseq++} REGISTER`],
          ['Contact', options.contact ?? this.contact(registrar.transport, options.user)],
          ['Expires', String(options.expires ?? 600)],
          ...auth.headersFor({ method: 'REGISTER', uri: requestUri }),
        ],
      };
      const outcome = await new Promise<ClientOutcome>((resolve) => this.transactions.sendRequest(parts, registrar, { onFinal: resolve }));
      if (outcome.cause !== 'response') throw new Error(`REGISTER ${options.user}: ${outcome.cause}`);
      if ((outcome.status === 401 || outcome.status === 407) && auth.onChallenge(outcome.response).retry) continue;
      auth.onAnswered();
      return outcome.status;
    }
    throw new Error(`REGISTER ${options.user}: challenged again and again`);
  }

  /** Live dialogs, INVITEs in progress and transactions, with their timers. */
  stats(): { readonly dialogs: DialogStats; readonly transactions: TransactionStats } {
    return { dialogs: this.dialogs.stats(), transactions: this.transactions.stats() };
  }

  /** True when no dialog, INVITE, transaction or timer is left. */
  idle(): boolean {
    const { dialogs, transactions } = this.stats();
    return dialogs.dialogs === 0 && dialogs.incomingInvites === 0 && dialogs.outgoingInvites === 0 && dialogs.timers === 0 && transactions.transactions === 0 && transactions.timers === 0;
  }

  /** Waits until idle() (every transaction ended on its own timers); throws with the stats after timeoutMs. */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.idle()) {
      if (performance.now() > deadline) throw new Error(`the UA is not idle after ${timeoutMs} ms: ${JSON.stringify(this.stats())}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Waits until the trace holds a message one way whose label ("INVITE", "200 OPTIONS") is `what` (the `n`th such, 1-based). */
  async waitForMessage(direction: 'in' | 'out', what: string, n = 1, timeoutMs = 5000): Promise<TraceEntry> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = distinctMessages(this.trace, direction).filter((entry) => label(entry) === what);
      if (found.length >= n) return found[n - 1]!;
      if (performance.now() > deadline) throw new Error(`no ${n > 1 ? `${n}th ` : ''}${what} ${direction} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** The messages of the trace for one call (by Call-ID). */
  traceOf(callId: string): TraceEntry[] {
    return this.trace.filter((entry) => callIdOf(entry.text) === callId);
  }

  /** Closes the dialog layer, the transactions and the sockets. Idempotent. */
  async close(): Promise<void> {
    this.dialogs.close();
    this.transactions.close();
    await this.transport.close();
  }

  #onInvite(invite: IncomingInvite): void {
    const call = new UaCall(this, `i${++this.#seq}`, 'uas', invite.media);
    call.incoming = invite;
    if (this.recording) this.calls.push(call);
    invite.events = { onEnded: (why) => call.record('ended', { why }) };
    call.record('incoming', { callId: invite.request.callId, offer: invite.request.body.length > 0 });
    if (this.onIncoming !== undefined) return this.onIncoming(call);
    const waiter = this.#queueWaiters.shift();
    if (waiter !== undefined) waiter(call);
    else this.#queue.push(call);
  }
}

/** Call-ID of a raw message. */
export function callIdOf(text: string): string | undefined {
  return /\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]+)/i.exec(text)?.[1]?.trim();
}

/** A header's values in a raw message (all occurrences, in order). */
export function headerValues(text: string, name: string, compact?: string): string[] {
  const head = text.split('\r\n\r\n', 1)[0]!;
  const names = compact === undefined ? [name.toLowerCase()] : [name.toLowerCase(), compact.toLowerCase()];
  const out: string[] = [];
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && names.includes(line.slice(0, colon).trim().toLowerCase())) out.push(line.slice(colon + 1).trim());
  }
  return out;
}

/** The body of a raw message. */
export function bodyOf(text: string): string {
  const at = text.indexOf('\r\n\r\n');
  return at < 0 ? '' : text.slice(at + 4);
}

/** The SDP direction attribute of a raw message's body (undefined when none). */
export function sdpDirection(text: string): string | undefined {
  return /\r?\na=(sendrecv|sendonly|recvonly|inactive)\r?\n/.exec(bodyOf(text))?.[1];
}

/** "12 INVITE" -> { seq: 12, method: 'INVITE' } of a raw message. */
export function cseqOf(text: string): { readonly seq: number; readonly method: string } {
  const value = headerValues(text, 'CSeq')[0] ?? '';
  const match = /^(\d+)\s+(\S+)/.exec(value);
  return { seq: Number(match?.[1] ?? NaN), method: match?.[2] ?? '' };
}

/** The branch of the top Via of a raw message. */
export function topBranch(text: string): string | undefined {
  return /;branch=([^;,\s]+)/.exec(headerValues(text, 'Via', 'v')[0] ?? '')?.[1];
}

