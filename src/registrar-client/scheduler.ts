/**
 * When a registration sends its next REGISTER: the formulas, written once.
 * The wake-ups themselves live in one TimerHeap (timer-heap.ts).
 *
 * Refresh. A connection refreshes every `reregisterInSeconds` (P) of its own,
 * or sooner when the registrar grants a shorter expiry (G):
 *
 *   asked Expires   E = P + 32          (P >= 32)
 *                     = 2P              (P <  32)
 *   refresh after   R = min(P, before(G)),  before(G) = max(G/2, G - 32), at least 1 s
 *
 * So a registrar that grants what we ask is refreshed every P exactly, a
 * little before the binding would lapse, and one that grants less is
 * refreshed 32 s before its expiry (half-way for short ones). 32 s is
 * Timer F (64*T1): a refresh over UDP that needs every retransmission still
 * lands before the binding runs out. The refresh is counted from the moment
 * the first REGISTER of that cycle was sent, not from the answer, so round
 * trips and challenges do not make the period drift.
 *
 * Spreading. Registrations started together (or recovered together) would
 * refresh together forever; the first refresh after entering `registered` is
 * shortened by a random fraction of at most `spread` (default 10%), which
 * scatters the phases once. Later refreshes keep the exact period.
 *
 * Retry (site down: 408, transport error, 5xx). After the k-th consecutive
 * failure (k = 1, 2, ...)
 *
 *   base = min(max, min * 2^(k-1))
 *   wait = min(max, base * (1 + random()/2))      while base < max
 *   wait = max * (0.75 + random()/4)              once base reached the cap
 *
 * so every wait lies in [minimumRetrySeconds, maximumRetrySeconds] as the
 * SipEndpoint.config settings promise (the first retry never comes before
 * the minimum), doubles, and carries jitter (upward below the cap, downward
 * at it) so that many endpoints do not come back in step. RFC 5626 s4.5 and
 * libre's failwait() jitter downward to base/2 instead; that would break the
 * minimum. `random` is injected ([0, 1), like Math.random).
 */

/** Margin before expiry, seconds: Timer F with the default T1. */
export const REFRESH_MARGIN_SECONDS = 32;

/** Shortest refresh wait, seconds (a registrar granting 1 s does not make us spin). */
export const MIN_REFRESH_SECONDS = 1;

/** Default `spread` of the first refresh. */
export const DEFAULT_REFRESH_SPREAD = 0.1;

/** The Expires we ask for, for a refresh period P (seconds). */
export function requestedExpires(periodSeconds: number): number {
  const p = Math.ceil(periodSeconds);
  return p >= REFRESH_MARGIN_SECONDS ? p + REFRESH_MARGIN_SECONDS : 2 * p;
}

/** Seconds after which a binding granted for `grantedSeconds` is refreshed. */
export function refreshBefore(grantedSeconds: number): number {
  return Math.max(MIN_REFRESH_SECONDS, grantedSeconds / 2, grantedSeconds - REFRESH_MARGIN_SECONDS);
}

/** Refresh wait in whole ms for period P and granted expiry G (seconds); `first` applies the spread. */
export function refreshDelayMs(periodSeconds: number, grantedSeconds: number, spread: number, random: () => number, first: boolean): number {
  const seconds = Math.min(periodSeconds, refreshBefore(grantedSeconds));
  const factor = first && spread > 0 ? 1 - spread * random() : 1;
  return Math.round(Math.max(MIN_REFRESH_SECONDS, seconds * factor) * 1000);
}

/** The cap-bounded base of the k-th consecutive failure (k >= 1), seconds. */
export function retryBaseSeconds(failures: number, minimumSeconds: number, maximumSeconds: number): number {
  const k = Math.max(1, failures);
  // 2^(k-1) overflows nothing we care about: once min*2^(k-1) passes the cap the cap wins.
  const doublings = Math.min(k - 1, 52);
  return Math.min(maximumSeconds, minimumSeconds * 2 ** doublings);
}

/** Retry wait in whole ms after the k-th consecutive failure, always in [min, max]. */
export function retryDelayMs(failures: number, minimumSeconds: number, maximumSeconds: number, random: () => number): number {
  const base = retryBaseSeconds(failures, minimumSeconds, maximumSeconds);
  const r = clampUnit(random());
  const seconds = base < maximumSeconds ? Math.min(maximumSeconds, base * (1 + r / 2)) : maximumSeconds * (0.75 + r / 4);
  return Math.round(Math.min(maximumSeconds, Math.max(minimumSeconds, seconds)) * 1000);
}

function clampUnit(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
