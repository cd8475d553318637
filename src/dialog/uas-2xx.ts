/**
 * A 2xx of ours to an INVITE (initial or re-INVITE), waiting for its ACK
 * (RFC 3261 s13.3.1.4, RFC 6026): "the 2xx response is passed to the
 * transport with an interval that starts at T1 seconds and doubles for each
 * retransmission until it reaches T2 seconds ... The retransmissions cease
 * when ACK is received." and "If the server retransmits the 2xx response for
 * 64*T1 seconds without receiving an ACK, the dialog is confirmed, but the
 * session SHOULD be terminated" (the owner sends the BYE). Retransmitted over
 * every transport: a proxy may carry it on over UDP.
 */
import { setTimerOn, type Clock, type TimerHandle } from '../transaction/clock.ts';

// Not `implements TimerTarget`: onClockTimer is internal (stripped from the published types).
export class Pending2xx {
  readonly cseq: number;
  #resendTimer: TimerHandle | undefined;
  #deadline: TimerHandle | undefined;
  #interval: number;
  #done = false;

  private readonly clock: Clock;
  private readonly timers: { readonly T1: number; readonly T2: number };
  private readonly resend: () => void;
  private readonly onNoAck: () => void;

  constructor(
    clock: Clock,
    cseq: number,
    timers: { readonly T1: number; readonly T2: number },
    resend: () => void,
    onNoAck: () => void,
  ) {
    this.clock = clock;
    this.timers = timers;
    this.resend = resend;
    this.onNoAck = onNoAck;
    this.cseq = cseq;
    this.#interval = timers.T1;
    this.#resendTimer = this.#setTimer(this.#interval);
    this.#deadline = this.#setTimer(64 * timers.T1);
  }

  /** Live clock timers (0 once settled). */
  get liveTimers(): number {
    return (this.#resendTimer === undefined ? 0 : 1) + (this.#deadline === undefined ? 0 : 1);
  }

  /** The ACK came: no more retransmissions. */
  acked(): void {
    this.stop();
  }

  /** Stops every timer (ACK, dialog ended). */
  stop(): void {
    this.#done = true;
    this.clock.clearTimer(this.#resendTimer);
    this.clock.clearTimer(this.#deadline);
    this.#resendTimer = this.#deadline = undefined;
  }

  /** @internal The clock: one of our two timers fired (a cleared one never does). */
  onClockTimer(handle: TimerHandle): void {
    if (handle === this.#resendTimer) this.#onResend();
    else if (handle === this.#deadline) this.#onDeadline();
  }

  /** Told through onClockTimer: no closure per timer where the clock allows. */
  #setTimer(ms: number): TimerHandle {
    return setTimerOn(this.clock, ms, this);
  }

  #onResend(): void {
    this.#resendTimer = undefined;
    if (this.#done) return;
    this.resend();
    this.#interval = Math.min(2 * this.#interval, this.timers.T2);
    this.#resendTimer = this.#setTimer(this.#interval);
  }

  #onDeadline(): void {
    this.#deadline = undefined;
    if (this.#done) return;
    this.stop();
    this.onNoAck();
  }
}
