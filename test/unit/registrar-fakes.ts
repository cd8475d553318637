/**
 * Test doubles for the registrar-client tests (not a test file itself): a
 * fake network (a Transport) with scripted registrar sites behind it, driven
 * by the FakeClock, so days of refreshes run in milliseconds.
 *
 * A FakeSite answers REGISTER like a small registrar: optional digest
 * (checked for real: response, nonce, nc strictly increasing per nonce,
 * stale nonces), Min-Expires (423), a cap on the granted expiry, bindings
 * with their expiry. It can go `silent` (no answer: Timer F, 408) or
 * `refusing` (a transport error: 503), and any answer can be scripted.
 */
import { formatMessage, parseMessage, type SipMessage } from '../../src/parser/index.ts';
import { TransportError, type Endpoint, type Received, type SendOptions, type Transport, type TransportKind } from '../../src/transport/types.ts';
import { FakeClock, type Clock, type TimerHandle } from '../../src/transaction/clock.ts';
import { TransactionLayer, responseParts } from '../../src/transaction/index.ts';
import { computeDigest, parseDigestAlgorithm, type DigestAlgorithm } from '../../src/registrar-client/digest/index.ts';
import { RegistrationManager, type RegistrationManagerOptions, type RegistrationStatusEvent } from '../../src/registrar-client/index.ts';

export const LOCAL_HOST = '192.0.2.10';

/** A deterministic uniform [0, 1) generator (LCG), for reproducible jitter. */
export function seededRandom(seed = 1): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

/** A FakeClock that counts the timers set and the most it ever held at once. */
export class CountingClock implements Clock {
  readonly inner = new FakeClock();
  maxPending = 0;
  /** setTimer calls so far. */
  armed = 0;
  now(): number {
    return this.inner.now();
  }
  setTimer(ms: number, callback: () => void): TimerHandle {
    this.armed++;
    const handle = this.inner.setTimer(ms, callback);
    this.maxPending = Math.max(this.maxPending, this.inner.pending);
    return handle;
  }
  clearTimer(handle: TimerHandle | undefined): void {
    this.inner.clearTimer(handle);
  }
  advance(ms: number): void {
    this.inner.advance(ms);
  }
  get pending(): number {
    return this.inner.pending;
  }
}

export interface Reply {
  readonly status: number;
  readonly reason?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

export interface DigestPolicy {
  readonly realm: string;
  /** Passwords by digest user name. */
  readonly passwords: Record<string, string>;
  /** Algorithms offered, one challenge each, in this order (default ['MD5']). null = no algorithm param. */
  readonly algorithms?: ReadonlyArray<string | null>;
  /** qop offered (default 'auth'); null = no qop (RFC 2069 mode). */
  readonly qop?: string | null;
  readonly opaque?: string;
  /** A nonce older than this is stale (default: never). */
  readonly nonceTtlMs?: number;
  /** 407 / Proxy-Authenticate instead of 401. */
  readonly proxy?: boolean;
}

export interface Received2 {
  readonly at: number;
  readonly message: SipMessage;
  readonly target: Endpoint;
}

export type SiteState = 'up' | 'silent' | 'refusing';

export class FakeSite {
  state: SiteState = 'up';
  /** Every REGISTER received (retransmissions included), with the clock time. */
  readonly requests: Received2[] = [];
  /** Every answer sent: [clock time, status]. */
  readonly answers: Array<[number, number]> = [];
  /** Granted expiry is at most this (default: what was asked). */
  maxExpires: number | undefined;
  /** Below this (and not 0): 423 with Min-Expires. */
  minExpires: number | undefined;
  digest: DigestPolicy | undefined;
  /** Consulted first; undefined falls through to the registrar logic. */
  script: ((request: SipMessage, site: FakeSite) => Reply | undefined) | undefined;
  /** Contact URI -> clock time it expires, per AOR. */
  readonly bindings = new Map<string, Map<string, number>>();
  /** Nonce -> [issued at, last nc seen]. */
  readonly nonces = new Map<string, { issued: number; nc: number }>();
  #nonceCounter = 0;
  /** Branches seen, to ignore retransmissions in the registrar logic. */
  readonly #answered = new Map<string, Reply>();

  constructor(
    readonly clock: FakeClock,
    readonly endpoint: Endpoint,
  ) {}

  /** REGISTERs that were not retransmissions. */
  get registers(): Received2[] {
    const seen = new Set<string>();
    return this.requests.filter((r) => {
      const branch = r.message.topVia?.branch ?? '';
      if (seen.has(branch)) return false;
      seen.add(branch);
      return true;
    });
  }

  times(): number[] {
    return this.registers.map((r) => r.at);
  }

  newNonce(): string {
    const nonce = `n${++this.#nonceCounter}x${this.clock.now()}`;
    this.nonces.set(nonce, { issued: this.clock.now(), nc: 0 });
    return nonce;
  }

  /** The challenge fields of this site (fresh nonce). */
  challenge(stale = false): Reply {
    const policy = this.digest!;
    const nonce = this.newNonce();
    const name = policy.proxy === true ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const headers: Array<[string, string]> = [];
    for (const algorithm of policy.algorithms ?? ['MD5']) {
      let value = `Digest realm="${policy.realm}", nonce="${nonce}"`;
      if (policy.qop !== null) value += `, qop="${policy.qop ?? 'auth'}"`;
      if (algorithm !== null) value += `, algorithm=${algorithm}`;
      if (policy.opaque !== undefined) value += `, opaque="${policy.opaque}"`;
      if (stale) value += ', stale=true';
      headers.push([name, value]);
    }
    return { status: policy.proxy === true ? 407 : 401, headers };
  }

  handle(request: SipMessage): Reply | undefined {
    const branch = request.topVia?.branch ?? '';
    const previous = this.#answered.get(branch);
    if (previous !== undefined) return previous; // retransmission: same answer
    const reply = this.script?.(request, this) ?? this.#registrar(request);
    this.#answered.set(branch, reply);
    return reply;
  }

  #registrar(request: SipMessage): Reply {
    if (this.digest !== undefined) {
      const verdict = this.#checkDigest(request);
      if (verdict !== 'ok') return this.challenge(verdict === 'stale');
    }
    const asked = request.expires ?? 3600;
    if (asked !== 0 && this.minExpires !== undefined && asked < this.minExpires) {
      return { status: 423, headers: [['Min-Expires', String(this.minExpires)]] };
    }
    const aor = request.to!.uri.toString();
    const bindings = this.bindings.get(aor) ?? new Map<string, number>();
    this.bindings.set(aor, bindings);
    const now = this.clock.now();
    for (const [uri, expiresAt] of bindings) if (expiresAt <= now) bindings.delete(uri);
    for (const contact of request.contact) {
      if ('wildcard' in contact) continue;
      const uri = contact.uri.toString();
      if (asked === 0) bindings.delete(uri);
      else bindings.set(uri, now + Math.min(asked, this.maxExpires ?? asked) * 1000);
    }
    const headers: Array<[string, string]> = [];
    for (const [uri, expiresAt] of bindings) headers.push(['Contact', `<${uri}>;expires=${Math.round((expiresAt - now) / 1000)}`]);
    return { status: 200, headers };
  }

  #checkDigest(request: SipMessage): 'ok' | 'challenge' | 'stale' {
    const policy = this.digest!;
    const credentials = policy.proxy === true ? request.proxyAuthorization : request.authorization;
    const auth = credentials.find((c) => c.params.get('realm') === policy.realm);
    if (auth === undefined) return 'challenge';
    const p = auth.params;
    const username = p.get('username') ?? '';
    const password = policy.passwords[username];
    const nonce = p.get('nonce') ?? '';
    const known = this.nonces.get(nonce);
    if (password === undefined || known === undefined) return 'challenge';
    const algorithm: DigestAlgorithm = parseDigestAlgorithm(p.get('algorithm') ?? 'MD5') ?? 'MD5';
    const qop = p.get('qop') as 'auth' | 'auth-int' | undefined;
    const nc = p.get('nc');
    const expected = computeDigest({
      algorithm,
      username,
      realm: policy.realm,
      password,
      method: request.method!,
      uri: p.get('uri') ?? '',
      nonce,
      ...(p.get('cnonce') !== undefined ? { cnonce: p.get('cnonce')! } : {}),
      ...(qop !== undefined ? { qop, nc: nc! } : {}),
    }).response;
    if (expected !== p.get('response')) return 'challenge';
    if (policy.nonceTtlMs !== undefined && this.clock.now() - known.issued > policy.nonceTtlMs) return 'stale';
    if (nc !== undefined) {
      const count = parseInt(nc, 16);
      if (count <= known.nc) return 'stale';
      known.nc = count;
    }
    return 'ok';
  }
}

/** A Transport whose sends reach FakeSites by target address; answers come back after `latency` ms. */
export class FakeNetwork implements Transport {
  onReceive: ((received: Received) => void) | undefined;
  readonly sites = new Map<string, FakeSite>();
  latency = 10;

  constructor(readonly clock: FakeClock) {}

  site(host: string, port = 5060, transport: TransportKind = 'tcp'): FakeSite {
    const key = `${transport}:${host}:${port}`;
    let site = this.sites.get(key);
    if (site === undefined) {
      site = new FakeSite(this.clock, { transport, host, port });
      this.sites.set(key, site);
    }
    return site;
  }

  send(bytes: Uint8Array, target: Endpoint, options: SendOptions = {}): void {
    const message = parseMessage(bytes);
    const site = this.sites.get(`${target.transport}:${target.host}:${target.port}`);
    if (site === undefined || message.kind !== 'request') return;
    site.requests.push({ at: this.clock.now(), message, target });
    if (site.state === 'silent') return;
    if (site.state === 'refusing') {
      this.clock.setTimer(this.latency, () => options.onError?.(new TransportError('ECONNREFUSED', target, 'connection refused')));
      return;
    }
    const reply = site.handle(message);
    if (reply === undefined) return;
    this.clock.setTimer(this.latency, () => {
      site.answers.push([this.clock.now(), reply.status]);
      const parts = responseParts(message, reply.status, { toTag: 'reg-tag', headers: reply.headers ?? [], ...(reply.reason ? { reason: reply.reason } : {}) });
      this.onReceive?.({ message: parseMessage(formatMessage(parts)), source: target, local: this.localEndpoint(target.transport), flowId: undefined });
    });
  }

  isReliable(transport: TransportKind): boolean {
    return transport !== 'udp';
  }

  localEndpoint(transport: TransportKind): Endpoint {
    return { transport, host: LOCAL_HOST, port: transport === 'tls' ? 5061 : 5060 };
  }
}

export interface Rig {
  readonly clock: FakeClock;
  readonly network: FakeNetwork;
  readonly layer: TransactionLayer;
  readonly manager: RegistrationManager;
  readonly events: Array<RegistrationStatusEvent & { at: number }>;
  /** Events of one registration, as "status(code)" strings. */
  statuses(id: number | string): string[];
  /** Advances the clock by seconds. */
  advance(seconds: number): void;
}

export function rig(options: Partial<RegistrationManagerOptions> = {}, seed = 7): Rig {
  const clock = new FakeClock();
  const network = new FakeNetwork(clock);
  const layer = new TransactionLayer({ transport: network, clock, user: { onRequest() {} }, random: seededRandom(seed + 1000) });
  network.onReceive = layer.receive;
  const events: Array<RegistrationStatusEvent & { at: number }> = [];
  const manager = new RegistrationManager({
    transactionLayer: layer,
    clock,
    localEndpoint: (kind) => network.localEndpoint(kind),
    random: seededRandom(seed),
    onStatusChanged: (event) => events.push({ ...event, at: clock.now() }),
    ...options,
  });
  return {
    clock,
    network,
    layer,
    manager,
    events,
    statuses: (id) => events.filter((e) => e.id === id).map((e) => `${e.status}${e.code === undefined ? '' : `(${e.code})`}`),
    advance: (seconds) => clock.advance(seconds * 1000),
  };
}

/** Settings for a connection to a FakeSite. */
export function settingsFor(site: FakeSite, extra: Record<string, unknown> = {}) {
  return {
    user: '1001',
    server: { host: site.endpoint.host, port: site.endpoint.port },
    transport: site.endpoint.transport,
    ...extra,
  };
}
