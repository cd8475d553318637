/**
 * What the two client transactions (RFC 3261 s17.1.1 INVITE, s17.1.2
 * non-INVITE) share: the request they carry, sending it (transport errors
 * come back as an event), and reporting the outcome to the TU exactly once.
 * Each machine keeps its own states, timers and transitions.
 */
import type { SipMessage } from '../parser/index.ts';
import type { Endpoint, TransportError } from '../transport/types.ts';
import type { TimerEvent } from './events.ts';
import { StateMachine, type MachineTables } from './machine.ts';
import type { ClientOutcome, ClientTransactionUser, TransactionContext } from './user.ts';

/** The request a client transaction sends, formatted and parsed once. */
export interface OutgoingRequest {
  readonly message: SipMessage;
  readonly bytes: Uint8Array;
  readonly target: Endpoint;
  readonly flowId: string | undefined;
}

type TransportErrorEvent = { readonly type: 'transportError'; readonly error: TransportError };

export abstract class ClientTransactionBase<
  State extends string,
  Event extends { readonly type: string },
  Timer extends string,
> extends StateMachine<State, Event, Timer> {
  readonly request: SipMessage;
  readonly target: Endpoint;
  protected readonly outgoing: OutgoingRequest;
  protected readonly context: TransactionContext;
  protected readonly user: ClientTransactionUser;
  #reported = false;

  constructor(context: TransactionContext, outgoing: OutgoingRequest, user: ClientTransactionUser, tables: MachineTables<State, Timer>) {
    super(context.clock, tables);
    this.context = context;
    this.outgoing = outgoing;
    this.user = user;
    this.request = outgoing.message;
    this.target = outgoing.target;
  }

  get branch(): string {
    return this.request.topVia!.branch!;
  }

  protected onTerminated(): void {
    this.context.onTerminated(this as unknown as { readonly kind: 'client-invite' | 'client-non-invite' });
  }

  /** Sends on the transaction's target (and flow); a failure comes back as a transportError event. */
  protected send(bytes: Uint8Array): void {
    const { target, flowId } = this.outgoing;
    const onError = (error: TransportError): void => this.handle({ type: 'transportError', error } as TransportErrorEvent as unknown as Event | TimerEvent<Timer>);
    this.context.transport.send(bytes, target, { flowId, onError });
  }

  /** The final outcome, to the TU exactly once. */
  protected report(outcome: ClientOutcome): void {
    if (this.#reported) return;
    this.#reported = true;
    this.user.onFinal(outcome);
  }
}
