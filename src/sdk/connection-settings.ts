/**
 * Settings of one connection given in code (`addConnection`), completed with
 * the same defaults and checks as a SipEndpoint.config file gives them.
 */
import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
import { resolveSettings } from '../registrar-client/index.ts';
import { CONNECTION_DEFAULTS, parseServer, registrarDomain, type ConnectionSettings, type SipTransportName } from './config/index.ts';

export interface ConnectionInput {
  user: string;
  /** "host:port", "host", "[v6]:port", or { host, port }. */
  server: string | { host: string; port?: number };
  transport?: SipTransportName | 'UDP' | 'TCP' | 'TLS';
  displayName?: string;
  domain?: string;
  password?: string;
  authUsername?: string;
  reregisterInSeconds?: number;
  minimumRetrySeconds?: number;
  maximumRetrySeconds?: number;
  sendKeepAlive?: boolean;
  /** Seconds between keep-alive probes (default 30). */
  keepAliveIntervalSeconds?: number;
  /** No provisional answer to an INVITE within this many ms moves the call to another site (default 2000). */
  dialFailoverTimeoutMs?: number;
  useRport?: boolean;
  extra?: Record<string, string>;
  /**
   * RFC 5626 outbound: this endpoint's instance id (a UUID or urn:uuid:UUID)
   * for `+sip.instance` in Contact, and this connection's `reg-id` (default 1).
   */
  instanceId?: string;
  regId?: number;
}

/** ConnectionSettings plus the RFC 5626 fields a connection given in code may carry. */
export type CompletedSettings = ConnectionSettings & { instanceId?: string; regId?: number };

export class ConnectionSettingsError extends SipEndpointError {
  override readonly name = 'ConnectionSettingsError';
  constructor(message: string) {
    super('ERR_CONNECTION_SETTINGS', message);
  }
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 1) throw new ConnectionSettingsError(`${name} must be a whole number of seconds >= 1, got ${result}`);
  return result;
}

function milliseconds(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 1 || result > 0x7fffffff) throw new ConnectionSettingsError(`${name} must be a whole number of milliseconds >= 1, got ${result}`);
  return result;
}

export function completeSettings(input: ConnectionInput | ConnectionSettings): CompletedSettings {
  if (typeof input.user !== 'string' || input.user === '') throw new ConnectionSettingsError('user must be a non-empty string');
  const transport = String(input.transport ?? CONNECTION_DEFAULTS.transport).toLowerCase() as SipTransportName;
  if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') throw new ConnectionSettingsError(`unknown transport ${String(input.transport)}`);
  const defaultPort = transport === 'tls' ? CONNECTION_DEFAULTS.tlsPort : CONNECTION_DEFAULTS.port;
  let host: string;
  let domain: string;
  let port: number;
  if (typeof input.server === 'string') {
    const parsed = parseServer(input.server);
    if (typeof parsed === 'string') throw new ConnectionSettingsError(`server ${JSON.stringify(input.server)}: ${parsed}`);
    host = parsed.host;
    domain = registrarDomain(parsed);
    port = parsed.port ?? defaultPort;
  } else {
    host = input.server.host.replace(/^\[(.*)\]$/, '$1');
    domain = registrarDomain({ uriHost: host.includes(':') ? `[${host}]` : host, port: input.server.port });
    port = input.server.port ?? defaultPort;
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConnectionSettingsError(`server port ${port} out of range`);
  const minimumRetrySeconds = seconds(input.minimumRetrySeconds, CONNECTION_DEFAULTS.minimumRetrySeconds, 'minimumRetrySeconds');
  const maximumRetrySeconds = seconds(input.maximumRetrySeconds, CONNECTION_DEFAULTS.maximumRetrySeconds, 'maximumRetrySeconds');
  if (minimumRetrySeconds > maximumRetrySeconds) throw new ConnectionSettingsError('minimumRetrySeconds must not exceed maximumRetrySeconds');
  const settings: CompletedSettings = {
    user: input.user,
    server: { host, port },
    transport,
    domain: input.domain ?? domain,
    authUsername: input.authUsername ?? input.user,
    reregisterInSeconds: seconds(input.reregisterInSeconds, CONNECTION_DEFAULTS.reregisterInSeconds, 'reregisterInSeconds'),
    minimumRetrySeconds,
    maximumRetrySeconds,
    sendKeepAlive: input.sendKeepAlive ?? CONNECTION_DEFAULTS.sendKeepAlive,
    keepAliveIntervalSeconds: seconds(input.keepAliveIntervalSeconds, CONNECTION_DEFAULTS.keepAliveIntervalSeconds, 'keepAliveIntervalSeconds'),
    dialFailoverTimeoutMs: milliseconds(input.dialFailoverTimeoutMs, CONNECTION_DEFAULTS.dialFailoverTimeoutMs, 'dialFailoverTimeoutMs'),
    useRport: input.useRport ?? CONNECTION_DEFAULTS.useRport,
    extra: { ...(input.extra ?? {}) },
  };
  if (input.displayName !== undefined) settings.displayName = input.displayName;
  if (input.password !== undefined) settings.password = input.password;
  if ('instanceId' in input && input.instanceId !== undefined) settings.instanceId = input.instanceId;
  if ('regId' in input && input.regId !== undefined) settings.regId = input.regId;
  // The registration layer's own checks (user part, host, domain, period caps), reported as settings errors.
  try {
    resolveSettings(settings);
  } catch (error) {
    throw new ConnectionSettingsError((error as Error).message);
  }
  return settings;
}
