/**
 * The stateless error response to a request parseMessage rejected (RFC 3261
 * s18.3 / s8.2.6.2): status from the SipParseError (400, 505, 413, ...), the
 * Via, From, To, Call-ID and CSeq lines copied from the raw bytes, a To tag
 * added when missing, sent where s18.2.2 + RFC 3581 say. Responses and ACKs
 * are never answered; a request whose top Via cannot be read is dropped.
 */
import { defaultReason, formatMessage } from '../parser/index.ts';
import { parseRawVia, readRawHeaders, firstValue } from './raw-headers.ts';
import { annotateViaValue, responseTargetFor } from './response-target.ts';
import type { Endpoint } from './types.ts';

export interface StatelessReply {
  readonly bytes: Uint8Array;
  readonly target: Endpoint;
}

export type StatelessDecision =
  | { readonly action: 'reply'; readonly reply: StatelessReply }
  | { readonly action: 'drop'; readonly why: 'response' | 'ack' | 'no-via' | 'not-sip' };

/**
 * Decides what to do with a message that failed to parse: reply (with the
 * bytes and the target) or drop (and why). `tag` is the To tag to add when
 * the request had none.
 */
export function statelessReply(bytes: Uint8Array, source: Endpoint, status: number, tag: string): StatelessDecision {
  const raw = readRawHeaders(bytes);
  if (raw.kind === 'response') return { action: 'drop', why: 'response' };
  if (raw.kind === undefined) return { action: 'drop', why: 'not-sip' };
  if (raw.method?.toUpperCase() === 'ACK') return { action: 'drop', why: 'ack' };
  const topField = raw.via[0];
  const top = topField === undefined ? undefined : parseRawVia(topField);
  if (top === undefined || topField === undefined) return { action: 'drop', why: 'no-via' };
  const headers: Array<[string, string]> = [];
  const topText = firstValue(topField);
  headers.push(['Via', annotateViaValue(topText, top, source) + topField.slice(topText.length)]);
  for (const field of raw.via.slice(1)) headers.push(['Via', field]);
  if (raw.from !== undefined) headers.push(['From', raw.from]);
  if (raw.to !== undefined) headers.push(['To', hasTag(raw.to) ? raw.to : `${raw.to};tag=${tag}`]);
  if (raw.callId !== undefined) headers.push(['Call-ID', raw.callId]);
  if (raw.cseq !== undefined) headers.push(['CSeq', raw.cseq]);
  const code = status >= 400 && status <= 699 ? status : 400;
  const reply = formatMessage({ status: code, reason: defaultReason(code), headers });
  return { action: 'reply', reply: { bytes: reply, target: responseTargetFor(top, source) } };
}

/** A tag parameter outside the name-addr's <> (a URI param named tag does not count). */
function hasTag(value: string): boolean {
  const close = value.lastIndexOf('>');
  const params = close >= 0 ? value.slice(close + 1) : value.slice(Math.max(0, value.indexOf(';')));
  return /;\s*tag\s*=/i.test(params);
}
