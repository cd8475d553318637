/**
 * Phone: the entry point of the SDK. Built from a config object or a
 * SipEndpoint.config file, it owns the transports, the transaction layer and
 * the managers. `start()` registers every configured connection at once, with
 * equal priority; `close()` unregisters and frees every socket and timer.
 */
import { isLoopback, SipTransportLayer, type TlsOptions } from '../transport/index.ts';
import type { Endpoint, TransportKind } from '../transport/types.ts';
import { SystemClock, TransactionLayer, cryptoRandom, responseParts, type Clock, type TimerSettings } from '../transaction/index.ts';
import { RegistrationManager } from '../registrar-client/index.ts';
import { loadEndpointConfig, type ConnectionSettings, type EndpointConfig } from './config/index.ts';
import { ConnectionManager } from './connection-manager.ts';
import { completeSettings, type ConnectionInput } from './connection-settings.ts';

export interface PhoneOptions {
  /** Local address to bind; default 127.0.0.1 when every server is on loopback, else 0.0.0.0. */
  readonly localHost?: string;
  /** Local port for UDP and TCP (0, the default, lets the system choose). */
  readonly localPort?: number;
  /** TLS: trusted CAs, and our certificate/key if we should also accept TLS. */
  readonly tls?: TlsOptions;
  /** Transaction timers (T1, T2, T4 ...), e.g. shorter ones in labs. */
  readonly timers?: Partial<TimerSettings>;
  /** Injected for tests. */
  readonly clock?: Clock;
  /**
   * Uniform in [0, 1) for every identifier (branches, tags, Call-IDs,
   * cnonces) and jitter. Default: crypto.getRandomValues (cryptoRandom).
   * Anything injected here must be cryptographically secure outside tests.
   */
  readonly random?: () => number;
  /** How long close() waits for unregistrations to finish (default 4000 ms). */
  readonly closeTimeoutMs?: number;
  readonly userAgent?: string;
  /** Most REGISTER exchanges on the wire at once over all connections (default DEFAULT_MAX_IN_FLIGHT, 50). */
  readonly maxRegistrationsInFlight?: number;
}

export type PhoneConfig = Pick<EndpointConfig, 'connections'> | { connections: Array<ConnectionInput | ConnectionSettings> };

export class Phone {
  readonly connections: ConnectionManager;
  readonly transport: SipTransportLayer;
  readonly transactions: TransactionLayer;
  readonly #registrations: RegistrationManager;
  readonly #configured: number[];
  readonly #closeTimeoutMs: number;
  #closed = false;

  private constructor(parts: {
    transport: SipTransportLayer;
    transactions: TransactionLayer;
    registrations: RegistrationManager;
    connections: ConnectionManager;
    configured: number[];
    closeTimeoutMs: number;
  }) {
    this.transport = parts.transport;
    this.transactions = parts.transactions;
    this.#registrations = parts.registrations;
    this.connections = parts.connections;
    this.#configured = parts.configured;
    this.#closeTimeoutMs = parts.closeTimeoutMs;
  }

  /** A Phone from a SipEndpoint.config file (connection ids 0..N-1 in file order). */
  static async fromConfigFile(path: string, options: PhoneOptions = {}): Promise<Phone> {
    return Phone.create(loadEndpointConfig(path), options);
  }

  static async create(config: PhoneConfig, options: PhoneOptions = {}): Promise<Phone> {
    const inFlight = options.maxRegistrationsInFlight;
    if (inFlight !== undefined && (!Number.isInteger(inFlight) || inFlight < 1)) {
      throw new RangeError(`PhoneOptions.maxRegistrationsInFlight must be a positive integer, got ${inFlight}`);
    }
    const settings = config.connections.map((connection) => completeSettings(connection));
    const host = options.localHost ?? (settings.length > 0 && settings.every((s) => isLoopback(s.server.host)) ? '127.0.0.1' : '0.0.0.0');
    const port = options.localPort ?? 0;
    // UDP and TCP always: a connection added later may use either; TLS when we hold a certificate.
    const listeners: Array<{ transport: TransportKind; host: string; port: number }> = [
      { transport: 'udp', host, port },
      { transport: 'tcp', host, port },
    ];
    if (options.tls?.cert !== undefined && options.tls.key !== undefined) listeners.push({ transport: 'tls', host, port: 0 });
    const transport = await SipTransportLayer.create({ listeners, ...(options.tls ? { tls: options.tls } : {}) });
    try {
      return Phone.#assemble(transport, settings, options);
    } catch (error) {
      // Nothing may stay open behind a failed create().
      await transport.close();
      throw error;
    }
  }

  static #assemble(transport: SipTransportLayer, settings: ConnectionSettings[], options: PhoneOptions): Phone {    const clock = options.clock ?? new SystemClock();
    const random = options.random ?? cryptoRandom();
    const transactions = new TransactionLayer({
      transport,
      clock,
      random,
      // Until calls land, requests to the phone are answered 480 (OPTIONS: 200).
      user: {
        onRequest: ({ request, transaction }) =>
          transaction.respond(responseParts(request, request.method === 'OPTIONS' ? 200 : 480, { toTag: random().toString(36).slice(2, 10) })),
      },
      ...(options.timers ? { timers: options.timers } : {}),
    });
    transport.onReceive = transactions.receive;
    const localEndpoint = (kind: TransportKind): Endpoint => {
      if (transport.listeners.some((l) => l.transport === kind)) return transport.localEndpoint(kind);
      // TLS without a TLS listener: the Contact names our TCP address; the registrar reaches us over the flow.
      return { ...transport.localEndpoint('tcp'), transport: kind };
    };
    let connections: ConnectionManager | undefined;
    const registrations = new RegistrationManager({
      transactionLayer: transactions,
      clock,
      random,
      localEndpoint,
      onStatusChanged: (event) => connections?.onRegistrationStatus(event),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      ...(options.maxRegistrationsInFlight !== undefined ? { maxInFlight: options.maxRegistrationsInFlight } : {}),
    });
    const wallOffset = Date.now() - clock.now();
    connections = new ConnectionManager(registrations, (ms) => Math.round(ms + wallOffset));
    const configured = settings.map((s, id) => {
      connections!.addConnection(id, s);
      return id;
    });
    return new Phone({ transport, transactions, registrations, connections, configured, closeTimeoutMs: options.closeTimeoutMs ?? 4000 });
  }

  /** Registers every configured connection, all at once. */
  start(): void {
    for (const id of this.#configured) {
      if (this.connections.has(id)) this.connections.enableConnection(id);
    }
  }

  /** Unregisters every connection (waiting at most closeTimeoutMs) and frees every socket and timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#registrations.close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.connections.markClosed();
    this.transactions.close();
    await this.transport.close();
  }
}

