/**
 * What test/integration/quickjs-core.test.ts runs twice: bundled into QuickJS
 * (no TextDecoder, TextEncoder, crypto, queueMicrotask, timers or console)
 * and in Node, so that the two results can be compared. It imports only the
 * `sip-endpoint/core` entry; every function takes and returns plain JSON
 * data, and time moves only on a FakeClock.
 */
import {
  computeDigest,
  FakeClock,
  MissingRandomSourceError,
  parseDigestAlgorithm,
  parseMessage,
  parseSdp,
  RegistrationManager,
  serializeMessage,
  SipParseError,
  TransactionLayer,
  formatMessage,
  type ClientOutcome,
  type Endpoint,
  type Received,
  type RegistrationStatusEvent,
  type SendOptions,
  type SipMessage,
  type Transport,
  type TransportKind,
} from '../../src/core/index.ts';

export interface MessageInput {
  readonly name: string;
  readonly bytes: readonly number[];
}

/** Small deterministic generator (mulberry32): the core's randomness is injected. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of bytes: compares serialized output across runtimes without shipping it whole. */
function fnv1a(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

function meaning(m: SipMessage): unknown {
  return {
    kind: m.kind,
    method: m.method,
    uri: m.uri === undefined ? undefined : String(m.uri),
    status: m.status,
    reason: m.reasonPhrase,
    headers: m.headers.filter((field) => field.canonical !== 'content-length').map((field) => [field.canonical, field.value]),
    topVia: m.topVia === undefined ? undefined : { host: m.topVia.host, branch: m.topVia.branch },
    from: m.from === undefined ? undefined : { displayName: m.from.displayName, uri: String(m.from.uri), tag: m.from.tag },
    callId: m.callId,
    cseq: m.cseq,
    body: fnv1a(m.body),
  };
}

/**
 * Parses each message strictly (the verdict), then leniently (a body the
 * RFC left out is allowed), serializes it and parses that again.
 */
export function messages(inputs: readonly MessageInput[]): unknown[] {
  return inputs.map(({ name, bytes }) => {
    const data = Uint8Array.from(bytes);
    let strict: unknown;
    try {
      parseMessage(data);
      strict = 'accept';
    } catch (error) {
      strict = error instanceof SipParseError ? { status: error.status, reason: error.reason } : `threw ${String(error)}`;
    }
    const m = parseMessage(data, { allowIncompleteBody: true });
    const serialized = serializeMessage(m);
    const again = parseMessage(serialized);
    const before = JSON.stringify(meaning(m));
    const sdp = m.header('content-type') === 'application/sdp' && m.body.length > 0 ? parseSdp(m.body) : undefined;
    return {
      name,
      strict,
      meaning: JSON.parse(before) as unknown,
      roundTrip: JSON.stringify(meaning(again)) === before,
      serialized: fnv1a(serialized),
      sdp: sdp === undefined ? undefined : { sessionName: sdp.sessionName, origin: sdp.origin.username, media: sdp.mediaDescriptions.map((d) => `${d.media} ${d.port}`) },
    };
  });
}

const SITE: Endpoint = { transport: 'udp', host: '192.0.2.1', port: 5060 };
const LOCAL: Endpoint = { transport: 'udp', host: '192.0.2.10', port: 5060 };

/** A transport that answers through `answer` (after 5 ms on the clock), or never. */
class LoopTransport implements Transport {
  onReceive: ((received: Received) => void) | undefined;
  readonly sent: Array<{ at: number; firstLine: string }> = [];
  readonly #clock: FakeClock;
  readonly #answer: ((request: SipMessage) => Uint8Array | undefined) | undefined;

  constructor(clock: FakeClock, answer?: (request: SipMessage) => Uint8Array | undefined) {
    this.#clock = clock;
    this.#answer = answer;
  }

  send(bytes: Uint8Array, target: Endpoint, _options?: SendOptions): void {
    const request = parseMessage(bytes);
    this.sent.push({ at: this.#clock.now(), firstLine: `${request.method} ${String(request.uri)} -> ${target.host}:${target.port}` });
    const reply = this.#answer?.(request);
    if (reply === undefined) return;
    this.#clock.setTimer(5, () => this.onReceive?.({ message: parseMessage(reply), source: SITE, local: LOCAL, flowId: undefined }));
  }

  isReliable(transport: TransportKind): boolean {
    return transport !== 'udp';
  }

  localEndpoint(): Endpoint {
    return LOCAL;
  }
}

function describeOutcome(outcome: ClientOutcome): string {
  return `${outcome.cause} ${outcome.status}`;
}

/** What a layer without an injected `random` does in this runtime. */
function withoutRandom(clock: FakeClock): string {
  try {
    new TransactionLayer({ transport: new LoopTransport(clock), clock, user: { onRequest() {} } });
    return 'constructed';
  } catch (error) {
    return error instanceof MissingRandomSourceError ? `MissingRandomSourceError: ${error.message}` : `other error: ${String(error)}`;
  }
}

/** An OPTIONS client transaction over UDP that nobody answers: Timer E retransmissions, then Timer F's 408. */
export function nonInviteTimeout(): unknown {
  const clock = new FakeClock();
  const transport = new LoopTransport(clock);
  const layer = new TransactionLayer({ transport, clock, user: { onRequest() {} }, random: seeded(17) });
  transport.onReceive = layer.receive;
  const outcomes: string[] = [];
  let outcomeAt = -1;
  layer.sendRequest(
    {
      method: 'OPTIONS',
      uri: 'sip:192.0.2.1',
      headers: [
        ['Max-Forwards', '70'],
        ['From', '<sip:alice@example.com>;tag=f1'],
        ['To', '<sip:192.0.2.1>'],
        ['Call-ID', 'quickjs-options-1'],
        ['CSeq', '1 OPTIONS'],
      ],
    },
    SITE,
    {
      onFinal(outcome) {
        outcomes.push(describeOutcome(outcome));
        outcomeAt = clock.now();
      },
    },
  );
  for (let step = 0; step < 400; step++) clock.advance(100);
  return {
    outcomes,
    outcomeAt,
    sentAt: transport.sent.map((s) => s.at),
    live: layer.stats().transactions,
    timers: clock.pending,
    withoutRandom: withoutRandom(clock),
  };
}

/**
 * A registration against an in-memory registrar that challenges with
 * digest (RFC 3665 s2.1: 401, then REGISTER with Authorization, then 200).
 */
export function registration(): unknown {
  const clock = new FakeClock();
  const realm = 'example.com';
  const password = 'zanzibar';
  const nonce = 'ea9c8e88df84f1cec4341ae6cbe5a359';
  const checks: string[] = [];
  const answer = (request: SipMessage): Uint8Array => {
    const base = {
      status: 0,
      headers: [
        ...request.headers.filter((h) => ['via', 'from', 'call-id', 'cseq'].includes(h.canonical)).map((h): [string, string] => [h.name, h.value]),
        ['To', `${request.header('to')};tag=reg1`] as [string, string],
      ],
    };
    const credentials = request.authorization[0];
    if (credentials === undefined) {
      checks.push('no credentials: 401');
      return formatMessage({ ...base, status: 401, headers: [...base.headers, ['WWW-Authenticate', `Digest realm="${realm}", qop="auth", nonce="${nonce}", opaque="", stale=FALSE, algorithm=MD5`]] });
    }
    const p = credentials.params;
    const expected = computeDigest({
      algorithm: parseDigestAlgorithm(p.get('algorithm') ?? 'MD5') ?? 'MD5',
      username: p.get('username') ?? '',
      realm,
      password,
      method: request.method!,
      uri: p.get('uri') ?? '',
      nonce: p.get('nonce') ?? '',
      cnonce: p.get('cnonce') ?? '',
      qop: 'auth',
      nc: p.get('nc') ?? '',
    }).response;
    const ok = expected === p.get('response');
    checks.push(`digest response ${ok ? 'verified' : 'wrong'}: ${ok ? 200 : 403}`);
    if (!ok) return formatMessage({ ...base, status: 403 });
    return formatMessage({ ...base, status: 200, headers: [...base.headers, ['Contact', `${request.header('contact')};expires=3600`]] });
  };
  const transport = new LoopTransport(clock, answer);
  const random = seeded(3665);
  const layer = new TransactionLayer({ transport, clock, user: { onRequest() {} }, random });
  transport.onReceive = layer.receive;
  const events: string[] = [];
  const manager = new RegistrationManager({
    transactionLayer: layer,
    clock,
    localEndpoint: () => LOCAL,
    random,
    onStatusChanged: (event: RegistrationStatusEvent) => events.push(`${event.previous} -> ${event.status} (${event.code} ${event.reason})`),
  });
  manager.add(0, { user: 'bob', server: { host: SITE.host, port: SITE.port }, transport: 'udp', domain: 'biloxi.example.com', password });
  manager.start(0);
  for (let step = 0; step < 20; step++) clock.advance(50);
  const info = manager.info(0);
  const result = {
    events,
    checks,
    sent: transport.sent.map((s) => s.firstLine),
    status: manager.statusOf(0),
    expires: info?.expires,
  };
  manager.destroy();
  return result;
}
