/**
 * One INVITE dialog and its session (RFC 3261 s12-15): early, confirmed,
 * terminated.
 *
 *   early --2xx (UAC) / our 2xx sent (UAS)--> confirmed --BYE either way--> terminated
 *   early --final non-2xx, CANCEL, another fork won--> terminated
 *   confirmed --no ACK in 64*T1 (BYE sent), 481/408 to a re-INVITE, unusable answer--> terminated
 *
 * In the confirmed state it answers the peer's requests (BYE, re-INVITE with
 * or without an offer, INFO, OPTIONS; 500 for a CSeq out of order, s12.2.2),
 * acknowledges our 2xx's ACK (and takes the answer an ACK carries), re-sends
 * its 2xx until the ACK (uas-2xx.ts), and sends ours: re-INVITE
 * (reinvite-client.ts), INFO (DTMF), OPTIONS, BYE. At most one INVITE
 * transaction is in progress in either direction (s14.1): a re-INVITE that
 * meets one of ours gets 491, one with an offer that meets an offer of ours
 * still waiting for its ACK gets 500 with Retry-After (s14.2). A re-INVITE
 * that overtakes the ACK of our 2xx (a proxy with several workers) is served:
 * at once when our 2xx carried the answer, after the ACK when it carried our
 * offer and the re-INVITE asks for another.
 *
 * Everything ends with terminated: timers cleared, pending re-INVITE settled,
 * the layer's registry entry removed, `onTerminated` told once. One
 * exception (s15): the callee's bye() before the ACK of its 2xx ends the
 * session for its owner at once, but the BYE is sent, and the dialog let go,
 * only when that ACK comes or the 2xx is given up at 64*T1.
 */
import type { SipMessage } from '../parser/index.ts';
import type { Clock } from '../transaction/clock.ts';
import { StateMachine, type MachineTables } from '../transaction/machine.ts';
import { responseParts, type ResponseOptions } from '../transaction/responses.ts';
import type { TimerEvent } from '../transaction/events.ts';
import type { IncomingRequest } from '../transaction/user.ts';
import type { TransportKind } from '../transport/types.ts';
import type { AckFor2xx } from './ack-2xx.ts';
import type { Authenticator } from './authenticator.ts';
import type { DialogContext, DialogEntry } from './dialog-context.ts';
import type { DialogState } from './dialog-state.ts';
import { DTMF_RELAY, dtmfRelayBody, readDtmfRelay } from './dtmf-relay.ts';
import { glareWaitMs, retryAfterSeconds } from './glare.ts';
import { sendInDialog, type RequestResult } from './in-dialog-request.ts';
import type { NegotiatedMedia } from './media.ts';
import type { OfferAnswer } from './offer-answer.ts';
import { OfferAnswerError } from './offer-answer-error.ts';
import { ReinviteClient, type ReinviteHost, type ReinviteResult } from './reinvite-client.ts';
import { Pending2xx } from './uas-2xx.ts';
import { rethrowLater } from '../transaction/rethrow.ts';

export type SessionDialogState = 'early' | 'confirmed' | 'terminated';

export type TerminationCause =
  /** A BYE ended it (`by` says whose). */
  | 'bye'
  /** Our 2xx was never acknowledged (s13.3.1.4): we sent a BYE. */
  | 'no-ack'
  /** A request in the dialog failed with 481/408 or no answer (s12.2.1.2), or an answer was unusable. */
  | 'error'
  /** The INVITE that made this early dialog ended without it (another fork won, non-2xx, CANCEL). */
  | 'early-ended'
  /** The dialog layer closed. */
  | 'closed';

export interface Termination {
  readonly by: 'local' | 'remote';
  readonly cause: TerminationCause;
  readonly code: number | undefined;
  readonly reason: string | undefined;
  /** A request of ours got no response at all (timed out, or a transport error): `code` is the 408/503 made here, not the peer's. */
  readonly unanswered?: boolean;
}

export interface InfoReceived {
  readonly contentType: string | undefined;
  readonly body: Uint8Array;
  /** Set for an application/dtmf-relay body. */
  readonly dtmf: { readonly digit: string; readonly durationMs: number | undefined } | undefined;
}

/** What a session tells its owner (the SDK's call). */
export interface SessionDialogEvents {
  /** UAS: the ACK for our 2xx came. */
  onConfirmed?(): void;
  /** An offer/answer exchange completed (either side started it): hold, resume, new address. */
  onMedia?(media: NegotiatedMedia | undefined): void;
  onInfo?(info: InfoReceived): void;
  /** Once, when the dialog is over. */
  onTerminated?(termination: Termination): void;
}

export interface SessionDialogOptions {
  readonly role: 'uac' | 'uas';
  readonly dialog: DialogState;
  readonly media: OfferAnswer;
  readonly transport: TransportKind;
  /** Our Contact header value (name-addr). */
  readonly contact: string;
  readonly auth?: Authenticator;
  readonly state: 'early' | 'confirmed';
}

type SessionTimer = 'GlareRetry';
/** A SessionDialog moves on its timer and its own methods only: this placeholder is the one event its machine type needs. */
export type SessionEvent = { readonly type: 'noop' };

const TABLES: MachineTables<SessionDialogState, SessionTimer> = {
  name: 'session-dialog',
  initial: 'early',
  terminal: 'terminated',
  moves: {
    early: ['confirmed', 'terminated'],
    confirmed: ['terminated'],
    terminated: [],
  },
  timers: {
    early: [],
    confirmed: ['GlareRetry'],
    terminated: [],
  },
};

export class SessionDialog extends StateMachine<SessionDialogState, SessionEvent, SessionTimer> implements DialogEntry {
  events: SessionDialogEvents = {};
  readonly dialog: DialogState;
  readonly media: OfferAnswer;
  readonly role: 'uac' | 'uas';
  readonly transport: TransportKind;
  readonly contact: string;
  readonly auth: Authenticator | undefined;
  readonly #context: DialogContext;
  /** Our re-INVITE in progress. */
  #reinvite: ReinviteClient | undefined;
  /** Our 2xx waiting for its ACK; `offered` when it carried an offer (the answer comes in the ACK). */
  #pending2xx: { readonly timer: Pending2xx; readonly offered: boolean } | undefined;
  /** The ACK of our last INVITE's 2xx, for 2xx retransmissions after its transaction ended. */
  #lastAck: AckFor2xx | undefined;
  #glareRetry: (() => void) | undefined;
  #registered = false;
  /** UAS: the ACK for the 2xx of the INVITE that made the dialog: not yet asked for, awaited, or settled (s15). */
  #initialAck: 'none' | 'pending' | 'settled' = 'none';
  /** bye() called while the initial ACK was awaited: the BYE goes once it comes or the 2xx is given up. */
  #deferredBye: ((result: RequestResult) => void) | undefined;
  /** The peer's offerless re-INVITE that overtook the ACK carrying the answer to our 2xx's offer: served when it comes. */
  #waitingReinvite: IncomingRequest | undefined;

  constructor(context: DialogContext, options: SessionDialogOptions) {
    super(context.clock as Clock, TABLES);
    this.#context = context;
    this.dialog = options.dialog;
    this.media = options.media;
    this.role = options.role;
    this.transport = options.transport;
    this.contact = options.contact;
    this.auth = options.auth;
    if (options.state === 'confirmed') this.transition('confirmed');
    context.registry.add(this.key, this);
    this.#registered = true;
  }

  get key(): string {
    return this.dialog.key;
  }

  /** Clock timers this session holds (2xx retransmission and its deadline, a glare wait, our re-INVITE's deadline). */
  get timersHeld(): number {
    return this.liveTimers + (this.#pending2xx?.timer.liveTimers ?? 0) + (this.#reinvite?.liveTimers ?? 0);
  }

  /** An early dialog of ours got its 2xx (UAC). */
  confirm(): void {
    if (this.state === 'early') this.transition('confirmed');
  }

  /**
   * UAS: sends our 2xx to `request` (the initial INVITE or a re-INVITE of
   * this dialog) and sends it again until the ACK, or 64*T1 without one
   * (RFC 6026: the TU re-sends a 2xx). `offered`: it carries our offer, whose
   * answer comes in the ACK.
   */
  send2xx(transaction: IncomingRequest['transaction'], request: SipMessage, response: ResponseOptions, offered: boolean): void {
    transaction.reply(200, response);
    this.#pending2xx?.timer.stop();
    if (this.role === 'uas' && this.#initialAck === 'none') this.#initialAck = 'pending';
    // The transaction has let the request go with its final response: the 2xx is built from parts for each resend.
    // Both callbacks are written as arguments: a closure bound to a name (const resend = ...) is renamed by tsx's
    // keepNames with an Object.defineProperty per call, ~2% of the callee's CPU in profiles.
    const timer = new Pending2xx(
      this.#context.clock,
      request.cseq!.seq,
      this.#context,
      () => transaction.respond(responseParts(request, 200, response)),
      () => this.#noAck(),
    );
    this.#pending2xx = { timer, offered };
  }

  /** UAC: the ACK we sent for a 2xx, re-sent when that 2xx comes again. */
  setLastAck(ack: AckFor2xx): void {
    this.#lastAck = ack;
  }

  // ---------------------------------------------------------------- actions

  /** Sends a re-INVITE: `hold` true holds, false resumes, undefined refreshes as is. */
  reinvite(hold?: boolean): Promise<ReinviteResult> {
    return new Promise((resolve) => {
      if (this.state !== 'confirmed') return resolve({ ok: false, status: 0, reason: `the dialog is ${this.state}`, cause: 'ended' });
      if (this.#reinvite !== undefined || this.#pending2xx !== undefined || this.media.state !== 'stable') {
        // s14.1: "MUST NOT initiate a new INVITE transaction within a dialog while another INVITE transaction is in progress in either direction."
        return resolve({ ok: false, status: 491, reason: 'another INVITE transaction is in progress in this dialog', cause: 'local' });
      }
      const client = new ReinviteClient(this.#reinviteHost(), hold, resolve);
      this.#reinvite = client;
      client.start();
    });
  }

  /** Sends one DTMF digit as INFO application/dtmf-relay. */
  sendDtmf(digit: string, durationMs?: number): Promise<RequestResult> {
    return this.sendInfo(DTMF_RELAY, dtmfRelayBody(digit, durationMs));
  }

  sendInfo(contentType: string, body: Uint8Array): Promise<RequestResult> {
    return this.#request('INFO', [['Content-Type', contentType]], body);
  }

  sendOptions(): Promise<RequestResult> {
    return this.#request('OPTIONS', [['Accept', 'application/sdp']], undefined);
  }

  /**
   * Ends the session with a BYE. s15.1.1: "the UAC SHOULD consider the
   * session terminated ... as soon as the BYE request is passed to the client
   * transaction": terminated at once; the promise tells the BYE's outcome.
   */
  bye(): Promise<RequestResult> {
    return new Promise((resolve) => {
      if (this.state === 'terminated') return resolve({ status: 0, reason: 'the dialog is over', cause: 'unsendable', response: undefined });
      if (this.#initialAck === 'pending' && this.#pending2xx !== undefined) {
        // s15: "the callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an ACK for its
        // 2xx response or until the server transaction times out." Over for the owner now; the dialog stays
        // (2xx still re-sent, ACK still matched) until one of the two.
        this.#deferredBye = resolve;
        return this.#end({ by: 'local', cause: 'bye', code: undefined, reason: undefined }, true);
      }
      this.#sendBye(resolve);
      this.#end({ by: 'local', cause: 'bye', code: undefined, reason: undefined });
    });
  }

  /** Ends without a BYE (the layer closing, an early dialog whose INVITE ended). */
  end(termination: Termination): void {
    this.#end(termination);
  }

  // ---------------------------------------------------------- from the layer

  /** A request within this dialog (its To tag is our tag). ACK and CANCEL come elsewhere. */
  onRequest(incoming: IncomingRequest): void {
    const request = incoming.request;
    if (this.state === 'terminated') return this.#reply(incoming, 481);
    if (!this.dialog.acceptRemoteCSeq(request.cseq!.seq)) return this.#reply(incoming, 500, [['Retry-After', String(retryAfterSeconds(this.#context.random))]]);
    switch (request.method) {
      case 'BYE':
        this.#reply(incoming, 200);
        return this.#end({ by: 'remote', cause: 'bye', code: undefined, reason: undefined });
      case 'INVITE':
        return this.#onReinvite(incoming);
      case 'INFO':
        this.#reply(incoming, 200);
        return this.#emit(() => this.events.onInfo?.(infoOf(request)));
      case 'OPTIONS':
        return this.#reply(incoming, 200, [['Allow', this.#context.allow], ['Accept', 'application/sdp'], ['Supported', this.#context.supported]]);
      default:
        return this.#reply(incoming, 405, [['Allow', this.#context.allow]]);
    }
  }

  /** The ACK for one of our 2xx (RFC 3261 s13.3.1.4), with the answer when our 2xx carried the offer. */
  onAck(ack: SipMessage): void {
    const pending = this.#pending2xx;
    if (pending === undefined || ack.cseq?.seq !== pending.timer.cseq) return;
    this.#settle2xx(pending);
    if (this.#deferredBye !== undefined) return this.#sendDeferredBye();
    if (pending.offered) {
      if (ack.body.length === 0) {
        this.media.rollback();
        return this.#failWithBye(400, 'the ACK carried no answer to the offer in our 2xx', false);
      }
      let media: NegotiatedMedia | undefined;
      try {
        media = this.media.receiveAnswer(ack.body);
      } catch (error) {
        return this.#failWithBye(488, `unusable answer in the ACK: ${(error as Error).message}`, false);
      }
      this.#emit(() => this.events.onMedia?.(media));
    }
    this.#confirmed();
    const waiting = this.#waitingReinvite;
    this.#waitingReinvite = undefined;
    if (waiting !== undefined) this.#onReinvite(waiting);
  }

  /** Our 2xx reached the peer (its ACK came, or a request the peer sent after it): no more retransmissions. */
  #settle2xx(pending: { readonly timer: Pending2xx }): void {
    pending.timer.acked();
    this.#pending2xx = undefined;
    if (this.#initialAck === 'pending') this.#initialAck = 'settled';
  }

  #confirmed(): void {
    // Every call passes here: a try block, not #emit's closure.
    try {
      this.events.onConfirmed?.();
    } catch (error) {
      rethrowLater(error);
    }
  }

  /** A 2xx to our INVITE that its transaction no longer takes (after Timer M): the ACK again. */
  on2xxRetransmission(response: SipMessage): void {
    if (this.#lastAck !== undefined && response.cseq?.seq === this.#lastAck.cseq) this.#lastAck.send(this.#context.transactions);
  }

  // --------------------------------------------------------------- internal

  protected step(event: SessionEvent | TimerEvent<SessionTimer>): void {
    if (event.type === 'timer' && event.name === 'GlareRetry') {
      if (this.#pending2xx !== undefined || this.media.state !== 'stable') {
        // The peer's re-INVITE, answered during the wait, still waits for its ACK. s14.1: "a UAC MUST NOT initiate
        // a new INVITE transaction within a dialog while another INVITE transaction is in progress in either
        // direction": wait once more (the ACK, or 64*T1 and a BYE, settles it).
        return this.startTimer('GlareRetry', glareWaitMs(this.role === 'uac', this.#context.random));
      }
      const retry = this.#glareRetry;
      this.#glareRetry = undefined;
      retry?.();
    }
  }

  protected onTerminated(): void {
    // Everything is let go in #end.
  }

  #onReinvite(incoming: IncomingRequest): void {
    const { request, transaction } = incoming;
    // s14.2: "A UAS that receives an INVITE on a dialog while an INVITE it had sent on that dialog is in progress MUST return a 491".
    if (this.state !== 'confirmed' || this.#reinvite?.inFlight === true) return this.#reply(incoming, 491);
    const pending = this.#pending2xx;
    if (pending !== undefined) {
      // A request in the confirmed dialog after our 2xx: the peer has that 2xx, and its ACK is on the way (through
      // a proxy with several workers, the re-INVITE sent right behind the ACK can arrive first).
      if (pending.offered) {
        // s14.2: our offer is unanswered until that ACK. A re-INVITE with an offer of its own meets it: 500 with
        // Retry-After. One without an offer (it asks for ours) waits for the ACK, one at a time.
        if (request.body.length > 0 || this.#waitingReinvite !== undefined) return this.#reply(incoming, 500, [['Retry-After', String(retryAfterSeconds(this.#context.random))]]);
        this.#waitingReinvite = incoming;
        return;
      }
      // Our 2xx carried the answer: its ACK would only confirm what the re-INVITE shows.
      this.#settle2xx(pending);
      this.#confirmed();
    }
    if (this.media.state !== 'stable') {
      return this.#reply(incoming, 500, [['Retry-After', String(retryAfterSeconds(this.#context.random))]]);
    }
    let body: Uint8Array;
    let offered = false;
    try {
      if (request.body.length > 0) {
        this.media.receiveOffer(request.body);
        body = this.media.createAnswer();
      } else {
        body = this.media.createOffer();
        offered = true;
      }
    } catch (error) {
      if (error instanceof OfferAnswerError) {
        return this.#reply(incoming, error.status, error.status === 500 ? [['Retry-After', String(retryAfterSeconds(this.#context.random))]] : [['Warning', `399 - "${error.code}"`]]);
      }
      throw error;
    }
    this.dialog.refreshTarget(request);
    const response: ResponseOptions = {
      headers: [['Contact', this.contact], ['Allow', this.#context.allow], ['Supported', this.#context.supported], ['Content-Type', 'application/sdp']],
      body,
    };
    this.send2xx(transaction, request, response, offered);
    if (!offered) this.#emit(() => this.events.onMedia?.(this.media.media));
  }

  #request(method: string, headers: Array<[string, string]>, body: Uint8Array | undefined): Promise<RequestResult> {
    return new Promise((resolve) => {
      if (this.state !== 'confirmed') return resolve({ status: 0, reason: `the dialog is ${this.state}`, cause: 'unsendable', response: undefined });
      sendInDialog(this.#context, this.dialog, method, { headers, ...(body === undefined ? {} : { body }), ...(this.auth ? { auth: this.auth } : {}), transport: this.transport }, (result) => {
        // s12.2.1.2: a 481 or 408 to a request in the dialog ends it.
        if (result.status === 481 || result.status === 408) {
          this.#end({ by: 'remote', cause: 'error', code: result.status, reason: result.reason, unanswered: result.cause === 'timeout' || result.cause === 'transportError' });
        }
        resolve(result);
      });
    });
  }

  #sendBye(done?: (result: RequestResult) => void): void {
    sendInDialog(this.#context, this.dialog, 'BYE', { ...(this.auth ? { auth: this.auth } : {}), transport: this.transport }, done);
  }

  #noAck(): void {
    this.#pending2xx = undefined;
    if (this.#initialAck === 'pending') this.#initialAck = 'settled';
    if (this.media.state !== 'stable') this.media.rollback();
    if (this.#deferredBye !== undefined) return this.#sendDeferredBye();
    this.#sendBye();
    this.#end({ by: 'local', cause: 'no-ack', code: 408, reason: 'no ACK for our 2xx within 64*T1' });
  }

  #failWithBye(code: number, reason: string, unanswered: boolean): void {
    if (this.state === 'terminated') return;
    this.#sendBye();
    this.#end({ by: 'local', cause: 'error', code, reason, unanswered });
  }

  #reinviteHost(): ReinviteHost {
    return {
      context: this.#context,
      dialog: this.dialog,
      media: this.media,
      auth: this.auth,
      contact: this.contact,
      transport: this.transport,
      ownsCallId: this.role === 'uac',
      setLastAck: (ack) => this.setLastAck(ack),
      mediaChanged: (media) => this.#emit(() => this.events.onMedia?.(media)),
      scheduleRetry: (ms, retry) => {
        if (this.state !== 'confirmed') return;
        this.#glareRetry = retry;
        this.startTimer('GlareRetry', ms);
      },
      fail: (status, reason, bye, unanswered) => {
        if (bye) this.#failWithBye(status, reason, unanswered);
        else this.#end({ by: 'remote', cause: 'error', code: status, reason });
      },
      finished: (client) => {
        if (this.#reinvite === client) this.#reinvite = undefined;
      },
    };
  }

  /** The BYE held back by s15 goes now (the ACK came, or the 2xx was given up); then the dialog is let go. */
  #sendDeferredBye(): void {
    const done = this.#deferredBye!;
    this.#deferredBye = undefined;
    if (this.media.state !== 'stable') this.media.rollback();
    this.#sendBye(done);
    this.#unregister();
  }

  /** `untilAck`: the initial 2xx still waits for its ACK: keep re-sending it and keep the dialog matchable. */
  #end(termination: Termination, untilAck = false): void {
    if (this.state === 'terminated') return;
    if (!untilAck) {
      this.#pending2xx?.timer.stop();
      this.#pending2xx = undefined;
    }
    this.#glareRetry = undefined;
    this.transition('terminated');
    const waiting = this.#waitingReinvite;
    this.#waitingReinvite = undefined;
    if (waiting !== undefined) this.#reply(waiting, 481);
    const reinvite = this.#reinvite;
    this.#reinvite = undefined;
    reinvite?.abandon('the dialog ended');
    if (!untilAck) this.#unregister();
    this.#emit(() => this.events.onTerminated?.(termination));
  }

  #unregister(): void {
    if (this.#registered) {
      this.#registered = false;
      this.#context.registry.remove(this.key, this);
    }
  }

  /** A response to a request in this dialog. */
  #reply(incoming: IncomingRequest, status: number, headers: Array<[string, string]> = []): void {
    incoming.transaction.reply(status, { headers });
  }

  /** Calls an owner's handler; one that throws does not stop the dialog (reported outside this stack). */
  #emit(call: () => void): void {
    try {
      call();
    } catch (error) {
      rethrowLater(error);
    }
  }
}

function infoOf(request: SipMessage): InfoReceived {
  const type = request.contentType?.essence;
  const body = request.body;
  return { contentType: type, body, dtmf: type === DTMF_RELAY ? readDtmfRelay(body) : undefined };
}
