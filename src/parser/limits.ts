/** Explicit limits of the parser; every one is configurable. */
export interface ParseLimits {
  /** Largest whole message (start line + headers + body), in bytes. */
  maxMessageBytes: number;
  /** Most header fields (lines, not values) in one message. */
  maxHeaders: number;
  /** Longest start line, in bytes. */
  maxStartLineBytes: number;
  /** Longest header field (name + value, folded lines included), in bytes. */
  maxHeaderBytes: number;
  /** Most comma-separated values in one list header (Via, Contact, ...). */
  maxListValues: number;
  /** Most parameters on one header value or URI. */
  maxParams: number;
}

export const DEFAULT_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxMessageBytes: 65535,
  maxHeaders: 256,
  maxStartLineBytes: 8192,
  maxHeaderBytes: 16384,
  maxListValues: 128,
  maxParams: 64,
});

export function resolveLimits(partial?: Partial<ParseLimits>): ParseLimits {
  return partial === undefined ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...partial };
}
