/**
 * INVITE client transaction: RFC 3261 s17.1.1 with the RFC 6026 Accepted
 * state (Figure 5 of RFC 6026).
 *
 *   calling --1xx--> proceeding --1xx--> proceeding
 *   calling/proceeding --2xx--> accepted --2xx (to TU)--> accepted --Timer M--> terminated
 *   calling/proceeding --300-699 (ACK sent)--> completed --300-699 (ACK resent)--> completed
 *   completed --Timer D--> terminated
 *   calling --Timer A--> calling (request resent, A doubled)
 *   calling --Timer B (408) or transport error (503)--> terminated
 */
import type { SipMessage } from '../parser/index.ts';
import type { TransportError } from '../transport/types.ts';
import { ackForNon2xx } from './ack.ts';
import type { ClientInviteEvent, ClientInviteTimer, TimerEvent } from './events.ts';
import type { MachineTables } from './machine.ts';
import { ClientTransactionBase, type OutgoingRequest } from './client-transaction.ts';
import { localResponse, transportFailureStatus } from './responses.ts';
import { backoff } from './timers.ts';
import type { ClientTransactionUser, TransactionContext } from './user.ts';

export type ClientInviteState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

/** A request as a client transaction sends it: parsed (for matching and the ACK) and as bytes. */
export { OutgoingRequest } from './client-transaction.ts';

const TABLES: MachineTables<ClientInviteState, ClientInviteTimer> = {
  name: 'client-invite',
  initial: 'calling',
  terminal: 'terminated',
  moves: {
    calling: ['proceeding', 'accepted', 'completed', 'terminated'],
    proceeding: ['accepted', 'completed', 'terminated'],
    accepted: ['terminated'],
    completed: ['terminated'],
    terminated: [],
  },
  timers: {
    calling: ['A', 'B'],
    proceeding: [],
    accepted: ['M'],
    completed: ['D'],
    terminated: [],
  },
};

export class ClientInviteTransaction extends ClientTransactionBase<ClientInviteState, ClientInviteEvent, ClientInviteTimer> {
  /** On the prototype, not a field: a waiting transaction is kept 32 s, and each field is 8 bytes of it. */
  get kind(): 'client-invite' {
    return 'client-invite';
  }

  /** Retransmissions so far (Timer A's next interval is T1 * 2^n); -1 until started. */
  #retransmissions = -1;
  #ack: Uint8Array | undefined;

  constructor(context: TransactionContext, outgoing: OutgoingRequest, user: ClientTransactionUser) {
    super(context, outgoing, user, TABLES);
  }

  protected step(event: ClientInviteEvent | TimerEvent<ClientInviteTimer>): void {
    switch (event.type) {
      case 'start':
        return this.onStart();
      case 'response':
        return this.onResponse(event.message);
      case 'transportError':
        return this.onTransportError(event.error);
      case 'timer':
        switch (event.name) {
          case 'A':
            return this.onTimerA();
          case 'B':
            return this.onTimerB();
          case 'D':
            return this.onTimerD();
          case 'M':
            return this.onTimerM();
        }
    }
  }

  /** Enters a state and starts the timers that state runs. */
  private enter(state: ClientInviteState): void {
    this.transition(state);
    const timers = this.context.timers;
    if (state === 'accepted') this.startTimer('M', timers.M);
    else if (state === 'completed') this.startTimer('D', timers.D);
  }


  /** "INVITE from TU / INVITE sent": Calling, Timer A (unreliable only) and Timer B. */
  private onStart(): void {
    if (this.#retransmissions >= 0 || this.state !== 'calling') return;
    this.#retransmissions = 0;
    this.send(this.requestBytes);
    const timers = this.context.timers;
    // s17.1.1.2: "If a reliable transport is being used, the client
    // transaction SHOULD NOT start timer A".
    if (timers.A !== null) this.startTimer('A', timers.A);
    this.startTimer('B', timers.B);
  }

  /** s17.1.1.2: retransmit, and reset Timer A with twice its value (no cap for INVITE). */
  private onTimerA(): void {
    if (this.state !== 'calling') return;
    this.#retransmissions++;
    this.context.counters.retransmissions++;
    this.send(this.requestBytes);
    this.startTimer('A', backoff(this.context.timers.T1, this.#retransmissions, Infinity));
  }

  /** s17.1.1.2: "If the client transaction is still in the "Calling" state when timer B fires, the client transaction SHOULD inform the TU that a timeout has occurred." */
  private onTimerB(): void {
    if (this.state !== 'calling') return;
    this.reportNoResponse();
    this.enter('terminated');
    this.report({ cause: 'timeout', status: 408, response: localResponse(this.request, 408) });
  }

  private onTimerD(): void {
    if (this.state === 'completed') this.enter('terminated');
  }

  /** RFC 6026 (updating s17.1.1.2): "If Timer M fires while the client transaction is in the "Accepted" state, the client transaction MUST move to the "Terminated" state." */
  private onTimerM(): void {
    if (this.state === 'accepted') this.enter('terminated');
  }

  private onResponse(response: SipMessage): void {
    const status = response.status;
    if (status === undefined || status < 100 || status > 699) return;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          if (this.state === 'calling') this.enter('proceeding');
          this.user.onProvisional?.(response);
        } else if (status < 300) {
          // RFC 6026 (updating s17.1.1.2): "If a 2xx response is received while the client
          // INVITE state machine is in the "Calling" or "Proceeding" states,
          // it MUST transition to the "Accepted" state, pass the 2xx response
          // to the TU, and set Timer M to 64*T1."
          this.enter('accepted');
          this.report({ cause: 'response', status, response });
          // Accepted sends nothing of its own (the TU ACKs a 2xx): neither the
          // transport's error callback nor the INVITE (a copy of its own, else
          // kept 32 s for nothing) need stay.
          this.releaseSender();
          this.releaseRequest();
        } else {
          // The ACK is sent before entering Completed, so that a transport
          // error it raises is handled before a zero-length Timer D.
          this.#ack = ackForNon2xx(this.request, response);
          // Completed (Timer D, 32 s over UDP) re-sends the ACK, never the INVITE: its copy goes now.
          this.releaseRequest();
          this.send(this.#ack);
          this.enter('completed');
          this.report({ cause: 'response', status, response });
        }
        return;
      case 'accepted':
        // RFC 6026 (updating s17.1.1.2): Accepted exists "to receive, and
        // pass to the TU, any retransmissions of the 2xx response and any
        // additional 2xx responses from other branches of a downstream fork
        // of the matching request."
        if (status >= 200 && status < 300) this.user.onAdditional2xx?.(response);
        return;
      case 'completed':
        // s17.1.1.2: "Any retransmissions of the final response that are
        // received while in the "Completed" state MUST cause the ACK to be
        // re-passed to the transport layer for retransmission, but the newly
        // received response MUST NOT be passed up to the TU."
        if (status >= 300 && this.#ack !== undefined) {
          this.context.counters.retransmissions++;
          this.send(this.#ack);
        }
        return;
      case 'terminated':
        return;
    }
  }

  private onTransportError(error: TransportError): void {
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        // s17.1.4: "The client transaction SHOULD inform the TU that a
        // transport failure has occurred, and the client transaction SHOULD
        // transition directly to the "Terminated" state." (Figure 5 draws it
        // from Calling; an error for the INVITE reported after a 1xx ends it too.)
        this.enter('terminated');
        this.report({ cause: 'transportError', status: transportFailureStatus(error), response: localResponse(this.request, transportFailureStatus(error)), error });
        return;
      case 'completed':
        // Figure 5: Completed --Transport Err. / Inform TU--> Terminated (the ACK could not be sent).
        this.enter('terminated');
        this.user.onTransportError?.(error);
        return;
      case 'accepted':
      case 'terminated':
        // A late error for the INVITE: the TU has its 2xx, or the transaction is over.
        return;
    }
  }
}
