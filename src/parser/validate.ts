/**
 * validateMessage: parses every header that has a typed parser, including
 * repeats and the lazily parsed ones, and throws the first SipParseError.
 * parseMessage checks only what the transaction layer needs; the linter and
 * the UAS checks call this for the rest.
 */
import { HeaderId } from './header-names.ts';
import type { SipMessage } from './message.ts';
import { parseNameAddr, isWildcard } from './headers/name-addr.ts';
import { parseCSeq } from './headers/cseq.ts';
import { parseMaxForwards } from './headers/scalars.ts';
import { parseMediaType } from './headers/media-type.ts';
import { checkCallId } from './headers/call-id.ts';

/** Which headers to check: 'all' (linting) or 'uas' (what a UAS acts on). */
export type ValidationScope = 'all' | 'uas';

export function validateMessage(message: SipMessage, scope: ValidationScope = 'all'): void {
  const limits = message.limits;
  for (let k = 0; k < message.headerCount; k++) {
    const value = (): string => message.valueAt(k);
    switch (message.idAt(k)) {
      case HeaderId.From:
      case HeaderId.To:
        parseNameAddr(value(), message.canonicalNameAt(k), limits.maxParams).uri;
        break;
      case HeaderId.CallId:
        checkCallId(value());
        break;
      case HeaderId.CSeq:
        parseCSeq(value());
        break;
      case HeaderId.MaxForwards:
        parseMaxForwards(value());
        break;
      case HeaderId.ContentType:
        parseMediaType(value(), 'content-type', limits.maxParams);
        break;
      default:
        break;
    }
  }
  message.via.forEach((via) => via.params);
  for (const contact of message.contact) if (!isWildcard(contact)) void contact.uri;
  for (const route of message.route) void route.uri;
  for (const route of message.recordRoute) void route.uri;
  void message.require;
  void message.proxyRequire;
  void message.supported;
  void message.accept;
  void message.expires;
  if (scope === 'uas') return;
  void message.unsupported;
  void message.allow;
  void message.minExpires;
  void message.wwwAuthenticate;
  void message.proxyAuthenticate;
  void message.authorization;
  void message.proxyAuthorization;
  void message.retryAfter;
  void message.warning;
  void message.date;
}
