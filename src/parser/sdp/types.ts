/**
 * The SDP model (RFC 8866 s5). Numbers that can exceed 2^53 (session id and
 * version, NTP times) stay strings; fields whose inner syntax the SIP stack
 * never needs (r=, z=, k=) stay raw.
 */

/** o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
export interface SdpOrigin {
  username: string;
  /** Decimal digits; may exceed Number.MAX_SAFE_INTEGER (use BigInt to compare). */
  sessionId: string;
  /** Decimal digits; may exceed Number.MAX_SAFE_INTEGER (use BigInt to compare). */
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** c=<nettype> <addrtype> <connection-address>[/<ttl>][/<number of addresses>] */
export interface SdpConnection {
  netType: string;
  addrType: string;
  /** The address alone, without the /ttl and /count suffixes (IP4 and IP6 only). */
  address: string;
  /** IP4 multicast only (0..255). */
  ttl?: number;
  /** Multicast address count (>= 1). */
  numberOfAddresses?: number;
}

/** b=<bwtype>:<bandwidth> */
export interface SdpBandwidth {
  type: string;
  /** Kilobits per second for AS/CT (RFC 8866 s5.8); units depend on the type. */
  bandwidth: number;
}

/** t=<start-time> <stop-time>, with the r= lines that follow it. */
export interface SdpTiming {
  start: string;
  stop: string;
  /** Raw values of the r= lines of this t= line, in order. */
  repeats: string[];
}

/** a=<name> (property) or a=<name>:<value>. */
export interface SdpAttribute {
  name: string;
  /** undefined for a property attribute (no colon); '' for `a=name:`. */
  value: string | undefined;
}

/** A line whose type letter this parser does not model, kept as written. */
export interface SdpRawLine {
  /** The type letter. */
  type: string;
  value: string;
}

/** m= line and the lines of its section. */
export interface MediaDescription {
  /** audio, video, text, application, message, ... */
  media: string;
  port: number;
  /** The /<number of ports> suffix of the port, when present. */
  numberOfPorts?: number;
  /** RTP/AVP, RTP/SAVP, udp, ... */
  proto: string;
  /** Payload types for RTP protos; protocol-specific tokens otherwise. Never empty. */
  formats: string[];
  /** i= media title. */
  information?: string;
  /** c= lines of this section (several only for multicast). */
  connections: SdpConnection[];
  bandwidths: SdpBandwidth[];
  /** k= raw value (obsolete field, kept for round trips). */
  key?: string;
  attributes: SdpAttribute[];
  /** Lines of unknown type in this section, in order. */
  otherLines: SdpRawLine[];
}

export interface SessionDescription {
  /** v= (always 0). */
  version: 0;
  origin: SdpOrigin;
  /** s= text; '' stands for "no meaningful name" and is written `s= ` (RFC 8866 s5.3). */
  sessionName: string;
  information?: string;
  uri?: string;
  emails: string[];
  phones: string[];
  connection?: SdpConnection;
  bandwidths: SdpBandwidth[];
  timings: SdpTiming[];
  /** z= raw value. */
  timezones?: string;
  /** k= raw value. */
  key?: string;
  attributes: SdpAttribute[];
  /** Session-level lines of unknown type, in order. */
  otherLines: SdpRawLine[];
  mediaDescriptions: MediaDescription[];
}

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** Limits of parseSdp; exceeding one throws SipParseError with status 413. */
export interface SdpLimits {
  /** Largest SDP body, in bytes (UTF-8 bytes for a string input). */
  maxBytes: number;
  /** Most lines (blank trailing lines included). */
  maxLines: number;
  /** Most m= sections. */
  maxMediaDescriptions: number;
}

export const DEFAULT_SDP_LIMITS: Readonly<SdpLimits> = Object.freeze({
  maxBytes: 65536,
  maxLines: 1024,
  maxMediaDescriptions: 64,
});
