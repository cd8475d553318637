/**
 * The dialog layer (DESIGN.md "Dialog"): the transaction user of every
 * request that no registration owns, and the factory of calls.
 *
 * Incoming (RFC 3261 s8.2 then s12.2.2):
 * - the UAS checks of uas-checks.ts (405, 415, 420, 400 ...) first;
 * - CANCEL: 200 (with the INVITE's To tag) and 487 for an INVITE still
 *   waiting, 200 alone once the INVITE has its final response, 481 when it
 *   matches no INVITE transaction (s9.2);
 * - a request with a To tag: to its dialog by (Call-ID, local tag, remote
 *   tag); "If the UAS receives a request with a To tag that does not match
 *   any existing dialog, it MUST respond with a 481";
 * - a new INVITE: refused with 400 without exactly one Contact (s8.1.1.8),
 *   its offer taken (488/400), then handed up through
 *   `onInvite` (480 when nobody listens, 503 past the dialog cap);
 * - OPTIONS outside a dialog: 200 with Allow, Accept and Supported (s11.2);
 * - other requests outside a dialog: 481 (BYE, INFO) or 405.
 * ACKs for our 2xx go to their dialog; 2xx retransmissions that no
 * transaction takes any more get their ACK again.
 *
 * Outgoing: invite() starts a call (uac-invite.ts).
 *
 * stats() counts live dialogs, INVITEs in progress and the timers they hold,
 * so tests can prove that nothing is left after a call.
 */
import { StateError } from '../errors/sip-endpoint-error.ts';
import { checkHeaderValue, type SipMessage, type Uri } from '../parser/index.ts';
import type { Clock } from '../transaction/clock.ts';
import { cryptoRandom } from '../transaction/random.ts';
import type { ResponseOptions } from '../transaction/responses.ts';
import type { ServerInviteTransaction } from '../transaction/server-invite.ts';
import type { IncomingRequest, TransactionUser } from '../transaction/user.ts';
import { targetFromUri } from '../transport/target.ts';
import type { Endpoint, Received, TransportKind } from '../transport/types.ts';
import { dialogKey } from './dialog-id.ts';
import { randomToken, type DialogContext, type DialogEntry, type DialogTransactions, type Lingering, type TargetResolver } from './dialog-context.ts';
import type { OfferAnswer } from './offer-answer.ts';
import { OfferAnswerError } from './offer-answer-error.ts';
import { checkNewInvite, LAYER_ALLOW, LAYER_SUPPORTED, offerRefusal, outsideDialogAnswer } from './layer-answers.ts';
import type { SessionDialog } from './session-dialog.ts';
import { OutgoingInvite, type InviteOptions, type OutgoingInviteEvents } from './uac-invite.ts';
import { IncomingInvite } from './uas-invite.ts';
import { checkRequest, ENDPOINT_POLICY } from './uas-checks.ts';
import { rethrowLater } from '../transaction/rethrow.ts';

export interface DialogLayerOptions {
  readonly transactions: DialogTransactions;
  readonly clock: Clock;
  /** Uniform in [0, 1) for tags, Call-IDs and waits; crypto.getRandomValues by default. */
  readonly random?: () => number;
  /** T1 and T2 (ms); RFC 3261 defaults 500 and 4000. */
  readonly timers?: { readonly T1?: number; readonly T2?: number };
  /** A URI to the address it goes to; default: IP addresses only (RFC 3263 is the caller's). */
  readonly resolve?: TargetResolver;
  readonly userAgent?: string;
  /**
   * The OfferAnswer for a new incoming INVITE (our RTP address for it);
   * undefined refuses the call with 503 (no media resources).
   */
  readonly mediaFor?: (request: SipMessage, received: Received) => OfferAnswer | undefined;
  /** Most dialogs and INVITEs in progress at once (default 20,000): past it a new INVITE gets 503. */
  readonly maxDialogs?: number;
  /** How long an incoming INVITE waits for accept() or reject() before 480 (default 180 s). */
  readonly noAnswerMs?: number;
}

export interface DialogStats {
  /** Early and confirmed dialogs. */
  readonly dialogs: number;
  readonly incomingInvites: number;
  readonly outgoingInvites: number;
  /** Clock timers held by dialogs and INVITEs (transactions' own excluded). */
  readonly timers: number;
}

export const DEFAULT_MAX_DIALOGS = 20_000;
export const DEFAULT_NO_ANSWER_MS = 180_000;


export class DialogLayer implements TransactionUser {
  /** A new call: accept(), ring() or reject() it. Without a listener every INVITE gets 480. */
  onInvite: ((invite: IncomingInvite) => void) | undefined;
  readonly #context: DialogContext;
  readonly #dialogs = new Map<string, SessionDialog>();
  readonly #incoming = new Map<ServerInviteTransaction, IncomingInvite>();
  readonly #outgoing = new Set<OutgoingInvite>();
  /** What outlives its dialog for a while (our re-INVITE being cancelled). */
  readonly #lingering = new Set<Lingering>();
  readonly #mediaFor: DialogLayerOptions['mediaFor'];
  readonly #maxDialogs: number;
  readonly #noAnswerMs: number;
  #closed = false;

  constructor(options: DialogLayerOptions) {
    const dialogs = this.#dialogs;
    const lingering = this.#lingering;
    this.#context = {
      transactions: options.transactions,
      clock: options.clock,
      random: options.random ?? cryptoRandom(),
      T1: options.timers?.T1 ?? 500,
      T2: options.timers?.T2 ?? 4000,
      resolve: options.resolve ?? defaultResolve,
      userAgent: options.userAgent === undefined ? undefined : checkHeaderValue(options.userAgent, 'userAgent'),
      allow: LAYER_ALLOW,
      supported: LAYER_SUPPORTED,
      registry: {
        add: (key, dialog: DialogEntry) => dialogs.set(key, dialog as SessionDialog),
        remove: (key, dialog: DialogEntry) => {
          if (dialogs.get(key) === dialog) dialogs.delete(key);
        },
        linger: (item) => lingering.add(item),
        unlinger: (item) => lingering.delete(item),
      },
    };
    this.#mediaFor = options.mediaFor;
    this.#maxDialogs = options.maxDialogs ?? DEFAULT_MAX_DIALOGS;
    this.#noAnswerMs = options.noAnswerMs ?? DEFAULT_NO_ANSWER_MS;
  }

  /** Starts a call; the events tell its progress. Throws when the layer is closed or full. */
  invite(options: InviteOptions, events: OutgoingInviteEvents = {}): OutgoingInvite {
    if (this.#closed) throw new StateError('ERR_CLOSED', 'the dialog layer is closed');
    if (this.#live() >= this.#maxDialogs) throw new StateError('ERR_LIMIT', `dialog limit reached (${this.#maxDialogs})`);
    const call = new OutgoingInvite(this.#context, options, events, this.#forgetOutgoing);
    this.#outgoing.add(call);
    call.start();
    return call;
  }

  stats(): DialogStats {
    let timers = 0;
    for (const dialog of this.#dialogs.values()) timers += dialog.timersHeld;
    for (const invite of this.#incoming.values()) timers += invite.liveTimers;
    for (const call of this.#outgoing) timers += call.liveTimers;
    for (const item of this.#lingering) timers += item.liveTimers;
    return { dialogs: this.#dialogs.size, incomingInvites: this.#incoming.size, outgoingInvites: this.#outgoing.size, timers };
  }

  /** A live dialog by its ID (for tests and the SDK). */
  dialog(callId: string, localTag: string, remoteTag: string): SessionDialog | undefined {
    return this.#dialogs.get(dialogKey(callId, localTag, remoteTag));
  }

  /** Ends every dialog (BYE for the confirmed ones) and refuses every INVITE waiting; nothing new is taken. */
  close(): void {
    this.#closed = true;
    for (const invite of [...this.#incoming.values()]) invite.close();
    for (const call of [...this.#outgoing]) call.cancel();
    for (const dialog of [...this.#dialogs.values()]) {
      if (dialog.state === 'confirmed') void dialog.bye();
      else dialog.end({ by: 'local', cause: 'closed', code: undefined, reason: undefined });
    }
  }

  /**
   * After close() and the transaction layer's own close: nothing can be
   * sent or answered any more. Every INVITE still waiting and every dialog
   * still live is ended without a message, so no state or timer is left.
   */
  destroy(): void {
    this.#closed = true;
    for (const call of [...this.#outgoing]) call.abandon('the dialog layer was destroyed');
    this.#outgoing.clear();
    for (const invite of [...this.#incoming.values()]) invite.close();
    this.#incoming.clear();
    for (const dialog of [...this.#dialogs.values()]) dialog.end({ by: 'local', cause: 'closed', code: undefined, reason: undefined });
    this.#dialogs.clear();
    for (const item of [...this.#lingering]) item.abandonNow();
    this.#lingering.clear();
  }

  // ------------------------------------------------------ TransactionUser

  onRequest(incoming: IncomingRequest): void {
    const request = incoming.request;
    const check = checkRequest(request, ENDPOINT_POLICY);
    if (check !== null) return this.#reply(incoming, check.status, check.headers, check.reason);
    const method = request.method!;
    if (method === 'CANCEL') return this.#onCancel(incoming);
    const toTag = request.to?.tag;
    if (toTag != null) {
      const dialog = this.#dialogs.get(dialogKey(request.callId!, toTag, request.from?.tag ?? ''));
      if (dialog === undefined) return this.#reply(incoming, 481);
      return dialog.onRequest(incoming);
    }
    if (method === 'INVITE') return this.#onInvite(incoming);
    const answer = outsideDialogAnswer(method);
    return this.#reply(incoming, answer.status, answer.headers);
  }

  onAck(ack: SipMessage): void {
    const toTag = ack.to?.tag;
    if (toTag == null || ack.callId === undefined) return;
    this.#dialogs.get(dialogKey(ack.callId, toTag, ack.from?.tag ?? ''))?.onAck(ack);
  }

  onStrayResponse(response: SipMessage): void {
    const status = response.status ?? 0;
    if (status < 200 || status >= 300 || response.cseq?.method !== 'INVITE' || response.callId === undefined) return;
    const fromTag = response.from?.tag;
    const toTag = response.to?.tag;
    if (fromTag == null || toTag == null) return;
    this.#dialogs.get(dialogKey(response.callId, fromTag, toTag))?.on2xxRetransmission(response);
  }

  // ------------------------------------------------------------- internal

  /** A response of the layer's own (not a dialog's): a To tag of its own when the request had none. */
  #reply(incoming: IncomingRequest, status: number, headers: Array<[string, string]> = [], reason?: string, toTag?: string): void {
    const request = incoming.request;
    const ownTag = request.to?.tag == null && status > 100 ? (toTag ?? randomToken(this.#context.random)) : undefined;
    const options: ResponseOptions = reason === undefined ? { headers, toTag: ownTag } : { headers, reason, toTag: ownTag };
    incoming.transaction.reply(status, options);
  }

  #onCancel(incoming: IncomingRequest): void {
    const cancelled = incoming.cancelled;
    // s9.2: "If the UAS did not find a matching transaction for the CANCEL according to the procedure above, it SHOULD respond to the CANCEL with a 481".
    if (cancelled === undefined) return this.#reply(incoming, 481);
    // s9.2: "as long as the CANCEL matched an existing transaction, the UAS answers the CANCEL request itself
    // with a 200 (OK) response" (after our final response too: then the CANCEL has no effect), and "The To tag
    // of the response to the CANCEL and the To tag in the response to the original request SHOULD be the same."
    const invite = this.#incoming.get(cancelled);
    this.#reply(incoming, 200, [], undefined, invite?.localTag ?? cancelled.responseToTag ?? undefined);
    invite?.cancelled();
  }

  #onInvite(incoming: IncomingRequest): void {
    const refused = checkNewInvite(incoming.request);
    if (refused !== null) return this.#reply(incoming, refused.status, refused.headers, refused.reason);
    if (this.#closed) return this.#reply(incoming, 503, [['Retry-After', '5']]);
    if (this.#live() >= this.#maxDialogs) return this.#reply(incoming, 503, [['Retry-After', '5']], 'Too Many Calls');
    if (this.onInvite === undefined) return this.#reply(incoming, 480);
    const media = this.#mediaFor?.(incoming.request, incoming.received);
    if (media === undefined) return this.#reply(incoming, 503, [['Retry-After', '5']], 'No Media Resources');
    let invite: IncomingInvite;
    try {
      invite = new IncomingInvite(this.#context, incoming, media, this.#noAnswerMs, this.#forgetIncoming);
    } catch (error) {
      if (error instanceof OfferAnswerError) {
        const refusal = offerRefusal(error);
        return this.#reply(incoming, refusal.status, refusal.headers, refusal.reason);
      }
      throw error;
    }
    this.#incoming.set(incoming.transaction as ServerInviteTransaction, invite);
    try {
      this.onInvite(invite);
    } catch (error) {
      if (invite.state === 'proceeding') invite.reject(500);
      rethrowLater(error);
    }
  }

  /** Made once: a closure per INVITE showed in profiles. */
  readonly #forgetIncoming = (transaction: ServerInviteTransaction): void => {
    this.#incoming.delete(transaction);
  };

  readonly #forgetOutgoing = (call: OutgoingInvite): void => {
    this.#outgoing.delete(call);
  };

  #live(): number {
    return this.#dialogs.size + this.#incoming.size + this.#outgoing.size;
  }
}

/**
 * The default: the URI's host must be an IP address, and its transport param
 * decides, else UDP for sip: (RFC 3263 s4.1: "the client SHOULD use UDP for a
 * SIP URI"); sips: is TLS. `dialogTransport` is for resolvers that prefer the
 * transport the dialog was set up over.
 */
function defaultResolve(uri: Uri, dialogTransport: TransportKind): Endpoint | undefined {
  void dialogTransport;
  const result = targetFromUri(uri, 'udp');
  return result.ok ? result.target : undefined;
}
