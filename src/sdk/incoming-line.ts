/**
 * Which connection an incoming INVITE belongs to (issue 12): each
 * connection's Contact carries `;line=TOKEN`, and a site forwarding a call to
 * that Contact puts it in the Request-URI, so the call names its connection
 * even when two connections register the same user from the same local port.
 * Without the parameter, the source address of the site decides (the lowest
 * enabled connection whose server it is, or whose server's name resolved to it). Disabled connections take no calls.
 */
import type { SipMessage } from '../parser/index.ts';
import type { Received } from '../transport/types.ts';
import type { ConnectionManager } from './connection-manager.ts';

export function lineOfInvite(request: SipMessage, received: Received, connections: ConnectionManager): number | undefined {
  const token = request.uri?.params.get('line');
  if (token != null) {
    const id = connections.idForLine(token);
    return id !== undefined && connections.isEnabled(id) ? id : undefined;
  }
  for (const id of connections.ids()) {
    if (connections.isEnabled(id) && connections.isServerAddress(id, received.source.host)) return id;
  }
  return undefined;
}
