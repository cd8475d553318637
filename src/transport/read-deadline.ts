/**
 * The read side's deadline of one connection: a message must arrive whole
 * within `messageDeadlineMs` of its first byte, and not trickle slower than
 * `minMessageBytesPerSec` (checked from RATE_GRACE_MS on). An incoming
 * connection must deliver its first message within the deadline of its
 * accept. Without these, a peer sending one byte per 100 ms (slowloris), or
 * nothing at all, keeps a connection slot forever: the idle timeout only
 * sees that bytes arrive.
 *
 * No timer runs while no message is in progress: a message that arrives in
 * one chunk never arms one.
 */

export type ExpiryReason = 'message-deadline' | 'message-rate';

export interface DeadlineSettings {
  readonly messageDeadlineMs: number;
  /** 0: no rate check. */
  readonly minMessageBytesPerSec: number;
}

/** A message this young is never judged by its rate: one slow segment is not an attack. */
export const RATE_GRACE_MS = 2000;
/** How often the rate of a message in progress is checked. */
const CHECK_EVERY_MS = 1000;

export class ReadDeadline {
  /** performance.now() of the current message's first byte (or of the accept), -1 when none is due. */
  #since = -1;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** An incoming connection that has not delivered a message yet: keep-alive CRLFs do not count. */
  #awaitingFirst = false;

  private readonly settings: DeadlineSettings;
  /** Bytes held of the message in progress. */
  private readonly held: () => number;
  private readonly onExpired: (why: ExpiryReason, afterMs: number) => void;

  constructor(
    settings: DeadlineSettings,
    held: () => number,
    onExpired: (why: ExpiryReason, afterMs: number) => void,
  ) {
    this.settings = settings;
    this.held = held;
    this.onExpired = onExpired;
  }

  /** An incoming connection: its first message is due within the deadline from now. */
  awaitFirstMessage(): void {
    this.#awaitingFirst = true;
    this.#since = performance.now();
    this.#arm();
  }

  /** After a chunk was framed: `delivered` when it completed at least one message. */
  afterChunk(delivered: boolean): void {
    if (this.#stopped) return;
    const held = this.held();
    if (delivered) {
      this.#awaitingFirst = false;
      // What is held now (if anything) is a new message, starting now.
      this.#since = held > 0 ? performance.now() : -1;
    } else if (held > 0) {
      if (this.#since < 0) this.#since = performance.now();
    } else if (!this.#awaitingFirst) {
      this.#since = -1;
    }
    if (this.#since < 0) this.#clear();
    else if (this.#timer === undefined) this.#arm();
  }

  /** Reading stopped on our side (the peer does not read us): no deadline until afterChunk() again. */
  suspend(): void {
    this.#since = -1;
    this.#clear();
  }

  stop(): void {
    this.#stopped = true;
    this.#clear();
  }

  #arm(): void {
    const elapsed = performance.now() - this.#since;
    const left = this.settings.messageDeadlineMs - elapsed;
    const next = this.settings.minMessageBytesPerSec > 0 ? Math.min(left, Math.max(CHECK_EVERY_MS, RATE_GRACE_MS - elapsed)) : left;
    this.#timer = setTimeout(() => this.#check(), Math.max(1, next));
    this.#timer.unref?.();
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#stopped || this.#since < 0) return;
    const elapsed = performance.now() - this.#since;
    if (elapsed >= this.settings.messageDeadlineMs) return this.onExpired('message-deadline', elapsed);
    const held = this.held();
    const min = this.settings.minMessageBytesPerSec;
    if (min > 0 && held > 0 && elapsed >= RATE_GRACE_MS && (held * 1000) / elapsed < min) return this.onExpired('message-rate', elapsed);
    this.#arm();
  }

  #clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
