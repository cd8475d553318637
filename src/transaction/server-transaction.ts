/**
 * What the two server transactions (RFC 3261 s17.2.1 INVITE, s17.2.2
 * non-INVITE) share: the request and where it came from, the TU's callbacks,
 * sending responses on the response route (transport errors come back as an
 * event), the last responses for retransmission, and the To tag sent.
 */
import type { MessageParts, SipMessage } from '../parser/index.ts';
import type { Received, TransportError } from '../transport/types.ts';
import type { TimerEvent } from './events.ts';
import { StateMachine, type MachineTables } from './machine.ts';
import type { ResponseRoute } from './response-target.ts';
import { tuResponse, withReceivedVia } from './responses.ts';
import type { ServerTransactionUser, TransactionContext } from './user.ts';

type TransportErrorEvent = { readonly type: 'transportError'; readonly error: TransportError };

export abstract class ServerTransactionBase<
  State extends string,
  Event extends { readonly type: string },
  Timer extends string,
> extends StateMachine<State, Event, Timer> {
  readonly request: SipMessage;
  readonly received: Received;
  /** The TU's callbacks for this transaction; set it when the request arrives. */
  user: ServerTransactionUser | undefined;
  protected readonly context: TransactionContext;
  protected readonly route: ResponseRoute;
  protected lastProvisional: Uint8Array | undefined;
  protected lastFinal: Uint8Array | undefined;
  /** The To tag of the final response sent. */
  protected toTag: string | null = null;

  constructor(context: TransactionContext, received: Received, route: ResponseRoute, tables: MachineTables<State, Timer>) {
    super(context.clock, tables);
    this.context = context;
    this.received = received;
    this.request = received.message;
    this.route = route;
  }

  /** The To tag of the final response sent (RFC 2543 ACK matching, s17.2.3). */
  get responseToTag(): string | null {
    return this.toTag;
  }

  /** Passes a response from the TU. Throws RangeError for a status outside 100-699. */
  respond(parts: MessageParts): void {
    this.handle(tuResponse(withReceivedVia(parts, this.received)) as unknown as Event);
  }

  protected onTerminated(): void {
    this.context.onTerminated(this as unknown as { readonly kind: 'server-invite' | 'server-non-invite' });
  }

  /** Sends on the response route (flow); a failure comes back as a transportError event. */
  protected send(bytes: Uint8Array): void {
    const { target, flowId } = this.route;
    const onError = (error: TransportError): void => this.handle({ type: 'transportError', error } as TransportErrorEvent as unknown as Event | TimerEvent<Timer>);
    this.context.transport.send(bytes, target, { flowId, onError });
  }

  /** Sends a response again (a retransmitted request, Timer G), counted as a retransmission. */
  protected resend(bytes: Uint8Array): void {
    this.context.counters.retransmissions++;
    this.send(bytes);
  }
}
