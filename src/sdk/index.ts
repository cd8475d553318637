/** The public SDK: Phone, its connection manager, events and configuration. */
export { Phone, type PhoneOptions, type PhoneConfig } from './phone.ts';
export {
  ConnectionManager,
  ConnectionError,
  type ConnectionInfo,
  type ConnectionStatus,
  type ConnectionStatusChanged,
  type ConnectionEvents,
} from './connection-manager.ts';
export { completeSettings, ConnectionSettingsError, type ConnectionInput } from './connection-settings.ts';
export { TypedEvents } from './typed-events.ts';
export * from './config/index.ts';
