/**
 * IConnectionManager: the endpoint's SIP connections, one per SIP Server
 * site, each registered on its own schedule. Every change of a connection's
 * status is one `connectionStatusChanged` event.
 *
 *   disabled --enable--> registering --200--> registered --refresh fails--> unavailable
 *      ^                     |                    ^                             |
 *      |                     +--403/404/...--> failed        site answers again-+
 *      +---------------------------- disable (from any status) -----------------+
 */
import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
import type { RegistrationManager, RegistrationStatus, RegistrationStatusEvent } from '../registrar-client/index.ts';
import type { ConnectionSettings, SipTransportName } from './config/index.ts';
import { completeSettings, type ConnectionInput } from './connection-settings.ts';
import { TypedEvents } from './typed-events.ts';
import { KeyedWaiters, randomHex } from '../registrar-client/index.ts';
import { cryptoRandom } from '../transaction/index.ts';
import { normalizeHost } from '../transport/addresses.ts';
import type { SipMessage } from '../parser/index.ts';

export type ConnectionStatus = RegistrationStatus;

/** ConnectionEventArgs. */
export interface ConnectionStatusChanged {
  readonly connectionId: number;
  readonly status: ConnectionStatus;
  readonly previousStatus: ConnectionStatus;
  /** SIP code behind the change (408 timeout, 503 transport error, 401/403 ...). */
  readonly code: number | undefined;
  readonly reason: string | undefined;
}

export interface ConnectionInfo {
  readonly id: number;
  readonly user: string;
  /** host:port as configured (IPv6 in brackets). */
  readonly server: string;
  readonly transport: SipTransportName;
  readonly status: ConnectionStatus;
  readonly enabled: boolean;
  /** Seconds the registrar granted, while registered. */
  readonly registrationExpires: number | undefined;
  /** When the binding runs out (epoch ms), while registered. */
  readonly registrationExpiresAt: number | undefined;
  readonly lastCode: number | undefined;
  readonly lastReason: string | undefined;
  /** Whether a digest password is set; the password itself is never handed out (lists and events get logged). */
  readonly hasPassword: boolean;
  /** The settings as completed (defaults filled), without the password. */
  readonly settings: Readonly<Omit<ConnectionSettings, 'password'>>;
}

export interface ConnectionEvents {
  connectionStatusChanged: ConnectionStatusChanged;
}

export class ConnectionError extends SipEndpointError {
  override readonly name = 'ConnectionError';
  constructor(message: string) {
    super('ERR_CONNECTION', message);
  }
}

interface Entry {
  settings: ConnectionSettings;
  /** `settings` without the password, as ConnectionInfo shows it. */
  visible: Readonly<Omit<ConnectionSettings, 'password'>>;
  /** The `line=` token of this connection's Contact (incoming calls name their connection by it). */
  line: string;
  enabled: boolean;
  /** The last SIP code and reason seen (kept when a later change carries none, e.g. disable). */
  lastCode: number | undefined;
  lastReason: string | undefined;
}

export class ConnectionManager extends TypedEvents<ConnectionEvents> {
  readonly #registrations: RegistrationManager;
  readonly #entries = new Map<number, Entry>();
  #closed = false;
  /** Converts the registration layer's clock to wall time for registrationExpiresAt. */
  readonly #toEpoch: (clockMs: number) => number;

  /** What the Phone's sockets cannot serve (an IPv6 server without an IPv6 listener); throws ConnectionSettingsError. */
  readonly #checkSettings: (settings: ConnectionSettings) => void;

  readonly #random: () => number;

  /** The addresses a server named by a host name had at its last lookup (the transport's resolver). */
  readonly #addressesOf: (host: string) => readonly string[];

  /** enableConnection() promises waiting for the connection's first outcome, by id. */
  readonly #enableWaiters = new KeyedWaiters<number, ConnectionInfo | undefined>();

  /** @internal Built by Phone. */
  constructor(
    registrations: RegistrationManager,
    toEpoch: (clockMs: number) => number,
    checkSettings: (settings: ConnectionSettings) => void = () => {},
    random: () => number = cryptoRandom(),
    addressesOf: (host: string) => readonly string[] = () => [],
  ) {
    super();
    this.#registrations = registrations;
    this.#toEpoch = toEpoch;
    this.#checkSettings = checkSettings;
    this.#random = random;
    this.#addressesOf = addressesOf;
  }

  /** @internal Status events of the registration layer, re-emitted as ConnectionEventArgs. */
  readonly onRegistrationStatus = (event: RegistrationStatusEvent): void => {
    const entry = typeof event.id === 'number' ? this.#entries.get(event.id) : undefined;
    if (entry === undefined || typeof event.id !== 'number') return;
    if (event.code !== undefined) {
      entry.lastCode = event.code;
      entry.lastReason = event.reason;
    }
    // The first attempt's outcome, read before the listeners run: one that enables or disables again must not change it.
    const enabled = event.status === 'registering' ? undefined : this.#enableWaiters.take(event.id);
    const outcome = enabled === undefined ? undefined : this.connection(event.id);
    this.emit('connectionStatusChanged', {
      connectionId: event.id,
      status: event.status,
      previousStatus: event.previous,
      code: event.code,
      reason: event.reason,
    });
    if (enabled !== undefined) for (const resolve of enabled) resolve(outcome);
  };

  /** Adds a connection (disabled until enabled, or until Phone.start() for configured ones). */
  addConnection(id: number, input: ConnectionInput | ConnectionSettings): ConnectionInfo {
    if (this.#closed) throw new ConnectionError('the phone is closed');
    if (!Number.isInteger(id) || id < 0) throw new ConnectionError(`connection id must be a whole number >= 0, got ${id}`);
    if (this.#entries.has(id)) throw new ConnectionError(`connection ${id} exists already`);
    const settings = completeSettings(input);
    this.#checkSettings(settings);
    const line = randomHex(this.#random, 6);
    this.#registrations.add(id, { ...settings, line });
    // Copies all the way down: what is handed out can neither show the password nor change where we register.
    const { password: _password, ...visible } = settings;
    const shown = Object.freeze({ ...visible, server: Object.freeze({ ...visible.server }), extra: Object.freeze({ ...visible.extra }) });
    this.#entries.set(id, { settings, visible: shown, line, enabled: false, lastCode: undefined, lastReason: undefined });
    return this.connection(id)!;
  }

  /**
   * Starts registering (at once, with the same priority as every other
   * connection). Resolves with the connection as its first attempt ends
   * (`registered`, `unavailable` or `failed`; it is retried on its own
   * after), or as it is disabled, removed or the phone closed (then
   * undefined when it is gone); at once when it is not `registering` (already
   * registered). Never rejects: an unknown id throws ConnectionError.
   */
  enableConnection(id: number): Promise<ConnectionInfo | undefined> {
    const entry = this.#entry(id);
    if (this.#closed) throw new ConnectionError('the phone is closed');
    entry.enabled = true;
    this.#registrations.start(id);
    const info = this.connection(id);
    return info?.status === 'registering' ? this.#enableWaiters.wait(id) : Promise.resolve(info);
  }

  /**
   * Unregisters (Expires: 0 when the site is reachable) and stops every
   * timer of the connection. Resolves once the unregister is answered or
   * timed out (at once when there is none). Never rejects: an unknown id
   * throws ConnectionError.
   */
  disableConnection(id: number): Promise<void> {
    const entry = this.#entry(id);
    entry.enabled = false;
    // Closing or closed: the phone unregisters everything itself.
    if (this.#closed) return Promise.resolve();
    return this.#registrations.stop(id);
  }

  /** Disables and forgets the connection; resolves as disableConnection() does. */
  removeConnection(id: number): Promise<void> {
    this.#entry(id).enabled = false;
    // Its enable promises hear that it is gone, not the `disabled` of its last status event.
    const enabling = this.#enableWaiters.take(id);
    const unregistered = this.#registrations.remove(id);
    this.#entries.delete(id);
    if (enabling !== undefined) for (const resolve of enabling) resolve(undefined);
    return unregistered;
  }

  /** The connection collection, by id. */
  get connections(): ConnectionInfo[] {
    const list: ConnectionInfo[] = [];
    for (const id of [...this.#entries.keys()].sort((a, b) => a - b)) {
      const info = this.connection(id);
      if (info !== undefined) list.push(info);
    }
    return list;
  }

  /** @internal Phone.close() begins: nothing can be added or enabled; the collection stays readable, every connection disabled. */
  markClosed(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) entry.enabled = false;
    this.#enableWaiters.settleAll((id) => this.connection(id));
  }

  /** Whether a connection with this id exists (cheaper than connection(id), which builds its info). */
  has(id: number): boolean {
    return this.#entries.has(id);
  }

  connection(id: number): ConnectionInfo | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    // After close() the registration layer has forgotten the connection: it is disabled.
    const info = this.#registrations.info(id) ?? { status: 'disabled' as const, code: undefined, reason: undefined, expires: undefined, expiresAt: undefined };
    const { settings } = entry;
    const host = settings.server.host.includes(':') ? `[${settings.server.host}]` : settings.server.host;
    return {
      id,
      user: settings.user,
      server: `${host}:${settings.server.port}`,
      transport: settings.transport,
      status: info.status,
      enabled: entry.enabled,
      registrationExpires: info.status === 'registered' ? info.expires : undefined,
      registrationExpiresAt: info.status === 'registered' && info.expiresAt !== undefined ? this.#toEpoch(info.expiresAt) : undefined,
      lastCode: info.code ?? entry.lastCode,
      lastReason: info.code === undefined ? entry.lastReason : info.reason,
      hasPassword: settings.password !== undefined,
      settings: entry.visible,
    };
  }

  /** @internal The whole settings of a connection, password included, for the stack's own use (digest). */
  settingsOf(id: number): ConnectionSettings | undefined {
    return this.#entries.get(id)?.settings;
  }

  /** @internal The `line=` token of a connection's Contact. */
  lineOf(id: number): string | undefined {
    return this.#entries.get(id)?.line;
  }

  /** @internal The connection whose Contact carries this `line=` token. */
  idForLine(line: string): number | undefined {
    for (const [id, entry] of this.#entries) if (entry.line === line) return id;
    return undefined;
  }

  /**
   * @internal Whether a request comes from one of our sites: its source is
   * the server of a connection, or it is addressed to a Contact we
   * registered (its `line=` token; a site named by a host name, or a node
   * of a clustered site, is known by that).
   */
  isTrustedSource(host: string, request: SipMessage): boolean {
    const line = request.uri?.params.get('line');
    if (line != null && this.idForLine(line) !== undefined) return true;
    const wanted = normalizeHost(host);
    for (const entry of this.#entries.values()) if (this.#serves(entry, wanted)) return true;
    return false;
  }

  /** @internal Whether `source` (an address) is connection `id`'s server: the address configured, or one its name resolved to. */
  isServerAddress(id: number, source: string): boolean {
    const entry = this.#entries.get(id);
    return entry !== undefined && this.#serves(entry, normalizeHost(source));
  }

  #serves(entry: Entry, source: string): boolean {
    const host = normalizeHost(entry.settings.server.host);
    return host === source || this.#addressesOf(host).includes(source);
  }

  /** @internal Enabled and registered now: a call can go out on it. */
  isUsable(id: number): boolean {
    const entry = this.#entries.get(id);
    return entry !== undefined && entry.enabled && !this.#closed && this.#registrations.statusOf(id) === 'registered';
  }

  /** @internal Enabled (whatever its registration status). */
  isEnabled(id: number): boolean {
    return this.#entries.get(id)?.enabled === true && !this.#closed;
  }

  /** @internal Every connection id, ascending. */
  ids(): number[] {
    return [...this.#entries.keys()].sort((a, b) => a - b);
  }

  /** Ids of the connections that are registered now (for dialling and failover). */
  registeredIds(): number[] {
    return this.connections.filter((c) => c.status === 'registered').map((c) => c.id);
  }

  #entry(id: number): Entry {
    if (this.#closed) throw new ConnectionError('the phone is closed');
    const entry = this.#entries.get(id);
    if (entry === undefined) throw new ConnectionError(`no connection ${id}`);
    return entry;
  }
}
