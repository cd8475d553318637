/**
 * What one registration needs to know about its connection. The field names
 * are those of the SDK's `ConnectionSettings` (src/sdk/config), so the SDK
 * passes its object straight in; this layer does not import the SDK (a layer
 * only calls the layers below it). Fields the SDK always fills are optional
 * here and get the documented defaults.
 */
import { checkHeaderValue } from '../parser/index.ts';
import type { TransportKind } from '../transport/types.ts';

export interface RegistrationSettings {
  /** User part of the address of record, `sip:user@domain`. */
  readonly user: string;
  /** Where REGISTER is sent: the bare address (IPv6 without brackets) and port. */
  readonly server: { readonly host: string; readonly port: number };
  readonly transport: TransportKind;
  /**
   * Registrar domain, `host[:port]` as in a SIP URI (Request-URI `sip:DOMAIN`,
   * AOR `sip:user@DOMAIN`); default the server host, IPv6 in brackets. The
   * SDK passes the server as written, port included (config's `domain`).
   */
  readonly domain?: string;
  /** Digest password; without one a challenge ends the registration as `failed`. */
  readonly password?: string;
  /** Digest user name; default `user`. */
  readonly authUsername?: string;
  /** Display name put in From and To. */
  readonly displayName?: string;
  /** Refresh period in seconds (default 3600); a shorter granted expiry wins. */
  readonly reregisterInSeconds?: number;
  /** First wait before retrying a site that does not answer (default 20 s). */
  readonly minimumRetrySeconds?: number;
  /** Cap of the retry wait (default 1800 s). */
  readonly maximumRetrySeconds?: number;
  /**
   * RFC 5626 outbound: the instance id (`urn:uuid:...`, or a bare UUID) put
   * in Contact as `+sip.instance`. Absent: no instance, no reg-id.
   */
  readonly instanceId?: string;
  /** RFC 5626 s4.2 `reg-id` of this flow; only with `instanceId` (default 1 when an instance is given). */
  readonly regId?: number;
  /**
   * Probe the registrar while registered (DESIGN.md `send_sip_keep_alive_messages`):
   * OPTIONS over UDP, the RFC 5626 CRLFCRLF ping over TCP/TLS. Default false.
   */
  readonly sendKeepAlive?: boolean;
  /** Seconds between probes (default 30); one unanswered within min(interval, 10 s) makes the site unavailable. */
  readonly keepAliveIntervalSeconds?: number;
  /** Put `rport` (RFC 3581) in the Via of this connection's requests (default true). */
  readonly useRport?: boolean;
  /** A token unique to this connection, put in its Contact as `;line=` (the SDK makes one). */
  readonly line?: string;
  /** Settings this layer does not use, kept by the SDK; ignored here. */
  readonly extra?: Readonly<Record<string, string>>;
}

export const REGISTRATION_DEFAULTS = Object.freeze({
  reregisterInSeconds: 3600,
  minimumRetrySeconds: 20,
  maximumRetrySeconds: 1800,
  keepAliveIntervalSeconds: 30,
});

/**
 * Largest number of seconds accepted for a period: a JS timer cannot wait
 * longer than 2^31-1 ms (about 24.8 days).
 */
export const MAX_PERIOD_SECONDS = Math.floor(0x7fffffff / 1000);

/**
 * Largest expiry we ask for or take from a registrar: 31 days (above the
 * longest period plus Timer F). A larger granted expiry is clamped to it; a
 * 423 whose Min-Expires is above it ends the registration as `failed`.
 */
export const MAX_EXPIRES_SECONDS = 31 * 86400;

/** Settings with every default applied and every value checked. */
export interface ResolvedSettings {
  readonly user: string;
  readonly target: { readonly transport: TransportKind; readonly host: string; readonly port: number };
  /** Registrar domain as written in a SIP URI (IPv6 in brackets). */
  readonly domain: string;
  readonly password: string | undefined;
  readonly authUsername: string;
  readonly displayName: string | undefined;
  readonly reregisterInSeconds: number;
  readonly minimumRetrySeconds: number;
  readonly maximumRetrySeconds: number;
  /** `urn:uuid:...` or undefined. */
  readonly instanceId: string | undefined;
  readonly regId: number | undefined;
  /** Seconds between keep-alive probes while registered; undefined: no probes. */
  readonly keepAliveSeconds: number | undefined;
  readonly useRport: boolean;
  readonly line: string | undefined;
}

const TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls']);
/** RFC 3261 s25.1 user part: unreserved, escaped and user-unreserved characters. */
const USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
/** hostport of RFC 3261 s25.1: a host (IPv6 in brackets) and an optional port. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?::[0-9]{1,5})?$/;
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

function seconds(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0 || v > MAX_PERIOD_SECONDS) {
    throw new RangeError(`${name} must be a number of seconds in (0, ${MAX_PERIOD_SECONDS}], got ${String(value)}`);
  }
  return v;
}

/** A host as written in a SIP URI: IPv6 addresses get their brackets. */
export function uriHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Applies the defaults and checks every value; throws TypeError/RangeError
 * naming the field (HeaderValueError for a CR, LF or NUL in a value that goes
 * into a header).
 */
export function resolveSettings(settings: RegistrationSettings): ResolvedSettings {
  if (typeof settings.user !== 'string' || !USER.test(settings.user)) {
    throw new TypeError(`user must be a SIP user part, got ${JSON.stringify(settings.user)}`);
  }
  if (!TRANSPORTS.has(settings.transport)) throw new TypeError(`transport must be udp, tcp or tls, got ${JSON.stringify(settings.transport)}`);
  const { host, port } = settings.server ?? {};
  if (typeof host !== 'string' || host === '') throw new TypeError('server.host is required');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`server.port must be 1..65535, got ${String(port)}`);
  const domain = settings.domain === undefined || settings.domain === '' ? uriHost(host) : settings.domain;
  if (!HOST_PORT.test(domain)) throw new TypeError(`domain must be a host name or address with an optional port, got ${JSON.stringify(domain)}`);
  const reregisterInSeconds = seconds('reregisterInSeconds', settings.reregisterInSeconds, REGISTRATION_DEFAULTS.reregisterInSeconds);
  const minimumRetrySeconds = seconds('minimumRetrySeconds', settings.minimumRetrySeconds, REGISTRATION_DEFAULTS.minimumRetrySeconds);
  const maximumRetrySeconds = seconds('maximumRetrySeconds', settings.maximumRetrySeconds, REGISTRATION_DEFAULTS.maximumRetrySeconds);
  if (minimumRetrySeconds > maximumRetrySeconds) {
    throw new RangeError(`minimumRetrySeconds (${minimumRetrySeconds}) is above maximumRetrySeconds (${maximumRetrySeconds})`);
  }
  let instanceId: string | undefined;
  let regId: number | undefined;
  if (settings.instanceId !== undefined) {
    const bare = settings.instanceId.replace(/^urn:uuid:/i, '');
    if (!UUID.test(bare)) throw new TypeError(`instanceId must be a UUID or urn:uuid:UUID, got ${JSON.stringify(settings.instanceId)}`);
    instanceId = `urn:uuid:${bare.toLowerCase()}`;
    regId = settings.regId ?? 1;
    if (!Number.isInteger(regId) || regId < 1 || regId > 0x7fffffff) throw new RangeError(`regId must be a positive integer, got ${String(regId)}`);
  } else if (settings.regId !== undefined) {
    throw new TypeError('regId needs an instanceId (RFC 5626 s4.2)');
  }
  const authUsername = settings.authUsername === undefined || settings.authUsername === '' ? settings.user : checkHeaderValue(settings.authUsername, 'authUsername');
  if (settings.displayName !== undefined) checkHeaderValue(settings.displayName, 'displayName');
  const keepAliveInterval = seconds('keepAliveIntervalSeconds', settings.keepAliveIntervalSeconds, REGISTRATION_DEFAULTS.keepAliveIntervalSeconds);
  return {
    user: settings.user,
    target: { transport: settings.transport, host: host.replace(/^\[(.*)\]$/, '$1'), port },
    domain,
    password: settings.password,
    authUsername,
    displayName: settings.displayName === '' ? undefined : settings.displayName,
    reregisterInSeconds,
    minimumRetrySeconds,
    maximumRetrySeconds,
    instanceId,
    regId,
    keepAliveSeconds: settings.sendKeepAlive === true ? keepAliveInterval : undefined,
    useRport: settings.useRport ?? true,
    line: checkLine(settings.line),
  };
}

/** A `line` token: a URI param value we write ourselves (token characters only, RFC 3261 s25.1). */
function checkLine(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  if (!/^[A-Za-z0-9\-_.!~*'+%]{1,64}$/.test(line)) throw new TypeError(`line must be a token of 1-64 characters, got ${JSON.stringify(line)}`);
  return line;
}
