/**
 * One registration: one connection's binding at one registrar (RFC 3261
 * s10.2), kept alive on the connection's own schedule and retried while its
 * site is down. Statuses and their changes: status.ts; timing: scheduler.ts;
 * digest: digest-client.ts; the request: register-request.ts.
 *
 * Inputs are start(), stop(), the wake-up of its one TimerHeap entry (send
 * the next REGISTER: first, refresh or retry) and the final outcome of the
 * REGISTER in flight. At most one REGISTER is in flight: s10.2 "A UA MUST NOT
 * send a new registration ... until it has received a final response from
 * the registrar for the previous one or the previous REGISTER request has
 * timed out." So a stop() or start() during a transaction takes effect when
 * its final outcome comes:
 *
 * - stopped, and the REGISTER in flight registered us: unregister at once;
 * - started again while an unregister is in flight: register after it.
 *
 * The final outcome may come back inside sendRequest() (a transport error
 * raised by send()); every path tolerates that.
 */
import type { MessageParts, SipMessage } from '../parser/index.ts';
import type { Clock } from '../transaction/clock.ts';
import type { ClientOutcome, ClientTransactionUser } from '../transaction/user.ts';
import type { Endpoint, TransportKind } from '../transport/types.ts';
import { DigestClient } from './digest-client.ts';
import { KeepAlive, type FlowProber } from './keep-alive.ts';
import { randomHex } from './random-hex.ts';
import { contactUri, grantedExpires, registerIdentity, registerParts, type RegisterIdentity } from './register-request.ts';
import { refreshDelayMs, requestedExpires, retryDelayMs } from './scheduler.ts';
import { MAX_EXPIRES_SECONDS, type ResolvedSettings } from './settings.ts';
import { classifyOutcome, outcomeReason, type OutcomeClass, type RegistrationId, type RegistrationStatus, type RegistrationStatusEvent } from './status.ts';
import type { FlightWindow } from './flight-window.ts';
import { heapEntry, type HeapEntry, type TimerHeap } from './timer-heap.ts';

/** The part of the transaction layer a registration uses (TransactionLayer fits). */
export interface RegisterSender {
  sendRequest(parts: MessageParts, target: Endpoint, user: ClientTransactionUser, options?: { readonly rport?: boolean }): unknown;
}

export interface RegistrationContext {
  readonly transactions: RegisterSender;
  readonly clock: Clock;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  /** Local address for the Contact, per transport and registrar (an IPv6 registrar gets our IPv6 address). */
  readonly localEndpoint: (transport: TransportKind, target: Endpoint) => Endpoint;
  readonly timers: TimerHeap;
  /** Fraction by which the first refresh after registering is shortened at most (scheduler.ts). */
  readonly refreshSpread: number;
  readonly userAgent: string | undefined;
  /** Every status change, once. */
  readonly onStatus: (event: RegistrationStatusEvent) => void;
  /** Stopped, with nothing in flight and nothing scheduled. */
  readonly onIdle: (registration: Registration) => void;
  /** Caps the REGISTER exchanges in flight across all registrations. */
  readonly window: FlightWindow;
  /** Keep-alive pings of TCP/TLS flows (Transport.probeFlow), when the transport has them. */
  readonly probeFlow: FlowProber | undefined;
  /** Keeps our TCP/TLS flow to the site open while registered (Transport.retainFlow). */
  readonly retainFlow: ((target: Endpoint, retain: boolean) => void) | undefined;
}

/** A snapshot for the SDK's connection collection. */
export interface RegistrationInfo {
  readonly id: RegistrationId;
  readonly status: RegistrationStatus;
  /** SIP code and reason of the last outcome (or of the last change). */
  readonly code: number | undefined;
  readonly reason: string | undefined;
  /** Expiry granted by the registrar, seconds, while registered. */
  readonly expires: number | undefined;
  /** Clock time (ms) at which the binding runs out, while registered. */
  readonly expiresAt: number | undefined;
  /** Clock time (ms) of the next REGISTER (refresh or retry), when one is scheduled. */
  readonly nextAttemptAt: number | undefined;
  /** Consecutive attempts the site did not answer. */
  readonly failures: number;
  readonly aor: string;
  readonly callId: string;
  readonly cseq: number;
  /** A REGISTER (or an unregister) is in flight. */
  readonly inFlight: boolean;
}

/** One REGISTER in flight; it is its transaction's user too (no closure per REGISTER). */
class Sent implements ClientTransactionUser {
  readonly expires: number;
  readonly contact: string;
  private readonly registration: Registration;

  constructor(
    expires: number,
    contact: string,
    registration: Registration,
  ) {
    this.expires = expires;
    this.contact = contact;
    this.registration = registration;
  }

  onFinal(outcome: ClientOutcome): void {
    this.registration.settle(this, outcome);
  }
}

const WITH_RPORT = Object.freeze({ rport: true });
const WITHOUT_RPORT = Object.freeze({ rport: false });

/** 423 answers followed in one cycle before giving up. */
const MAX_INTERVAL_RETRIES = 2;

export class Registration {
  readonly id: RegistrationId;
  readonly settings: ResolvedSettings;
  readonly identity: RegisterIdentity;
  readonly #ctx: RegistrationContext;
  readonly #entry: HeapEntry;
  readonly #digest: DigestClient;
  #enabled = false;
  #status: RegistrationStatus = 'disabled';
  #code: number | undefined;
  #reason: string | undefined;
  #cseq = 0;
  #inFlight: Sent | undefined;
  /** Holds a slot of the flight window (from the first REGISTER of an exchange to its end). */
  #slot = false;
  /** In the flight window's line, waiting for a slot. */
  #waitingForSlot = false;
  /** Contact to unregister, waiting for a slot after stop(). */
  #unregister: string | undefined;
  /** Clock time the first REGISTER of the current cycle was sent: refreshes count from it. */
  #cycleStart = 0;
  #failures = 0;
  #intervalRetries = 0;
  /** The Expires we ask for: requestedExpires(P), raised by a 423's Min-Expires. */
  #asked: number;
  #granted: number | undefined;
  /** The Contact registered by the last 2xx (what an unregister removes). */
  #bound: string | undefined;
  /** Probes while registered, when the connection asks for keep-alive. */
  readonly #keepAlive: KeepAlive | undefined;

  constructor(id: RegistrationId, settings: ResolvedSettings, context: RegistrationContext) {
    this.id = id;
    this.settings = settings;
    this.#ctx = context;
    this.identity = registerIdentity(settings, randomHex(context.random, 12), randomHex(context.random, 6));
    this.#entry = heapEntry(() => this.#onWake());
    this.#digest = new DigestClient(
      settings.password === undefined ? undefined : { username: settings.authUsername, password: settings.password },
      context.random,
    );
    this.#asked = requestedExpires(settings.reregisterInSeconds);
    this.#keepAlive = settings.keepAliveSeconds === undefined ? undefined : new KeepAlive(this.#keepAliveOwner(), context, settings.keepAliveSeconds);
  }

  #keepAliveOwner() {
    return {
      settings: this.settings,
      identity: this.identity,
      canProbe: (): boolean => this.#enabled && this.#status === 'registered' && this.#inFlight === undefined,
      onUnanswered: (code: 408 | 503, reason: string): void => this.siteDown(code, reason),
    };
  }

  /**
   * Another request to the site failed as a down site fails (an INVITE timed
   * out, 503, a transport error): while registered, the connection becomes
   * `unavailable` and the retry schedule takes over. A REGISTER in flight
   * reports on the site itself, so nothing changes then.
   */
  siteDown(code: number, reason: string): void {
    if (!this.#enabled || this.#status !== 'registered' || this.#inFlight !== undefined) return;
    this.#onUnavailable(code, reason);
  }

  get status(): RegistrationStatus {
    return this.#status;
  }

  /** A transaction in flight or a wake-up scheduled. */
  get busy(): boolean {
    return this.#inFlight !== undefined || this.#unregister !== undefined || this.#ctx.timers.has(this.#entry);
  }

  get inFlight(): boolean {
    return this.#inFlight !== undefined;
  }

  info(): RegistrationInfo {
    const registered = this.#status === 'registered';
    return {
      id: this.id,
      status: this.#status,
      code: this.#code,
      reason: this.#reason,
      expires: registered ? this.#granted : undefined,
      expiresAt: registered && this.#granted !== undefined ? this.#cycleStart + this.#granted * 1000 : undefined,
      nextAttemptAt: this.#ctx.timers.has(this.#entry) ? this.#entry.due : undefined,
      failures: this.#failures,
      aor: this.identity.aor,
      callId: this.identity.callId,
      cseq: this.#cseq,
      inFlight: this.#inFlight !== undefined,
    };
  }

  /** Starts registering (at the next turn of the timer heap); also restarts a `failed` one. */
  start(): void {
    if (this.#enabled && this.#status !== 'failed') return;
    this.#enabled = true;
    this.#failures = 0;
    this.#intervalRetries = 0;
    // An unregister still waiting for a slot is moot: we register the same contact again.
    this.#unregister = undefined;
    // With an unregister (or an old REGISTER) in flight, its outcome starts us.
    if (this.#inFlight === undefined) this.#ctx.timers.schedule(this.#entry, 0);
    this.#setStatus('registering', undefined, undefined);
  }

  /** Stops: no more REGISTERs; unregisters (Expires: 0, our contact only) when registered. */
  stop(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    // Registered, or registering again after a stop that had not yet sent its unregister (stop, start,
    // stop in one turn): our binding is still at the registrar (#granted is cleared whenever it is not).
    const bindingHeld = this.#status === 'registered' || this.#granted !== undefined;
    this.#ctx.timers.cancel(this.#entry);
    this.#failures = 0;
    if (this.#inFlight === undefined) {
      if (bindingHeld && this.#bound !== undefined) {
        this.#unregister = this.#bound;
        this.#ctx.timers.schedule(this.#entry, 0);
      } else {
        this.#granted = undefined;
      }
    }
    this.#setStatus('disabled', undefined, undefined);
    this.#checkIdle();
  }

  /** @internal The transaction layer is gone: forget what is in flight and scheduled, no event. */
  abandon(): void {
    this.#enabled = false;
    this.#inFlight = undefined;
    this.#unregister = undefined;
    this.#waitingForSlot = false;
    if (this.#slot) {
      this.#slot = false;
      this.#ctx.window.release();
    }
    this.#ctx.timers.cancel(this.#entry);
    this.#keepAlive?.stop();
  }

  /**
   * @internal The flight window hands this registration a slot. Used when it
   * is still waiting for one (its wake-up found the window full); given back
   * otherwise, or when the exchange it wanted has nothing to send any more.
   */
  takeSlot(): void {
    if (!this.#waitingForSlot || this.#slot) {
      this.#ctx.window.release();
      return;
    }
    this.#waitingForSlot = false;
    this.#slot = true;
    this.#onWake();
    this.#releaseIfDone();
  }

  /** Takes a slot of the flight window, or waits in line for one (once). */
  #acquire(): boolean {
    if (this.#slot) return true;
    if (!this.#ctx.window.tryAcquire()) {
      if (!this.#waitingForSlot) {
        this.#waitingForSlot = true;
        this.#ctx.window.wait(this);
      }
      return false;
    }
    // A place still held in line is moot now: takeSlot() will pass that slot on.
    this.#waitingForSlot = false;
    this.#slot = true;
    return true;
  }

  /** Gives the slot back once nothing of the exchange is in flight any more. */
  #releaseIfDone(): void {
    if (this.#slot && this.#inFlight === undefined) {
      this.#slot = false;
      this.#ctx.window.release();
    }
  }

  #onWake(): void {
    if (this.#inFlight !== undefined) return;
    if (!this.#enabled) {
      // A stop() of a registered connection: the unregister, paced like any exchange.
      const contact = this.#unregister;
      if (contact === undefined || !this.#acquire()) return;
      this.#unregister = undefined;
      this.#send(0, contact);
      return;
    }
    if (!this.#acquire()) return;
    this.#cycleStart = this.#ctx.clock.now();
    this.#intervalRetries = 0;
    this.#send(this.#asked, contactUri(this.settings, this.#ctx.localEndpoint(this.settings.target.transport, this.settings.target)));
  }

  #send(expires: number, contact: string): void {
    const sent = new Sent(expires, contact, this);
    const settings = this.settings;
    const parts = registerParts({
      identity: this.identity,
      settings,
      cseq: ++this.#cseq,
      contactUri: contact,
      expires,
      credentials: this.#digest.headersFor({ method: 'REGISTER', uri: this.identity.requestUri }),
      userAgent: this.#ctx.userAgent,
    });
    this.#inFlight = sent;
    try {
      this.#ctx.transactions.sendRequest(parts, settings.target, sent, settings.useRport ? WITH_RPORT : WITHOUT_RPORT);
    } catch (error) {
      // The layer refused the request (closed, ...): as a transport error.
      if (this.#inFlight === sent) {
        this.#inFlight = undefined;
        this.#onResult(sent, 'unavailable', 503, `cannot send: ${error instanceof Error ? error.message : String(error)}`, undefined);
        this.#releaseIfDone();
      }
    }
  }

  /**
   * The outcome of a REGISTER this registration sent (called by its Sent).
   * @internal
   */
  settle(sent: Sent, outcome: ClientOutcome): void {
    if (this.#inFlight !== sent) return;
    this.#inFlight = undefined;
    this.#onResult(sent, classifyOutcome(outcome), outcome.status, outcomeReason(outcome), outcome.cause === 'response' ? outcome.response : undefined);
    this.#releaseIfDone();
  }

  #onResult(sent: Sent, kind: OutcomeClass, code: number, reason: string, response: SipMessage | undefined): void {
    if (sent.expires === 0) return this.#onUnregistered(sent, kind, response);
    if (!this.#enabled) {
      // Stopped while this REGISTER was in flight.
      this.#digest.onAnswered();
      if (kind === 'success') return this.#send(0, sent.contact);
      this.#granted = undefined;
      return this.#checkIdle();
    }
    switch (kind) {
      case 'success':
        return this.#onRegistered(sent, code, reason, response!);
      case 'challenge': {
        const verdict = this.#digest.onChallenge(response!);
        if (verdict.retry) return this.#send(sent.expires, sent.contact);
        return this.#fail(code, verdict.reason);
      }
      case 'interval': {
        // RFC 3261 s10.3 step 7 / s21.4.17: the registrar wants a longer
        // expiry; "the UAC MAY retry with an expiration interval greater than
        // or equal to" the Min-Expires.
        const minimum = minExpiresOf(response!);
        if (minimum !== undefined && minimum > MAX_EXPIRES_SECONDS) {
          return this.#fail(code, `${reason}: Min-Expires ${minimum} is above the most we ask for (${MAX_EXPIRES_SECONDS} s)`);
        }
        if (minimum !== undefined && minimum > sent.expires && ++this.#intervalRetries <= MAX_INTERVAL_RETRIES) {
          this.#asked = minimum;
          return this.#send(minimum, sent.contact);
        }
        return this.#fail(code, minimum === undefined ? `${reason} without a usable Min-Expires` : reason);
      }
      case 'unavailable':
        return this.#onUnavailable(code, reason);
      case 'failed':
        this.#digest.onAnswered();
        return this.#fail(code, reason);
    }
  }

  #onRegistered(sent: Sent, code: number, reason: string, response: SipMessage): void {
    const granted = grantedExpires(response, sent.contact, this.settings, sent.expires);
    // RFC 3261 s10.2.4: expires=0 for our contact means the binding is gone: not registered, retried like a down site.
    if (granted === 0) return this.#onUnavailable(code, `${reason}: the registrar granted expires=0 for our contact`);
    this.#digest.onAnswered();
    this.#failures = 0;
    this.#granted = Math.min(granted, MAX_EXPIRES_SECONDS);
    this.#bound = sent.contact;
    const first = this.#status !== 'registered';
    const delay = refreshDelayMs(this.settings.reregisterInSeconds, this.#granted, this.#ctx.refreshSpread, this.#ctx.random, first);
    this.#ctx.timers.scheduleAt(this.#entry, this.#cycleStart + delay);
    this.#setStatus('registered', code, reason);
  }

  #onUnavailable(code: number, reason: string): void {
    this.#digest.onAnswered();
    this.#granted = undefined;
    this.#failures++;
    const { minimumRetrySeconds, maximumRetrySeconds } = this.settings;
    this.#ctx.timers.schedule(this.#entry, retryDelayMs(this.#failures, minimumRetrySeconds, maximumRetrySeconds, this.#ctx.random));
    this.#setStatus('unavailable', code, reason);
  }

  #fail(code: number, reason: string): void {
    this.#granted = undefined;
    this.#failures = 0;
    this.#ctx.timers.cancel(this.#entry);
    this.#setStatus('failed', code, reason);
  }

  #onUnregistered(sent: Sent, kind: OutcomeClass, response: SipMessage | undefined): void {
    if (kind === 'challenge' && this.#digest.onChallenge(response!).retry) return this.#send(0, sent.contact);
    if (kind !== 'challenge') this.#digest.onAnswered();
    this.#granted = undefined;
    this.#bound = undefined;
    if (this.#enabled) this.#ctx.timers.schedule(this.#entry, 0);
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (!this.#enabled && !this.busy) this.#ctx.onIdle(this);
  }

  #setStatus(status: RegistrationStatus, code: number | undefined, reason: string | undefined): void {
    this.#code = code;
    this.#reason = reason;
    const previous = this.#status;
    if (previous === status) return;
    this.#status = status;
    if (status === 'registered') this.#keepAlive?.start();
    else this.#keepAlive?.stop();
    // The site reaches us for calls over the flow we registered on: it must outlive the idle timeout.
    if (this.settings.target.transport !== 'udp' && (status === 'registered' || previous === 'registered')) {
      this.#ctx.retainFlow?.(this.settings.target, status === 'registered');
    }
    this.#ctx.onStatus({ id: this.id, status, previous, code, reason });
  }
}

function minExpiresOf(response: SipMessage): number | undefined {
  try {
    return response.minExpires;
  } catch {
    return undefined;
  }
}
