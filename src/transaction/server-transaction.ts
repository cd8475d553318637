/**
 * What the two server transactions (RFC 3261 s17.2.1 INVITE, s17.2.2
 * non-INVITE) share: the request and where it came from, the TU's callbacks,
 * sending responses on the response route (transport errors come back as an
 * event), the last responses for retransmission, and the To tag sent.
 *
 * Once its final response is sent a transaction only waits (Timer J, L, H/I:
 * up to 32 s): it keeps the request as bytes alone and parses them again if
 * someone reads `request`. The parsed request was most of what every
 * finished call kept alive for 32 s, and so of the garbage collector's work.
 */
import { ownedString, parseMessage, type MessageParts, type SipMessage } from '../parser/index.ts';
import type { Endpoint, Received, TransportError } from '../transport/types.ts';
import type { TimerEvent } from './events.ts';
import { StateMachine, type MachineTables } from './machine.ts';
import { responseVia, tuResponse, withResponseVia, type ResponseVia } from './responses.ts';
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

/** A received request kept as its bytes. */
interface KeptRequest extends Omit<Received, 'message'> {
  readonly input: Uint8Array;
  readonly limits: SipMessage['limits'];
}

type TransportErrorEvent = { readonly type: 'transportError'; readonly error: TransportError };

export abstract class ServerTransactionBase<
  State extends string,
  Event extends { readonly type: string },
  Timer extends string,
> extends StateMachine<State, Event, Timer> {
  /** The To tag of the request (RFC 2543 matching, s17.2.3). */
  readonly requestToTag: string | null;
  /** The request's method, top Via branch and sent-by (lower-case host): what s17.2.3 matches with the magic cookie. */
  readonly method: string;
  readonly branch: string | null;
  readonly sentByHost: string;
  readonly sentByPort: number | null;
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
  /** Until the final response; then the request as bytes (see releaseRequest). */
  #received: Received | KeptRequest;
  /** Read on the first response: a later one (a 2xx sent again) needs no request. */
  #via: ResponseVia | undefined;

  constructor(context: TransactionContext, received: Received, route: ResponseRoute, tables: MachineTables<State, Timer>) {
    super(context.clock, tables);
    this.context = context;
    this.#received = received;
    const message = received.message;
    const toTag = message.to?.tag;
    this.requestToTag = toTag == null ? null : ownedString(toTag);
    // Copies where kept: a view would keep the request's whole text alive.
    this.method = ownedString(message.method ?? '');
    const via = message.topVia;
    const branch = via?.branch;
    this.branch = branch == null ? null : ownedString(branch);
    this.sentByHost = ownedString(via?.host.toLowerCase() ?? '');
    this.sentByPort = via?.port ?? null;
    this.route = route;
  }

  /** The request and where it came from (parsed anew on each access once the final response was sent). */
  get received(): Received {
    const received = this.#received;
    if ('message' in received) return received;
    return { message: parseMessage(received.input, { limits: received.limits }), source: received.source, local: received.local, flowId: received.flowId };
  }

  get request(): SipMessage {
    return this.received.message;
  }

  /** The To tag of the final response sent (RFC 2543 ACK matching, s17.2.3). */
  get responseToTag(): string | null {
    return this.toTag;
  }

  /** Passes a response from the TU. Throws RangeError for a status outside 100-699. */
  respond(parts: MessageParts): void {
    this.handle(tuResponse(this.withOwnVia(parts)) as unknown as Event);
  }

  /** `parts` with the request's top Via annotated (received, rport) in place of the copied one. */
  protected withOwnVia(parts: MessageParts): MessageParts {
    this.#via ??= responseVia(this.received);
    return withResponseVia(parts, this.#via);
  }

  /** The final response is sent: the request is kept as bytes only, and no provisional response is kept. */
  protected releaseRequest(): void {
    const received = this.#received;
    if ('message' in received) {
      const { message, source, local, flowId } = received;
      this.#received = { input: message.input, limits: message.limits, source, local, flowId };
    }
    this.lastProvisional = undefined;
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
