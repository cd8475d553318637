/**
 * validateMessage: parses every header that has a typed parser, including
 * repeats and the lazily parsed ones, and throws the first SipParseError.
 * parseMessage checks only what the transaction layer needs; the linter and
 * the UAS checks call this for the rest.
 */
import { HeaderId } from './header-names.ts';
import type { SipMessage } from './message.ts';
import { parseNameAddrAt, isWildcard } from './headers/name-addr.ts';
import { parseCSeqAt } from './headers/cseq.ts';
import { parseNumberAt } from './headers/scalars.ts';
import { parseMediaTypeAt } from './headers/media-type.ts';
import { checkCallIdAt } from './headers/call-id.ts';

/** Which headers to check: 'all' (linting) or 'uas' (what a UAS acts on). */
export type ValidationScope = 'all' | 'uas';

export function validateMessage(message: SipMessage, scope: ValidationScope = 'all'): void {
  const limits = message.limits;
  // Repeats of the eagerly parsed headers (parseMessage checked only the first).
  for (let k = 0; k < message.headerCount; k++) {
    const id = message.idAt(k);
    if (id === HeaderId.Other) continue;
    const { src, start, end } = message.rangeAt(k);
    switch (id) {
      case HeaderId.From:
      case HeaderId.To:
        void parseNameAddrAt(src, start, end, message.canonicalNameAt(k), limits.maxParams).uri;
        break;
      case HeaderId.CallId:
        checkCallIdAt(src, start, end);
        break;
      case HeaderId.CSeq:
        parseCSeqAt(src, start, end);
        break;
      case HeaderId.MaxForwards:
        parseNumberAt(src, start, end, 255, 'max-forwards');
        break;
      case HeaderId.ContentType:
        parseMediaTypeAt(src, start, end, 'content-type', limits.maxParams);
        break;
      default:
        break;
    }
  }
  // Parsing every Via value scans (and so checks) its params: no params Map is needed for that.
  void message.via;
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
