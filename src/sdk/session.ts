/**
 * A call as the application sees it (DESIGN.md "SDK": the session manager's
 * sessions): id, direction, the connection it runs on (`connectionID`), the
 * remote party, its status and, once disconnected, why.
 *
 *   outbound: dialing --1xx--> ringing --2xx--> connected <--hold/retrieve--> held
 *   inbound:  ringing --answer--> connected <--hold/retrieve--> held
 *   any --> disconnected (Normal, Busy, Rejected, Cancelled, NoAnswer, SipError + code)
 */
import type { IncomingInvite, OutgoingInvite, SessionDialog } from '../dialog/index.ts';
import type { MediaPort } from './media-ports.ts';

export type SessionStatus = 'dialing' | 'ringing' | 'connected' | 'held' | 'disconnected';
export type SessionDirection = 'outbound' | 'inbound';
export type DisconnectReason = 'Normal' | 'Busy' | 'Rejected' | 'Cancelled' | 'NoAnswer' | 'SipError';

/** SessionEventArgs: one event per change of status. */
export interface SessionStatusChanged {
  readonly sessionId: string;
  readonly connectionId: number;
  readonly direction: SessionDirection;
  /** The remote party's SIP URI. */
  readonly remote: string;
  readonly status: SessionStatus;
  /** null for the first event of a session. */
  readonly previousStatus: SessionStatus | null;
  /** On `disconnected`: why. */
  readonly reason?: DisconnectReason;
  /** The SIP status behind a SipError (408: the site timed out, 503: transport error) or a refusal. */
  readonly code?: number;
}

/** A read-only view of a session, as `phone.sessions` lists them. */
export interface SessionProperties {
  readonly id: string;
  readonly direction: SessionDirection;
  /** The connection the call runs on (after failover: the one finally used). */
  readonly connectionID: number;
  readonly remote: string;
  readonly status: SessionStatus;
  readonly reason: DisconnectReason | undefined;
  readonly code: number | undefined;
  /** Every connection tried, in order (outbound failover). */
  readonly triedConnections: readonly number[];
  /** The peer holds us: in the last offer/answer its side does not send (its offer or its answer sendonly or inactive). */
  readonly remoteHold: boolean;
  /** Call-ID of the call's current INVITE or dialog (for traces). */
  readonly callId: string | undefined;
}

/** @internal The SDK's state of one call. */
export class Session {
  readonly id: string;
  readonly direction: SessionDirection;
  connectionId: number;
  remote: string;
  status: SessionStatus;
  reason: DisconnectReason | undefined;
  code: number | undefined;
  readonly tried: number[] = [];
  remoteHold = false;
  /** Outbound: the INVITE of the current attempt. */
  outgoing: OutgoingInvite | undefined;
  /** Inbound: the INVITE waiting for answer() or reject(). */
  incoming: IncomingInvite | undefined;
  /** Once answered. */
  dialog: SessionDialog | undefined;
  /** RTP port of the current attempt (released when the call ends). */
  media: MediaPort | undefined;
  /** Run once when the session ends (drops dial()'s abort listener). */
  onFinish: (() => void) | undefined;
  /** An action (hold, retrieve, answer) is in progress: another one waits. */
  busy: Promise<unknown> = Promise.resolve();

  constructor(id: string, direction: SessionDirection, connectionId: number, remote: string, status: SessionStatus) {
    this.id = id;
    this.direction = direction;
    this.connectionId = connectionId;
    this.remote = remote;
    this.status = status;
  }

  properties(): SessionProperties {
    return {
      id: this.id,
      direction: this.direction,
      connectionID: this.connectionId,
      remote: this.remote,
      status: this.status,
      reason: this.reason,
      code: this.code,
      triedConnections: [...this.tried],
      remoteHold: this.remoteHold,
      callId: this.dialog?.dialog.callId ?? this.outgoing?.callId ?? this.incoming?.request.callId,
    };
  }
}
