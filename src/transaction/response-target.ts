/**
 * Where a server transaction sends its responses: RFC 3261 s18.2.2 with the
 * RFC 3581 rport rule. The transport is handed the flow of the request too,
 * so over TCP/TLS the connection it came on is used while it is open.
 */
import type { Endpoint, Received } from '../transport/types.ts';

export interface ResponseRoute {
  readonly target: Endpoint;
  readonly flowId: string | undefined;
}

export function responseRoute(received: Received): ResponseRoute {
  const { source, flowId } = received;
  const via = received.message.topVia;
  // RFC 3581 s4: with rport in the top Via the response goes "to the source IP
  // address and source port" the request came from.
  if (via === undefined || via.rport !== null) return { target: source, flowId };
  // s18.2.2: otherwise to the address the request came from ("received"),
  // "using the port indicated in the sent-by value, or using port 5060 if none
  // is specified" (5061 for TLS). maddr (multicast) is not supported.
  const port = via.port ?? (source.transport === 'tls' ? 5061 : 5060);
  return { target: { transport: source.transport, host: source.host, port }, flowId };
}
