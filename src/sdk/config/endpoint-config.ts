/**
 * SipEndpoint.config: the settings it holds, their defaults, and how they
 * are read and checked from the XML tree (see DESIGN.md "SipEndpoint.config").
 *
 * No I/O here (and no `node:` import): `configFromXml` takes the file's text
 * and its name; `load-config.ts` reads files.
 *
 * Shape:
 *   <AnyRoot>
 *     <Container name="Basic">
 *       <Connectivity user=".." server="host[:port]" protocol="udp|tcp|tls"/>   id 0
 *       <Connectivity .../>                                                    id 1
 *     </Container>
 *     <Container name="Genesys">
 *       <domain name="proxies">
 *         <section name="proxy0"> <setting name=".." value=".."/> ... </section>
 *       </domain>
 *     </Container>
 *   </AnyRoot>
 *
 * Element names and the values of `name` attributes that select a container,
 * domain or section are matched case-insensitively, and so are attribute and
 * setting names. Unknown settings are kept in `extra`; everything unknown is
 * reported once per name in `warnings`. Anything malformed or out of range
 * is a `ConfigError` naming the file, the line and the setting.
 */

import { SipEndpointError } from '../../errors/sip-endpoint-error.ts';
import { hasLineBreakOrNul } from '../../parser/index.ts';
import { parseXml, XmlError, type XmlElement, type XmlLocation } from './xml-reader.ts';
import { oneEditAway } from './near-miss.ts';

export type SipTransportName = 'udp' | 'tcp' | 'tls';

export interface ConnectionSettings {
  /** User part of the address of record (`Connectivity user`). */
  user: string;
  /** Where to send: `host` is the bare address (IPv6 without brackets), ready for a socket. */
  server: { host: string; port: number };
  transport: SipTransportName;
  displayName?: string;
  /**
   * Registrar domain: the REGISTER Request-URI is `sip:DOMAIN`, the AOR
   * `sip:user@DOMAIN`. Defaults to the `server` value as written: host (IPv6
   * in brackets) and the port when one is written, because a registrar checks
   * its Request-URI against its own sockets, port included (Kamailio's
   * `uri == myself`).
   */
  domain: string;
  password?: string;
  /** Digest user name; defaults to `user`. */
  authUsername: string;
  /** Refresh period of the registration. */
  reregisterInSeconds: number;
  /** First retry wait while the site is down; waits double up to the maximum, with jitter. */
  minimumRetrySeconds: number;
  /** Cap of the retry wait. */
  maximumRetrySeconds: number;
  /** CRLF keep-alive on TCP/TLS, OPTIONS on UDP, every keepAliveIntervalSeconds while registered. */
  sendKeepAlive: boolean;
  /** Seconds between keep-alive probes (default 30). */
  keepAliveIntervalSeconds: number;
  /** No provisional answer to an INVITE within this many ms moves the call to another site (default 2000). */
  dialFailoverTimeoutMs: number;
  useRport: boolean;
  /** Settings this SDK does not know, by name as written, kept for the application. */
  extra: Record<string, string>;
}

export interface EndpointConfig {
  /** Index = connection id (the position of the `Connectivity` element). */
  connections: ConnectionSettings[];
  /** One line per unknown name, `file:line: ...`. */
  warnings: string[];
}

export const CONNECTION_DEFAULTS = {
  transport: 'udp',
  port: 5060,
  tlsPort: 5061,
  reregisterInSeconds: 3600,
  minimumRetrySeconds: 20,
  maximumRetrySeconds: 1800,
  sendKeepAlive: false,
  keepAliveIntervalSeconds: 30,
  dialFailoverTimeoutMs: 2000,
  useRport: true,
} as const;

/**
 * Largest number of seconds accepted: a JS timer cannot wait longer than
 * 2^31-1 ms (about 24.8 days), so a longer period would fire at once.
 */
export const MAX_SECONDS = Math.floor(0x7fffffff / 1000);

export type ConfigErrorCode =
  /** The file is not well-formed XML (the `cause` is the `XmlError`). */
  | 'xml'
  /** A required element, attribute or environment variable is missing. */
  | 'missing'
  /** A value is malformed or out of range. */
  | 'invalid'
  /** The same thing is given twice. */
  | 'duplicate'
  /** A `proxyN` section for a connection that has no `Connectivity` element. */
  | 'unknown-connection'
  /** The file cannot be read, is too large, or is not UTF-8 (load-config.ts). */
  | 'io';

export class ConfigError extends SipEndpointError {
  override readonly name = 'ConfigError';
  declare readonly code: ConfigErrorCode;
  readonly reason: string;
  readonly file: string;
  /** 1-based; undefined for problems with the file as a whole. */
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** The setting, attribute or element the problem is in, when there is one. */
  readonly setting: string | undefined;

  constructor(
    code: ConfigErrorCode,
    reason: string,
    where: { file: string; line?: number; column?: number; setting?: string; subject?: string; cause?: unknown },
  ) {
    const place = where.line === undefined ? where.file : `${where.file}:${where.line}`;
    const subject = where.subject ?? (where.setting === undefined ? undefined : `"${where.setting}"`);
    super(code, `${place}: ${subject === undefined ? '' : `${subject}: `}${reason}`, { cause: where.cause });
    this.reason = reason;
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.setting = where.setting;
  }
}

type SettingKind = 'seconds' | 'milliseconds' | 'boolean' | 'text' | 'name' | 'password';

interface KnownSetting {
  kind: SettingKind;
  apply(connection: ConnectionSettings, value: never): void;
}

function known<T extends SettingKind>(
  kind: T,
  apply: (connection: ConnectionSettings, value: T extends 'seconds' | 'milliseconds' ? number : T extends 'boolean' ? boolean : string) => void,
): KnownSetting {
  return { kind, apply };
}

/** The proxy settings of DESIGN.md, by lower-case name. */
const SETTINGS: ReadonlyMap<string, KnownSetting> = new Map([
  ['reregister_in_seconds', known('seconds', (c, v) => { c.reregisterInSeconds = v; })],
  ['minimum_time_before_reregistration_in_seconds', known('seconds', (c, v) => { c.minimumRetrySeconds = v; })],
  ['maximum_time_before_reregistration_in_seconds', known('seconds', (c, v) => { c.maximumRetrySeconds = v; })],
  ['display_name', known('text', (c, v) => { c.displayName = v; })],
  ['domain', known('name', (c, v) => { c.domain = v; })],
  ['password', known('password', (c, v) => { c.password = v; })],
  ['auth_username', known('name', (c, v) => { c.authUsername = v; })],
  ['send_sip_keep_alive_messages', known('boolean', (c, v) => { c.sendKeepAlive = v; })],
  ['keep_alive_interval_in_seconds', known('seconds', (c, v) => { c.keepAliveIntervalSeconds = v; })],
  ['dial_failover_timeout_in_milliseconds', known('milliseconds', (c, v) => { c.dialFailoverTimeoutMs = v; })],
  ['use_rport', known('boolean', (c, v) => { c.useRport = v; })],
]);

const CONNECTIVITY_ATTRIBUTES = new Set(['user', 'server', 'protocol', 'transport']);

interface Attribute {
  name: string;
  value: string;
  line: number;
  column: number;
}

interface SettingEntry extends Attribute {
  section: string;
}

class ConfigReader {
  readonly warnings: string[] = [];
  private readonly warned = new Set<string>();

  private readonly file: string;
  private readonly env: Record<string, string | undefined>;

  constructor(
    file: string,
    env: Record<string, string | undefined>,
  ) {
    this.file = file;
    this.env = env;
  }

  error(
    code: ConfigErrorCode,
    reason: string,
    at: XmlLocation | undefined,
    setting?: string,
    subject?: string,
  ): ConfigError {
    return new ConfigError(code, reason, {
      file: this.file,
      ...(at === undefined ? {} : { line: at.line, column: at.column }),
      ...(setting === undefined ? {} : { setting }),
      ...(subject === undefined ? {} : { subject }),
    });
  }

  /** Reports `message` once per `key` for the whole file. */
  warnOnce(key: string, at: XmlLocation, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warnings.push(`${this.file}:${at.line}: ${message} (reported once)`);
  }

  /** Case-insensitive attribute lookup; the same name in two spellings is an error. */
  attribute(element: XmlElement, name: string): Attribute | undefined {
    let found: Attribute | undefined;
    for (const [written, value] of element.attributes) {
      if (written.toLowerCase() !== name) continue;
      const at = element.attributeLocations.get(written) ?? element;
      if (found !== undefined) {
        throw this.error('duplicate', `attribute given twice (also at line ${found.line})`, at, name, `<${element.name}> attribute "${name}"`);
      }
      found = { name: written, value, line: at.line, column: at.column };
    }
    return found;
  }

  requireAttribute(element: XmlElement, name: string): Attribute {
    const found = this.attribute(element, name);
    if (found === undefined) {
      throw this.error('missing', `attribute "${name}" is required`, element, name, `<${element.name}>`);
    }
    return found;
  }

  read(root: XmlElement): EndpointConfig {
    let basic: XmlElement | undefined;
    const genesys: XmlElement[] = [];
    for (const child of root.children) {
      if (!isNamed(child, 'container')) {
        this.warnOnce(`element:${child.name.toLowerCase()}`, child, `element <${child.name}> is not used (ignored)`);
        continue;
      }
      const name = this.requireAttribute(child, 'name');
      const kind = name.value.trim().toLowerCase();
      if (kind === 'basic') {
        if (basic !== undefined) {
          throw this.error('duplicate', `a second Container "Basic" (the first is at line ${basic.line}); connection ids would be ambiguous`, child, 'Container');
        }
        basic = child;
      } else if (kind === 'genesys') {
        genesys.push(child);
      } else {
        const meant = oneEditAway(kind, ['basic', 'genesys']);
        if (meant !== undefined) throw this.error('invalid', misspelt(meant === 'basic' ? 'Basic' : 'Genesys', 'Container'), name, 'name', `Container "${name.value}"`);
        this.warnOnce(`container:${kind}`, child, `Container "${name.value}" is not used (ignored)`);
      }
    }
    if (basic === undefined) {
      throw this.error('missing', 'no <Container name="Basic"> with Connectivity elements', root, 'Container');
    }
    const connections: ConnectionSettings[] = [];
    const seen = new Map<string, XmlElement>();
    for (const child of basic.children) {
      if (isNamed(child, 'connectivity')) {
        const connection = this.readConnectivity(child);
        // Two identical connections would register one binding twice: disabling one would unregister the other.
        const key = `${connection.user}|${connection.server.host.toLowerCase()}|${connection.server.port}|${connection.transport}`;
        const first = seen.get(key);
        if (first !== undefined) {
          throw this.error('duplicate', `the same user, server and transport as the Connectivity at line ${first.line}`, child, 'Connectivity');
        }
        seen.set(key, child);
        connections.push(connection);
      }
      else this.warnOnce(`element:${child.name.toLowerCase()}`, child, `element <${child.name}> in Container "Basic" is not used (ignored)`);
    }
    if (connections.length === 0) {
      throw this.error('missing', 'Container "Basic" has no <Connectivity> element (one per site is required)', basic, 'Connectivity');
    }
    const settings = connections.map(() => new Map<string, SettingEntry>());
    for (const container of genesys) this.readGenesys(container, settings);
    settings.forEach((entries, id) => this.applySettings(connections[id]!, entries));
    return { connections, warnings: this.warnings };
  }

  private readConnectivity(element: XmlElement): ConnectionSettings {
    for (const [written] of element.attributes) {
      const lower = written.toLowerCase();
      if (!CONNECTIVITY_ATTRIBUTES.has(lower)) {
        const at = element.attributeLocations.get(written) ?? element;
        const meant = oneEditAway(lower, CONNECTIVITY_ATTRIBUTES);
        if (meant !== undefined) throw this.error('invalid', misspelt(meant, 'attribute'), at, written, `Connectivity attribute "${written}"`);
        this.warnOnce(`connectivity:${lower}`, at, `Connectivity attribute "${written}" is not used (ignored)`);
      }
    }
    const subject = (name: string): string => `Connectivity attribute "${name}"`;
    const userAttr = this.requireAttribute(element, 'user');
    const user = userAttr.value.trim();
    if (user === '') throw this.error('invalid', 'must not be empty', userAttr, 'user', subject('user'));
    if (hasLineBreakOrNul(user)) throw this.error('invalid', `must not contain CR, LF or NUL, got ${quote(user)}`, userAttr, 'user', subject('user'));

    const transport = this.readTransport(element);

    const serverAttr = this.requireAttribute(element, 'server');
    const server = parseServer(serverAttr.value);
    if (typeof server === 'string') throw this.error('invalid', server, serverAttr, 'server', subject('server'));
    const defaultPort = transport === 'tls' ? CONNECTION_DEFAULTS.tlsPort : CONNECTION_DEFAULTS.port;

    return {
      user,
      server: { host: server.host, port: server.port ?? defaultPort },
      transport,
      domain: registrarDomain(server),
      authUsername: user,
      reregisterInSeconds: CONNECTION_DEFAULTS.reregisterInSeconds,
      minimumRetrySeconds: CONNECTION_DEFAULTS.minimumRetrySeconds,
      maximumRetrySeconds: CONNECTION_DEFAULTS.maximumRetrySeconds,
      sendKeepAlive: CONNECTION_DEFAULTS.sendKeepAlive,
      keepAliveIntervalSeconds: CONNECTION_DEFAULTS.keepAliveIntervalSeconds,
      dialFailoverTimeoutMs: CONNECTION_DEFAULTS.dialFailoverTimeoutMs,
      useRport: CONNECTION_DEFAULTS.useRport,
      extra: {},
    };
  }

  private readTransport(element: XmlElement): SipTransportName {
    let result: { value: SipTransportName; attr: Attribute } | undefined;
    for (const name of ['protocol', 'transport']) {
      const attr = this.attribute(element, name);
      if (attr === undefined) continue;
      const value = attr.value.trim().toLowerCase();
      if (value !== 'udp' && value !== 'tcp' && value !== 'tls') {
        throw this.error('invalid', `must be udp, tcp or tls, got ${quote(attr.value)}`, attr, name, `Connectivity attribute "${name}"`);
      }
      if (result !== undefined && result.value !== value) {
        throw this.error('invalid', `"protocol" says ${result.value} but "transport" says ${value}`, attr, name, `Connectivity attribute "${name}"`);
      }
      result = { value, attr };
    }
    return result?.value ?? CONNECTION_DEFAULTS.transport;
  }

  private readGenesys(container: XmlElement, settings: Map<string, SettingEntry>[]): void {
    for (const domain of container.children) {
      const nameAttr = isNamed(domain, 'domain') ? this.requireAttribute(domain, 'name') : undefined;
      const name = nameAttr?.value.trim();
      const lower = name?.toLowerCase();
      if (lower !== undefined && lower !== 'proxies' && (lower === 'proxy' || oneEditAway(lower, ['proxies']) !== undefined)) {
        throw this.error('invalid', misspelt('proxies', 'domain'), nameAttr!, 'name', `domain "${name}"`);
      }
      if (lower !== 'proxies') {
        const label = name === undefined ? `element <${domain.name}>` : `domain "${name}"`;
        this.warnOnce(`genesys:${label.toLowerCase()}`, domain, `${label} in Container "Genesys" is not used (ignored)`);
        continue;
      }
      for (const section of domain.children) this.readSection(section, settings);
    }
  }

  private readSection(section: XmlElement, settings: Map<string, SettingEntry>[]): void {
    if (!isNamed(section, 'section')) {
      this.warnOnce(`proxies:${section.name.toLowerCase()}`, section, `element <${section.name}> in domain "proxies" is not used (ignored)`);
      return;
    }
    const nameAttr = this.requireAttribute(section, 'name');
    const sectionName = nameAttr.value.trim();
    const id = proxyIndex(sectionName);
    const separated = /^proxy[\s_.-]+(\d+)$/i.exec(sectionName);
    if (id === undefined && separated !== null) {
      throw this.error('invalid', misspelt(`proxy${Number(separated[1])}`, 'section'), nameAttr, sectionName, `section "${sectionName}"`);
    }
    if (id === undefined) {
      this.warnOnce(`section:${sectionName.toLowerCase()}`, section, `section "${sectionName}" in domain "proxies" is not a proxyN section (ignored)`);
      return;
    }
    if (typeof id === 'string') throw this.error('invalid', id, nameAttr, sectionName, `section "${sectionName}"`);
    const entries = settings[id];
    if (entries === undefined) {
      const defined = settings.length === 1 ? 'only connection 0 is' : `only connections 0-${settings.length - 1} are`;
      throw this.error(
        'unknown-connection',
        `configures connection ${id}, but ${defined} defined by Connectivity elements`,
        section,
        sectionName,
        `section "${sectionName}"`,
      );
    }
    for (const child of section.children) {
      if (!isNamed(child, 'setting')) {
        this.warnOnce(`section-child:${child.name.toLowerCase()}`, child, `element <${child.name}> in section "${sectionName}" is not used (ignored)`);
        continue;
      }
      const name = this.requireAttribute(child, 'name');
      const settingName = name.value.trim();
      if (settingName === '') throw this.error('invalid', 'setting name must not be empty', name, 'name', '<setting> attribute "name"');
      const value = this.attribute(child, 'value');
      if (value === undefined) {
        throw this.error('missing', 'has no "value" attribute', child, settingName, `setting "${settingName}" of ${sectionName}`);
      }
      const key = settingName.toLowerCase();
      const previous = entries.get(key);
      if (previous !== undefined) {
        throw this.error(
          'duplicate',
          `given twice for connection ${id} (first at line ${previous.line})`,
          child,
          settingName,
          `setting "${settingName}" of ${sectionName}`,
        );
      }
      entries.set(key, { name: settingName, value: value.value, line: child.line, column: child.column, section: sectionName });
    }
  }

  private applySettings(connection: ConnectionSettings, entries: Map<string, SettingEntry>): void {
    for (const [key, entry] of entries) {
      const setting = SETTINGS.get(key);
      const meant = setting === undefined ? oneEditAway(key, SETTINGS.keys()) : undefined;
      if (meant !== undefined) {
        throw this.error('invalid', `unknown setting, one letter away from "${meant}": did you mean it? (refused, as a misspelt setting would do nothing)`, entry, entry.name, `setting "${entry.name}" of ${entry.section}`);
      }
      if (setting === undefined) {
        Object.defineProperty(connection.extra, entry.name, { value: entry.value, enumerable: true, writable: true, configurable: true });
        this.warnOnce(`setting:${key}`, entry, `unknown setting "${entry.name}" in section "${entry.section}" kept in extra`);
        continue;
      }
      (setting.apply as (c: ConnectionSettings, v: unknown) => void)(connection, this.settingValue(setting.kind, entry));
    }
    if (connection.minimumRetrySeconds > connection.maximumRetrySeconds) {
      const max = entries.get('maximum_time_before_reregistration_in_seconds');
      const blamed = max ?? entries.get('minimum_time_before_reregistration_in_seconds')!;
      throw this.error(
        'invalid',
        `minimum retry wait ${connection.minimumRetrySeconds} s is more than the maximum ${connection.maximumRetrySeconds} s`,
        blamed,
        blamed.name,
        `setting "${blamed.name}" of ${blamed.section}`,
      );
    }
  }

  private settingValue(kind: SettingKind, entry: SettingEntry): number | boolean | string {
    const fail = (reason: string): ConfigError =>
      this.error('invalid', reason, entry, entry.name, `setting "${entry.name}" of ${entry.section}`);
    const trimmed = entry.value.trim();
    // `&#13;&#10;` survives XML parsing: refused here, with the line, before it can reach a header.
    if ((kind === 'text' || kind === 'name') && hasLineBreakOrNul(entry.value)) {
      throw fail(`must not contain CR, LF or NUL (it goes into a SIP header), got ${quote(entry.value)}`);
    }
    switch (kind) {
      case 'seconds': {
        const seconds = parseDecimal(trimmed);
        if (seconds === undefined || seconds < 1 || seconds > MAX_SECONDS) {
          throw fail(`must be a whole number of seconds from 1 to ${MAX_SECONDS}, got ${quote(entry.value)}`);
        }
        return seconds;
      }
      case 'milliseconds': {
        const ms = parseDecimal(trimmed);
        if (ms === undefined || ms < 1 || ms > MAX_SECONDS * 1000) {
          throw fail(`must be a whole number of milliseconds from 1 to ${MAX_SECONDS * 1000}, got ${quote(entry.value)}`);
        }
        return ms;
      }
      case 'boolean': {
        const lower = trimmed.toLowerCase();
        if (lower === '1' || lower === 'true') return true;
        if (lower === '0' || lower === 'false') return false;
        throw fail(`must be 1 or 0 (or true / false), got ${quote(entry.value)}`);
      }
      case 'name':
        if (trimmed === '') throw fail('must not be empty');
        return trimmed;
      case 'password': {
        if (!entry.value.startsWith('env:')) return entry.value;
        const variable = entry.value.slice(4);
        if (variable === '') throw fail('"env:" must be followed by an environment variable name');
        const value = Object.hasOwn(this.env, variable) ? this.env[variable] : undefined;
        if (typeof value !== 'string') {
          throw this.error('missing', `environment variable ${variable} is not set`, entry, entry.name, `setting "${entry.name}" of ${entry.section}`);
        }
        return value;
      }
      case 'text':
        return entry.value;
    }
  }
}

function isNamed(element: XmlElement, lowerName: string): boolean {
  return element.name.toLowerCase() === lowerName;
}

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

function isDigits(text: string): boolean {
  if (text === '') return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Plain decimal digits only (no sign, exponent, fraction or hex). */
function parseDecimal(text: string): number | undefined {
  if (!isDigits(text) || text.length > 15) return undefined;
  return Number(text);
}

/** The error for a name one edit (or one separator) away from a known one: refused, as ignoring it would drop what it holds. */
function misspelt(meant: string, what: string): string {
  return `unknown ${what} name: did you mean "${meant}"? (refused: ignored, what it holds would silently do nothing)`;
}

/** `proxy<N>` -> N; undefined for another name; a string explains a malformed index. */
function proxyIndex(name: string): number | string | undefined {
  if (name.slice(0, 5).toLowerCase() !== 'proxy') return undefined;
  const digits = name.slice(5);
  if (!isDigits(digits)) return undefined;
  if (digits.length > 1 && digits.startsWith('0')) return `connection index has a leading zero (write "proxy${Number(digits)}")`;
  const index = parseDecimal(digits);
  return index === undefined ? 'connection index is too large' : index;
}

const HOST_CHARS = /^[A-Za-z0-9._-]+$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/**
 * `host`, `host:port`, `[ipv6]` or `[ipv6]:port`. Returns the bare host, the
 * host as written in a SIP URI, and the port if given; or a reason string.
 */
export function parseServer(text: string): { host: string; uriHost: string; port: number | undefined } | string {
  const value = text.trim();
  if (value === '') return 'must not be empty';
  let host: string;
  let uriHost: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) return `IPv6 address is missing its "]" in ${quote(value)}`;
    host = value.slice(1, close);
    if (!host.includes(':') || !IPV6_CHARS.test(host)) return `${quote(host)} is not an IPv6 address`;
    uriHost = `[${host}]`;
    const rest = value.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return `expected ":port" after "]" in ${quote(value)}`;
      portText = rest.slice(1);
    }
  } else {
    // "sip:5060" is the host "sip" on port 5060; "sip:pbx:5060" and "sip:pbx" are URIs.
    const scheme = /^(sips?):(?!\d+$)/i.exec(value);
    if (scheme !== null) {
      return `is host:port, without a URI scheme: write ${quote(value.slice(scheme[0].length))} (the transport is the protocol attribute)`;
    }
    const colon = value.indexOf(':');
    if (colon >= 0 && value.indexOf(':', colon + 1) >= 0) {
      return `an IPv6 address must be written in brackets, e.g. "[${value}]:5060"`;
    }
    host = colon < 0 ? value : value.slice(0, colon);
    portText = colon < 0 ? undefined : value.slice(colon + 1);
    if (!HOST_CHARS.test(host)) return `${quote(host)} is not a host name or IPv4 address`;
    uriHost = host;
  }
  if (portText === undefined) return { host, uriHost, port: undefined };
  const port = parseDecimal(portText);
  if (port === undefined || port < 1 || port > 65535) return `port must be a number from 1 to 65535, got ${quote(portText)}`;
  return { host, uriHost, port };
}

/**
 * The default registrar domain of a parsed `server` value: as written, the
 * port included only when one was written (`sip:127.0.0.1:5070`,
 * `sip:[2001:db8::1]:5070`, `sip:pbx.example.com`).
 */
export function registrarDomain(server: { uriHost: string; port: number | undefined }): string {
  return server.port === undefined ? server.uriHost : `${server.uriHost}:${server.port}`;
}

/**
 * Reads a SipEndpoint.config document. `fileName` is only used in messages;
 * `env` supplies `env:NAME` passwords (nothing is read from the process).
 * Throws `ConfigError` for anything malformed or out of range.
 */
export function configFromXml(
  text: string,
  fileName: string,
  env: Record<string, string | undefined> = {},
): EndpointConfig {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (error) {
    if (!(error instanceof XmlError)) throw error;
    throw new ConfigError('xml', `not well-formed XML: ${error.reason}`, {
      file: fileName,
      line: error.line,
      column: error.column,
      cause: error,
    });
  }
  return configFromTree(root, fileName, env);
}

/** As `configFromXml`, from an already parsed document. */
export function configFromTree(
  root: XmlElement,
  fileName: string,
  env: Record<string, string | undefined> = {},
): EndpointConfig {
  return new ConfigReader(fileName, env).read(root);
}
