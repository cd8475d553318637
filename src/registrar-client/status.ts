/**
 * Registration statuses (DESIGN.md "Registrar client") and how the outcome
 * of a REGISTER maps to them.
 *
 *              start()                 2xx
 *   disabled ----------> registering -------> registered <--+
 *      ^                   |    |               |   |       | 2xx (refresh: no event)
 *      | stop()            |    | 408/503/5xx   |   +-------+
 *      |  (any state)      |    v               | 408/503/5xx
 *      |                   |  unavailable <-----+
 *      |                   |    |  ^  retry (backoff): no event while it stays down
 *      |                   |    |  +--+
 *      |                   |    +--- 2xx ---> registered
 *      |    3xx/4xx/6xx,   v
 *      |    wrong password: failed (no retry until start() again)
 *
 * Every change of status is one event; staying in a status is none.
 */
import type { ClientOutcome } from '../transaction/user.ts';

export type RegistrationStatus = 'registering' | 'registered' | 'unavailable' | 'failed' | 'disabled';

export type RegistrationId = string | number;

export interface RegistrationStatusEvent {
  readonly id: RegistrationId;
  readonly status: RegistrationStatus;
  readonly previous: RegistrationStatus;
  /** SIP status that caused the change (408/503 for a timeout/transport error); undefined for start()/stop(). */
  readonly code: number | undefined;
  /** Reason phrase, or what happened when there was no response. */
  readonly reason: string | undefined;
}

/** What an outcome means for the registration. */
export type OutcomeClass =
  | 'success' // 2xx
  | 'challenge' // 401, 407: digest
  | 'interval' // 423: retry with Min-Expires
  | 'unavailable' // the site does not answer, or cannot serve now
  | 'failed'; // the site answered no

/**
 * 5xx that say the request itself is wrong rather than the site being down:
 * 501 Not Implemented, 505 Version Not Supported, 513 Message Too Large.
 */
const PERMANENT_5XX: ReadonlySet<number> = new Set([501, 505, 513]);

/**
 * Outcome -> class. `unavailable`: no answer (timeout 408, transport error
 * 503, RFC 3261 s8.1.3.1), a 408 from the site, and every 5xx but 501, 505
 * and 513 (a 500, 502, 503 or 504 means the site cannot serve now; the
 * registrar behind a proxy may be the one that is down). `failed`: 3xx (we
 * do not follow redirects for REGISTER), every other 4xx, 501/505/513, 6xx.
 */
export function classifyOutcome(outcome: ClientOutcome): OutcomeClass {
  if (outcome.cause !== 'response') return 'unavailable';
  const status = outcome.status;
  if (status >= 200 && status < 300) return 'success';
  if (status === 401 || status === 407) return 'challenge';
  if (status === 423) return 'interval';
  if (status === 408) return 'unavailable';
  if (status >= 500 && status < 600 && !PERMANENT_5XX.has(status)) return 'unavailable';
  return 'failed';
}

/** The reason reported with an outcome. */
export function outcomeReason(outcome: ClientOutcome): string {
  if (outcome.cause === 'timeout') return 'no response from the registrar (timeout)';
  if (outcome.cause === 'transportError') return `transport error ${outcome.error.code}: ${outcome.error.message}`;
  return outcome.response.reasonPhrase ?? '';
}
