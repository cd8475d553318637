/**
 * A re-INVITE we send in a confirmed dialog (RFC 3261 s14.1): a new offer
 * (hold with a=sendonly/inactive, resume with sendrecv, or a refresh), the
 * ACK for its 2xx (re-sent for every retransmitted 2xx), digest once per
 * challenge, and the outcomes s14.1 lists:
 *
 * - 2xx: the answer is taken, the target refreshed; an unusable answer ends
 *   the session (ACK, then BYE).
 * - 491 (glare): the offer is withdrawn and the re-INVITE tried again after
 *   the random wait of glare.ts, at most MAX_GLARE_RETRIES times.
 * - 481, 408 or no answer: "the UAC will terminate the dialog" (BYE after a
 *   timeout; none after a 481: the peer has no dialog).
 * - any other non-2xx: "the session parameters MUST remain unchanged, as if
 *   no re-INVITE had been issued" (the offer is rolled back).
 * - a provisional and then no final response: RFC 3261 gives an INVITE
 *   client transaction in Proceeding no timer, so a peer could hold the
 *   dialog's INVITE slot, this transaction and the caller's promise for
 *   ever. 64*T1 after the first provisional we CANCEL it (s9.1; at once if
 *   the dialog has ended meanwhile); 64*T1 after the CANCEL without a final
 *   response, s9.1's "SHOULD destroy the client transaction", and the
 *   outcome is that of no answer (408: the dialog ends).
 */
import type { MessageParts, SipMessage } from '../parser/index.ts';
import type { TimerHandle } from '../transaction/clock.ts';
import type { ClientOutcome, ClientTransactionUser } from '../transaction/user.ts';
import type { Endpoint, TransportKind } from '../transport/types.ts';
import { AckFor2xx } from './ack-2xx.ts';
import { cancelInvite } from './cancel-invite.ts';
import type { Authenticator } from './authenticator.ts';
import type { DialogContext, Lingering, SentRequest } from './dialog-context.ts';
import type { DialogState } from './dialog-state.ts';
import { glareWaitMs } from './glare.ts';
import type { NegotiatedMedia } from './media.ts';
import type { OfferAnswer } from './offer-answer.ts';
import { OfferAnswerError } from './offer-answer-error.ts';

export type ReinviteResult =
  | { readonly ok: true; readonly media: NegotiatedMedia | undefined }
  | { readonly ok: false; readonly status: number; readonly reason: string; readonly cause: ReinviteFailure };

/**
 * Why a re-INVITE failed: the peer answered (`response`: `status` is its),
 * no answer came (`timeout`: 408) or could be sent (`transportError`: 503),
 * the dialog ended or was not there (`ended`), or it never left because of
 * a state of ours (`local`: 491 while another INVITE is in progress, 500
 * when no offer can be made).
 */
export type ReinviteFailure = 'response' | 'timeout' | 'transportError' | 'ended' | 'local';

/** 491s in a row after which the re-INVITE gives up. */
export const MAX_GLARE_RETRIES = 3;
/** Challenges answered per re-INVITE. */
const MAX_AUTH_ROUNDS = 2;

/** What a re-INVITE needs from its session. */
export interface ReinviteHost {
  readonly context: DialogContext;
  readonly dialog: DialogState;
  readonly media: OfferAnswer;
  readonly auth: Authenticator | undefined;
  readonly contact: string;
  readonly transport: TransportKind;
  /** We generated the Call-ID (we sent the initial INVITE): the longer glare wait. */
  readonly ownsCallId: boolean;
  /** The ACK to resend for a 2xx retransmitted after the transaction ended. */
  setLastAck(ack: AckFor2xx): void;
  /** A completed exchange changed the media. */
  mediaChanged(media: NegotiatedMedia | undefined): void;
  /** Runs `retry` after `ms` (a timer the session owns and clears when it ends). */
  scheduleRetry(ms: number, retry: () => void): void;
  /** The dialog is over: `bye` sends a BYE first. */
  /** Ends the dialog (with a BYE when `bye`); `unanswered`: our re-INVITE got no response at all. */
  fail(status: number, reason: string, bye: boolean, unanswered: boolean): void;
  /** This re-INVITE is settled (the session may start another). */
  finished(client: ReinviteClient): void;
}

export class ReinviteClient implements ClientTransactionUser, Lingering {
  #offer: Uint8Array | undefined;
  #sentHeaders: ReadonlyArray<readonly [string, string]> = [];
  #cseq = 0;
  #authRounds = 0;
  #glareRetries = 0;
  #ack: AckFor2xx | undefined;
  #settled = false;
  #inFlight = false;
  /** The INVITE transaction in flight and where it went, for its CANCEL. */
  #transaction: SentRequest | undefined;
  #target: Endpoint | undefined;
  #provisionalSeen = false;
  #cancelSent = false;
  /** The CANCEL after a provisional without a final, then the give-up after the CANCEL. */
  #deadline: TimerHandle | undefined;

  private readonly host: ReinviteHost;
  private readonly hold: boolean | undefined;
  private readonly resolve: (result: ReinviteResult) => void;

  constructor(
    host: ReinviteHost,
    hold: boolean | undefined,
    resolve: (result: ReinviteResult) => void,
  ) {
    this.host = host;
    this.hold = hold;
    this.resolve = resolve;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Clock timers it holds (0 or 1). */
  get liveTimers(): number {
    return this.#deadline === undefined ? 0 : 1;
  }

  /** Its INVITE transaction is in progress (not while waiting out a 491). */
  get inFlight(): boolean {
    return this.#inFlight;
  }

  start(): void {
    const { media } = this.host;
    try {
      this.#offer = media.createOffer(this.hold === undefined ? {} : { hold: this.hold });
    } catch (error) {
      return this.#settle({ ok: false, status: 500, reason: `no offer can be made now: ${(error as Error).message}`, cause: 'local' });
    }
    this.#send();
  }

  /** The dialog ended under this re-INVITE: it settles without effect. */
  abandon(reason: string): void {
    if (this.#settled) return;
    if (this.host.media.state === 'have-local-offer') this.host.media.rollback();
    this.#settle({ ok: false, status: 481, reason, cause: 'ended' });
    // Still in Proceeding: nothing will end it but a final response, so the peer is told to send one;
    // until then it lingers in the layer (counted, and ended by destroy()).
    if (this.#provisionalSeen && this.#inFlight) {
      this.host.context.registry.linger(this);
      this.#cancel();
    }
  }

  /** The layer is destroyed under it: its timer cleared, its transaction ended, nothing sent. */
  abandonNow(): void {
    this.#clearDeadline();
    this.#transaction?.handle({ type: 'terminate' });
    this.#transaction = undefined;
    this.#inFlight = false;
    this.host.context.registry.unlinger(this);
  }

  #send(): void {
    const { context, dialog, auth, contact } = this.host;
    const credentials = auth?.headersFor({ method: 'INVITE', uri: dialog.requestUri }) ?? [];
    const headers: Array<[string, string]> = [
      ['Contact', contact],
      ['Allow', context.allow],
      ['Supported', context.supported],
      ['Content-Type', 'application/sdp'],
      ...credentials,
    ];
    if (context.userAgent !== undefined) headers.push(['User-Agent', context.userAgent]);
    const built = dialog.request('INVITE', { headers, body: this.#offer! });
    this.#cseq = dialog.localSeq;
    this.#sentHeaders = credentials;
    const target = context.resolve(built.nextHop, this.host.transport);
    if (target === undefined) return this.#failUnsent(`no transport target for ${built.nextHop.toString()}`);
    this.#provisionalSeen = false;
    this.#cancelSent = false;
    try {
      this.#inFlight = true;
      this.#target = target;
      const sent = context.transactions.sendRequest(built.parts as MessageParts, target, this);
      // A transport error inside sendRequest() has already ended it (onFinal ran): keep no ended transaction.
      if (this.#inFlight) this.#transaction = sent;
    } catch (error) {
      this.#inFlight = false;
      this.#failUnsent(`cannot send: ${(error as Error).message}`);
    }
  }

  onProvisional(): void {
    if (this.#provisionalSeen || !this.#inFlight) return;
    this.#provisionalSeen = true;
    if (this.#settled) this.#cancel();
    else this.#setDeadline(() => this.#cancel());
  }

  onFinal(outcome: ClientOutcome): void {
    this.#inFlight = false;
    this.#transaction = undefined;
    this.#clearDeadline();
    this.host.context.registry.unlinger(this);
    if (this.#settled) {
      // Abandoned (the dialog ended) and a 2xx still came: acknowledge it.
      if (outcome.cause === 'response' && outcome.status < 300) this.#acknowledge(outcome.response).send(this.host.context.transactions);
      return;
    }
    const { status } = outcome;
    if (outcome.cause === 'response' && status >= 200 && status < 300) return this.#accepted(outcome.response);
    const auth = this.host.auth;
    if (outcome.cause === 'response' && (status === 401 || status === 407) && auth !== undefined && this.#authRounds < MAX_AUTH_ROUNDS) {
      if (auth.onChallenge(outcome.response).retry) {
        this.#authRounds++;
        return this.#send();
      }
    } else {
      auth?.onAnswered();
    }
    const reason = outcome.cause === 'response' ? (outcome.response.reasonPhrase ?? '') : outcome.cause === 'timeout' ? 'Request Timeout' : outcome.error.message;
    this.host.media.rollback();
    if (outcome.cause === 'response' && status === 491 && this.#glareRetries < MAX_GLARE_RETRIES) {
      this.#glareRetries++;
      this.host.scheduleRetry(glareWaitMs(this.host.ownsCallId, this.host.context.random), () => {
        if (!this.#settled) this.start();
      });
      return;
    }
    this.#settle({ ok: false, status, reason, cause: outcome.cause });
    // s14.1 via s12.2.1.2: 481 or 408 (or no answer at all) ends the dialog.
    if (status === 481) this.host.fail(status, reason, false, false);
    else if (status === 408 || outcome.cause !== 'response') this.host.fail(status, reason, true, outcome.cause !== 'response');
  }

  /** A retransmission of the 2xx, or a 2xx of another fork: the same ACK again. */
  onAdditional2xx(response: SipMessage): void {
    if (response.to?.tag === this.host.dialog.remoteTag) this.#ack?.send(this.host.context.transactions);
  }

  #accepted(response: SipMessage): void {
    this.host.auth?.onAnswered();
    this.host.dialog.refreshTarget(response);
    this.#ack = this.#acknowledge(response);
    this.#ack.send(this.host.context.transactions);
    this.host.setLastAck(this.#ack);
    let media: NegotiatedMedia | undefined;
    try {
      media = this.host.media.receiveAnswer(response.body);
    } catch (error) {
      const reason = error instanceof OfferAnswerError ? error.message : String(error);
      this.#settle({ ok: false, status: 488, reason, cause: 'response' });
      return this.host.fail(488, `unusable answer in the 2xx: ${reason}`, true, false);
    }
    this.#settle({ ok: true, media });
    this.host.mediaChanged(media);
  }

  #acknowledge(_response: SipMessage): AckFor2xx {
    return new AckFor2xx(this.host.context, this.host.dialog, { cseq: this.#cseq, headers: this.#sentHeaders }, this.host.transport, undefined);
  }

  /** s9.1: the CANCEL of our re-INVITE, then the give-up. */
  #cancel(): void {
    const transaction = this.#transaction;
    if (this.#cancelSent || transaction === undefined || this.#target === undefined) return;
    this.#cancelSent = true;
    // Unsendable (the layer closed): nothing will answer; give up at once.
    if (!cancelInvite(this.host.context.transactions, transaction, this.#target)) return this.#giveUp();
    this.#setDeadline(() => this.#giveUp());
  }

  /** s9.1: "no final response for the original request in 64*T1 seconds": the transaction is destroyed; as no answer, the dialog ends. */
  #giveUp(): void {
    this.abandonNow();
    if (this.#settled) return;
    const reason = 'no final response to the re-INVITE, nor after its CANCEL';
    this.host.media.rollback();
    this.#settle({ ok: false, status: 408, reason, cause: 'timeout' });
    // A provisional came (from the next hop at least): the hop answered, the far end did not.
    this.host.fail(408, reason, true, false);
  }

  #setDeadline(then: () => void): void {
    this.#clearDeadline();
    this.#deadline = this.host.context.clock.setTimer(64 * this.host.context.T1, () => {
      this.#deadline = undefined;
      then();
    });
  }

  #clearDeadline(): void {
    if (this.#deadline === undefined) return;
    this.host.context.clock.clearTimer(this.#deadline);
    this.#deadline = undefined;
  }

  #failUnsent(reason: string): void {
    this.host.media.rollback();
    this.#settle({ ok: false, status: 503, reason, cause: 'transportError' });
  }

  #settle(result: ReinviteResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.host.finished(this);
    this.resolve(result);
  }
}
