/**
 * INVITE server transaction: RFC 3261 s17.2.1 with the RFC 6026 Accepted
 * state and transport-error rows (Figure 7 of RFC 6026).
 *
 *   proceeding --200 ms, TU silent / 100 Trying sent--> proceeding
 *   proceeding --INVITE / last 1xx resent--> proceeding
 *   proceeding --1xx from TU / sent--> proceeding
 *   proceeding --2xx from TU / sent--> accepted --Timer L--> terminated
 *   accepted --INVITE / absorbed, 2xx from TU / sent, ACK / to TU--> accepted
 *   proceeding --300-699 from TU / sent--> completed
 *   completed --INVITE or Timer G / final resent--> completed
 *   completed --ACK--> confirmed --Timer I--> terminated
 *   completed --Timer H / TU told--> terminated
 *   proceeding/completed/accepted --transport error / TU told--> (same state)
 */
import { keptBytes, type SipMessage } from '../parser/index.ts';
import type { Received, TransportError } from '../transport/types.ts';
import type { ServerInviteEvent, ServerInviteTimer, TimerEvent, TuResponseEvent } from './events.ts';
import type { MachineTables } from './machine.ts';
import { ServerTransactionBase, type ResponseRoute } from './server-transaction.ts';
import { backoff } from './timers.ts';
import type { TransactionContext } from './user.ts';

export type ServerInviteState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

const TABLES: MachineTables<ServerInviteState, ServerInviteTimer> = {
  name: 'server-invite',
  initial: 'proceeding',
  terminal: 'terminated',
  moves: {
    proceeding: ['completed', 'accepted', 'terminated'],
    completed: ['confirmed', 'terminated'],
    confirmed: ['terminated'],
    accepted: ['terminated'],
    terminated: [],
  },
  timers: {
    proceeding: ['Trying'],
    completed: ['G', 'H'],
    confirmed: ['I'],
    accepted: ['L'],
    terminated: [],
  },
};

export class ServerInviteTransaction extends ServerTransactionBase<ServerInviteState, ServerInviteEvent, ServerInviteTimer> {
  readonly kind = 'server-invite' as const;
  /** Retransmissions of the final response so far: Timer G's next interval is min(T1 * 2^n, T2). */
  #retransmissions = 0;
  #started = false;
  /** The 100 Trying went out. It is not kept: the rare INVITE retransmission before the TU's 1xx rebuilds it. */
  #tryingSent = false;

  constructor(context: TransactionContext, received: Received, route: ResponseRoute) {
    super(context, received, route, TABLES);
  }

  protected step(event: ServerInviteEvent | TimerEvent<ServerInviteTimer>): void {
    switch (event.type) {
      case 'start':
        return this.#onStart();
      case 'request':
        return this.#onRequestRetransmission();
      case 'ack':
        return this.#onAck(event.message, event.received);
      case 'tuResponse':
        return this.#onTuResponse(event);
      case 'transportError':
        return this.#onTransportError(event.error);
      case 'timer':
        switch (event.name) {
          case 'Trying':
            return this.#onTimerTrying();
          case 'G':
            return this.#onTimerG();
          case 'H':
            return this.#onTimerH();
          case 'I':
            return this.#onTimerI();
          case 'L':
            return this.#onTimerL();
        }
    }
  }

  #enter(state: ServerInviteState): void {
    this.transition(state);
    const timers = this.context.timers;
    switch (state) {
      case 'completed':
        // s17.2.1: "For unreliable transports, timer G is set to fire in T1
        // seconds, and is not set to fire for reliable transports. ... When
        // the "Completed" state is entered, timer H MUST be set to fire in
        // 64*T1 seconds for all transports."
        if (timers.G !== null) this.startTimer('G', timers.G);
        this.startTimer('H', timers.H);
        break;
      case 'confirmed':
        this.startTimer('I', timers.I);
        break;
      case 'accepted':
        this.startTimer('L', timers.L);
        break;
      default:
        break;
    }
  }

  /** "INVITE / pass INV to TU": Proceeding, with the 200 ms wait for the TU (none when `trying` is 0). */
  #onStart(): void {
    if (this.#started || this.state !== 'proceeding') return;
    this.#started = true;
    // A zero wait sends the 100 now, not on a timer: a timer, even of 0 ms,
    // waits for a later turn of the event loop, after the TU may have answered.
    const wait = this.context.timers.trying;
    if (wait === 0) this.#onTimerTrying();
    else this.startTimer('Trying', wait);
  }

  /**
   * s17.2.1: "The server transaction MUST generate a 100 (Trying) response
   * unless it knows that the TU will generate a provisional or final response
   * within 200 ms". The TU has not answered in that time; no To tag is added.
   */
  #onTimerTrying(): void {
    if (this.state !== 'proceeding' || this.lastProvisional !== undefined || this.#tryingSent) return;
    this.#tryingSent = true;
    this.send(this.#trying(), false);
  }

  /** RFC 3581 s4: the 100 carries received/rport like every response to the request. */
  #trying(): Uint8Array {
    return this.responseHead().response(100, {}).bytes;
  }

  #onRequestRetransmission(): void {
    switch (this.state) {
      case 'proceeding':
        // s17.2.1: "If a request retransmission is received while in the
        // "Proceeding" state, the most recent provisional response that was
        // received from the TU MUST be passed to the transport layer for
        // retransmission." (Before any, the 200 ms wait goes on.)
        if (this.lastProvisional !== undefined) this.resend(this.lastProvisional, false);
        else if (this.#tryingSent) this.resend(this.#trying(), false);
        return;
      case 'completed':
        // s17.2.1: "while in the "Completed" state, if a request
        // retransmission is received, the server SHOULD pass the response to
        // the transport for retransmission."
        if (this.lastFinal !== undefined) this.resend(this.lastFinal, true);
        return;
      default:
        // Confirmed absorbs. RFC 6026: "While in the "Accepted" state, any
        // retransmissions of the INVITE received will match this transaction
        // state machine and will be absorbed by the machine without changing
        // its state. These retransmissions are not passed onto the TU."
        return;
    }
  }

  #onAck(ack: SipMessage, received: Received): void {
    switch (this.state) {
      case 'completed':
        // s17.2.1: "If an ACK is received while the server transaction is in
        // the "Completed" state, the server transaction MUST transition to
        // the "Confirmed" state."
        this.#enter('confirmed');
        return;
      case 'accepted':
        // RFC 6026 Figure 7: Accepted --ACK / to TU--> Accepted.
        this.context.passAck(ack, received);
        return;
      default:
        // Confirmed absorbs ACK retransmissions; an ACK before any final
        // response acknowledges nothing.
        return;
    }
  }

  #onTuResponse(response: TuResponseEvent): void {
    const { status, bytes } = response;
    if (this.state === 'accepted') {
      // RFC 6026: "The server transaction MUST NOT generate 2xx
      // retransmissions on its own"; the TU (dialog layer) retransmits its
      // 2xx through here (Figure 7: Accepted --2xx from TU / send response).
      if (status >= 200 && status < 300) this.send(bytes, true);
      return;
    }
    // Completed, Confirmed, Terminated: s17.2.1 has the TU's later responses discarded.
    if (this.state !== 'proceeding') return;
    this.send(bytes, status >= 200);
    if (status < 200) {
      this.keepProvisional(bytes);
      this.stopTimer('Trying');
      return;
    }
    this.toTag = response.toTag;
    this.releaseRequest(status < 300);
    if (status < 300) {
      // RFC 6026: "If the SIP element's TU (Transaction User) issues a 2xx
      // response for this transaction while the state machine is in the
      // "Proceeding" state, the state machine MUST transition to the
      // "Accepted" state and set Timer L to 64*T1".
      this.#enter('accepted');
    } else {
      this.lastFinal = keptBytes(bytes);
      this.#enter('completed');
    }
  }

  /** s17.2.1: resend the final response; G = min(2G, T2). */
  #onTimerG(): void {
    if (this.state !== 'completed' || this.lastFinal === undefined) return;
    this.#retransmissions++;
    this.resend(this.lastFinal, true);
    const { T1, T2 } = this.context.timers;
    this.startTimer('G', backoff(T1, this.#retransmissions, T2));
  }

  /** s17.2.1: "If timer H fires while in the "Completed" state, it implies that the ACK was never received." */
  #onTimerH(): void {
    if (this.state !== 'completed') return;
    this.#enter('terminated');
    this.user?.onAckTimeout?.();
  }

  #onTimerI(): void {
    if (this.state === 'confirmed') this.#enter('terminated');
  }

  /** RFC 6026: "If Timer L fires while the INVITE server transaction is in the "Accepted" state, the transaction MUST transition to the "Terminated" state." */
  #onTimerL(): void {
    if (this.state === 'accepted') this.#enter('terminated');
  }

  #onTransportError(error: TransportError): void {
    if (this.state === 'confirmed' || this.state === 'terminated') return;
    // RFC 6026: "An element encountering an unrecoverable transport error
    // when trying to send a response to an INVITE request MUST NOT
    // immediately destroy the associated INVITE server transaction state."
    // Figure 7 keeps Proceeding, Completed and Accepted and informs the TU.
    this.user?.onTransportError?.(error);
  }
}
