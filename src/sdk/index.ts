/** The public SDK: Phone, its connection manager, events and configuration. */
export { Phone, DEFAULT_MAX_TRANSACTIONS_PER_PEER, type PhoneOptions, type PhoneConfig, type PhoneEvents, type SipMessageTrace, type StartOptions } from './phone.ts';
export { CallControl, type DialOptions } from './call-control.ts';
export { CallError, type CallErrorCode } from './call-errors.ts';
export { SessionManager, type SessionEvents, type DtmfReceived, type RemoteHoldChanged, type SessionFailedOver } from './session-manager.ts';
export type { SessionStatus, SessionDirection, DisconnectReason, SessionStatusChanged, SessionProperties } from './session.ts';
export {
  ConnectionManager,
  ConnectionError,
  type ConnectionInfo,
  type ConnectionStatus,
  type ConnectionStatusChanged,
  type ConnectionEvents,
} from './connection-manager.ts';
export { completeSettings, ConnectionSettingsError, type ConnectionInput, type CompletedSettings } from './connection-settings.ts';
export type { TlsOptions } from '../transport/options.ts';
export { TypedEvents, type EventMap, type Handler } from './typed-events.ts';
export * from './config/index.ts';
export { SipEndpointError, StateError, type StateErrorCode } from '../errors/sip-endpoint-error.ts';
