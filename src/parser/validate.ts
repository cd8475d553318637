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
  const src = message.headerSrc;
  // The first From, To, CSeq, Max-Forwards and Content-Type were parsed by
  // parseMessage: their repeats are parsed here, and From's and To's URIs
  // (parsed lazily) are read from the values parseMessage kept.
  let from = false;
  let to = false;
  let cseq = false;
  let maxForwards = false;
  let contentType = false;
  for (let k = 0; k < message.headerCount; k++) {
    const id = message.idAt(k);
    if (id === HeaderId.Other) continue;
    const start = message.valueStartAt(k);
    const end = message.valueEndAt(k);
    switch (id) {
      case HeaderId.From:
        if (from) void parseNameAddrAt(src, start, end, 'from', limits.maxParams).uri;
        else void message.from?.uri;
        from = true;
        break;
      case HeaderId.To:
        if (to) void parseNameAddrAt(src, start, end, 'to', limits.maxParams).uri;
        else void message.to?.uri;
        to = true;
        break;
      case HeaderId.CallId:
        checkCallIdAt(src, start, end);
        break;
      case HeaderId.CSeq:
        if (cseq) parseCSeqAt(src, start, end);
        cseq = true;
        break;
      case HeaderId.MaxForwards:
        if (maxForwards) parseNumberAt(src, start, end, 255, 'max-forwards');
        maxForwards = true;
        break;
      case HeaderId.ContentType:
        if (contentType) parseMediaTypeAt(src, start, end, 'content-type', limits.maxParams);
        contentType = true;
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
