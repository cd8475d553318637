/**
 * An INVITE we received that starts a call (RFC 3261 s13.3), until it is
 * answered:
 *
 *   proceeding --ring (180/183)--> proceeding --accept (2xx)--> ended (a confirmed SessionDialog)
 *   proceeding --reject (300-699) / CANCEL (487) / no answer in time (480) / transport error--> ended
 *
 * The offer in the INVITE is taken when it arrives (a 488 or 400 goes back
 * before the application sees the call); an INVITE without SDP gets our offer
 * in the 2xx and the answer in the ACK. A 183 may carry the answer early;
 * the 2xx then repeats it (s13.2.1: "that same exact answer").
 * CANCEL (s9.2): "the UAS SHOULD immediately respond to the INVITE with a 487"
 * when no final response was sent (the 200 to the CANCEL is the layer's).
 * Our 2xx is re-sent until the ACK (uas-2xx.ts, held by the session).
 */
import { StateError } from '../errors/sip-endpoint-error.ts';
import type { SipMessage } from '../parser/index.ts';
import { StateMachine, type MachineTables } from '../transaction/machine.ts';
import type { ResponseOptions } from '../transaction/responses.ts';
import type { ServerInviteTransaction } from '../transaction/server-invite.ts';
import type { TimerEvent } from '../transaction/events.ts';
import type { IncomingRequest } from '../transaction/user.ts';
import type { Received } from '../transport/types.ts';
import type { Authenticator } from './authenticator.ts';
import { randomToken, type DialogContext } from './dialog-context.ts';
import { DialogState } from './dialog-state.ts';
import type { OfferAnswer } from './offer-answer.ts';
import { SessionDialog } from './session-dialog.ts';
import { rethrowLater } from '../transaction/rethrow.ts';

export type IncomingInviteState = 'proceeding' | 'ended';

export type IncomingInviteEnd = 'answered' | 'rejected' | 'cancelled' | 'expired' | 'transport-error' | 'closed';

export interface IncomingInviteEvents {
  /** Once, when the INVITE ends without accept() or reject() from the application: CANCEL, no answer in time, a response that cannot be sent. */
  onEnded?(why: Exclude<IncomingInviteEnd, 'answered' | 'rejected'>): void;
}

type InviteTimer = 'NoAnswer';

const TABLES: MachineTables<IncomingInviteState, InviteTimer> = {
  name: 'uas-invite',
  initial: 'proceeding',
  terminal: 'ended',
  moves: { proceeding: ['ended'], ended: [] },
  timers: { proceeding: ['NoAnswer'], ended: [] },
};

export interface AcceptOptions {
  /** Our Contact for the dialog. */
  readonly contact: string;
  /** Credentials for our requests in the dialog (BYE, re-INVITE) if the peer challenges them. */
  readonly auth?: Authenticator;
  /** Answer with a=sendonly (we hold from the start). */
  readonly hold?: boolean;
}

export class IncomingInvite extends StateMachine<IncomingInviteState, { readonly type: 'noop' }, InviteTimer> {
  readonly request: SipMessage;
  readonly received: Received;
  readonly localTag: string;
  readonly media: OfferAnswer;
  events: IncomingInviteEvents = {};
  readonly #context: DialogContext;
  readonly #transaction: ServerInviteTransaction;
  readonly #onDone: (transaction: ServerInviteTransaction) => void;
  #earlyAnswer: Uint8Array | undefined;
  /**
   * s12.1.1: "When a UAS responds to a request with a response that
   * establishes a dialog (such as a 2xx to INVITE), the UAS MUST copy all
   * Record-Route header field values from the request into the response
   * ... and MUST maintain the order of those values." Our 1xx with a To tag
   * and our 2xx carry them.
   */
  readonly #recordRoute: Array<[string, string]>;
  #end: IncomingInviteEnd | undefined;

  /**
   * Takes the INVITE's offer into `media` (throws OfferAnswerError with the
   * status to refuse it with). `noAnswerMs`: the longest the INVITE may wait
   * for accept() or reject() before a 480 goes back.
   */
  constructor(context: DialogContext, incoming: IncomingRequest, media: OfferAnswer, noAnswerMs: number, onDone: (transaction: ServerInviteTransaction) => void) {
    super(context.clock, TABLES);
    this.#context = context;
    this.request = incoming.request;
    this.received = incoming.received;
    this.#transaction = incoming.transaction as ServerInviteTransaction;
    this.#onDone = onDone;
    this.media = media;
    this.localTag = randomToken(context.random);
    const recordRoute: Array<[string, string]> = [];
    for (const value of this.request.headerFields('Record-Route')) recordRoute.push(['Record-Route', value]);
    this.#recordRoute = recordRoute;
    if (this.request.body.length > 0) media.receiveOffer(this.request.body);
    // A response that cannot be sent ends the call. Only a final response takes an INVITE server transaction
    // out of Proceeding (s17.2.1), and RFC 6026 s7.1 keeps it alive after the error ("MUST NOT immediately
    // destroy"): without one it would stay forever. The final response lets Timer H end it.
    this.#transaction.user = this;
    this.startTimer('NoAnswer', noAnswerMs);
  }

  /** @internal The transaction's user until the final response: a response that could not be sent. */
  onTransportError(): void {
    this.#finish({ status: 500, reason: 'Response Not Delivered', headers: [] }, 'transport-error');
  }

  /** How it ended; undefined while it waits for an answer. */
  get end(): IncomingInviteEnd | undefined {
    return this.#end;
  }

  /** A provisional response: 180 Ringing, or 183 Session Progress with our answer (early media). */
  ring(options: { readonly status?: 180 | 183; readonly contact: string; readonly earlyMedia?: boolean }): void {
    if (this.state !== 'proceeding') return;
    const status = options.status ?? 180;
    let body: Uint8Array | undefined;
    if (options.earlyMedia === true && this.media.state === 'have-remote-offer') {
      this.#earlyAnswer = this.media.createAnswer();
      body = this.#earlyAnswer;
    } else if (options.earlyMedia === true) {
      body = this.#earlyAnswer;
    }
    const headers: Array<[string, string]> = [...this.#recordRoute, ['Contact', options.contact]];
    if (body !== undefined) headers.push(['Content-Type', 'application/sdp']);
    this.#transaction.reply(status, { toTag: this.localTag, headers, ...(body === undefined ? {} : { body }) });
  }

  /** Answers 200 with our answer (or our offer, for an INVITE without SDP) and returns the confirmed session. */
  accept(options: AcceptOptions): SessionDialog {
    if (this.state !== 'proceeding') throw new StateError('ERR_STATE', `the INVITE has ${this.#end ?? 'ended'}: it cannot be answered`);
    // Our answer as text: the 2xx is written from it (and again from it for each resend).
    let body: Uint8Array | string;
    let offered = false;
    const hold = options.hold === undefined ? {} : { hold: options.hold };
    if (this.media.state === 'have-remote-offer') body = this.media.createAnswerText(hold);
    else if (this.#earlyAnswer !== undefined) body = this.#earlyAnswer;
    else {
      body = this.media.createOffer(hold);
      offered = true;
    }
    const dialog = DialogState.forUas(this.request, this.localTag, 1 + Math.floor(this.#context.random() * 0x7fff), this.received.source.transport === 'tls');
    const session = new SessionDialog(this.#context, {
      role: 'uas',
      dialog,
      media: this.media,
      transport: this.received.source.transport,
      contact: options.contact,
      state: 'confirmed',
      ...(options.auth ? { auth: options.auth } : {}),
    });
    const response: ResponseOptions = {
      toTag: this.localTag,
      headers: [...this.#recordRoute, ['Contact', options.contact], ['Allow', this.#context.allow], ['Supported', this.#context.supported], ['Content-Type', 'application/sdp']],
      body,
    };
    session.send2xx(this.#transaction, this.request, response, offered);
    this.#finish(undefined, 'answered');
    return session;
  }

  /** Refuses the call with a final response (486 Busy Here, 603 Decline, 480 ...). */
  reject(status: number, reason?: string, headers: ReadonlyArray<readonly [string, string]> = []): void {
    if (status < 300 || status > 699) throw new RangeError(`reject needs a status from 300 to 699, got ${status}`);
    this.#finish({ status, ...(reason === undefined ? {} : { reason }), headers }, 'rejected');
  }

  /** @internal A CANCEL matched this INVITE (its 200 is sent by the layer). */
  cancelled(): void {
    this.#finish({ status: 487, headers: [] }, 'cancelled');
  }

  /** @internal The layer closes: the INVITE is refused and forgotten. */
  close(): void {
    this.#finish({ status: 480, headers: [] }, 'closed');
  }

  protected step(event: { readonly type: 'noop' } | TimerEvent<InviteTimer>): void {
    if (event.type === 'timer' && event.name === 'NoAnswer') this.#finish({ status: 480, reason: 'No Answer', headers: [] }, 'expired');
  }

  protected onTerminated(): void {
    this.#onDone(this.#transaction);
  }

  #finish(response: { status: number; reason?: string; headers: ReadonlyArray<readonly [string, string]> } | undefined, end: IncomingInviteEnd): void {
    if (this.state !== 'proceeding') return;
    this.#end = end;
    if (response !== undefined) {
      this.#transaction.reply(response.status, { toTag: this.localTag, headers: response.headers, ...(response.reason === undefined ? {} : { reason: response.reason }) });
    }
    if (end !== 'answered' && this.media.state !== 'stable') this.media.rollback();
    this.transition('ended');
    // The transaction lives on (Timer L, 64*T1, after a 2xx; Timer H/I after a failure) and no longer
    // needs us: a transport error now changes nothing (we are over). Held, its callback kept this
    // INVITE, its request and media alive until the transaction ended.
    this.#transaction.user = undefined;
    if (end === 'cancelled' || end === 'expired' || end === 'transport-error' || end === 'closed') {
      try {
        this.events.onEnded?.(end);
      } catch (error) {
        rethrowLater(error);
      }
    }
  }
}
