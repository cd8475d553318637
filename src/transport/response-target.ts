/**
 * Where a response goes, and what its top Via says about the request's
 * source: RFC 3261 s18.2.2 (sending responses) with RFC 3581 (rport).
 *
 * The parsed request is immutable, so the transport does not rewrite it on
 * arrival; the layer above builds its response with responseViaFields()
 * (the request's Via fields with received/rport filled in) and sends it to
 * responseTarget() with SendOptions.flowId = received.flowId.
 */
import type { Via } from '../parser/index.ts';
import { defaultPort, isIP, normalizeHost, sameHost } from './addresses.ts';
import { firstValue } from './raw-headers.ts';
import type { Endpoint, Received } from './types.ts';

/** What responseTarget needs from a top Via (the parser's Via and the raw reader's both fit). */
export type ViaFacts = Pick<Via, 'host' | 'port' | 'rport' | 'received'> & { readonly maddr?: string | null };

/**
 * RFC 3261 s18.2.2 + RFC 3581 s4, for a request that arrived from `source`:
 * - reliable transports: the response goes back on the request's connection
 *   (pass received.flowId); if that flow is gone, to the source address (the
 *   "received" value) at the sent-by port or the transport's default port;
 * - UDP with maddr (an IP address): to maddr at the sent-by port or 5060;
 * - UDP with an empty rport (RFC 3581 s4): to the source address and port;
 * - otherwise UDP: to the source address (received, or sent-by when equal)
 *   at the sent-by port or 5060.
 */
export function responseTargetFor(via: ViaFacts | undefined, source: Endpoint): Endpoint {
  const transport = source.transport;
  if (via === undefined) return source;
  const port = via.port ?? defaultPort(transport);
  if (transport !== 'udp') return { transport, host: normalizeHost(source.host), port };
  const maddr = via.maddr ?? null;
  if (maddr !== null && isIP(normalizeHost(maddr))) return { transport, host: normalizeHost(maddr), port };
  if (via.rport !== null) return { transport, host: normalizeHost(source.host), port: source.port };
  return { transport, host: normalizeHost(source.host), port };
}

/** responseTargetFor() for a request handed up by the transport. */
export function responseTarget(received: Received): Endpoint {
  return responseTargetFor(received.message.topVia, received.source);
}

/**
 * The parameters RFC 3261 s18.2.1 and RFC 3581 s4 add to the top Via of a
 * received request: received= when the source address differs from sent-by
 * (always when rport was asked for), rport=<source port> when rport was
 * present without a value.
 */
export function viaAnnotations(via: ViaFacts, source: Endpoint): { received: string | undefined; rport: number | undefined } {
  const rportAsked = via.rport === true;
  const differs = !sameHost(via.host, source.host);
  return {
    received: rportAsked || differs ? normalizeHost(source.host) : undefined,
    rport: rportAsked ? source.port : undefined,
  };
}

/**
 * The top Via value text with received/rport set (replacing existing ones):
 * what goes into the response. Parameter text is edited, never re-serialized,
 * so everything else stays as the client wrote it.
 */
export function annotateViaValue(topValue: string, via: ViaFacts, source: Endpoint): string {
  const { received, rport } = viaAnnotations(via, source);
  // received is set whenever rport is (viaAnnotations).
  if (received === undefined) return topValue;
  const rportAsked = rport !== undefined;
  // One pass over the parameters (split on ';' outside quotes): the old
  // received and rport dropped, empty ones dropped, the rest as written.
  const value = topValue.trim();
  let out = '';
  let quoted = false;
  let start = 0;
  const take = (end: number): void => {
    if (start === 0) out = value.slice(0, end).trimEnd();
    else {
      const part = value.slice(start, end).trim();
      if (part.length > 0 && !replacedParam(part, rportAsked)) out += `;${part}`;
    }
    start = end + 1;
  };
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (c === BACKSLASH && quoted) i++;
    else if (c === SEMICOLON && !quoted) take(i);
  }
  take(value.length);
  if (rportAsked) out += `;rport=${rport}`;
  return `${out};received=${received}`;
}

const SEMICOLON = 0x3b;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A `received` parameter (always replaced here) or, when we fill rport in, an `rport` one. */
function replacedParam(part: string, rportAsked: boolean): boolean {
  const equals = part.indexOf('=');
  const name = (equals < 0 ? part : part.slice(0, equals)).trim().toLowerCase();
  return name === 'received' || (rportAsked && name === 'rport');
}

/**
 * Every Via field of a received request, in order, the first value of the
 * first field annotated per viaAnnotations(): copy these into the response
 * (RFC 3261 s8.2.6.2), one Via header line each.
 */
export function responseViaFields(received: Received): string[] {
  const fields = received.message.headerFields('via');
  const top = received.message.topVia;
  if (fields.length === 0 || top === undefined) return fields;
  const first = fields[0]!;
  const topText = firstValue(first);
  const annotated = annotateViaValue(topText, top, received.source);
  return [annotated + first.slice(topText.length), ...fields.slice(1)];
}
