/**
 * What the four transaction machines share: events handled one at a time to
 * completion (an event raised while one is being handled, such as a transport
 * error reported from inside send(), waits its turn), one guarded transition()
 * that rejects moves its table does not list, and timers that belong to
 * states: leaving a state clears every timer the next state does not keep,
 * and a Terminated machine holds none. All time goes through the Clock.
 */
import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
import { setTimerOn, type Clock, type TimerHandle } from './clock.ts';
import type { TimerEvent } from './events.ts';

/** A move that the machine's table forbids: a bug in the machine, never a network condition. */
export class IllegalTransitionError extends SipEndpointError {
  override readonly name = 'IllegalTransitionError';
  readonly machine: string;
  readonly from: string;
  readonly to: string;

  constructor(
    machine: string,
    from: string,
    to: string,
  ) {
    super('ERR_ILLEGAL_TRANSITION', `${machine}: illegal transition ${from} -> ${to}`);
    this.machine = machine;
    this.from = from;
    this.to = to;
  }
}

export interface MachineTables<State extends string, Timer extends string> {
  /** Short name for errors: 'client-invite', ... */
  readonly name: string;
  readonly initial: State;
  /** Terminated: entering it calls onTerminated(). */
  readonly terminal: State;
  /** For each state, the states it may move to. */
  readonly moves: { readonly [S in State]: readonly State[] };
  /** For each state, the timers that may run in it. */
  readonly timers: { readonly [S in State]: readonly Timer[] };
}

// Not `implements TimerTarget`: onClockTimer is internal (stripped from the
// published types), and setTimerOn checks the shape where `this` is passed.
/** Timers a machine runs at once, at most. */
const MAX_TIMERS = 2;
/** Tables whose timer lists were checked against MAX_TIMERS (once each, not per machine). */
const checkedTables = new WeakSet<object>();

export abstract class StateMachine<State extends string, Event extends { readonly type: string }, Timer extends string> {
  #state: State;
  readonly #tables: MachineTables<State, Timer>;
  readonly #clock: Clock;
  /**
   * Running timers, at most two (MAX_TIMERS: every table lists at most two
   * per state), in two slots of fields: an array made per machine (a Map
   * before it, or arrays grown by push) was most of a transaction's garbage,
   * and 80 B of every transaction waiting 32 s.
   */
  #name0: Timer | undefined;
  #handle0: TimerHandle | undefined;
  #name1: Timer | undefined;
  #handle1: TimerHandle | undefined;
  #timerCount = 0;
  /** Events raised while one is being handled; made on first need (most machines never queue). */
  #queue: Array<Event | TimerEvent<Timer>> | undefined;
  #busy = false;

  constructor(clock: Clock, tables: MachineTables<State, Timer>) {
    if (!checkedTables.has(tables)) {
      for (const state of Object.keys(tables.timers) as State[]) {
        if (tables.timers[state].length > MAX_TIMERS) throw new Error(`${tables.name}: state ${state} lists more than ${MAX_TIMERS} timers`);
      }
      checkedTables.add(tables);
    }
    this.#clock = clock;
    this.#tables = tables;
    this.#state = tables.initial;
  }

  get state(): State {
    return this.#state;
  }

  /** Timers this machine holds right now (zero once Terminated). */
  get liveTimers(): number {
    return this.#timerCount;
  }

  /** True while a timer of that name is scheduled. */
  hasTimer(name: Timer): boolean {
    return this.#timerAt(name) >= 0;
  }

  /**
   * Feeds one event. Events are handled one at a time, to completion: one
   * raised while another is being handled is queued behind it. An exception
   * from the TU does not stop the queue; the first one is rethrown at the end.
   */
  handle(event: Event | TimerEvent<Timer>): void {
    if (this.#busy) {
      (this.#queue ??= []).push(event);
      return;
    }
    this.#busy = true;
    let failure: { error: unknown } | undefined;
    try {
      for (let next: Event | TimerEvent<Timer> | undefined = event; next !== undefined; next = this.#queue?.shift()) {
        try {
          // Every machine ends the same way when the layer closes: straight to Terminated, telling nobody.
          if (next.type === 'terminate') this.#terminate();
          else this.step(next);
        } catch (error) {
          failure ??= { error };
        }
      }
    } finally {
      this.#busy = false;
    }
    if (failure !== undefined) throw failure.error;
  }

  #terminate(): void {
    if (this.#state !== this.#tables.terminal) this.transition(this.#tables.terminal);
  }

  /** The machine's reaction to one event ('terminate' excepted: the base handles it); ignores events its state does not take. */
  protected abstract step(event: Event | TimerEvent<Timer>): void;

  /** Called once the machine has entered Terminated and dropped its timers. */
  protected abstract onTerminated(): void;

  /** Moves to another state: checked against the table; clears the timers the new state does not keep. */
  protected transition(to: State): void {
    const from = this.#state;
    if (!this.#tables.moves[from].includes(to)) throw new IllegalTransitionError(this.#tables.name, from, to);
    this.#state = to;
    const keep = this.#tables.timers[to];
    if (this.#timerCount > 1 && !keep.includes(this.#name1!)) this.#dropTimer(1, true);
    if (this.#timerCount > 0 && !keep.includes(this.#name0!)) this.#dropTimer(0, true);
    if (to === this.#tables.terminal) this.onTerminated();
  }

  /**
   * Starts (or restarts) a timer of the current state. A zero-length timer
   * fires at once: its event is queued behind the one being handled, and the
   * Clock is not involved.
   */
  protected startTimer(name: Timer, ms: number): void {
    if (!this.#tables.timers[this.#state].includes(name)) {
      throw new Error(`${this.#tables.name}: timer ${name} does not run in state ${this.#state}`);
    }
    this.stopTimer(name);
    if (ms <= 0) {
      (this.#queue ??= []).push({ type: 'timer', name });
      return;
    }
    // The machine itself is told which timer fired: a closure per timer cost more than the rest of startTimer.
    const handle = setTimerOn(this.#clock, ms, this);
    // A state's timers have distinct names, at most MAX_TIMERS of them (checked in the constructor).
    if (this.#timerCount === MAX_TIMERS) throw new Error(`${this.#tables.name}: more than ${MAX_TIMERS} timers at once`);
    if (this.#timerCount === 0) {
      this.#name0 = name;
      this.#handle0 = handle;
    } else {
      this.#name1 = name;
      this.#handle1 = handle;
    }
    this.#timerCount++;
  }

  /** @internal The clock: one of this machine's timers fired (one stopped or replaced since is ignored). */
  onClockTimer(handle: TimerHandle): void {
    const at = this.#timerCount > 0 && this.#handle0 === handle ? 0 : this.#timerCount > 1 && this.#handle1 === handle ? 1 : -1;
    if (at < 0) return;
    const name = (at === 0 ? this.#name0 : this.#name1)!;
    this.#dropTimer(at, false);
    this.handle({ type: 'timer', name });
  }

  protected stopTimer(name: Timer): void {
    const at = this.#timerAt(name);
    if (at >= 0) this.#dropTimer(at, true);
  }

  #timerAt(name: Timer): number {
    if (this.#timerCount > 0 && this.#name0 === name) return 0;
    if (this.#timerCount > 1 && this.#name1 === name) return 1;
    return -1;
  }

  /** Removes the timer in slot `at`; the second one moves into the first slot (order does not matter). */
  #dropTimer(at: number, clear: boolean): void {
    if (clear) this.#clock.clearTimer((at === 0 ? this.#handle0 : this.#handle1)!);
    if (at === 0) {
      this.#name0 = this.#name1;
      this.#handle0 = this.#handle1;
    }
    this.#name1 = undefined;
    this.#handle1 = undefined;
    this.#timerCount--;
  }
}
