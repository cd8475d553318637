/** Public entry of the parser layer: bytes <-> messages, URIs, headers, SDP. */
export { SipParseError } from './errors.ts';
export { parseMessage, type ParseOptions } from './parse-message.ts';
export { SipMessage, type HeaderField } from './message.ts';
export { validateMessage, type ValidationScope } from './validate.ts';
export { serializeMessage, formatMessage, defaultReason, type MessageParts } from './serialize.ts';
export { StreamFramer, type FrameEvent } from './stream-framer.ts';
export { DEFAULT_LIMITS, type ParseLimits } from './limits.ts';
export { parseUri, decodeEscapes, SipUri, OtherUri, type Uri } from './uri.ts';
export { canonicalName, COMPACT_FORMS } from './header-names.ts';
export { formatParams, type Params } from './params.ts';
export { unquote, quote } from './scan.ts';
export { formatVia, type Via } from './headers/via.ts';
export { parseNameAddr, formatNameAddr, isWildcard, type NameAddr, type ContactValue } from './headers/name-addr.ts';
export { parseCSeq, type CSeq } from './headers/cseq.ts';
export type { MediaType } from './headers/media-type.ts';
export { parseAuthHeader, isDigest, type AuthHeader } from './headers/auth.ts';
export type { RetryAfter } from './headers/retry-after.ts';
export type { Warning } from './headers/warning.ts';
