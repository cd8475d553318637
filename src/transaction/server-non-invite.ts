/**
 * Non-INVITE server transaction: RFC 3261 s17.2.2 (Figure 8).
 *
 *   trying --request / absorbed--> trying
 *   trying --1xx from TU / sent--> proceeding --1xx from TU / sent--> proceeding
 *   proceeding --request / last 1xx resent--> proceeding
 *   trying/proceeding --200-699 from TU / sent--> completed
 *   completed --request / final resent--> completed
 *   completed --Timer J--> terminated
 *   proceeding/completed --transport error / TU told--> terminated
 */
import { keptBytes } from '../parser/index.ts';
import type { Received, TransportError } from '../transport/types.ts';
import type { ServerNonInviteEvent, ServerNonInviteTimer, TimerEvent, TuResponseEvent } from './events.ts';
import type { MachineTables } from './machine.ts';
import { ServerTransactionBase, type ResponseRoute } from './server-transaction.ts';
import type { TransactionContext } from './user.ts';

export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

const TABLES: MachineTables<ServerNonInviteState, ServerNonInviteTimer> = {
  name: 'server-non-invite',
  initial: 'trying',
  terminal: 'terminated',
  moves: {
    trying: ['proceeding', 'completed', 'terminated'],
    proceeding: ['completed', 'terminated'],
    completed: ['terminated'],
    terminated: [],
  },
  timers: {
    trying: [],
    proceeding: [],
    completed: ['J'],
    terminated: [],
  },
};

export class ServerNonInviteTransaction extends ServerTransactionBase<ServerNonInviteState, ServerNonInviteEvent, ServerNonInviteTimer> {
  readonly kind = 'server-non-invite' as const;

  constructor(context: TransactionContext, received: Received, route: ResponseRoute) {
    super(context, received, route, TABLES);
  }

  protected step(event: ServerNonInviteEvent | TimerEvent<ServerNonInviteTimer>): void {
    switch (event.type) {
      case 'start':
        // "Request received / pass to TU": Trying, no timer.
        return;
      case 'request':
        return this.#onRequestRetransmission();
      case 'tuResponse':
        return this.#onTuResponse(event);
      case 'transportError':
        return this.#onTransportError(event.error);
      case 'timer':
        return this.#onTimerJ();
    }
  }

  #enter(state: ServerNonInviteState): void {
    this.transition(state);
    // s17.2.2: "When the server transaction enters the "Completed" state, it
    // MUST set Timer J to fire in 64*T1 seconds for unreliable transports,
    // and zero seconds for reliable transports."
    if (state === 'completed') this.startTimer('J', this.context.timers.J);
  }

  #onRequestRetransmission(): void {
    switch (this.state) {
      case 'proceeding':
        // s17.2.2: "If a retransmission of the request is received while in
        // the "Proceeding" state, the most recently sent provisional response
        // MUST be passed to the transport layer for retransmission."
        if (this.lastProvisional !== undefined) this.resend(this.lastProvisional, false);
        return;
      case 'completed':
        // s17.2.2: "While in the "Completed" state, the server transaction
        // MUST pass the final response to the transport layer for
        // retransmission whenever a retransmission of the request is received."
        if (this.lastFinal !== undefined) this.resend(this.lastFinal, true);
        return;
      default:
        // s17.2.2: "While in the "Trying" state, if the request is
        // retransmitted, the request MUST be discarded."
        return;
    }
  }

  #onTuResponse(response: TuResponseEvent): void {
    // s17.2.2: "Any other final responses passed by the TU to the server
    // transaction MUST be discarded while in the "Completed" state."
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    const { status, bytes } = response;
    this.send(bytes, status >= 200);
    if (status < 200) {
      this.keepProvisional(bytes);
      if (this.state === 'trying') this.#enter('proceeding');
      return;
    }
    this.lastFinal = keptBytes(bytes);
    this.toTag = response.toTag;
    this.releaseRequest(false);
    this.#enter('completed');
  }

  #onTimerJ(): void {
    if (this.state === 'completed') this.#enter('terminated');
  }

  #onTransportError(error: TransportError): void {
    if (this.state !== 'proceeding' && this.state !== 'completed') return;
    // s17.2.4: "the server transaction SHOULD inform the TU that a failure has
    // occurred, and SHOULD transition to the terminated state."
    this.#enter('terminated');
    this.user?.onTransportError?.(error);
  }
}
