/**
 * The one-active-call rule of `phone.calls` (DESIGN.md "SDK": answering or
 * retrieving a call puts the active one on hold): before a call goes on,
 * every other connected call is held (re-INVITE a=sendonly), and a call
 * that connects holds any other connected meanwhile. When nothing is sent
 * for the new call after all, the held call is given back.
 *
 * CallControl owns the actions; this file owns the ordering between calls.
 */
import type { Clock } from '../transaction/index.ts';
import type { ConnectionManager } from './connection-manager.ts';
import type { Session } from './session.ts';
import type { SessionManager } from './session-manager.ts';

/** What the rule needs from CallControl. */
export interface ActiveCallHost {
  readonly sessions: SessionManager;
  readonly connections: ConnectionManager;
  readonly clock: Clock;
  /** Runs `action` on `session` after the actions already queued on it (rejects once the phone is closed). */
  act(session: Session, action: () => Promise<void>): Promise<void>;
  isClosed(): boolean;
}

/** One holdOthers() hold of one call: `cancelled` stops it before its re-INVITE leaves; `sent` says it left. */
interface HoldTicket {
  readonly session: Session;
  cancelled: boolean;
  sent: boolean;
}

/** What holdOthers() did for a new call. */
export interface HeldForCall {
  /**
   * The new call will not go on after all (nothing was sent for it): the
   * calls held for it are given back, unless another call took its place.
   */
  release(): void;
}

/** A hold blocked by an INVITE exchange in progress is tried again this often, for at most 64*T1 (RFC 3261 defaults). */
const HOLD_RETRY_MS = 200;
const HOLD_RETRY_LIMIT_MS = 32_000;

export class ActiveCallRule {
  readonly #host: ActiveCallHost;
  /** Answers and dials waiting in holdOthers() now. */
  #holdWaits = 0;
  /** Counts the user's answer, dial and retrieve calls: a give-back yields to any made after it was decided. */
  #epoch = 0;

  constructor(host: ActiveCallHost) {
    this.#host = host;
  }

  /** The user asked for a call to go on (answer, dial, retrieve). */
  userActed(): void {
    this.#epoch++;
  }

  /**
   * Every connected session but `except` goes on hold before the new one
   * goes on. The new call waits for a hold at most its connection's
   * dial_failover_timeout (a hold unanswered would keep it 64*T1), and not
   * at all when that connection's site is known down. A hold not answered
   * by then, or refused, leaves that session held on our side (`held` now:
   * we no longer talk to it) while its re-INVITE goes on; a re-INVITE that
   * times out ends that call SipError 408. `signal` aborting ends the wait
   * early; then, or when `except` ended meanwhile, no status changes: the
   * caller calls release().
   */
  async holdOthers(except: Session, signal?: AbortSignal): Promise<HeldForCall> {
    const holding = this.#connectedOthers(except);
    const tickets = holding.map((session): HoldTicket => ({ session, cancelled: false, sent: false }));
    const result: HeldForCall = { release: () => this.#release(tickets) };
    if (holding.length === 0) return result;
    const waits: Array<Promise<void>> = [];
    for (const [i, other] of holding.entries()) {
      const held = this.#holdFor(other, tickets[i]).then(
        () => undefined,
        () => undefined,
      );
      const settings = this.#host.connections.settingsOf(other.connectionId);
      if (!this.#host.connections.isUsable(other.connectionId) || settings === undefined) continue;
      waits.push(this.#within(held, settings.dialFailoverTimeoutMs));
    }
    this.#holdWaits++;
    try {
      await untilAborted(Promise.all(waits), signal);
    } finally {
      this.#holdWaits--;
    }
    // Not for a new call already abandoned (aborted, or its caller gone): release() comes next.
    if (signal?.aborted !== true && except.status !== 'disconnected') for (const other of holding) this.#host.sessions.change(other, 'held');
    return result;
  }

  /**
   * HeldForCall.release(): unless another call is active or about to be, a
   * hold not sent yet is cancelled (that call is connected again: it never
   * stopped), and a call whose hold was sent is given back.
   */
  #release(tickets: readonly HoldTicket[]): void {
    for (const ticket of tickets) {
      const { session } = ticket;
      if (session.status === 'disconnected' || this.#otherCallActive(session)) continue;
      if (ticket.sent) {
        this.#host.sessions.change(session, 'held');
        this.#giveBack(session);
        return;
      }
      ticket.cancelled = true;
      if (session.status === 'held' && session.dialog?.media.media?.localHold !== true) {
        this.#host.sessions.change(session, 'connected');
        return;
      }
    }
  }

  /**
   * `session` is about to connect: any other call connected meanwhile (an
   * outbound call answered, a second dial or answer at once, a retrieve
   * that completed) is held here now, before the event, its hold re-INVITE
   * queued: one active call whatever the order of answers.
   */
  yieldTo(session: Session): void {
    for (const other of this.#connectedOthers(session)) {
      this.#host.sessions.change(other, 'held');
      void this.#holdFor(other).catch(() => undefined);
    }
  }

  /**
   * A call that holdOthers() held for another one goes back on (re-INVITE
   * a=sendrecv) when nothing was sent for that other one after all (answer()
   * found its caller gone, dial() was aborted while it waited), once its
   * hold re-INVITE is done. The user's next action wins: an answer, dial or
   * retrieve made since, or another call connected, dialling out or waiting
   * for a hold, leaves it held (held again on the wire if the give-back's
   * re-INVITE was already out).
   */
  #giveBack(session: Session): void {
    const epoch = this.#epoch;
    const movedOn = (): boolean => this.#epoch !== epoch || this.#otherCallActive(session);
    void this.#host
      .act(session, async () => {
        if (session.status !== 'held' || session.dialog === undefined || movedOn()) return;
        const result = await session.dialog.reinvite(false);
        if (!result.ok) return;
        if (movedOn()) {
          // Here, not queued: a retrieve() of this call queued meanwhile must come after it.
          await session.dialog.reinvite(true);
          return;
        }
        this.yieldTo(session);
        this.#host.sessions.change(session, 'connected');
      })
      .catch(() => undefined);
  }

  /**
   * The hold of a call for another one: the re-INVITE a=sendonly for a
   * session that is connected, or already held on our side only (its hold
   * was not answered in time); refused or unanswered, the session stays
   * held here. One that could not leave yet (s14.1: another INVITE exchange
   * of the dialog in progress) is sent when that one is over: tried again
   * every HOLD_RETRY_MS, at most 64*T1 in all. A `ticket` cancelled before
   * the re-INVITE leaves (the new call was abandoned) sends nothing.
   */
  #holdFor(session: Session, ticket?: HoldTicket): Promise<void> {
    return this.#host.act(session, async () => {
      for (let waited = 0; ; waited += HOLD_RETRY_MS) {
        const dialog = session.dialog;
        if ((session.status !== 'connected' && session.status !== 'held') || dialog === undefined || this.#host.isClosed()) return;
        if (ticket?.cancelled === true) return;
        // Held on the wire already (hold() done before): no second re-INVITE.
        if (dialog.media.media?.localHold === true) break;
        if (ticket !== undefined) ticket.sent = true;
        const result = await dialog.reinvite(true);
        if (ticket !== undefined) ticket.sent = result.ok || result.cause !== 'local';
        if (result.ok || result.cause !== 'local' || waited >= HOLD_RETRY_LIMIT_MS) break;
        await new Promise<void>((resolve) => this.#host.clock.setTimer(HOLD_RETRY_MS, resolve));
      }
      // Held, refused, or unanswered: held here (a call that ended has its own event).
      this.#host.sessions.change(session, 'held');
    });
  }

  /** Whether a call other than `session` is connected, dialling out, or about to connect (an answer or dial waiting for a hold). */
  #otherCallActive(session: Session): boolean {
    if (this.#holdWaits > 0) return true;
    return this.#host.sessions
      .all()
      .some((other) => other !== session && (other.status === 'connected' || (other.direction === 'outbound' && (other.status === 'dialing' || other.status === 'ringing'))));
  }

  /** The answered sessions connected now, `except` aside: what the rule holds. */
  #connectedOthers(except: Session): Session[] {
    return this.#host.sessions.all().filter((other) => other !== except && other.status === 'connected' && other.dialog !== undefined);
  }

  /** Settles when `work` does or after `ms`, whichever comes first. */
  #within(work: Promise<void>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#host.clock.setTimer(ms, resolve);
      void work.then(() => {
        this.#host.clock.clearTimer(timer);
        resolve();
      });
    });
  }
}

/** Settles when `work` does or when `signal` aborts, whichever comes first. */
function untilAborted(work: Promise<unknown>, signal: AbortSignal | undefined): Promise<unknown> {
  if (signal === undefined) return work;
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then((value) => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    });
  });
}
