/** The transaction layer (RFC 3261 s17 with RFC 6026): what the dialog and registration layers use. */
export { type Clock, type TimerHandle, type TimerTarget, SystemClock, FakeClock } from './clock.ts';
export { cryptoRandom, MissingRandomSourceError, type RandomSource, type RandomFill } from './random.ts';
export {
  TransactionLayer,
  type ClientTransaction,
  type Transaction,
  type TransactionLayerOptions,
  DEFAULT_MAX_TRANSACTIONS,
  type SendRequestOptions,
  type TransactionStats,
} from './transaction-layer.ts';
export { ClientInviteTransaction, type ClientInviteState } from './client-invite.ts';
export { OutgoingRequest, ClientTransactionBase } from './client-transaction.ts';
export { ClientNonInviteTransaction, type ClientNonInviteState } from './client-non-invite.ts';
export { ServerInviteTransaction, type ServerInviteState } from './server-invite.ts';
export { ServerNonInviteTransaction, type ServerNonInviteState } from './server-non-invite.ts';
export type {
  ClientOutcome,
  ClientTransactionUser,
  ServerTransactionUser,
  ServerTransaction,
  IncomingRequest,
  TransactionUser,
  TransactionKind,
  TransactionContext,
  TransactionCounters,
} from './user.ts';
export type * from './events.ts';
export { DEFAULT_TIMER_SETTINGS, resolveTimerSettings, timerValues, backoff, type TimerSettings, type TimerValues } from './timers.ts';
export { MAGIC_COOKIE, hasMagicCookie, serverKey, serverMatches, transactionMethod, type ServerKey, type MatchableServerTransaction } from './matching.ts';
export { responseParts, localResponse, type ResponseOptions } from './responses.ts';
export { ackForNon2xx } from './ack.ts';
export { cancelParts } from './cancel.ts';
export type { ResponseRoute } from './server-transaction.ts';
export { IllegalTransitionError, type MachineTables } from './machine.ts';
export type { ResponseHead } from './response-head.ts';
