/**
 * What the two server transactions (RFC 3261 s17.2.1 INVITE, s17.2.2
 * non-INVITE) share: the request and where it came from, the TU's callbacks,
 * sending responses on the response route (transport errors come back as an
 * event), the last responses for retransmission, and the To tag sent.
 *
 * Once its final response is sent a transaction only waits (Timer J, L, H/I:
 * up to 32 s) and lets the request go: `request` and `received` throw from
 * then on. A waiting transaction keeps what waiting needs (its key, the
 * final response, the response Via for a 2xx sent again): at thousands of
 * calls a second the waiting ones are most of the heap, and of the garbage
 * collector's work (bench/calls/retained.ts).
 */
import { ownedBytes, ownedString, type MessageParts, type SipMessage } from '../parser/index.ts';
import type { Endpoint, Received, TransportError } from '../transport/types.ts';
import type { TimerEvent } from './events.ts';
import { StateError } from '../errors/sip-endpoint-error.ts';
import { StateMachine, type MachineTables } from './machine.ts';
import { ownedResponseVia, responseVia, tuResponse, withResponseVia, type ResponseOptions, type ResponseVia } from './responses.ts';
import { ResponseHead } from './response-head.ts';
import { ownAtEndOfTurn } from './turn-views.ts';
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
  /** Until the final response (see releaseRequest). */
  #received: Received | undefined;
  /**
   * Read on the first response; a later one (a 2xx sent again) needs no
   * request. null: nothing to annotate (the request had no Via, or a final
   * response that is not sent again let it go).
   */
  #via: ResponseVia | null | undefined;
  /** Made on the first reply(); views into the request, let go with it. */
  #head: ResponseHead | undefined;

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

  /** The request and where it came from; throws once the final response was sent (see releaseRequest). */
  get received(): Received {
    const received = this.#received;
    if (received === undefined) throw new StateError('ERR_STATE', `the ${this.method} request was let go after the final response`);
    return received;
  }

  get request(): SipMessage {
    return this.received.message;
  }

  /** The To tag of the final response sent (RFC 2543 ACK matching, s17.2.3). */
  get responseToTag(): string | null {
    return this.toTag;
  }

  /**
   * Keeps a provisional response for retransmission. The bytes are a view
   * into a shared chunk of sent messages: kept as such until the end of this
   * turn, then copied if still kept (turn-views.ts). Most calls answer in the
   * same turn as they ring (the final response drops the provisional one),
   * and a copy per 1xx was a new ArrayBuffer per call. A view must not be
   * kept longer: a call may ring for minutes and pin its whole chunk.
   */
  protected keepProvisional(bytes: Uint8Array): void {
    this.lastProvisional = bytes;
    ownAtEndOfTurn(this);
  }

  /** @internal End of the turn in which keepProvisional() kept a view (TurnViewHolder). */
  ownKeptView(): void {
    const kept = this.lastProvisional;
    if (kept !== undefined) this.lastProvisional = ownedBytes(kept);
  }

  /** Passes a response from the TU. Throws RangeError for a status outside 100-699. */
  respond(parts: MessageParts): void {
    // The request's top Via annotated (received, rport) in place of the copied one.
    this.handle(tuResponse(withResponseVia(parts, this.#responseVia())) as unknown as Event);
  }

  /**
   * Answers with the response that respond(responseParts(request, status,
   * options)) sends, written straight from the request's lines (ResponseHead,
   * read once per transaction). Needs the request: before the final response
   * (a 2xx sent again goes through respond()). Throws RangeError for a status
   * outside 100-699, StateError after the final response.
   */
  reply(status: number, options: ResponseOptions = {}): void {
    this.handle(this.responseHead().response(status, options) as unknown as Event);
  }

  /** The lines every response copies from the request (see reply()). */
  protected responseHead(): ResponseHead {
    return (this.#head ??= new ResponseHead(this.received.message, this.#responseVia()));
  }

  /** The request's top Via as responses copy and carry it: read on the first response, kept for a 2xx sent again. */
  #responseVia(): ResponseVia | undefined {
    if (this.#via === undefined) this.#via = responseVia(this.received) ?? null;
    return this.#via ?? undefined;
  }

  /**
   * The final response is sent: the request and the last provisional
   * response are let go. `resendsVia`: the TU may send this response again
   * (an INVITE's 2xx, RFC 6026), so its Via is kept; any other final is
   * resent from its bytes alone.
   */
  protected releaseRequest(resendsVia: boolean): void {
    const received = this.#received;
    if (received === undefined) return;
    const via = resendsVia ? (this.#via ?? responseVia(received)) : undefined;
    this.#via = via == null ? null : ownedResponseVia(via);
    this.#received = undefined;
    this.#head = undefined;
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
