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

/**
 * The hold of one connected call for the new calls that wait on it: one
 * re-INVITE however many wait. `cancelled` stops it before it leaves;
 * `kept` says a waiter went on, so it stays whatever the others do.
 */
interface SharedHold {
  readonly session: Session;
  /** Settles when the hold is over (sent and answered, refused, cancelled, or not needed). */
  done: Promise<void>;
  waiters: number;
  kept: boolean;
  cancelled: boolean;
}

/** A hold blocked by an INVITE exchange in progress is tried again this often, for at most 64*T1 (RFC 3261 defaults). */
const HOLD_RETRY_MS = 200;
const HOLD_RETRY_LIMIT_MS = 32_000;

export class ActiveCallRule {
  readonly #host: ActiveCallHost;
  /** The holds new calls wait on now, by held session (an entry while any waiter is on it). */
  readonly #holds = new Map<Session, SharedHold>();
  /** Counts the user's answers, dials and retrieves: a give-back yields to any made after it was decided. */
  #epoch = 0;

  constructor(host: ActiveCallHost) {
    this.#host = host;
  }

  /** The user asked for a call to go on (an answer, dial or retrieve that passed its checks). */
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
   * times out ends that call SipError 408.
   *
   * When the wait is over and the new call is not wanted any more
   * (`signal` aborted, or `stillWanted()` false: its caller hung up), and
   * no other new call waits on the same hold or went on with it, that hold
   * is undone (#undo).
   */
  async holdOthers(except: Session, stillWanted: () => boolean, signal?: AbortSignal): Promise<void> {
    const holding = this.#connectedOthers(except);
    if (holding.length === 0) return;
    const holds = holding.map((session) => this.#join(session));
    const waits: Array<Promise<void>> = [];
    for (const hold of holds) {
      const id = hold.session.connectionId;
      const settings = this.#host.connections.settingsOf(id);
      if (!this.#host.connections.isUsable(id) || settings === undefined) continue;
      waits.push(this.#within(hold.done, settings.dialFailoverTimeoutMs));
    }
    await untilAborted(Promise.all(waits), signal);
    const wanted = signal?.aborted !== true && stillWanted();
    for (const hold of holds) this.#leave(hold, wanted);
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
      void this.#host.act(other, () => this.#sendHold(other)).catch(() => undefined);
    }
  }

  /** The shared hold of `session` (made and started by the first waiter), one more waiter on it. */
  #join(session: Session): SharedHold {
    let hold = this.#holds.get(session);
    if (hold === undefined) {
      const made: SharedHold = { session, done: Promise.resolve(), waiters: 0, kept: false, cancelled: false };
      made.done = this.#host.act(session, () => this.#sendHold(session, made)).catch(() => undefined);
      this.#holds.set(session, made);
      hold = made;
    }
    hold.waiters++;
    return hold;
  }

  /** A waiter is done with `hold`: it went on (`wanted`: the call is held now) or not (the last one out undoes it). */
  #leave(hold: SharedHold, wanted: boolean): void {
    hold.waiters--;
    if (wanted) {
      hold.kept = true;
      this.#host.sessions.change(hold.session, 'held');
    }
    if (hold.waiters > 0) return;
    this.#holds.delete(hold.session);
    if (!hold.kept) this.#undo(hold);
  }

  /**
   * No new call went on with `hold`: it is cancelled if it has not left and,
   * once it is over (in the session's action queue), the call goes back on:
   * with a re-INVITE a=sendrecv if it was held on the wire, else as it was
   * (it never stopped). The user's next action wins: an answer, dial or
   * retrieve made since, or another call connected, dialling out or waiting
   * for a hold, leaves it as that action needs it (held again on the wire if
   * the re-INVITE a=sendrecv was already out).
   */
  #undo(hold: SharedHold): void {
    hold.cancelled = true;
    const { session } = hold;
    const epoch = this.#epoch;
    const movedOn = (): boolean => this.#epoch !== epoch || this.#otherCallActive(session);
    void this.#host
      .act(session, async () => {
        const dialog = session.dialog;
        if (dialog === undefined || session.status === 'disconnected' || movedOn()) return;
        if (dialog.media.media?.localHold !== true) {
          this.#host.sessions.change(session, 'connected');
          return;
        }
        const result = await dialog.reinvite(false);
        if (!result.ok) return;
        // Here, not queued: a retrieve() of this call queued meanwhile must come after it.
        if (movedOn()) return this.#sendHold(session);
        this.yieldTo(session);
        this.#host.sessions.change(session, 'connected');
      })
      .catch(() => undefined);
  }

  /**
   * The hold of a call for another one (run in the session's action queue):
   * the re-INVITE a=sendonly for a session that is connected, or already
   * held on our side only (its hold was not answered in time); refused or
   * unanswered, the session stays held here. One that could not leave yet
   * (s14.1: another INVITE exchange of the dialog in progress) is sent when
   * that one is over: tried again every HOLD_RETRY_MS, at most 64*T1 in
   * all. A shared `hold` cancelled before the re-INVITE leaves sends nothing.
   */
  async #sendHold(session: Session, hold?: SharedHold): Promise<void> {
    for (let waited = 0; ; waited += HOLD_RETRY_MS) {
      const dialog = session.dialog;
      if ((session.status !== 'connected' && session.status !== 'held') || dialog === undefined || this.#host.isClosed()) return;
      if (hold?.cancelled === true) return;
      // Held on the wire already (hold() done before): no second re-INVITE.
      if (dialog.media.media?.localHold === true) break;
      const result = await dialog.reinvite(true);
      if (result.ok || result.cause !== 'local' || waited >= HOLD_RETRY_LIMIT_MS) break;
      await new Promise<void>((resolve) => this.#host.clock.setTimer(HOLD_RETRY_MS, resolve));
    }
    // Held, refused, or unanswered: held here (a call that ended has its own event).
    this.#host.sessions.change(session, 'held');
  }

  /** Whether a call other than `session` is connected, dialling out, or about to connect (an answer or dial waiting for a hold). */
  #otherCallActive(session: Session): boolean {
    if (this.#holds.size > 0) return true;
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
