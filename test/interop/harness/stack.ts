/**
 * A small test-side wiring of our stack for the SIPp interop tests and the
 * stack benchmark: SipTransportLayer (UDP and TCP listeners on one loopback
 * port) under a TransactionLayer on the real clock, with the least TU logic
 * that a UAC and a UAS need. It stands in for the dialog layer, which is not
 * built yet, and does only what RFC 3261 asks of a TU for these flows:
 *
 * UAC: OPTIONS; INVITE, and for its 2xx the ACK (s13.2.2.4: a request of its
 * own, new branch, CSeq number of the INVITE, sent with sendStateless and
 * sent again for every retransmitted 2xx the INVITE transaction passes up
 * in Accepted, RFC 6026); BYE in the dialog (To tag and Contact of the 2xx,
 * CSeq + 1).
 *
 * UAS: OPTIONS -> 200; INVITE -> [180] -> 200 with an SDP answer, a To tag
 * and a Contact, the 2xx resent over UDP from T1 doubling to T2 until the
 * ACK comes (s13.3.1.4; the transaction does not, RFC 6026) and given up at
 * 64*T1; ACK (onAck) ends those resends; BYE in a dialog -> 200, else 481;
 * anything else -> 501. Responses carry the request's Via with received
 * and rport filled in (SipTransportLayer.responseViaFields, RFC 3581).
 *
 * Targets are addresses: the ACK and BYE go to the Contact of the 2xx
 * (targetFromUri), which for SIPp is its own address and port.
 */
import type { SipMessage, MessageParts } from '../../../src/parser/index.ts';
import { isWildcard } from '../../../src/parser/index.ts';
import {
  SipTransportLayer,
  targetFromUri,
  type Endpoint,
  type Received,
  type TransportDiagnostic,
  type TransportError,
  type TransportKind,
  type TransportLayerOptions,
} from '../../../src/transport/index.ts';
import {
  DEFAULT_TIMER_SETTINGS,
  SystemClock,
  TransactionLayer,
  responseParts,
  type ClientOutcome,
  type ClientTransaction,
  type IncomingRequest,
  type ResponseOptions,
  type ServerTransaction,
  type TimerHandle,
  type TimerSettings,
  type TransactionStats,
} from '../../../src/transaction/index.ts';

export interface UasBehaviour {
  /** Send 180 Ringing before the 200 to an INVITE (default true). */
  readonly ring?: boolean;
}

export interface StackOptions {
  /** Loopback address of the listeners (127.0.0.1 by default). */
  readonly host?: string;
  /** Port for UDP and TCP (0, the default: the system picks one, shared by both). */
  readonly port?: number;
  /** T1, T2, T4; RFC 3261 defaults otherwise. */
  readonly timers?: Partial<TimerSettings>;
  /** More SipTransportLayer options. */
  readonly transport?: Partial<Omit<TransportLayerOptions, 'listeners'>>;
  /** Record every message in and out with its time (tests; off for the benchmark). */
  readonly trace?: boolean;
  /** Answer requests as a UAS (default: { ring: true }). */
  readonly uas?: UasBehaviour;
  /** The layer's random() for branches (its crypto default otherwise). */
  readonly random?: () => number;
}

export interface TraceEntry {
  /** performance.now() when the transport passed it. */
  readonly at: number;
  readonly direction: 'in' | 'out';
  readonly transport: TransportKind;
  readonly startLine: string;
  /** The whole message (latin1): a retransmission is byte for byte the same. */
  readonly text: string;
  readonly peer: Endpoint;
}

/** The messages of one direction with retransmissions (identical copies) left out, in order of first appearance. */
export function distinctMessages(trace: readonly TraceEntry[], direction: 'in' | 'out'): TraceEntry[] {
  const seen = new Set<string>();
  const out: TraceEntry[] = [];
  for (const entry of trace) {
    if (entry.direction !== direction || seen.has(entry.text)) continue;
    seen.add(entry.text);
    out.push(entry);
  }
  return out;
}

/** "INVITE", "ACK", "200 INVITE", "180 INVITE", "200 BYE": start line and CSeq method, for assertions. */
export function label(entry: TraceEntry): string {
  const method = /\r\nCSeq:\s*\d+\s+(\S+)/i.exec(entry.text)?.[1] ?? '?';
  return entry.startLine.startsWith('SIP/2.0 ') ? `${entry.startLine.split(' ')[1]} ${method}` : entry.startLine.split(' ')[0]!;
}

/** One client transaction as the TU sees it. */
export interface PendingRequest {
  readonly transaction: ClientTransaction;
  readonly provisionals: SipMessage[];
  /** Every onFinal the transaction made (RFC: exactly one). */
  readonly finals: ClientOutcome[];
  /** Resolves with the first onFinal. */
  readonly outcome: Promise<ClientOutcome>;
  /** performance.now() when sendRequest was called. */
  readonly startedAt: number;
}

export interface UacDialog {
  readonly callId: string;
  readonly from: string;
  /** To with the UAS's tag, as the 2xx had it. */
  readonly to: string;
  readonly remoteTarget: string;
  readonly target: Endpoint;
  readonly inviteCseq: number;
  cseq: number;
  /** The ACK as sent (resent as is for a retransmitted 2xx). */
  ack: SipMessage | undefined;
  acksSent: number;
}

export interface InviteResult {
  readonly request: PendingRequest;
  readonly outcome: ClientOutcome;
  /** Set when the INVITE got a 2xx (and the ACK went out). */
  readonly dialog: UacDialog | undefined;
}

interface UasDialog {
  readonly toTag: string;
  readonly transaction: ServerTransaction;
  acked: boolean;
  retransmit: TimerHandle | undefined;
}

const SDP_CONTENT_TYPE = 'application/sdp';
let instances = 0;

export class Stack {
  readonly transport: SipTransportLayer;
  readonly layer: TransactionLayer;
  readonly clock: SystemClock;
  readonly timers: TimerSettings;
  readonly trace: TraceEntry[] = [];
  readonly diagnostics: TransportDiagnostic[] = [];
  /** Requests our UAS answered (or saw, for ACK), by method. */
  readonly served = { options: 0, invite: 0, ack: 0, bye: 0, other: 0 };
  /** Responses that matched no client transaction. */
  readonly strays: SipMessage[] = [];
  /** Transport errors reported to our server transactions (onTransportError), with performance.now(). */
  readonly serverErrors: Array<{ readonly at: number; readonly method: string; readonly error: TransportError }> = [];
  readonly #uas: Required<UasBehaviour>;
  readonly #dialogs = new Map<string, UasDialog>();
  readonly #harnessTimers = new Set<TimerHandle>();
  readonly #prefix: string;
  #seq = 0;

  private constructor(transport: SipTransportLayer, options: StackOptions) {
    this.transport = transport;
    this.clock = new SystemClock();
    this.timers = { ...DEFAULT_TIMER_SETTINGS, ...options.timers };
    this.#uas = { ring: options.uas?.ring ?? true };
    this.#prefix = `${process.pid.toString(36)}${(++instances).toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
    this.layer = new TransactionLayer({
      transport,
      clock: this.clock,
      timers: this.timers,
      ...(options.random !== undefined ? { random: options.random } : {}),
      user: {
        onRequest: (incoming) => this.#onRequest(incoming),
        onAck: (ack) => this.#onAck(ack),
        onStrayResponse: (response) => this.strays.push(response),
      },
    });
    transport.onReceive = this.layer.receive;
    transport.onDiagnostic = (diagnostic) => this.diagnostics.push(diagnostic);
    if (options.trace) {
      transport.onTrace = (direction, kind, source, destination, bytes) => {
        const text = Buffer.from(bytes).toString('latin1');
        const end = text.indexOf('\r\n');
        this.trace.push({
          at: performance.now(),
          direction,
          transport: kind,
          startLine: end < 0 ? text.slice(0, 200) : text.slice(0, end),
          text,
          peer: direction === 'in' ? source : destination,
        });
      };
    }
  }

  static async start(options: StackOptions = {}): Promise<Stack> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    const transport = await SipTransportLayer.create({
      ...options.transport,
      listeners: [
        { transport: 'udp', host, port },
        { transport: 'tcp', host, port },
      ],
    });
    return new Stack(transport, options);
  }

  /** Our address for a transport (Via sent-by, Contact, where SIPp's UAC sends). */
  endpoint(kind: TransportKind): Endpoint {
    return this.transport.localEndpoint(kind);
  }

  /** Timers the harness itself holds (2xx resends of the UAS). */
  get harnessTimers(): number {
    return this.#harnessTimers.size;
  }

  stats(): TransactionStats {
    return this.layer.stats();
  }

  // ---- UAC -------------------------------------------------------------

  /** Starts a client transaction for `method` outside a dialog (OPTIONS, INVITE). */
  request(method: string, target: Endpoint, extra: { body?: string; contentType?: string } = {}): PendingRequest {
    const n = ++this.#seq;
    const local = this.endpoint(target.transport);
    const host = hostPart(target.host);
    const headers: Array<[string, string]> = [
      ['Max-Forwards', '70'],
      ['From', `<sip:stack@${hostPart(local.host)}:${local.port}>;tag=${this.#prefix}f${n}`],
      ['To', `<sip:service@${host}:${target.port}>`],
      ['Call-ID', `${this.#prefix}-${n}@${local.host}`],
      ['CSeq', `1 ${method}`],
      ['Contact', `<sip:stack@${hostPart(local.host)}:${local.port};transport=${target.transport}>`],
    ];
    if (extra.body !== undefined) headers.push(['Content-Type', extra.contentType ?? SDP_CONTENT_TYPE]);
    const parts: MessageParts = { method, uri: `sip:service@${host}:${target.port}`, headers };
    if (extra.body !== undefined) parts.body = extra.body;
    return this.#send(parts, target);
  }

  /** OPTIONS to `target`; resolves with the transaction's one outcome. */
  async options(target: Endpoint): Promise<PendingRequest & { result: ClientOutcome }> {
    const pending = this.request('OPTIONS', target);
    return { ...pending, result: await pending.outcome };
  }

  /** INVITE with an SDP offer; on a 2xx the dialog is made and the ACK sent. */
  async invite(target: Endpoint): Promise<InviteResult> {
    const local = this.endpoint(target.transport);
    let dialog: UacDialog | undefined;
    const pending = this.request('INVITE', target, { body: sdp('stack', local.host) });
    // Read now: an INVITE client transaction lets go of its request once a 2xx puts it in Accepted.
    const invite = pending.transaction.request;
    const outcome = await pending.outcome;
    if (outcome.cause === 'response' && outcome.status >= 200 && outcome.status < 300) {
      dialog = this.#dialogFrom(invite, outcome.response, target);
      this.#sendAck(dialog);
      // RFC 6026: 2xx retransmissions (our ACK lost) come up through the transaction in Accepted.
      this.#onAdditional2xx.set(pending.transaction, () => this.#sendAck(dialog!));
    }
    return { request: pending, outcome, dialog };
  }

  /** BYE in a dialog (s15.1.1). */
  async bye(dialog: UacDialog): Promise<PendingRequest & { result: ClientOutcome }> {
    dialog.cseq += 1;
    const parts: MessageParts = {
      method: 'BYE',
      uri: dialog.remoteTarget,
      headers: [
        ['Max-Forwards', '70'],
        ['From', dialog.from],
        ['To', dialog.to],
        ['Call-ID', dialog.callId],
        ['CSeq', `${dialog.cseq} BYE`],
      ],
    };
    const pending = this.#send(parts, dialog.target);
    return { ...pending, result: await pending.outcome };
  }

  /** A whole call: INVITE, ACK, BYE. */
  async call(target: Endpoint): Promise<{ invite: InviteResult; bye: ClientOutcome | undefined }> {
    const invite = await this.invite(target);
    if (invite.dialog === undefined) return { invite, bye: undefined };
    const bye = await this.bye(invite.dialog);
    return { invite, bye: bye.result };
  }

  /** Per INVITE transaction, what to do with a 2xx it passes up in Accepted. */
  readonly #onAdditional2xx = new WeakMap<ClientTransaction, () => void>();

  #send(parts: MessageParts, target: Endpoint): PendingRequest {
    const provisionals: SipMessage[] = [];
    const finals: ClientOutcome[] = [];
    let resolveOutcome!: (outcome: ClientOutcome) => void;
    const outcome = new Promise<ClientOutcome>((resolve) => (resolveOutcome = resolve));
    const startedAt = performance.now();
    let transaction: ClientTransaction | undefined;
    transaction = this.layer.sendRequest(parts, target, {
      onProvisional: (response) => provisionals.push(response),
      onFinal: (result) => {
        finals.push(result);
        resolveOutcome(result);
      },
      onAdditional2xx: () => {
        if (transaction !== undefined) this.#onAdditional2xx.get(transaction)?.();
      },
    });
    return { transaction, provisionals, finals, outcome, startedAt };
  }

  #dialogFrom(invite: SipMessage, response: SipMessage, target: Endpoint): UacDialog {
    const contact = response.contact.find((value) => !isWildcard(value));
    let remoteTarget = invite.uri?.toString() ?? '';
    let next = target;
    if (contact !== undefined && !isWildcard(contact)) {
      remoteTarget = contact.uri.toString();
      const resolved = targetFromUri(contact.uri, target.transport);
      if (resolved.ok) next = resolved.target;
    }
    return {
      callId: invite.callId!,
      from: invite.header('From')!,
      to: response.header('To')!,
      remoteTarget,
      target: next,
      inviteCseq: invite.cseq!.seq,
      cseq: invite.cseq!.seq,
      ack: undefined,
      acksSent: 0,
    };
  }

  /** s13.2.2.4 / s17.1.1.3: the ACK for a 2xx, its own transaction; resent identical (same branch). */
  #sendAck(dialog: UacDialog): void {
    const headers: Array<[string, string]> = [
      ['Max-Forwards', '70'],
      ['From', dialog.from],
      ['To', dialog.to],
      ['Call-ID', dialog.callId],
      ['CSeq', `${dialog.inviteCseq} ACK`],
    ];
    if (dialog.ack !== undefined) headers.unshift(['Via', dialog.ack.header('Via')!]);
    dialog.ack = this.layer.sendStateless({ method: 'ACK', uri: dialog.remoteTarget, headers }, dialog.target);
    dialog.acksSent++;
  }

  // ---- UAS -------------------------------------------------------------

  #onRequest(incoming: IncomingRequest): void {
    const { request, received, transaction } = incoming;
    const method = request.method ?? '';
    transaction.user = { onTransportError: (error) => this.serverErrors.push({ at: performance.now(), method, error }) };
    switch (request.method) {
      case 'OPTIONS':
        this.served.options++;
        this.#respond(transaction, received, 200, {
          toTag: this.#tag(),
          headers: [
            ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS'],
            ['Accept', SDP_CONTENT_TYPE],
          ],
        });
        return;
      case 'INVITE':
        this.served.invite++;
        this.#answerInvite(transaction, received);
        return;
      case 'BYE': {
        this.served.bye++;
        const dialog = this.#dialogs.get(request.callId ?? '');
        if (dialog === undefined || dialog.toTag !== request.to?.tag) {
          this.#respond(transaction, received, 481);
          return;
        }
        this.#endDialog(request.callId!);
        this.#respond(transaction, received, 200);
        return;
      }
      case 'CANCEL':
        this.served.other++;
        // Our INVITEs are answered at once: there is never anything left to cancel.
        this.#respond(transaction, received, incoming.cancelled === undefined ? 481 : 200);
        return;
      default:
        this.served.other++;
        this.#respond(transaction, received, 501);
    }
  }

  #answerInvite(transaction: ServerTransaction, received: Received): void {
    const request = transaction.request;
    const toTag = this.#tag();
    const local = this.endpoint(received.source.transport);
    const contact: [string, string] = ['Contact', `<sip:uas@${hostPart(local.host)}:${local.port};transport=${received.source.transport}>`];
    if (this.#uas.ring) this.#respond(transaction, received, 180, { toTag, headers: [contact] });
    const ok = this.#respond(transaction, received, 200, {
      toTag,
      headers: [contact, ['Content-Type', SDP_CONTENT_TYPE]],
      body: sdp('stack-uas', local.host),
    });
    const dialog: UasDialog = { toTag, transaction, acked: false, retransmit: undefined };
    const callId = request.callId!;
    this.#endDialog(callId);
    this.#dialogs.set(callId, dialog);
    if (this.transport.isReliable(received.source.transport)) return;
    // s13.3.1.4: the UAS core resends the 2xx from T1, doubling up to T2, until the ACK; gives up at 64*T1.
    const { T1, T2 } = this.timers;
    const startedAt = this.clock.now();
    const resend = (interval: number): void => {
      const handle = this.clock.setTimer(interval, () => {
        this.#harnessTimers.delete(handle);
        if (dialog.retransmit !== handle || dialog.acked) return;
        dialog.retransmit = undefined;
        if (this.clock.now() - startedAt >= 64 * T1) return;
        transaction.respond(ok);
        resend(Math.min(interval * 2, T2));
      });
      this.#harnessTimers.add(handle);
      dialog.retransmit = handle;
    };
    resend(T1);
  }

  #onAck(ack: SipMessage): void {
    this.served.ack++;
    const dialog = this.#dialogs.get(ack.callId ?? '');
    if (dialog === undefined || dialog.toTag !== ack.to?.tag) return;
    dialog.acked = true;
    this.#stopResend(dialog);
  }

  #endDialog(callId: string): void {
    const dialog = this.#dialogs.get(callId);
    if (dialog === undefined) return;
    this.#stopResend(dialog);
    this.#dialogs.delete(callId);
  }

  #stopResend(dialog: UasDialog): void {
    if (dialog.retransmit === undefined) return;
    this.clock.clearTimer(dialog.retransmit);
    this.#harnessTimers.delete(dialog.retransmit);
    dialog.retransmit = undefined;
  }

  /** A response with the request's Via fields, the top one with received/rport (RFC 3581 s4). */
  #respond(transaction: ServerTransaction, received: Received, status: number, options: ResponseOptions = {}): MessageParts {
    const parts = responseParts(received.message, status, options);
    const vias = this.transport.responseViaFields(received).map((value): [string, string] => ['Via', value]);
    parts.headers = [...vias, ...parts.headers.filter(([name]) => name !== 'Via')];
    transaction.respond(parts);
    return parts;
  }

  #tag(): string {
    return `${this.#prefix}t${++this.#seq}`;
  }

  // ---- lifecycle --------------------------------------------------------

  /** UAS dialogs still open (INVITE answered, no BYE yet). */
  get openDialogs(): number {
    return this.#dialogs.size;
  }

  /**
   * Waits until every transaction has ended on its own timers (no close()
   * involved) and the harness holds no timer; throws with the stats after
   * timeoutMs.
   */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const stats = this.layer.stats();
      if (stats.transactions === 0 && stats.timers === 0 && this.#harnessTimers.size === 0) return;
      if (performance.now() > deadline) {
        throw new Error(`transactions still live after ${timeoutMs} ms: ${JSON.stringify(stats)}, harness timers ${this.#harnessTimers.size}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Ends everything at once (layer, harness timers, sockets). Idempotent. */
  async close(): Promise<void> {
    this.layer.close();
    for (const handle of this.#harnessTimers) this.clock.clearTimer(handle);
    this.#harnessTimers.clear();
    this.#dialogs.clear();
    await this.transport.close();
  }
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function sdp(user: string, host: string): string {
  const family = host.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=${user} 1 1 IN ${family} ${host}`,
    's=-',
    `c=IN ${family} ${host}`,
    't=0 0',
    'm=audio 49170 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');
}
