/**
 * The CANCEL for a pending INVITE client transaction (RFC 3261 s9.1). It is
 * sent with TransactionLayer.sendRequest: its Via carries the INVITE's
 * branch, so the layer keeps it and the CANCEL is a client transaction of its
 * own (matched by branch + CSeq method CANCEL, s17.1.3).
 */
import { formatVia, type MessageParts, type SipMessage } from '../parser/index.ts';

/**
 * s9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From
 * header fields in the CANCEL request MUST be identical to those in the
 * request being cancelled, including tags. A CANCEL constructed by a client
 * MUST have only a single Via header field value matching the top Via value
 * in the request being cancelled." Route header fields are copied too.
 */
export function cancelParts(invite: SipMessage): MessageParts {
  const headers: Array<[string, string]> = [['Via', formatVia(invite.topVia!)]];
  for (const route of invite.headerFields('Route')) headers.push(['Route', route]);
  headers.push(['Max-Forwards', '70']);
  headers.push(['From', invite.header('From')!]);
  headers.push(['To', invite.header('To')!]);
  headers.push(['Call-ID', invite.header('Call-ID')!]);
  headers.push(['CSeq', `${invite.cseq!.seq} CANCEL`]);
  return { method: 'CANCEL', uri: invite.uri!.toString(), headers };
}
