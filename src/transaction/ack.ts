/**
 * The ACK an INVITE client transaction sends for a 300-699 response
 * (RFC 3261 s17.1.1.3). The ACK for a 2xx is a request of its own, sent by
 * the dialog layer (s13.2.2.4), and is not built here.
 */
import { formatMessage, formatVia, type SipMessage } from '../parser/index.ts';

/**
 * s17.1.1.3: "The ACK request constructed by the client transaction MUST
 * contain values for the Call-ID, From, and Request-URI that are equal to the
 * values of those header fields in the request passed to the transport by the
 * client transaction", To from the response, one Via equal to the request's
 * top Via, the CSeq number of the request with the method ACK, and the
 * request's Route header fields.
 */
export function ackForNon2xx(request: SipMessage, response: SipMessage): Uint8Array {
  const headers: Array<[string, string]> = [['Via', formatVia(request.topVia!)]];
  for (const route of request.headerFields('Route')) headers.push(['Route', route]);
  headers.push(['Max-Forwards', '70']);
  headers.push(['From', request.header('From')!]);
  headers.push(['To', response.header('To')!]);
  headers.push(['Call-ID', request.header('Call-ID')!]);
  headers.push(['CSeq', `${request.cseq!.seq} ACK`]);
  return formatMessage({ method: 'ACK', uri: request.uri!.toString(), headers });
}
