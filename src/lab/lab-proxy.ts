/**
 * The proxy half of a lab site: a stateless proxy (RFC 3261 s16.11) that
 * forwards calls to what is registered there. A lab tool (the real proxy in
 * interop tests is Kamailio), kept as small as the QuickStart story needs:
 *
 * - a request for a user of the site (INVITE, and the ACK or CANCEL of it):
 *   the Request-URI becomes the user's most recent Contact, Max-Forwards goes
 *   down by one, our Via goes on top with a branch computed from the
 *   request's own (s16.11: so that a CANCEL and a non-2xx ACK follow their
 *   INVITE), and it is sent to where that REGISTER came from (its flow for
 *   TCP/TLS); 404 for an unknown user, 480 for one not registered;
 * - a response whose top Via is ours: that Via removed, sent on to the next
 *   one (s18.2.2: received/rport).
 * No Record-Route: requests within a dialog go from UA to UA.
 */
import { createHash } from 'node:crypto';
import { formatMessage, parseMessage, type MessageParts, type SipMessage } from '../parser/index.ts';
import { responseParts } from '../transaction/index.ts';
import { responseTarget, responseViaFields } from '../transport/index.ts';
import type { Endpoint, Received, Transport } from '../transport/types.ts';

/** Branches of our Via start with this: the magic cookie, and a mark to know our responses. */
export const LAB_BRANCH_PREFIX = 'z9hG4bKlab';

/** Where a user can be reached: the binding's Contact, and where its REGISTER came from. */
export interface LabRoute {
  readonly contact: string;
  readonly source: Endpoint;
  readonly flowId: string | undefined;
}

export interface LabProxyHost {
  readonly transport: Transport;
  /** The site's own address (Via sent-by). */
  readonly local: (transport: Endpoint['transport']) => Endpoint;
  /** The user's most recent binding; 'unknown' when the site has no such user. */
  route(user: string): LabRoute | 'unknown' | 'unregistered';
}

export class LabProxy {
  /** Requests forwarded and responses relayed (for tests and the QuickStart). */
  forwarded = 0;
  relayed = 0;

  private readonly host: LabProxyHost;

  constructor(host: LabProxyHost) {
    this.host = host;
  }

  /** True when the message was the proxy's to handle (forwarded, relayed or answered). */
  handle(received: Received): boolean {
    const message = received.message;
    if (message.kind === 'response') return this.#relay(message);
    const method = message.method!;
    const user = message.uri?.user;
    if (method === 'REGISTER' || user == null) return false;
    if (message.to?.tag != null && method !== 'ACK') return false;
    const route = this.host.route(user);
    if (route === 'unknown' || route === 'unregistered') {
      if (method !== 'ACK' && method !== 'CANCEL') this.#answer(received, route === 'unknown' ? 404 : 480);
      return true;
    }
    this.#forward(message, received, route);
    return true;
  }

  #forward(message: SipMessage, received: Received, route: LabRoute): void {
    const maxForwards = message.maxForwards ?? 70;
    if (maxForwards <= 0) {
      if (message.method !== 'ACK') this.#answer(received, 483);
      return;
    }
    const transport = route.source.transport;
    const local = this.host.local(transport);
    const host = local.host.includes(':') ? `[${local.host}]` : local.host;
    const viaHeader = `SIP/2.0/${transport.toUpperCase()} ${host}:${local.port};branch=${LAB_BRANCH_PREFIX}${branchOf(message)}`;
    const headers: Array<[string, string]> = [['Via', viaHeader]];
    // The sender's Vias, the top one with received/rport (RFC 3581), so that responses find their way back.
    for (const field of responseViaFields(received)) headers.push(['Via', field]);
    for (const field of message.headers) {
      const name = field.name.toLowerCase();
      if (name === 'via' || name === 'v' || name === 'max-forwards' || name === 'content-length' || name === 'l') continue;
      headers.push([field.name, field.value]);
    }
    headers.push(['Max-Forwards', String(maxForwards - 1)]);
    const parts: MessageParts = { method: message.method!, uri: route.contact, headers, body: message.body };
    this.forwarded++;
    this.host.transport.send(formatMessage(parts), route.source, route.flowId === undefined ? {} : { flowId: route.flowId });
  }

  #relay(response: SipMessage): boolean {
    const branch = response.topVia?.branch ?? '';
    if (!branch.startsWith(LAB_BRANCH_PREFIX)) return false;
    const vias = response.via;
    if (vias.length < 2) return true;
    const headers: Array<[string, string]> = [];
    const fields = response.headerFields('Via');
    // Our Via is the first value of the first field (a field may hold several).
    const rest = [...fields];
    const first = rest.shift()!;
    const comma = splitFirst(first);
    if (comma !== undefined) rest.unshift(comma);
    for (const field of rest) headers.push(['Via', field]);
    for (const field of response.headers) {
      const name = field.name.toLowerCase();
      if (name === 'via' || name === 'v' || name === 'content-length' || name === 'l') continue;
      headers.push([field.name, field.value]);
    }
    const parts: MessageParts = { status: response.status!, reason: response.reasonPhrase ?? '', headers, body: response.body };
    const bytes = formatMessage(parts);
    const next = parseMessage(bytes);
    const via = next.topVia!;
    const transport = via.transport === 'TCP' ? 'tcp' : via.transport === 'TLS' ? 'tls' : 'udp';
    const port = typeof via.rport === 'number' ? via.rport : (via.port ?? (transport === 'tls' ? 5061 : 5060));
    const target: Endpoint = { transport, host: via.received ?? via.host, port };
    this.relayed++;
    this.host.transport.send(bytes, target);
    return true;
  }

  #answer(received: Received, status: number): void {
    const parts = responseParts(received.message, status, { toTag: 'lab' + branchOf(received.message).slice(0, 8) });
    const target = responseTarget(received);
    this.host.transport.send(formatMessage(parts), target, received.flowId === undefined ? {} : { flowId: received.flowId });
  }
}

/** s16.11: a stateless proxy's branch is a function of the request (here its top Via branch; CANCEL and ACK share their INVITE's). */
function branchOf(message: SipMessage): string {
  const via = message.topVia;
  const seed = via === undefined ? '' : `${via.branch ?? ''}|${via.host}|${via.port ?? ''}`;
  return createHash('sha256').update(seed).digest('hex').slice(0, 16);
}

/** A Via field with several values: the values after the first, or undefined. */
function splitFirst(field: string): string | undefined {
  const comma = field.indexOf(',');
  return comma < 0 ? undefined : field.slice(comma + 1).trim();
}
