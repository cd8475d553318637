/**
 * Non-INVITE client transaction: RFC 3261 s17.1.2 (Figure 6).
 *
 *   trying --1xx--> proceeding --1xx--> proceeding
 *   trying/proceeding --200-699--> completed --Timer K--> terminated
 *   trying --Timer E--> trying (request resent, E = min(2E, T2))
 *   proceeding --Timer E--> proceeding (request resent, E = T2)
 *   trying/proceeding --Timer F (408) or transport error (503)--> terminated
 */
import type { SipMessage } from '../parser/index.ts';
import type { TransportError } from '../transport/types.ts';
import type { ClientNonInviteEvent, ClientNonInviteTimer, TimerEvent } from './events.ts';
import type { MachineTables } from './machine.ts';
import { ClientTransactionBase, type OutgoingRequest } from './client-transaction.ts';
import { localResponse, transportFailureStatus } from './responses.ts';
import { backoff } from './timers.ts';
import type { ClientTransactionUser, TransactionContext } from './user.ts';

export type ClientNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

const TABLES: MachineTables<ClientNonInviteState, ClientNonInviteTimer> = {
  name: 'client-non-invite',
  initial: 'trying',
  terminal: 'terminated',
  moves: {
    trying: ['proceeding', 'completed', 'terminated'],
    proceeding: ['completed', 'terminated'],
    completed: ['terminated'],
    terminated: [],
  },
  // E and F run on from Trying into Proceeding.
  timers: {
    trying: ['E', 'F'],
    proceeding: ['E', 'F'],
    completed: ['K'],
    terminated: [],
  },
};

export class ClientNonInviteTransaction extends ClientTransactionBase<ClientNonInviteState, ClientNonInviteEvent, ClientNonInviteTimer> {
  /** On the prototype, not a field: a waiting transaction is kept 32 s, and each field is 8 bytes of it. */
  get kind(): 'client-non-invite' {
    return 'client-non-invite';
  }

  /** Retransmissions so far (in Trying, Timer E's next interval is min(T1 * 2^n, T2)); -1 until started. */
  #retransmissions = -1;

  constructor(context: TransactionContext, outgoing: OutgoingRequest, user: ClientTransactionUser) {
    super(context, outgoing, user, TABLES);
  }

  protected step(event: ClientNonInviteEvent | TimerEvent<ClientNonInviteTimer>): void {
    switch (event.type) {
      case 'start':
        return this.onStart();
      case 'response':
        return this.onResponse(event.message);
      case 'transportError':
        return this.onTransportError(event.error);
      case 'timer':
        switch (event.name) {
          case 'E':
            return this.onTimerE();
          case 'F':
            return this.onTimerF();
          case 'K':
            return this.onTimerK();
        }
    }
  }

  private enter(state: ClientNonInviteState): void {
    this.transition(state);
    // s17.1.2.2: "Once the client transaction enters the "Completed" state,
    // it MUST set Timer K to fire in T4 seconds for unreliable transports,
    // and zero seconds for reliable transports."
    if (state === 'completed') this.startTimer('K', this.context.timers.K);
  }


  /** "Request from TU / send request": Trying, Timer E (unreliable only) and Timer F. */
  private onStart(): void {
    if (this.#retransmissions >= 0 || this.state !== 'trying') return;
    this.#retransmissions = 0;
    this.send(this.requestBytes);
    const timers = this.context.timers;
    if (timers.E !== null) this.startTimer('E', timers.E);
    this.startTimer('F', timers.F);
  }

  private onTimerE(): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.#retransmissions++;
    this.context.counters.retransmissions++;
    this.send(this.requestBytes);
    const { T1, T2 } = this.context.timers;
    // s17.1.2.2: "If Timer E fires while in the "Proceeding" state, the
    // request MUST be passed to the transport layer for retransmission, and
    // Timer E MUST be reset with a value of T2 seconds."
    this.startTimer('E', this.state === 'proceeding' ? T2 : backoff(T1, this.#retransmissions, T2));
  }

  /** s17.1.2.2: "If Timer F fires while the client transaction is still in the "Trying" state, the client transaction SHOULD inform the TU about the timeout" (likewise in Proceeding). */
  private onTimerF(): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    // A provisional (Proceeding) shows the target answers: only Trying is silence.
    if (this.state === 'trying') this.reportNoResponse();
    this.enter('terminated');
    this.report({ cause: 'timeout', status: 408, response: localResponse(this.request, 408) });
  }

  private onTimerK(): void {
    if (this.state === 'completed') this.enter('terminated');
  }

  private onResponse(response: SipMessage): void {
    const status = response.status;
    if (status === undefined || status < 100 || status > 699) return;
    if (this.state !== 'trying' && this.state !== 'proceeding') {
      // Completed: "any retransmissions of the final response ... are
      // absorbed"; Terminated: nothing.
      return;
    }
    if (status < 200) {
      if (this.state === 'trying') this.enter('proceeding');
      this.user.onProvisional?.(response);
      return;
    }
    this.enter('completed');
    this.report({ cause: 'response', status, response });
    // Completed sends nothing, ignores transport errors and tells the TU nothing more.
    this.releaseSender();
    this.releaseUser();
    // Read it before the final response if needed: Completed keeps no copy (see releaseRequest).
    this.releaseRequest();
  }

  private onTransportError(error: TransportError): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    // s17.1.4: "The client transaction SHOULD inform the TU that a transport
    // failure has occurred, and the client transaction SHOULD transition
    // directly to the "Terminated" state."
    this.enter('terminated');
    this.report({ cause: 'transportError', status: transportFailureStatus(error), response: localResponse(this.request, transportFailureStatus(error)), error });
  }
}
