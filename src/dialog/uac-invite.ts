/**
 * An INVITE we send to start a call (RFC 3261 s13.2), over one INVITE client
 * transaction at a time:
 *
 *   calling --1xx--> proceeding --2xx--> ended (answered: a confirmed SessionDialog)
 *   calling/proceeding --300-699, timeout, transport error--> ended (failed)
 *   calling/proceeding --401/407 answered with credentials--> calling (a new transaction)
 *
 * - Early dialogs: every 1xx with a To tag opens an early dialog for that tag
 *   (forking gives several, s13.2.2.1); an SDP in it is previewed as early
 *   media.
 * - The first 2xx wins: its dialog is confirmed, ACKed (ack-2xx.ts) and the
 *   answer taken. s13.2.2.4: "If more than one 2xx are received ... the UAC
 *   MUST ... construct the ACK ... and then ... send a BYE": every 2xx of
 *   another fork is ACKed and BYEd; a retransmitted 2xx is ACKed again.
 * - CANCEL (s9.1) only once a provisional came on the current transaction:
 *   asked earlier, it is sent when the first provisional arrives. A 2xx that
 *   crosses our CANCEL is ACKed and BYEd, and the call ends cancelled. No
 *   final response within 64*T1 of the CANCEL: the INVITE transaction is
 *   destroyed and the call ends cancelled (s9.1).
 * - Digest: a 401/407 is answered once with the call's credentials, same
 *   Call-ID and From tag, CSeq + 1 (s22.2), the same offer.
 */
import type { MessageParts, SipMessage } from '../parser/index.ts';
import { cancelInvite } from './cancel-invite.ts';
import { StateMachine, type MachineTables } from '../transaction/machine.ts';
import type { TimerEvent } from '../transaction/events.ts';
import type { ClientOutcome, ClientTransactionUser } from '../transaction/user.ts';
import type { Endpoint } from '../transport/types.ts';
import type { Authenticator } from './authenticator.ts';
import { randomToken, type DialogContext, type SentRequest } from './dialog-context.ts';
import type { DialogState } from './dialog-state.ts';
import type { NegotiatedMedia } from './media.ts';
import type { OfferAnswer } from './offer-answer.ts';
import { SessionDialog } from './session-dialog.ts';
import { InviteAcks, type InviteAckOptions, type SentInvite } from './uac-acks.ts';
import { rethrowLater } from '../transaction/rethrow.ts';

export interface InviteOptions {
  /** Request-URI: who is called. */
  readonly requestUri: string;
  /** Our From, a name-addr without tag (`"Agent" <sip:1001@example.com>`). */
  readonly from: string;
  /** To, a name-addr. */
  readonly to: string;
  /** Our Contact header value. */
  readonly contact: string;
  /** Where the INVITE goes first (an outbound proxy: the site). */
  readonly nextHop: Endpoint;
  /** The call's offer/answer: our offer goes in the INVITE. */
  readonly media: OfferAnswer;
  readonly auth?: Authenticator;
  /** More header fields (after the usual ones). */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** `rport` in our Via (default: the transaction layer's). */
  readonly rport?: boolean;
}

export type InviteFailureCause = ClientOutcome['cause'] | 'unsendable' | 'cancelled' | 'unusable-answer';

export interface InviteFailure {
  /** 487 when cancelled; 408/503 for a timeout/transport error (s8.1.3.1). */
  readonly status: number;
  readonly reason: string;
  readonly cause: InviteFailureCause;
  readonly response: SipMessage | undefined;
}

export interface ProvisionalInfo {
  readonly status: number;
  /** The To tag: the early dialog it opened, or null (a 100 from a proxy). */
  readonly tag: string | null;
  /** Early media: an SDP in the 1xx, read against our offer. */
  readonly media: NegotiatedMedia | undefined;
}

export interface OutgoingInviteEvents {
  onProvisional?(info: ProvisionalInfo, response: SipMessage): void;
  /** Once, for the first 2xx: the session is confirmed and ACKed. */
  onAnswered?(session: SessionDialog, response: SipMessage): void;
  /** Once, when the call ends without being answered (or was cancelled). */
  onFailed?(failure: InviteFailure): void;
}

export type OutgoingInviteState = 'calling' | 'proceeding' | 'ended';

/** 64*T1 after our CANCEL without a final response for the INVITE (s9.1). */
type InviteTimer = 'CancelGiveUp';

const TABLES: MachineTables<OutgoingInviteState, InviteTimer> = {
  name: 'uac-invite',
  initial: 'calling',
  terminal: 'ended',
  moves: {
    calling: ['proceeding', 'ended', 'calling'],
    proceeding: ['ended', 'calling'],
    ended: [],
  },
  timers: { calling: [], proceeding: ['CancelGiveUp'], ended: [] },
};

/** Early dialogs kept per INVITE at most (forks beyond are not tracked). */
export const MAX_EARLY_DIALOGS = 16;
/** Challenges answered per call. */
const MAX_AUTH_ROUNDS = 2;

export class OutgoingInvite extends StateMachine<OutgoingInviteState, { readonly type: 'noop' }, InviteTimer> implements ClientTransactionUser {
  readonly callId: string;
  readonly localTag: string;
  events: OutgoingInviteEvents;
  readonly #context: DialogContext;
  readonly #options: InviteOptions;
  readonly #offer: Uint8Array;
  /** To tags of the early dialogs (only counted: the dialog itself is built for the 2xx). */
  readonly #early = new Set<string>();
  #cseq: number;
  /** The current INVITE's transaction (the CANCEL reads the INVITE back from it). */
  #transaction: SentRequest | undefined;
  /** The current transaction's user, and the ACKs of its 2xx answers. */
  #user: InviteTransactionUser | undefined;
  #provisionalSeen = false;
  #cancelRequested = false;
  #cancelSent = false;
  #authRounds = 0;
  #winner: string | undefined;
  #session: SessionDialog | undefined;
  readonly #onEnded: ((call: OutgoingInvite) => void) | undefined;

  /** `onEnded`: the owner's hook, called once as the call ends (answered or failed), before the events. */
  constructor(context: DialogContext, options: InviteOptions, events: OutgoingInviteEvents = {}, onEnded?: (call: OutgoingInvite) => void) {
    super(context.clock, TABLES);
    this.#onEnded = onEnded;
    this.#context = context;
    this.#options = options;
    this.events = events;
    this.callId = `${randomToken(context.random, 20)}`;
    this.localTag = randomToken(context.random);
    // s8.1.1.5: the first CSeq "MUST be less than 2**31".
    this.#cseq = 1 + Math.floor(context.random() * 0x7fff);
    this.#offer = options.media.createOffer();
  }

  /** Early dialogs open now (one per To tag of a 1xx). */
  get earlyDialogs(): number {
    return this.#early.size;
  }

  /** The answered session, once there is one. */
  get session(): SessionDialog | undefined {
    return this.#session;
  }

  /** Sends the INVITE (call once). */
  start(): void {
    this.#send();
  }

  /**
   * Cancels the call (s9.1): now if a provisional came on the current
   * transaction, else as soon as one does. After the 2xx it is too late:
   * end the session with bye().
   */
  cancel(): void {
    if (this.state === 'ended' || this.#cancelRequested) return;
    this.#cancelRequested = true;
    if (this.#provisionalSeen) this.#sendCancel();
  }

  /**
   * @internal The transaction layer is closed: no answer will come. Ends the
   * call as failed (503, cause `unsendable`), its timers cleared.
   */
  abandon(reason: string): void {
    this.#fail({ status: 503, reason, cause: 'unsendable', response: undefined });
  }

  // ------------------------------------------------ transaction user

  onProvisional(response: SipMessage): void {
    if (this.state === 'ended') return;
    if (!this.#provisionalSeen) {
      this.#provisionalSeen = true;
      if (this.state === 'calling') this.transition('proceeding');
      if (this.#cancelRequested) this.#sendCancel();
    }
    const tag = response.to?.tag ?? null;
    let media: NegotiatedMedia | undefined;
    if (tag !== null && response.status! > 100) {
      if (!this.#early.has(tag) && this.#early.size < MAX_EARLY_DIALOGS) {
        // A 1xx that cannot make a dialog still tells us the call progresses.
        if (this.#user!.opensDialog(response)) this.#early.add(tag);
      }
      if (response.body.length > 0) {
        try {
          media = this.#options.media.previewAnswer(response.body);
        } catch {
          media = undefined;
        }
      }
    }
    const info: ProvisionalInfo = { status: response.status!, tag, media };
    try {
      this.events.onProvisional?.(info, response);
    } catch (error) {
      rethrowLater(error);
    }
  }

  onFinal(outcome: ClientOutcome): void {
    if (this.state === 'ended') return;
    if (outcome.cause === 'response' && outcome.status >= 200 && outcome.status < 300) return this.#onFirst2xx(outcome.response);
    const auth = this.#options.auth;
    if (outcome.cause === 'response' && (outcome.status === 401 || outcome.status === 407) && auth !== undefined && !this.#cancelRequested && this.#authRounds < MAX_AUTH_ROUNDS) {
      if (auth.onChallenge(outcome.response).retry) {
        this.#authRounds++;
        this.#cseq++;
        this.#provisionalSeen = false;
        this.#cancelSent = false;
        this.transition('calling');
        return this.#send();
      }
    } else {
      auth?.onAnswered();
    }
    const reason = outcome.cause === 'response' ? (outcome.response.reasonPhrase ?? '') : outcome.cause === 'timeout' ? 'Request Timeout' : outcome.error.message;
    this.#fail({ status: outcome.status, reason, cause: outcome.cause, response: outcome.response });
  }

  onAdditional2xx(response: SipMessage): void {
    this.#user?.onAdditional2xx(response);
  }

  // ------------------------------------------------------------ internal

  protected step(event: { readonly type: 'noop' } | TimerEvent<InviteTimer>): void {
    if (event.type !== 'timer' || event.name !== 'CancelGiveUp') return;
    // s9.1: "If there is no final response for the original request in 64*T1 seconds ..., the client SHOULD
    // then consider the original transaction cancelled and SHOULD destroy the client transaction handling the
    // original request."
    this.#transaction?.handle({ type: 'terminate' });
    this.#fail({ status: 487, reason: 'cancelled; no final response within 64*T1 of the CANCEL', cause: 'cancelled', response: undefined });
  }

  protected onTerminated(): void {
    this.#onEnded?.(this);
    this.#early.clear();
    // The transaction may wait 32 s more (Timer M or D): from now on it holds the ACKs, not the call.
    this.#user?.release();
  }

  #send(): void {
    const o = this.#options;
    const credentials = o.auth?.headersFor({ method: 'INVITE', uri: o.requestUri }) ?? [];
    const from = `${o.from};tag=${this.localTag}`;
    const headers: Array<[string, string]> = [
      ['Max-Forwards', '70'],
      ['From', from],
      ['To', o.to],
      ['Call-ID', this.callId],
      ['CSeq', `${this.#cseq} INVITE`],
      ['Contact', o.contact],
      ['Allow', this.#context.allow],
      ['Supported', this.#context.supported],
      ['Content-Type', 'application/sdp'],
      ...credentials,
    ];
    if (this.#context.userAgent !== undefined) headers.push(['User-Agent', this.#context.userAgent]);
    for (const [name, value] of o.headers ?? []) headers.push([name, value]);
    const parts: MessageParts = { method: 'INVITE', uri: o.requestUri, headers, body: this.#offer };
    // An earlier transaction (answered with 401/407) has nothing more for the call.
    this.#user?.release();
    this.#user = undefined;
    this.#transaction = undefined;
    try {
      // What the INVITE's dialogs are made of, read from what we write (parsing the INVITE back cost more);
      // built before sending, so that a From or Request-URI we cannot read fails the call with nothing sent.
      const sent = { callId: this.callId, from, seq: this.#cseq, uri: o.requestUri };
      const user = new InviteTransactionUser(this, this.#context, sent, { credentials, transport: o.nextHop.transport, auth: o.auth });
      const transaction = this.#context.transactions.sendRequest(parts, o.nextHop, user, o.rport === undefined ? {} : { rport: o.rport });
      this.#transaction = transaction;
      this.#user = user;
    } catch (error) {
      this.#fail({ status: 503, reason: `cannot send: ${(error as Error).message}`, cause: 'unsendable', response: undefined });
    }
  }

  #sendCancel(): void {
    const transaction = this.#transaction;
    if (this.#cancelSent || transaction === undefined) return;
    this.#cancelSent = true;
    // Sent or not, the give-up timer ends the INVITE transaction if no final response comes.
    cancelInvite(this.#context.transactions, transaction, this.#options.nextHop);
    this.startTimer('CancelGiveUp', 64 * this.#context.T1);
  }

  #onFirst2xx(response: SipMessage): void {
    this.#options.auth?.onAnswered();
    const acks = this.#user!;
    if (this.#cancelRequested) {
      // The 2xx crossed our CANCEL: the callee answered; acknowledge and hang up.
      acks.ackAndBye(response);
      return this.#fail({ status: 487, reason: 'cancelled; the 2xx that crossed the CANCEL was acknowledged and ended with BYE', cause: 'cancelled', response });
    }
    let dialog: DialogState;
    try {
      dialog = acks.dialogFor(response);
    } catch (error) {
      return this.#fail({ status: 502, reason: `the 2xx cannot make a dialog: ${(error as Error).message}`, cause: 'unusable-answer', response });
    }
    const ack = acks.ack(dialog);
    const tag = dialog.remoteTag;
    this.#winner = tag;
    try {
      this.#options.media.receiveAnswer(response.body);
    } catch (error) {
      acks.bye(dialog);
      return this.#fail({ status: 488, reason: `unusable answer in the 2xx: ${(error as Error).message}`, cause: 'unusable-answer', response });
    }
    const session = new SessionDialog(this.#context, {
      role: 'uac',
      dialog,
      media: this.#options.media,
      transport: this.#options.nextHop.transport,
      contact: this.#options.contact,
      state: 'confirmed',
      ...(this.#options.auth ? { auth: this.#options.auth } : {}),
    });
    session.setLastAck(ack);
    this.#session = session;
    this.transition('ended');
    try {
      this.events.onAnswered?.(session, response);
    } catch (error) {
      rethrowLater(error);
    }
  }

  // The owner's events are called in place (a closure per call cost a naming call under tsx); one that throws is reported outside this stack.
  #fail(failure: InviteFailure): void {
    if (this.state === 'ended') return;
    if (this.#options.media.state === 'have-local-offer') this.#options.media.rollback();
    this.transition('ended');
    try {
      this.events.onFailed?.(failure);
    } catch (error) {
      rethrowLater(error);
    }
  }
}

/**
 * The user of the INVITE's transaction: the call until it ends, then only
 * the ACKs (InviteAcks, one object with them), so that a transaction waiting
 * out Timer M or D no longer keeps the call alive.
 */
class InviteTransactionUser extends InviteAcks implements ClientTransactionUser {
  #call: OutgoingInvite | undefined;

  constructor(call: OutgoingInvite, context: DialogContext, invite: SentInvite, options: InviteAckOptions) {
    super(context, invite, options);
    this.#call = call;
  }

  /** The call has ended (or moved to a new transaction): nothing more for it, and only text kept. */
  release(): void {
    this.#call = undefined;
    this.releaseInvite();
  }

  onProvisional(response: SipMessage): void {
    this.#call?.onProvisional(response);
  }

  onFinal(outcome: ClientOutcome): void {
    this.#call?.onFinal(outcome);
  }
}
