/** SDP (RFC 8866): parse, serialize, and the helpers offer/answer needs. */
export type {
  MediaDescription,
  MediaDirection,
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SdpLimits,
  SdpOrigin,
  SdpRawLine,
  SdpTiming,
  SessionDescription,
} from './types.ts';
export { DEFAULT_SDP_LIMITS } from './types.ts';
export { parseSdp } from './parse-sdp.ts';
export { serializeSdp, serializeSdpBytes } from './serialize-sdp.ts';
export { findAttribute, findAttributes, getRtpmap, getFmtp, parseFmtpParameters } from './attributes.ts';
export type { HasAttributes, Rtpmap } from './attributes.ts';
export { getDirection, setDirection, findDirection, effectiveConnection, isRfc2543Hold } from './direction.ts';
