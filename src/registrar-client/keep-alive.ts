/**
 * Keep-alive of one registered connection (DESIGN.md
 * `send_sip_keep_alive_messages`): while registered, a probe every
 * `keep_alive_interval_in_seconds`. Over UDP the probe is an OPTIONS to the
 * registrar (Request-URI `sip:DOMAIN`, our AOR in From and To, a new branch
 * each time); any final answer, 200 or 404 or 501 alike, says the site is
 * alive. Over TCP/TLS it is the RFC 5626 s4.4.1 CRLFCRLF ping on the
 * connection's flow, answered by a CRLF pong.
 *
 * A probe not answered within min(interval, 10 s) reports the site down
 * with 408 (RFC 3261 s8.1.3.1: a timeout is a 408); one that fails at once
 * (ICMP unreachable, a reset or missing flow) with 503 (a transport error).
 * The registration becomes `unavailable` and its retry schedule takes over.
 *
 * Timing lives on the registrations' TimerHeap (one clock timer for every
 * probe of every connection): one entry per connection, moved between "next
 * probe" and "this probe's deadline". Probes are counted from when they were
 * sent, so round trips do not make the period drift.
 */
import type { MessageParts } from '../parser/index.ts';
import type { Clock } from '../transaction/clock.ts';
import type { ClientOutcome, ClientTransactionUser } from '../transaction/user.ts';
import type { Endpoint } from '../transport/types.ts';
import { randomHex } from './random-hex.ts';
import type { RegisterIdentity } from './register-request.ts';
import type { RegisterSender } from './registration.ts';
import type { ResolvedSettings } from './settings.ts';
import { heapEntry, type HeapEntry, type TimerHeap } from './timer-heap.ts';

/** The longest a probe may go unanswered (DESIGN.md: min(interval, 10 s)). */
export const MAX_PROBE_WAIT_MS = 10_000;

/** Transport.probeFlow: the CRLF ping of a TCP/TLS flow. */
export type FlowProber = (target: Endpoint, timeoutMs: number, done: (alive: boolean, reason: string) => void) => void;

export interface KeepAliveContext {
  readonly transactions: RegisterSender;
  readonly clock: Clock;
  readonly random: () => number;
  readonly timers: TimerHeap;
  readonly probeFlow: FlowProber | undefined;
  readonly userAgent: string | undefined;
}

/** What the keep-alive needs from its registration. */
export interface KeepAliveOwner {
  readonly settings: ResolvedSettings;
  readonly identity: RegisterIdentity;
  /** True when a probe may go now (registered, no REGISTER in flight: that one probes already). */
  canProbe(): boolean;
  /** The site failed a probe, once per probe: 408 unanswered in time, 503 a transport error (`reason` says how). */
  onUnanswered(code: 408 | 503, reason: string): void;
}

/** One probe out; for UDP also the OPTIONS transaction's user. */
class Probe implements ClientTransactionUser {
  private readonly keepAlive: KeepAlive;

  constructor(keepAlive: KeepAlive) {
    this.keepAlive = keepAlive;
  }

  onFinal(outcome: ClientOutcome): void {
    if (outcome.cause === 'response') this.keepAlive.settle(this, true, '');
    else if (outcome.cause === 'timeout') this.keepAlive.settle(this, false, 'keep-alive OPTIONS unanswered (timeout)', 408);
    else this.keepAlive.settle(this, false, `keep-alive OPTIONS failed: transport error ${outcome.error.code}`, 503);
  }
}

export class KeepAlive {
  readonly #owner: KeepAliveOwner;
  readonly #ctx: KeepAliveContext;
  readonly #entry: HeapEntry;
  readonly #intervalMs: number;
  readonly #waitMs: number;
  /** The probe out, waiting for its answer or its deadline. */
  #probe: Probe | undefined;
  #sentAt = 0;
  #running = false;
  /** OPTIONS probes share a Call-ID and count their CSeq (RFC 3261 s8.1.1.5). */
  #callId: string | undefined;
  #cseq = 0;

  constructor(owner: KeepAliveOwner, context: KeepAliveContext, intervalSeconds: number) {
    this.#owner = owner;
    this.#ctx = context;
    this.#intervalMs = intervalSeconds * 1000;
    this.#waitMs = Math.min(this.#intervalMs, MAX_PROBE_WAIT_MS);
    this.#entry = heapEntry(() => this.#onWake());
  }

  /** A probe is out or the next one is scheduled. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts probing, the first probe one interval from now; a no-op when running. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#probe = undefined;
    this.#ctx.timers.schedule(this.#entry, this.#intervalMs);
  }

  /** Stops: no more probes; the answer of one still out is ignored. */
  stop(): void {
    this.#running = false;
    this.#probe = undefined;
    this.#ctx.timers.cancel(this.#entry);
  }

  /** @internal The outcome of a probe (from its transaction or the flow prober). */
  settle(probe: Probe, alive: boolean, reason: string, code: 408 | 503 = 408): void {
    if (probe !== this.#probe) return;
    this.#probe = undefined;
    if (alive) {
      this.#ctx.timers.scheduleAt(this.#entry, Math.max(this.#sentAt + this.#intervalMs, this.#ctx.clock.now()));
      return;
    }
    this.stop();
    this.#owner.onUnanswered(code, reason);
  }

  #onWake(): void {
    if (!this.#running) return;
    const probe = this.#probe;
    if (probe !== undefined) {
      // The deadline passed with the probe still out.
      this.settle(probe, false, `keep-alive unanswered within ${this.#waitMs} ms`);
      return;
    }
    if (!this.#owner.canProbe()) {
      this.#ctx.timers.schedule(this.#entry, this.#intervalMs);
      return;
    }
    this.#send();
  }

  #send(): void {
    const probe = new Probe(this);
    this.#probe = probe;
    this.#sentAt = this.#ctx.clock.now();
    this.#ctx.timers.schedule(this.#entry, this.#waitMs);
    const { settings } = this.#owner;
    const target = settings.target;
    if (target.transport !== 'udp') {
      if (this.#ctx.probeFlow === undefined) {
        this.settle(probe, false, 'the transport cannot ping a flow', 503);
        return;
      }
      // No pong in time is a timeout (408); a flow that is gone or fails is a transport error (503).
      this.#ctx.probeFlow(target, this.#waitMs, (alive, reason) =>
        this.settle(probe, alive, alive ? '' : `keep-alive ping failed: ${reason}`, /no keep-alive pong/.test(reason) ? 408 : 503),
      );
      return;
    }
    try {
      this.#ctx.transactions.sendRequest(this.#optionsParts(), target, probe, { rport: settings.useRport });
    } catch (error) {
      this.settle(probe, false, `keep-alive OPTIONS not sent: ${error instanceof Error ? error.message : String(error)}`, 503);
    }
  }

  #optionsParts(): MessageParts {
    const { identity } = this.#owner;
    this.#callId ??= randomHex(this.#ctx.random, 12);
    const headers: Array<[string, string]> = [
      ['Max-Forwards', '70'],
      ['From', `${identity.to};tag=${randomHex(this.#ctx.random, 6)}`],
      ['To', identity.to],
      ['Call-ID', this.#callId],
      ['CSeq', `${++this.#cseq} OPTIONS`],
    ];
    if (this.#ctx.userAgent !== undefined) headers.push(['User-Agent', this.#ctx.userAgent]);
    return { method: 'OPTIONS', uri: identity.requestUri, headers };
  }
}
