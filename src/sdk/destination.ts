/**
 * What `dial(connectionId, destination)` accepts, turned into the Request-URI
 * and To of the INVITE: a bare user (`1002`, sent to `sip:1002@DOMAIN` of the
 * connection, through its server), `user@host[:port]`, or a SIP URI
 * (`sip:`/`sips:`, optionally in angle brackets). Values reach a header, so
 * CR, LF and NUL are refused where they enter.
 */
import { hasLineBreakOrNul, parseUri, type Uri } from '../parser/index.ts';
import { CallError } from './call-errors.ts';

/** RFC 3261 s25.1 user part characters (unreserved, escaped, user-unreserved). */
const USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;

export interface Destination {
  /** The Request-URI. */
  readonly uri: Uri;
  /** The To header value. */
  readonly to: string;
}

export function parseDestination(text: string, domain: string): Destination {
  if (typeof text !== 'string') throw new CallError('invalid-argument', 'the destination must be a string');
  if (hasLineBreakOrNul(text)) throw new CallError('invalid-argument', 'the destination contains CR, LF or NUL');
  let value = text.trim();
  if (value.startsWith('<') && value.endsWith('>')) value = value.slice(1, -1).trim();
  if (value === '') throw new CallError('invalid-argument', 'the destination is empty');
  let uriText: string;
  if (/^sips?:/i.test(value)) uriText = value;
  else if (value.includes('@')) uriText = `sip:${value}`;
  else {
    if (!USER.test(value)) throw new CallError('invalid-argument', `${JSON.stringify(value)} is not a SIP user part`);
    uriText = `sip:${value}@${domain}`;
  }
  let uri: Uri;
  try {
    uri = parseUri(uriText, 'destination');
  } catch (error) {
    throw new CallError('invalid-argument', `${JSON.stringify(text)} is not a SIP address: ${(error as Error).message}`);
  }
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') throw new CallError('invalid-argument', `${uri.scheme}: destinations are not supported`);
  return { uri, to: `<${uri.toString()}>` };
}
