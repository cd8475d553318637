/** The node transport layer (UDP, TCP, TLS) behind the Transport contract of types.ts. */
export * from './types.ts';
export { SipTransportLayer, type ListenerInfo, type TransportStats } from './transport-layer.ts';
export {
  DEFAULTS as TRANSPORT_DEFAULTS,
  type TransportLayerOptions,
  type ListenerOptions,
  type TlsOptions,
  type KeepAliveOptions,
  type TraceHook,
  type TraceDirection,
  type TransportDiagnostic,
  type FlowInfo,
} from './options.ts';
export { responseTarget, responseTargetFor, responseViaFields, annotateViaValue, viaAnnotations, type ViaFacts } from './response-target.ts';
export { statelessReply, type StatelessDecision, type StatelessReply } from './stateless-reply.ts';
export { readRawHeaders, parseRawVia, type RawHeaders, type RawVia } from './raw-headers.ts';
export { decideRequestTransport, rewriteTopVia, DEFAULT_SIZE_POLICY, MAX_UDP_PAYLOAD, type SizePolicy, type TransportDecision } from './size-policy.ts';
export { formatOwnVia, BRANCH_MAGIC_COOKIE } from './own-via.ts';
export { targetFromUri, secureTransportRequired, type TargetResult } from './target.ts';
export { defaultPort, normalizeHost, hostForHeader, endpointKey, formatEndpoint, isLoopback, familyOf, isIP, isIPv6 } from './addresses.ts';
export { HostResolver, HostLookupError, isHostName, type HostResolverOptions, type LookupAll } from './host-resolver.ts';
