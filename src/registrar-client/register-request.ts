/**
 * The REGISTER of one registration (RFC 3261 s10.2) and the reading of the
 * registrar's 2xx (s10.2.4):
 *
 *   REGISTER sip:domain SIP/2.0              (no user part, s10.2)
 *   Max-Forwards: 70
 *   From: "Name" <sip:user@domain>;tag=...   (To = From = the AOR)
 *   To: "Name" <sip:user@domain>
 *   Call-ID: ...                             (one for the life of the registration)
 *   CSeq: n REGISTER                         (n + 1 for every REGISTER)
 *   Contact: <sip:user@host:port;transport=tcp>[;+sip.instance="<urn:uuid:...>";reg-id=1]
 *   Expires: 3632                            (0 to unregister, our contact only)
 *   [Supported: path, outbound]              (RFC 5626 s4.2, with an instance)
 *   [Authorization / Proxy-Authorization]
 *
 * The transaction layer adds the Via. The Contact is the local address the
 * transport reports for the connection's transport; `transport=` is written
 * for TCP and TLS (UDP is the default).
 */
import { isWildcard, quote, type MessageParts, type SipMessage, type ContactValue } from '../parser/index.ts';
import type { Endpoint } from '../transport/types.ts';
import type { ResolvedSettings } from './settings.ts';
import { uriHost } from './settings.ts';

/** The fixed parts of a registration's requests, built once. */
export interface RegisterIdentity {
  readonly requestUri: string;
  /** `sip:user@domain`. */
  readonly aor: string;
  readonly from: string;
  readonly to: string;
  readonly callId: string;
}

export function registerIdentity(settings: ResolvedSettings, callId: string, fromTag: string): RegisterIdentity {
  const aor = `sip:${settings.user}@${settings.domain}`;
  const display = settings.displayName === undefined ? '' : `${quote(settings.displayName)} `;
  return {
    requestUri: `sip:${settings.domain}`,
    aor,
    from: `${display}<${aor}>;tag=${fromTag}`,
    to: `${display}<${aor}>`,
    callId,
  };
}

/**
 * Our Contact URI for a local endpoint: `transport=` for TCP and TLS, and the
 * connection's `line=` token when it has one, so that a call forwarded by
 * either site names its connection in the Request-URI.
 */
export function contactUri(settings: ResolvedSettings, local: Endpoint): string {
  const transport = local.transport === 'udp' ? '' : `;transport=${local.transport}`;
  const line = settings.line === undefined ? '' : `;line=${settings.line}`;
  return `sip:${settings.user}@${uriHost(local.host)}:${local.port}${transport}${line}`;
}

/** The Contact header value: URI plus the RFC 5626 params when the connection asks for outbound. */
export function contactValue(settings: ResolvedSettings, uri: string): string {
  if (settings.instanceId === undefined) return `<${uri}>`;
  return `<${uri}>;+sip.instance=${quote(`<${settings.instanceId}>`)};reg-id=${settings.regId}`;
}

export interface RegisterOptions {
  readonly identity: RegisterIdentity;
  readonly settings: ResolvedSettings;
  readonly cseq: number;
  readonly contactUri: string;
  readonly expires: number;
  /** Authorization / Proxy-Authorization fields. */
  readonly credentials: ReadonlyArray<[string, string]>;
  readonly userAgent: string | undefined;
}

export function registerParts(options: RegisterOptions): MessageParts {
  const { identity, settings } = options;
  const headers: Array<[string, string]> = [
    ['Max-Forwards', '70'],
    ['From', identity.from],
    ['To', identity.to],
    ['Call-ID', identity.callId],
    ['CSeq', `${options.cseq} REGISTER`],
    ['Contact', contactValue(settings, options.contactUri)],
    ['Expires', String(options.expires)],
  ];
  if (settings.instanceId !== undefined) headers.push(['Supported', 'path, outbound']);
  if (options.userAgent !== undefined) headers.push(['User-Agent', options.userAgent]);
  for (const field of options.credentials) headers.push(field);
  return { method: 'REGISTER', uri: identity.requestUri, headers };
}

const DEFAULT_PORT: Readonly<Record<string, number>> = { udp: 5060, tcp: 5060, tls: 5061 };

function transportOf(params: ReadonlyMap<string, string | null>): string {
  return (params.get('transport') ?? 'udp').toLowerCase();
}

function stripBrackets(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/**
 * Whether a Contact of the 2xx is ours. RFC 5626 s6: with an instance, the
 * `+sip.instance` and `reg-id` say it. Otherwise RFC 3261 s19.1.4 URI
 * comparison reduced to what identifies a binding of ours: scheme, user,
 * host, port (default by transport) and transport.
 */
export function isOurContact(value: ContactValue, ourUri: string, settings: ResolvedSettings): boolean {
  if (isWildcard(value)) return false;
  if (settings.instanceId !== undefined) {
    const instance = value.params.get('+sip.instance');
    if (instance != null) {
      const regId = value.params.get('reg-id');
      return (
        unquoteAngle(instance) === settings.instanceId &&
        (regId == null || regId === String(settings.regId))
      );
    }
  }
  const uri = value.uri;
  if (uri.toString() === ourUri) return true;
  if (uri.scheme !== 'sip' || uri.host === null || uri.user === null) return false;
  const ours = parseOwnUri(ourUri);
  const transport = transportOf(uri.params);
  return (
    uri.user === ours.user &&
    stripBrackets(uri.host) === ours.host &&
    (uri.port ?? DEFAULT_PORT[transport]) === ours.port &&
    transport === ours.transport
  );
}

function unquoteAngle(value: string): string {
  const bare = value.replace(/^"(.*)"$/, '$1');
  return bare.replace(/^<(.*)>$/, '$1').toLowerCase();
}

/** Parses the URI contactUri() wrote (no general URI parsing needed). */
function parseOwnUri(uri: string): { user: string; host: string; port: number; transport: string } {
  const match = /^sip:([^@]+)@(\[[^\]]+\]|[^:;]+):(\d+)(?:;transport=(\w+))?(?:;line=[^;]*)?$/.exec(uri)!;
  return { user: match[1]!, host: stripBrackets(match[2]!), port: Number(match[3]), transport: match[4] ?? 'udp' };
}

const DELTA = /^\d{1,10}$/;

/**
 * The expiry the registrar granted us (RFC 3261 s10.2.4): the `expires`
 * param of our Contact in the 2xx, else the Expires header, else what we
 * asked for. A malformed header counts as absent.
 */
export function grantedExpires(response: SipMessage, ourUri: string, settings: ResolvedSettings, asked: number): number {
  try {
    for (const value of response.contact) {
      if (isWildcard(value) || !isOurContact(value, ourUri, settings)) continue;
      const raw = value.params.get('expires');
      if (raw != null && DELTA.test(raw.trim())) return Number(raw.trim());
      break;
    }
  } catch {
    // malformed Contact: fall through to Expires
  }
  try {
    const expires = response.expires;
    if (expires !== undefined) return expires;
  } catch {
    // malformed Expires: use what we asked for
  }
  return asked;
}
