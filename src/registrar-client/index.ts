/**
 * The registrar client (DESIGN.md "Registrar client"): one Registration per
 * connection, digest authentication, the refresh and retry schedule, all
 * managed by RegistrationManager on one timer structure. Core layer: no
 * `node:` module, no package; the transaction layer, clock, randomness and
 * local address are injected.
 */
export { DEFAULT_MAX_IN_FLIGHT, RegistrationManager, type RegistrationManagerOptions, type RegistrationStats } from './manager.ts';
export { Registration, type RegisterSender, type RegistrationContext, type RegistrationInfo } from './registration.ts';
export { FlightWindow, type SlotWaiter } from './flight-window.ts';
export { KeepAlive, MAX_PROBE_WAIT_MS, type FlowProber, type KeepAliveContext, type KeepAliveOwner } from './keep-alive.ts';
export { randomHex } from './random-hex.ts';
export { KeyedWaiters } from './keyed-waiters.ts';
export { REGISTRATION_DEFAULTS, MAX_PERIOD_SECONDS, MAX_EXPIRES_SECONDS, resolveSettings, uriHost, type RegistrationSettings, type ResolvedSettings } from './settings.ts';
export { classifyOutcome, outcomeReason, type OutcomeClass, type RegistrationId, type RegistrationStatus, type RegistrationStatusEvent } from './status.ts';
export {
  DEFAULT_REFRESH_SPREAD,
  MIN_REFRESH_SECONDS,
  REFRESH_MARGIN_SECONDS,
  refreshBefore,
  refreshDelayMs,
  requestedExpires,
  retryBaseSeconds,
  retryDelayMs,
} from './scheduler.ts';
export { DEFAULT_BATCH, TimerHeap, heapEntry, type HeapEntry } from './timer-heap.ts';
export {
  DigestClient,
  MAX_CHALLENGES,
  authorizationValue,
  chooseChallenge,
  credentialsHeader,
  parseChallenge,
  type ChallengeKind,
  type ChallengeVerdict,
  type DigestChallenge,
  type DigestCredentials,
  type DigestRequest,
} from './digest-client.ts';
export { contactUri, contactValue, grantedExpires, isOurContact, registerIdentity, registerParts, type RegisterIdentity, type RegisterOptions } from './register-request.ts';
export * from './digest/index.ts';
