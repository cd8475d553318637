/**
 * The session manager (`phone.sessions`): the live calls, and the typed
 * `sessionStatusChanged` event, exactly once per change of a session's
 * status, in order. A disconnected session stays listed until the event has
 * been delivered, then is forgotten.
 */
import type { Session, SessionProperties, SessionStatus, SessionStatusChanged, DisconnectReason } from './session.ts';
import { TypedEvents } from './typed-events.ts';

/** A DTMF digit the peer sent (INFO application/dtmf-relay). */
export interface DtmfReceived {
  readonly sessionId: string;
  readonly digit: string;
}

/** The peer put us on hold or took us back: its side of the last offer/answer (its offer, or its answer to ours) stopped or resumed sending to us. Our own status does not change. */
export interface RemoteHoldChanged {
  readonly sessionId: string;
  readonly connectionId: number;
  readonly remoteHold: boolean;
}

/**
 * An outbound call's INVITE failed at its site before any provisional (408,
 * 503, a transport error, or silence for dial_failover_timeout) and the call
 * goes out again through another connection, now. The session stays
 * `dialing`; its next events carry the new connection.
 */
export interface SessionFailedOver {
  readonly sessionId: string;
  readonly fromConnectionId: number;
  readonly toConnectionId: number;
  /** Why the site failed: 408 (timed out or silent) or 503 (refused, unreachable), or the status it answered. */
  readonly code: number;
  readonly reason: string;
}

export interface SessionEvents {
  sessionStatusChanged: SessionStatusChanged;
  sessionFailedOver: SessionFailedOver;
  dtmfReceived: DtmfReceived;
  remoteHoldChanged: RemoteHoldChanged;
}

export class SessionManager extends TypedEvents<SessionEvents> {
  readonly #sessions = new Map<string, Session>();

  /** The live sessions (not yet disconnected), oldest first. */
  get sessions(): SessionProperties[] {
    return [...this.#sessions.values()].map((s) => s.properties());
  }

  session(id: string): SessionProperties | undefined {
    return this.#sessions.get(id)?.properties();
  }

  /** @internal */
  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /** @internal Live sessions (the SDK's objects). */
  all(): Session[] {
    return [...this.#sessions.values()];
  }

  /** @internal A new session, with its first event. */
  add(session: Session): void {
    this.#sessions.set(session.id, session);
    this.emit('sessionStatusChanged', eventOf(session, null));
  }

  /** @internal Moves a session to `status`: one event when it changes, none when it does not. */
  change(session: Session, status: SessionStatus, reason?: DisconnectReason, code?: number): void {
    if (session.status === 'disconnected' || session.status === status) return;
    const previous = session.status;
    session.status = status;
    if (status === 'disconnected') {
      session.reason = reason ?? 'Normal';
      session.code = code;
      this.#sessions.delete(session.id);
    }
    this.emit('sessionStatusChanged', eventOf(session, previous));
  }
}

function eventOf(session: Session, previous: SessionStatus | null): SessionStatusChanged {
  const event: SessionStatusChanged = {
    sessionId: session.id,
    connectionId: session.connectionId,
    direction: session.direction,
    remote: session.remote,
    status: session.status,
    previousStatus: previous,
    ...(session.status === 'disconnected' && session.reason !== undefined ? { reason: session.reason } : {}),
    ...(session.status === 'disconnected' && session.code !== undefined ? { code: session.code } : {}),
  };
  return event;
}
