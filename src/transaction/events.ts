/**
 * The inputs of the four transaction state machines: one union per machine,
 * timers included, each handled by that machine's one handle() function.
 */
import type { SipMessage } from '../parser/index.ts';
import type { Received, TransportError } from '../transport/types.ts';

/** The machine is set going: "request from TU / request sent" (client) or "request received / pass to TU" (server). */
export interface StartEvent {
  readonly type: 'start';
}

/** A timer of this machine fired (or a zero-length timer was entered). */
export interface TimerEvent<Name extends string> {
  readonly type: 'timer';
  readonly name: Name;
}

/** A response matched to this client transaction (s17.1.3). */
export interface ResponseEvent {
  readonly type: 'response';
  readonly message: SipMessage;
}

/** The transport reported that a message this transaction sent could not be delivered (s17.1.4, s17.2.4). */
export interface TransportErrorEvent {
  readonly type: 'transportError';
  readonly error: TransportError;
}

/** A retransmission of the request that created this server transaction (s17.2.3). */
export interface RequestEvent {
  readonly type: 'request';
  readonly message: SipMessage;
}

/** An ACK matched to this INVITE server transaction. */
export interface AckEvent {
  readonly type: 'ack';
  readonly message: SipMessage;
  readonly received: Received;
}

/** The TU passed a response to this server transaction. */
export interface TuResponseEvent {
  readonly type: 'tuResponse';
  readonly status: number;
  readonly bytes: Uint8Array;
  /** The To tag of a final response (for RFC 2543 ACK matching); null for a 1xx. */
  readonly toTag: string | null;
}

/** The transaction layer is closing: end at once, holding nothing, telling the TU nothing. */
export interface TerminateEvent {
  readonly type: 'terminate';
}

export type ClientInviteTimer = 'A' | 'B' | 'D' | 'M';
export type ClientNonInviteTimer = 'E' | 'F' | 'K';
/** 'Trying' is the unnamed 200 ms wait of s17.2.1 before the transaction sends 100 Trying itself. */
export type ServerInviteTimer = 'Trying' | 'G' | 'H' | 'I' | 'L';
export type ServerNonInviteTimer = 'J';

export type ClientInviteEvent = StartEvent | ResponseEvent | TimerEvent<ClientInviteTimer> | TransportErrorEvent | TerminateEvent;
export type ClientNonInviteEvent = StartEvent | ResponseEvent | TimerEvent<ClientNonInviteTimer> | TransportErrorEvent | TerminateEvent;
export type ServerInviteEvent =
  | StartEvent
  | RequestEvent
  | AckEvent
  | TuResponseEvent
  | TimerEvent<ServerInviteTimer>
  | TransportErrorEvent
  | TerminateEvent;
export type ServerNonInviteEvent = StartEvent | RequestEvent | TuResponseEvent | TimerEvent<ServerNonInviteTimer> | TransportErrorEvent | TerminateEvent;
