/**
 * The transaction user (TU) side of the layer: what client and server
 * transactions report upward, and what each transaction gets from the layer
 * that owns it.
 */
import type { SipMessage } from '../parser/index.ts';
import type { Received, Transport, TransportError } from '../transport/types.ts';
import type { Clock } from './clock.ts';
import type { TimerValues } from './timers.ts';
import type { ServerInviteTransaction } from './server-invite.ts';
import type { ServerNonInviteTransaction } from './server-non-invite.ts';

export type TransactionKind = 'client-invite' | 'client-non-invite' | 'server-invite' | 'server-non-invite';

/**
 * How a client transaction ended, reported to its TU exactly once: a final
 * response that came, or the 408 (Timer B/F) or 503 (transport error; 408
 * when the transport timed out, ETIMEDOUT) that stands for one that did not
 * (RFC 3261 s8.1.3.1). `response` is always a message; for 408/503 it is
 * built locally from the request.
 */
export type ClientOutcome =
  | { readonly cause: 'response'; readonly status: number; readonly response: SipMessage }
  | { readonly cause: 'timeout'; readonly status: 408; readonly response: SipMessage }
  | { readonly cause: 'transportError'; readonly status: 408 | 503; readonly response: SipMessage; readonly error: TransportError };

export interface ClientTransactionUser {
  /** Every 1xx received in Calling/Trying or Proceeding. */
  onProvisional?(response: SipMessage): void;
  /** The final outcome, exactly once. */
  onFinal(outcome: ClientOutcome): void;
  /**
   * INVITE only, RFC 6026 Accepted state: every further 2xx (a retransmission,
   * or a 2xx from another fork) for the dialog layer to ACK.
   */
  onAdditional2xx?(response: SipMessage): void;
  /** INVITE only: the ACK for a 300-699 could not be sent (the final outcome was already reported). */
  onTransportError?(error: TransportError): void;
}

export interface ServerTransactionUser {
  /** A response of this transaction could not be sent (RFC 3261 s17.2.4). */
  onTransportError?(error: TransportError): void;
  /** INVITE only: Timer H fired in Completed, the ACK for the 300-699 never came (s17.2.1). */
  onAckTimeout?(): void;
}

export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;

/** A request that is not a retransmission, handed to the TU with the server transaction to answer it through. */
export interface IncomingRequest {
  readonly request: SipMessage;
  readonly received: Received;
  readonly transaction: ServerTransaction;
  /**
   * CANCEL only: the INVITE server transaction it cancels (RFC 3261 s9.2), or
   * undefined when there is none (the TU answers 481).
   */
  readonly cancelled: ServerInviteTransaction | undefined;
}

/** The layer's TU: new requests, ACKs that belong to the dialog layer, responses that match nothing. */
export interface TransactionUser {
  onRequest(incoming: IncomingRequest): void;
  /**
   * An ACK that is not for a 300-699 of a server transaction: the ACK for a
   * 2xx (its own transaction, RFC 3261 s17.1.1.3 / RFC 6026 s8.7), whether it
   * matched nothing or an INVITE server transaction in Accepted.
   */
  onAck?(ack: SipMessage, received: Received): void;
  /** A response that matched no client transaction (a 2xx retransmitted after Timer M, a stray). */
  onStrayResponse?(response: SipMessage, received: Received): void;
}

/** Totals since the layer was made (TransactionLayer.counters()). */
export interface TransactionCounters {
  /** Client transactions started. */
  clientTransactions: number;
  /** Server transactions created for new requests. */
  serverTransactions: number;
  /** Messages sent again: requests on Timer A/E, ACKs and responses repeated for retransmissions, responses on Timer G. */
  retransmissions: number;
}

/** What a transaction gets from the layer that owns it. */
export interface TransactionContext {
  readonly clock: Clock;
  readonly transport: Transport;
  readonly timers: TimerValues;
  /** The layer's totals; machines count their retransmissions here. */
  readonly counters: TransactionCounters;
  /** Called once, when the transaction enters Terminated: the layer forgets it. */
  readonly onTerminated: (transaction: { readonly kind: TransactionKind }) => void;
  /** Where an INVITE server transaction in Accepted passes the ACKs it receives (the TU's onAck). */
  readonly passAck: (ack: SipMessage, received: Received) => void;
}
