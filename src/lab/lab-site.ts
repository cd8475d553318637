/**
 * A lab SIP site: an in-process registrar with digest authentication, built
 * on this stack's own transport and transaction layers, on a loopback
 * address. It can be taken down (refusing: its sockets close, so senders get
 * ICMP port unreachable / TCP reset; or silent: it keeps its sockets and stops
 * answering, so senders time out) and brought back on the same ports.
 * A lab tool for tests and the QuickStart, not a product registrar: the real
 * thing in interop tests is Kamailio.
 */
import { randomBytes } from 'node:crypto';
import type { SipMessage } from '../parser/index.ts';
import { isWildcard } from '../parser/index.ts';
import { isLoopback, SipTransportLayer, type TransportLayerOptions } from '../transport/index.ts';
import { codeOf } from '../transport/errors.ts';
import type { Endpoint, Received, TransportKind } from '../transport/types.ts';
import { LabProxy, type LabRoute } from './lab-proxy.ts';
import { labPort } from './lab-ports.ts';
import { SystemClock, TransactionLayer, responseParts, type IncomingRequest } from '../transaction/index.ts';
import { computeDigest, parseDigestAlgorithm, type DigestAlgorithm } from '../registrar-client/digest/index.ts';

export interface LabSiteOptions {
  readonly name: string;
  /** A loopback address: 127.0.0.0/8 or ::1. */
  readonly host: string;
  /** 0 picks a free port (the same number for UDP and TCP). */
  readonly port?: number;
  readonly transports?: readonly TransportKind[];
  /** user -> password. */
  readonly users: Readonly<Record<string, string>>;
  readonly realm?: string;
  readonly algorithm?: DigestAlgorithm;
  /** Shortest registration accepted (423 below it). */
  readonly minExpires?: number;
  readonly defaultExpires?: number;
  /** Random bytes per nonce (hex: twice as many characters); default 16. Tests use long ones (RFC 3261 s18.1.1). */
  readonly nonceBytes?: number;
  /** How long a nonce is accepted, then forgotten (default NONCE_LIFETIME_MS, 5 min). */
  readonly nonceLifetimeMs?: number;
  /** Most nonces remembered (default MAX_LAB_NONCES); the oldest is forgotten first. */
  readonly maxNonces?: number;
  /** Limits of the site's transport (caps, deadlines): the defaults otherwise. */
  readonly transport?: Omit<TransportLayerOptions, 'listeners'>;
}

export interface LabBinding {
  readonly aor: string;
  readonly contact: string;
  readonly expiresAt: number;
  readonly callId: string;
  /** Where the REGISTER came from, and its flow (calls to the user go there). */
  readonly source: Endpoint;
  readonly flowId: string | undefined;
  /** Date.now() of the REGISTER that made or refreshed it. */
  readonly at: number;
}

export type LabSiteState = 'up' | 'refusing' | 'silent' | 'closed';

/** A nonce is accepted this long after it was issued (then: stale=true), and forgotten. */
export const NONCE_LIFETIME_MS = 300_000;
/** Nonces remembered at most: a flood of unauthenticated REGISTERs cannot grow the map (oldest forgotten first). */
export const MAX_LAB_NONCES = 10_000;

/** Random ports a new site tries before it gives up. */
const MAX_PORT_DRAWS = 20;
/** How long a restart waits for its old ports to be free. */
const RESTART_BIND_WAIT_MS = 3_000;

export class LabSite {
  readonly options: LabSiteOptions;
  #state: LabSiteState = 'closed';
  #transport: SipTransportLayer | undefined;
  #layer: TransactionLayer | undefined;
  #port: number;
  /** The port of each listener once bound (a restart binds the same ones). */
  readonly #ports = new Map<TransportKind, number>();
  readonly #nonces = new Map<string, number>();
  readonly #bindings = new Map<string, Map<string, LabBinding>>();
  /** Requests answered, by method (for tests and the QuickStart narration). */
  readonly counts = new Map<string, number>();
  /** Forwards calls to registered users (lab-proxy.ts). */
  readonly proxy: LabProxy;

  private constructor(options: LabSiteOptions) {
    this.options = options;
    this.#port = options.port ?? 0;
    this.proxy = new LabProxy({
      transport: {
        send: (bytes, target, sendOptions) => this.#transport?.send(bytes, target, sendOptions),
        isReliable: (kind) => kind !== 'udp',
        localEndpoint: (kind, target) => this.#transport!.localEndpoint(kind, target),
        onReceive: undefined,
      },
      local: (kind) => this.#transport!.localEndpoint(kind),
      route: (user) => this.#route(user),
    });
  }

  /** The most recent live binding of a user, for the proxy. */
  #route(user: string): LabRoute | 'unknown' | 'unregistered' {
    if (!(user in this.options.users)) return 'unknown';
    let best: LabBinding | undefined;
    for (const binding of this.bindings()) {
      if (binding.aor.startsWith(`sip:${user}@`) && (best === undefined || binding.at > best.at)) best = binding;
    }
    return best === undefined ? 'unregistered' : { contact: best.contact, source: best.source, flowId: best.flowId };
  }

  static async start(options: LabSiteOptions): Promise<LabSite> {
    if (!isLoopback(options.host)) throw new Error(`lab site ${options.name}: ${options.host} is not a loopback address`);
    const site = new LabSite(options);
    await site.#open();
    return site;
  }

  /** The site's transport while it is up (listeners, stats), for tests and measurements. */
  get transport(): SipTransportLayer | undefined {
    return this.#transport;
  }

  get state(): LabSiteState {
    return this.#state;
  }

  get port(): number {
    return this.#port;
  }

  get realm(): string {
    return this.options.realm ?? this.options.host;
  }

  endpoint(transport: TransportKind = 'udp'): Endpoint {
    return { transport, host: this.options.host, port: this.#port };
  }

  /** Live bindings (expired ones are dropped). */
  bindings(aor?: string): LabBinding[] {
    const now = Date.now();
    const out: LabBinding[] = [];
    for (const [key, contacts] of this.#bindings) {
      if (aor !== undefined && key !== aor) continue;
      for (const [contact, binding] of contacts) {
        if (binding.expiresAt <= now) contacts.delete(contact);
        else out.push(binding);
      }
    }
    return out;
  }

  /** Takes the site down: 'refuse' closes its sockets, 'silent' keeps them and stops answering. */
  async stop(mode: 'refuse' | 'silent' = 'refuse'): Promise<void> {
    if (mode === 'silent') {
      if (this.#state === 'up') this.#state = 'silent';
      return;
    }
    await this.#close();
    this.#state = 'refusing';
  }

  /** Brings the site back on the same ports (its bindings survive, as a restarted registrar's database would). */
  async restart(): Promise<void> {
    if (this.#state === 'silent') {
      this.#state = 'up';
      return;
    }
    if (this.#state !== 'up') await this.#open();
  }

  async close(): Promise<void> {
    await this.#close();
    this.#state = 'closed';
  }

  async #open(): Promise<void> {
    const transports = this.options.transports ?? ['udp', 'tcp'];
    const transport = await this.#bind(transports);
    this.#port = transport.localEndpoint(transports[0]!).port;
    for (const listener of transport.listeners) this.#ports.set(listener.transport, listener.port);
    const layer = new TransactionLayer({ transport, clock: new SystemClock(), user: { onRequest: (incoming) => this.#onRequest(incoming) } });
    transport.onReceive = (received) => {
      if (this.#state !== 'up') return;
      if (!this.proxy.handle(received)) layer.receive(received);
    };
    this.#transport = transport;
    this.#layer = layer;
    this.#state = 'up';
  }

  /**
   * Binds the listeners: UDP and TCP on one port (the site's address), TLS
   * on its own; after a restart, the ports it had. A site given port 0
   * draws its ports below the ephemeral range (lab-ports.ts), drawing again
   * when one is taken; a restart whose port is taken tries again for a
   * while (RESTART_BIND_WAIT_MS) before it gives up.
   */
  async #bind(transports: readonly TransportKind[]): Promise<SipTransportLayer> {
    const restarting = this.#ports.size > 0;
    const draw = !restarting && this.#port === 0;
    const giveUpAt = Date.now() + RESTART_BIND_WAIT_MS;
    for (let attempt = 1; ; attempt++) {
      const shared = draw ? labPort() : this.#port;
      const tls = draw ? labPort() : 0;
      const portOf = (kind: TransportKind): number => this.#ports.get(kind) ?? (kind === 'tls' ? tls : shared);
      try {
        const transport = await SipTransportLayer.create({
          ...this.options.transport,
          listeners: transports.map((kind) => ({ transport: kind, host: this.options.host, port: portOf(kind) })),
        });
        // Left to the system (shared 0), UDP and TCP may get different numbers: clients reach the site at one.
        const ports = new Set(transport.listeners.filter((l) => l.transport !== 'tls').map((l) => l.port));
        if (ports.size <= 1 || attempt >= MAX_PORT_DRAWS) return transport;
        await transport.close();
      } catch (error) {
        // SipTransportLayer.create reports a failed bind as EBIND, the system's error as its cause.
        if (codeOf((error as Error | undefined)?.cause) !== 'EADDRINUSE') throw error;
        if (draw && attempt < MAX_PORT_DRAWS) continue;
        if (!restarting || Date.now() >= giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async #close(): Promise<void> {
    this.#layer?.close();
    await this.#transport?.close();
    this.#layer = undefined;
    this.#transport = undefined;
  }

  #onRequest(incoming: IncomingRequest): void {
    const { request, transaction } = incoming;
    const method = request.method ?? '';
    this.counts.set(method, (this.counts.get(method) ?? 0) + 1);
    const respond = (status: number, headers: Array<[string, string]> = [], reason?: string): void => {
      transaction.respond(responseParts(request, status, { toTag: status > 100 ? randomToken() : undefined, headers, reason }));
    };
    try {
      if (method === 'REGISTER') this.#register(request, respond, incoming.received);
      else if (method === 'OPTIONS') respond(200, [['Allow', 'REGISTER, OPTIONS']]);
      else respond(405, [['Allow', 'REGISTER, OPTIONS']]);
    } catch {
      respond(400);
    }
  }

  #register(request: SipMessage, respond: (status: number, headers?: Array<[string, string]>, reason?: string) => void, received: Received): void {
    const to = request.to;
    const user = to?.uri.user ?? null;
    if (to === undefined || user === null || !(user in this.options.users)) {
      respond(404);
      return;
    }
    const auth = this.#checkAuth(request, user);
    if (auth !== 'ok') {
      respond(401, [['WWW-Authenticate', this.#challenge(auth === 'stale')]]);
      return;
    }
    const aor = `sip:${user}@${to.uri.host}`;
    const minExpires = this.options.minExpires ?? 60;
    const requested = request.expires ?? this.options.defaultExpires ?? 3600;
    const contacts = this.#bindings.get(aor) ?? new Map<string, LabBinding>();
    this.#bindings.set(aor, contacts);
    for (const contact of request.contact) {
      if (isWildcard(contact)) {
        if (requested === 0) contacts.clear();
        continue;
      }
      const param = contact.params.get('expires');
      const expires = param != null && /^[0-9]+$/.test(param) ? Number(param) : requested;
      const uri = contact.uri.toString();
      if (expires === 0) {
        contacts.delete(uri);
        continue;
      }
      if (expires < minExpires) {
        respond(423, [['Min-Expires', String(minExpires)]]);
        return;
      }
      contacts.set(uri, { aor, contact: uri, expiresAt: Date.now() + expires * 1000, callId: request.callId ?? '', source: received.source, flowId: received.flowId, at: Date.now() });
    }
    const now = Date.now();
    const headers: Array<[string, string]> = [];
    for (const binding of this.bindings(aor)) {
      headers.push(['Contact', `<${binding.contact}>;expires=${Math.max(0, Math.round((binding.expiresAt - now) / 1000))}`]);
    }
    respond(200, headers);
  }

  /** Nonces remembered (bounded by MAX_LAB_NONCES and their lifetime). */
  get nonces(): number {
    this.#pruneNonces(Date.now());
    return this.#nonces.size;
  }

  #challenge(stale: boolean): string {
    const nonce = randomBytes(this.options.nonceBytes ?? 16).toString('hex');
    const now = Date.now();
    this.#pruneNonces(now);
    if (this.#nonces.size >= (this.options.maxNonces ?? MAX_LAB_NONCES)) this.#nonces.delete(this.#nonces.keys().next().value!);
    this.#nonces.set(nonce, now);
    const algorithm = this.options.algorithm ?? 'MD5';
    return `Digest realm="${this.realm}", nonce="${nonce}", qop="auth", algorithm=${algorithm}${stale ? ', stale=true' : ''}`;
  }

  /** Forgets expired nonces: the map is in issue order, so they are at its front. */
  #pruneNonces(now: number): void {
    const lifetime = this.options.nonceLifetimeMs ?? NONCE_LIFETIME_MS;
    for (const [nonce, issued] of this.#nonces) {
      if (now - issued <= lifetime) break;
      this.#nonces.delete(nonce);
    }
  }

  /** 'ok', 'missing' (no or wrong credentials: challenge) or 'stale' (right password, old nonce). */
  #checkAuth(request: SipMessage, user: string): 'ok' | 'missing' | 'stale' {
    const credentials = request.authorization.find((header) => header.scheme.toLowerCase() === 'digest');
    if (credentials === undefined) return 'missing';
    const params = credentials.params;
    const algorithm = parseDigestAlgorithm(params.get('algorithm') ?? 'MD5');
    const nonce = params.get('nonce');
    if (algorithm === undefined || nonce === undefined || params.get('username') !== user) return 'missing';
    const qop = params.get('qop');
    const digest = computeDigest({
      algorithm,
      username: user,
      realm: params.get('realm') ?? '',
      password: this.options.users[user]!,
      method: 'REGISTER',
      uri: params.get('uri') ?? '',
      nonce,
      ...(qop === 'auth' ? { qop: 'auth' as const, cnonce: params.get('cnonce') ?? '', nc: params.get('nc') ?? '' } : {}),
    });
    if (digest.response !== params.get('response')) return 'missing';
    const issued = this.#nonces.get(nonce);
    if (issued === undefined || Date.now() - issued > (this.options.nonceLifetimeMs ?? NONCE_LIFETIME_MS)) return 'stale';
    return 'ok';
  }
}


function randomToken(): string {
  return randomBytes(6).toString('hex');
}
