/**
 * What the two client transactions (RFC 3261 s17.1.1 INVITE, s17.1.2
 * non-INVITE) share: the request they carry, sending it (transport errors
 * come back as an event), and reporting the outcome to the TU exactly once.
 * Each machine keeps its own states, timers and transitions.
 */
import { StateError } from '../errors/sip-endpoint-error.ts';
import { parseMessage, type SipMessage } from '../parser/index.ts';
import type { Endpoint, SendOptions, TransportError } from '../transport/types.ts';
import type { TimerEvent } from './events.ts';
import { StateMachine, type MachineTables } from './machine.ts';
import type { ClientOutcome, ClientTransactionUser, TransactionContext } from './user.ts';

/**
 * The request a client transaction sends. It is kept as bytes only and parsed
 * when someone reads `message` (a timeout or error response, an ACK for a
 * 300-699, a TU that asks): an INVITE transaction lives for Timer M (32 s) in
 * Accepted, and a parsed copy of every request would be most of its memory.
 */
export class OutgoingRequest {
  #bytes: Uint8Array | undefined;

  readonly target: Endpoint;
  readonly flowId: string | undefined;
  readonly branch: string;
  readonly method: string;

  constructor(
    bytes: Uint8Array,
    target: Endpoint,
    flowId: string | undefined,
    branch: string,
    method: string,
  ) {
    this.target = target;
    this.flowId = flowId;
    this.branch = branch;
    this.method = method;
    this.#bytes = bytes;
  }

  get bytes(): Uint8Array {
    if (this.#bytes === undefined) throw new StateError('ERR_STATE', `the ${this.method} request was released when its transaction completed`);
    return this.#bytes;
  }

  /** The request parsed (anew on each access). */
  get message(): SipMessage {
    return parseMessage(this.bytes);
  }

  /**
   * Drops the bytes: a completed non-INVITE transaction only absorbs
   * retransmitted responses for Timer K and never sends again, and its copy
   * of the request was half of what it kept alive (promoted by the GC); an
   * INVITE one in Accepted (Timer M, 32 s) or Completed (Timer D, 32 s over
   * UDP: it re-sends its ACK) sends it no more either.
   */
  release(): void {
    this.#bytes = undefined;
  }
}

const RELEASED: ClientTransactionUser = { onFinal() {} };

type TransportErrorEvent = { readonly type: 'transportError'; readonly error: TransportError };

/**
 * Methods here and in the two machines are TS `private`, not `#`: a class
 * with #methods gives each instance a brand slot (8 bytes), and a finished
 * transaction is kept for Timer K or M.
 */
export abstract class ClientTransactionBase<
  State extends string,
  Event extends { readonly type: string },
  Timer extends string,
> extends StateMachine<State, Event, Timer> {
  readonly target: Endpoint;
  readonly branch: string;
  readonly method: string;
  /** The request while it may still be sent or read; dropped at the final response (see releaseRequest). */
  #outgoing: OutgoingRequest | undefined;
  protected readonly context: TransactionContext;
  /** Replaced by RELEASED once nothing more can reach it (see releaseUser). */
  protected user: ClientTransactionUser;
  #reported = false;
  #sendOptions: SendOptions | undefined;

  constructor(context: TransactionContext, outgoing: OutgoingRequest, user: ClientTransactionUser, tables: MachineTables<State, Timer>) {
    super(context.clock, tables);
    this.context = context;
    this.#outgoing = outgoing;
    this.user = user;
    this.target = outgoing.target;
    this.branch = outgoing.branch;
    this.method = outgoing.method;
  }

  /** The request this transaction sends, parsed anew on each access; throws once released (see releaseRequest): at the final response (a 408/503 made locally excepted). */
  get request(): SipMessage {
    return this.outgoingRequest().message;
  }

  /** The request's bytes, to send (throws once released). */
  protected get requestBytes(): Uint8Array {
    return this.outgoingRequest().bytes;
  }

  private outgoingRequest(): OutgoingRequest {
    if (this.#outgoing === undefined) throw new StateError('ERR_STATE', `the ${this.method} request was released when its transaction completed`);
    return this.#outgoing;
  }

  /**
   * Forgets the request (its bytes and the object that holds them): a
   * completed non-INVITE transaction waits out Timer K, an INVITE one
   * Timer M in Accepted or Timer D in Completed (32 s each over UDP),
   * without sending it again, and each kept copy was promoted and marked by
   * the GC for nothing. Branch, method and target stay: the table finds the
   * transaction by them.
   */
  protected releaseRequest(): void {
    this.#outgoing?.release();
    this.#outgoing = undefined;
  }

  protected onTerminated(): void {
    this.context.onTerminated(this as unknown as { readonly kind: 'client-invite' | 'client-non-invite' });
    this.releaseSender();
  }

  /**
   * Lets the transport forget our error callback (it would keep it, and
   * this transaction with it, for 32 s). At the end always; earlier by a
   * machine whose state no longer reacts to transport errors: a non-INVITE
   * one with its final answer, an INVITE one in Accepted. Not in an
   * INVITE's Completed: an error on its ACK still ends it (Figure 5). A
   * later send registers anew, and the end releases that.
   */
  protected releaseSender(): void {
    const options = this.#sendOptions;
    if (options === undefined) return;
    this.#sendOptions = undefined;
    this.context.transport.release?.(this.target, options);
  }

  /** No response at all came before the timeout: the transport hears it before the sender is released (see Transport.noResponse). */
  protected reportNoResponse(): void {
    const options = this.#sendOptions;
    if (options !== undefined) this.context.transport.noResponse?.(this.target, options);
  }

  /** Sends on the transaction's target (and flow); a failure comes back as a transportError event. */
  protected send(bytes: Uint8Array): void {
    this.context.transport.send(bytes, this.target, (this.#sendOptions ??= this.makeSendOptions()));
  }

  /**
   * One options object and one error callback per transaction, made on the
   * first send: retransmissions reuse them, so the transport keeps a single
   * pending-sender entry per transaction.
   */
  private makeSendOptions(): SendOptions {
    // bind, not an arrow: tsx/esbuild wrap every arrow function in a naming helper that showed in profiles.
    return { flowId: this.#outgoing?.flowId, onError: this.onSendError.bind(this) };
  }

  private onSendError(error: TransportError): void {
    this.handle({ type: 'transportError', error } as TransportErrorEvent as unknown as Event | TimerEvent<Timer>);
  }

  /**
   * Forgets the TU: a completed non-INVITE transaction tells it nothing more
   * (Timer K, 5 s over UDP), and held, the TU kept its caller's state alive.
   */
  protected releaseUser(): void {
    this.user = RELEASED;
  }

  /** The final outcome, to the TU exactly once. */
  protected report(outcome: ClientOutcome): void {
    if (this.#reported) return;
    this.#reported = true;
    this.user.onFinal(outcome);
  }
}
