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
  // The source itself when it is the target: the same object for every request from it (see RecentSources).
  const host = normalizeHost(source.host);
  if (via.rport !== null || port === source.port) return host === source.host ? source : { transport, host, port: source.port };
  return { transport, host, port };
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
  // No closure here: tsx names each one made, which showed in profiles.
  const value = topValue.trim();
  let out = '';
  let quoted = false;
  let start = -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (c === BACKSLASH && quoted) i++;
    else if (c === SEMICOLON && !quoted) {
      out = start < 0 ? value.slice(0, i).trimEnd() : withParam(out, value.slice(start, i), rportAsked);
      start = i + 1;
    }
  }
  out = start < 0 ? value : withParam(out, value.slice(start), rportAsked);
  if (rportAsked) out += `;rport=${rport}`;
  return `${out};received=${received}`;
}

const SEMICOLON = 0x3b;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;

/** `out` with `;part` added, unless the part is empty or replaced (see replacedParam). */
function withParam(out: string, raw: string, rportAsked: boolean): string {
  const part = raw.trim();
  return part.length === 0 || replacedParam(part, rportAsked) ? out : `${out};${part}`;
}

/** A `received` parameter (always replaced here) or, when we fill rport in, an `rport` one. */
function replacedParam(part: string, rportAsked: boolean): boolean {
  return paramNamed(part, 'received') || (rportAsked && paramNamed(part, 'rport'));
}

/** True when the trimmed parameter `part` is named `name` (lower case), compared without allocating. */
function paramNamed(part: string, name: string): boolean {
  if (part.length < name.length) return false;
  for (let i = 0; i < name.length; i++) if ((part.charCodeAt(i) | 0x20) !== name.charCodeAt(i)) return false;
  let i = name.length;
  while (i < part.length && isSpace(part.charCodeAt(i))) i++;
  return i === part.length || part.charCodeAt(i) === EQUALS;
}

/** The whitespace String.prototype.trim() removes that a SIP parameter can hold (SP, HTAB, CR, LF). */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * The top Via field of a received request as the response carries it: its
 * first value annotated per viaAnnotations(), any further values as written.
 * Undefined when the request has no Via.
 */
export function annotatedTopViaField(received: Received): string | undefined {
  const message = received.message;
  const first = message.header('via');
  const top = message.topVia;
  if (first === undefined || top === undefined) return first;
  const topText = firstValue(first);
  return annotateViaValue(topText, top, received.source) + first.slice(topText.length);
}

/**
 * Every Via field of a received request, in order, the first value of the
 * first field annotated per viaAnnotations(): copy these into the response
 * (RFC 3261 s8.2.6.2), one Via header line each.
 */
export function responseViaFields(received: Received): string[] {
  const fields = received.message.headerFields('via');
  if (fields.length === 0 || received.message.topVia === undefined) return fields;
  fields[0] = annotatedTopViaField(received)!;
  return fields;
}
