/**
 * How many REGISTER exchanges (a REGISTER, its challenge and the answer) may
 * be in flight at once over all registrations. Ten thousand connections
 * starting together would otherwise put ten thousand REGISTERs on the wire in
 * a few milliseconds; the replies overflow the socket's receive buffer and
 * everything waits for retransmissions. A registration that finds the window
 * full waits in line; a freed slot goes to the first in line at once. (It
 * used to wake it through the timer heap: at least a millisecond per slot,
 * and the window ran partly empty.) Handovers run in a loop, not nested, so
 * a chain of exchanges that fail at once cannot grow the stack.
 */
export interface SlotWaiter {
  /** The window hands over a slot: use it, or give it back with release(). */
  takeSlot(): void;
}

export class FlightWindow {
  #active = 0;
  /** Waiters in arrival order from #head on; shift() on 10,000 waiters moved them all each time. */
  #waiting: Array<SlotWaiter | undefined> = [];
  #head = 0;
  /** Slots released while a handover runs: handed over by the loop in release(). */
  #freed = 0;
  #handingOver = false;

  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
    // Zero would never send anything, a fraction would round oddly: refuse both.
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${limit}`);
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  tryAcquire(): boolean {
    if (this.#active >= this.limit) return false;
    this.#active++;
    return true;
  }

  wait(waiter: SlotWaiter): void {
    this.#waiting.push(waiter);
  }

  release(): void {
    this.#active--;
    this.#freed++;
    if (this.#handingOver) return;
    this.#handingOver = true;
    try {
      while (this.#freed > 0) {
        this.#freed--;
        const next = this.#next();
        if (next === undefined) continue;
        this.#active++;
        next.takeSlot();
      }
    } finally {
      this.#freed = 0;
      this.#handingOver = false;
    }
  }

  #next(): SlotWaiter | undefined {
    if (this.#head === this.#waiting.length) return undefined;
    const next = this.#waiting[this.#head];
    this.#waiting[this.#head++] = undefined;
    // Compact once the consumed prefix is most of the array.
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    return next;
  }
}
