/**
 * The timer values of RFC 3261 s17 (Table 4, section A) and RFC 6026 s8.11,
 * computed once per transaction from T1/T2/T4 and whether its transport is
 * reliable. Over TCP/TLS nothing is retransmitted (A, E, G are null) and
 * D, I, J, K are zero.
 */

export interface TimerSettings {
  /** RTT estimate (s17.1.1.1), default 500 ms. */
  readonly T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  readonly T2: number;
  /** Maximum duration a message stays in the network, default 5 s. */
  readonly T4: number;
  /** How long an INVITE server transaction waits for the TU before sending 100 Trying itself (s17.2.1), default 200 ms; 0: the 100 goes out at once, before the TU sees the INVITE. */
  readonly trying: number;
}

export const DEFAULT_TIMER_SETTINGS: TimerSettings = Object.freeze({ T1: 500, T2: 4000, T4: 5000, trying: 200 });

/** Every value in milliseconds; null where a timer is not started at all. */
export interface TimerValues {
  readonly reliable: boolean;
  readonly T1: number;
  readonly T2: number;
  readonly T4: number;
  /** INVITE request retransmit interval, initially T1, doubling without a cap (s17.1.1.2); UDP only. */
  readonly A: number | null;
  /** INVITE transaction timeout, 64*T1. */
  readonly B: number;
  /** Wait for response retransmits: at least 32 s over UDP, 0 over TCP/TLS (s17.1.1.2). */
  readonly D: number;
  /** Non-INVITE request retransmit interval, initially T1, capped at T2; UDP only. */
  readonly E: number | null;
  /** Non-INVITE transaction timeout, 64*T1. */
  readonly F: number;
  /** INVITE response retransmit interval, initially T1, capped at T2; UDP only. */
  readonly G: number | null;
  /** Wait for ACK receipt, 64*T1. */
  readonly H: number;
  /** Wait for ACK retransmits: T4 over UDP, 0 over TCP/TLS. */
  readonly I: number;
  /** Wait for non-INVITE request retransmits: 64*T1 over UDP, 0 over TCP/TLS. */
  readonly J: number;
  /** Wait for response retransmits: T4 over UDP, 0 over TCP/TLS. */
  readonly K: number;
  /** Wait for INVITE request retransmits in Accepted, 64*T1 (RFC 6026). */
  readonly L: number;
  /** Wait for 2xx retransmissions in Accepted, 64*T1 (RFC 6026). */
  readonly M: number;
  /** The 200 ms before an INVITE server transaction sends 100 Trying itself. */
  readonly trying: number;
}

/** Resolves partial settings against the defaults and checks them. */
export function resolveTimerSettings(settings: Partial<TimerSettings> = {}): TimerSettings {
  const resolved = { ...DEFAULT_TIMER_SETTINGS, ...settings };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value < 0 || (name !== 'trying' && value === 0)) {
      throw new RangeError(`timer ${name} must be a positive number of milliseconds, got ${value}`);
    }
  }
  if (resolved.T2 < resolved.T1) throw new RangeError(`T2 (${resolved.T2}) must not be below T1 (${resolved.T1})`);
  return Object.freeze(resolved);
}

export function timerValues(settings: TimerSettings, reliable: boolean): TimerValues {
  const { T1, T2, T4, trying } = settings;
  const sixtyFour = 64 * T1;
  return Object.freeze({
    reliable,
    T1,
    T2,
    T4,
    A: reliable ? null : T1,
    B: sixtyFour,
    // s17.1.1.2: "the client transaction does not know the value of T1 in use
    // by the server transaction, so an absolute minimum of 32s is used".
    D: reliable ? 0 : Math.max(32_000, sixtyFour),
    E: reliable ? null : T1,
    F: sixtyFour,
    G: reliable ? null : T1,
    H: sixtyFour,
    I: reliable ? 0 : T4,
    J: reliable ? 0 : sixtyFour,
    K: reliable ? 0 : T4,
    L: sixtyFour,
    M: sixtyFour,
    trying,
  });
}

/**
 * The one backoff formula of A, E and G: the interval after n retransmissions
 * is T1 * 2^n, capped (E and G at T2; A has no cap, so pass Infinity).
 */
export function backoff(T1: number, n: number, cap: number): number {
  return Math.min(T1 * 2 ** n, cap);
}
