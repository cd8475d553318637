/**
 * `sip-endpoint/core`: what an embedder needs to run SIP in any JavaScript
 * runtime, without the Node transports and SDK: the parser, the transaction
 * layer, the registrar client, dialogs, the `Transport` and `Clock` contracts
 * and `FakeClock`. Everything here uses only ECMAScript built-ins and what is
 * injected (transport, clock, `random`).
 */
export * from '../parser/index.ts';
export * from '../parser/sdp/index.ts';
export * from '../transaction/index.ts';
export * from '../registrar-client/index.ts';
export * from '../dialog/index.ts';
export {
  TransportError,
  type Transport,
  type TransportKind,
  type TransportErrorCode,
  type Endpoint,
  type Received,
  type SendOptions,
  type TransportDecision,
} from '../transport/types.ts';
export { SipEndpointError, StateError, type StateErrorCode } from '../errors/sip-endpoint-error.ts';
