/**
 * All registrations of a phone: one per connection, by connection id, sharing
 * one TimerHeap (one clock timer for any number of them) and one transaction
 * layer. All registrations are equal: start() of several in the same tick
 * sends their first REGISTERs in that order at the next turn of the heap,
 * whatever their users or sites (two connections with the same user on two
 * sites are two registrations).
 *
 *   const registrations = new RegistrationManager({ transactionLayer, clock, localEndpoint });
 *   registrations.onStatusChanged = (e) => ...;
 *   registrations.add(0, settings0); registrations.add(1, settings1);
 *   registrations.start(0); registrations.start(1);
 *   ...
 *   await registrations.close(); // unregisters what is registered
 */
import { StateError } from '../errors/sip-endpoint-error.ts';
import { checkHeaderValue } from '../parser/index.ts';
import type { Clock } from '../transaction/clock.ts';
import { cryptoRandom } from '../transaction/random.ts';
import type { Endpoint, TransportKind } from '../transport/types.ts';
import { FlightWindow } from './flight-window.ts';
import type { FlowProber } from './keep-alive.ts';
import { KeyedWaiters } from './keyed-waiters.ts';
import { Registration, type RegisterSender, type RegistrationContext, type RegistrationInfo } from './registration.ts';
import { DEFAULT_REFRESH_SPREAD } from './scheduler.ts';
import { resolveSettings, type RegistrationSettings } from './settings.ts';
import type { RegistrationId, RegistrationStatus, RegistrationStatusEvent } from './status.ts';
import { DEFAULT_BATCH, TimerHeap } from './timer-heap.ts';
import { rethrowLater } from '../transaction/rethrow.ts';

/** REGISTER exchanges in flight at once, by default: enough for thousands a second, few enough for a socket buffer. */
export const DEFAULT_MAX_IN_FLIGHT = 50;

export interface RegistrationManagerOptions {
  /** Where REGISTERs go (the TransactionLayer). */
  readonly transactionLayer: RegisterSender;
  readonly clock: Clock;
  /** The transport's local address per transport kind and registrar, for Contact (Transport.localEndpoint). */
  readonly localEndpoint: (transport: TransportKind, target: Endpoint) => Endpoint;
  /** Uniform in [0, 1) for Call-ID, tags, cnonces and jitter; crypto.getRandomValues by default. */
  readonly random?: () => number;
  readonly onStatusChanged?: (event: RegistrationStatusEvent) => void;
  /** Largest number of REGISTERs sent per clock callback (default 256). */
  readonly batchSize?: number;
  /** Largest number of REGISTER exchanges in flight at once over all registrations (default 100). */
  readonly maxInFlight?: number;
  /** Largest fraction by which the first refresh after registering is shortened (default 0.1; 0 = none). */
  readonly refreshSpread?: number;
  /** User-Agent header value; none by default. */
  readonly userAgent?: string;
  /** Keep-alive pings of TCP/TLS flows (Transport.probeFlow); without it a TCP/TLS keep-alive reports the site unanswered. */
  readonly probeFlow?: FlowProber;
  /** Keeps a registered connection's TCP/TLS flow open past the idle timeout (Transport.retainFlow). */
  readonly retainFlow?: (target: Endpoint, retain: boolean) => void;
}

export interface RegistrationStats {
  /** Registrations added and not removed. */
  readonly registrations: number;
  /** Registrations with a wake-up in the heap (at most one each). */
  readonly scheduled: number;
  /** Clock timers held: 0 or 1 whatever the number of registrations. */
  readonly clockTimers: number;
  /** REGISTERs in flight, removed registrations still unregistering included. */
  readonly inFlight: number;
  /** Removed registrations whose unregister is still in flight. */
  readonly draining: number;
}

export class RegistrationManager {
  /** Every status change of every registration, once. */
  onStatusChanged: ((event: RegistrationStatusEvent) => void) | undefined;
  readonly #registrations = new Map<RegistrationId, Registration>();
  /** Removed, with an unregister still in flight. */
  readonly #draining = new Set<Registration>();
  readonly #timers: TimerHeap;
  readonly #context: RegistrationContext;
  #idleWaiters: Array<() => void> = [];
  /** stop()/remove() promises waiting for their registration's unregister, by registration. */
  readonly #stopWaiters = new KeyedWaiters<Registration, void>();
  #closed = false;

  constructor(options: RegistrationManagerOptions) {
    const spread = options.refreshSpread ?? DEFAULT_REFRESH_SPREAD;
    if (!(spread >= 0 && spread < 1)) throw new RangeError(`refreshSpread must be in [0, 1), got ${spread}`);
    this.onStatusChanged = options.onStatusChanged;
    this.#timers = new TimerHeap(options.clock, options.batchSize ?? DEFAULT_BATCH);
    this.#context = {
      transactions: options.transactionLayer,
      clock: options.clock,
      random: options.random ?? cryptoRandom(),
      localEndpoint: options.localEndpoint,
      timers: this.#timers,
      refreshSpread: spread,
      userAgent: options.userAgent === undefined ? undefined : checkHeaderValue(options.userAgent, 'userAgent'),
      onStatus: (event) => this.#emit(event),
      onIdle: (registration) => this.#onIdle(registration),
      window: new FlightWindow(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT),
      probeFlow: options.probeFlow,
      retainFlow: options.retainFlow,
    };
  }

  /** Adds a connection's registration, `disabled` until start(). Throws on a used id or bad settings. */
  add(id: RegistrationId, settings: RegistrationSettings): void {
    if (this.#closed) throw new StateError('ERR_CLOSED', 'registration manager is closed');
    if (this.#registrations.has(id)) throw new StateError('ERR_STATE', `registration ${String(id)} exists already`);
    this.#registrations.set(id, new Registration(id, resolveSettings(settings), this.#context));
  }

  /** Starts (or restarts a `failed`) registration: `registering`, first REGISTER at the next heap turn. */
  start(id: RegistrationId): void {
    const registration = this.#get(id);
    registration.start();
    // A stop() still unregistering is overtaken: its promise has nothing more to wait for.
    this.#stopWaiters.settle(registration, undefined);
  }

  /**
   * Stops: `disabled`, and unregisters when registered. Resolves (never
   * rejects) once nothing is in flight or waiting any more: the unregister
   * answered or timed out (bounded by the transaction timeout), or start()
   * came first.
   */
  stop(id: RegistrationId): Promise<void> {
    const registration = this.#get(id);
    registration.stop();
    return this.#whenStopped(registration);
  }

  /** Stops and forgets; an unregister in flight runs to its end, and the promise resolves then, as stop()'s. Unknown ids are ignored. */
  remove(id: RegistrationId): Promise<void> {
    const registration = this.#registrations.get(id);
    if (registration === undefined) return Promise.resolve();
    this.#registrations.delete(id);
    registration.stop();
    if (registration.busy) this.#draining.add(registration);
    return this.#whenStopped(registration);
  }

  /** A request other than REGISTER found the site down (Registration.siteDown); unknown ids are ignored. */
  siteDown(id: RegistrationId, code: number, reason: string): void {
    this.#registrations.get(id)?.siteDown(code, reason);
  }

  has(id: RegistrationId): boolean {
    return this.#registrations.has(id);
  }

  ids(): RegistrationId[] {
    return [...this.#registrations.keys()];
  }

  statusOf(id: RegistrationId): RegistrationStatus | undefined {
    return this.#registrations.get(id)?.status;
  }

  info(id: RegistrationId): RegistrationInfo | undefined {
    return this.#registrations.get(id)?.info();
  }

  stats(): RegistrationStats {
    let inFlight = 0;
    for (const registration of this.#registrations.values()) if (registration.inFlight) inFlight++;
    for (const registration of this.#draining) if (registration.inFlight) inFlight++;
    return {
      registrations: this.#registrations.size,
      scheduled: this.#timers.size,
      clockTimers: this.#timers.clockTimers,
      inFlight,
      draining: this.#draining.size,
    };
  }

  /**
   * Removes every registration (unregistering those registered) and resolves
   * when no unregister is in flight any more (bounded by the transaction
   * timeout). Nothing can be added afterwards.
   */
  close(): Promise<void> {
    this.#closed = true;
    for (const id of [...this.#registrations.keys()]) this.remove(id);
    if (this.#draining.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * After close(), once the transaction layer is closed too: unregisters that
   * will never be answered are forgotten, every wake-up is dropped, and
   * close()'s promise resolves. Nothing is left.
   */
  destroy(): void {
    this.#closed = true;
    for (const registration of this.#draining) registration.abandon();
    this.#draining.clear();
    for (const registration of this.#registrations.values()) registration.abandon();
    this.#timers.clear();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
    this.#stopWaiters.settleAll(() => undefined);
  }

  #get(id: RegistrationId): Registration {
    const registration = this.#registrations.get(id);
    if (registration === undefined) throw new StateError('ERR_STATE', `no registration ${String(id)}`);
    return registration;
  }

  #whenStopped(registration: Registration): Promise<void> {
    return registration.busy ? this.#stopWaiters.wait(registration) : Promise.resolve();
  }

  #onIdle(registration: Registration): void {
    this.#stopWaiters.settle(registration, undefined);
    if (!this.#draining.delete(registration) || this.#draining.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #emit(event: RegistrationStatusEvent): void {
    const listener = this.onStatusChanged;
    if (listener === undefined) return;
    try {
      listener(event);
    } catch (error) {
      // A throwing listener must not leave a registration half-way through a
      // transition: report it outside this call stack.
      rethrowLater(error);
    }
  }
}
