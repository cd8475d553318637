/**
 * The dialog layer (RFC 3261 s12-15, RFC 3264): dialogs and sessions on the
 * transaction layer, offer/answer, the UAS checks. Core layer: no `node:`
 * module, no package; transactions, clock, randomness and target resolution
 * are injected.
 */
export { DialogLayer, DEFAULT_MAX_DIALOGS, DEFAULT_NO_ANSWER_MS, type DialogLayerOptions, type DialogStats } from './dialog-layer.ts';
export { OutgoingInvite, MAX_EARLY_DIALOGS, type InviteOptions, type InviteFailure, type InviteFailureCause, type OutgoingInviteEvents, type OutgoingInviteState, type ProvisionalInfo } from './uac-invite.ts';
export { MAX_OTHER_FORK_ACKS } from './uac-acks.ts';
export { IncomingInvite, type AcceptOptions, type IncomingInviteEnd, type IncomingInviteEvents, type IncomingInviteState } from './uas-invite.ts';
export { SessionDialog, type SessionDialogEvents, type SessionDialogOptions, type SessionDialogState, type Termination, type TerminationCause, type InfoReceived, type SessionEvent } from './session-dialog.ts';
export { MAX_GLARE_RETRIES, type ReinviteResult, type ReinviteFailure } from './reinvite-client.ts';
export type { RequestResult } from './in-dialog-request.ts';
export { DialogState, type InDialogRequest, type RequestOptions, type UacInvite } from './dialog-state.ts';
export { dialogKey, inviteKey } from './dialog-id.ts';
export type { Authenticator, AuthVerdict } from './authenticator.ts';
export type { DialogContext, DialogEntry, DialogRegistry, DialogTransactions, Lingering, SentRequest, TargetResolver } from './dialog-context.ts';
export type { AckFor2xx } from './ack-2xx.ts';
export { glareWaitMs, retryAfterSeconds } from './glare.ts';
export { DTMF_RELAY, DtmfError, checkDigits, dtmfRelayBody, readDtmfRelay } from './dtmf-relay.ts';
export { OfferAnswer, type OfferAnswerOptions, type OfferAnswerState } from './offer-answer.ts';
export { OfferAnswerError, type OfferAnswerErrorCode } from './offer-answer-error.ts';
export * from './media.ts';
export { checkRequest, answerForParseError, ENDPOINT_POLICY, type UasPolicy, type UasAnswer } from './uas-checks.ts';
export { answerWithoutDialogs } from './layer-answers.ts';
