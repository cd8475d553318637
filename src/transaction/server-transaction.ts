/**
 * What the two server transactions (RFC 3261 s17.2.1 INVITE, s17.2.2
 * non-INVITE) share: the request and where it came from, the TU's callbacks,
 * sending responses on the response route (transport errors come back as an
 * event), the last responses for retransmission, and the To tag sent.
 */
import type { MessageParts, SipMessage } from '../parser/index.ts';
import type { Endpoint, Received, TransportError } from '../transport/types.ts';
import type { TimerEvent } from './events.ts';
import { StateMachine, type MachineTables } from './machine.ts';
import { tuResponse, withReceivedVia } from './responses.ts';
import type { ServerTransactionUser, TransactionContext } from './user.ts';

/**
 * Where a server transaction's responses go: the request's flow while it is
 * open, else `target` (RFC 3261 s18.2.2 with RFC 3581, decided by the
 * transport's responseTarget(), the one place that rule lives).
 */
export interface ResponseRoute {
  readonly target: Endpoint;
  readonly flowId: string | undefined;
}

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
  /** One error callback for every send, so the transport holds (and forgets) one entry for us. */
  #onError: ((error: TransportError) => void) | undefined;

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
    this.#release();
    this.context.onTerminated(this as unknown as { readonly kind: 'server-invite' | 'server-non-invite' });
  }

  /**
   * Sends on the response route (flow); a failure comes back as a
   * transportError event. A final response over TCP/TLS is written once and
   * needs no report after: the transport forgets our callback at once (held,
   * it kept this transaction alive for the transport's 32 s error window,
   * thousands per connection under a flood).
   */
  protected send(bytes: Uint8Array, final: boolean): void {
    const { target, flowId } = this.route;
    const onError = (this.#onError ??= (error: TransportError): void => this.handle({ type: 'transportError', error } as TransportErrorEvent as unknown as Event | TimerEvent<Timer>));
    this.context.transport.send(bytes, target, { flowId, onError });
    if (final && this.context.timers.reliable) this.#release();
  }

  /** Sends a response again (a retransmitted request, Timer G), counted as a retransmission. */
  protected resend(bytes: Uint8Array, final: boolean): void {
    this.context.counters.retransmissions++;
    this.send(bytes, final);
  }

  /** The transport forgets our error callback (Transport.release). */
  #release(): void {
    const onError = this.#onError;
    if (onError === undefined) return;
    this.context.transport.release?.(this.route.target, { flowId: this.route.flowId, onError });
  }
}
