/**
 * Test doubles for the dialog-layer tests (not a test file itself), on the
 * FakeClock:
 *
 * - `uaRig()`: one UA (TransactionLayer + DialogLayer) on a recording
 *   transport, and a scripted peer: the test reads what the UA sent and
 *   hands it responses and requests built here (forking, races, losses).
 * - `pairRig()`: two UAs, A and B, linked by an in-memory network with a
 *   latency and a drop filter, for whole calls both ways.
 *
 * `assertIdle` checks that nothing is left: dialogs, INVITEs, transactions
 * and clock timers.
 */
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage, type MessageParts, type SipMessage } from '../../src/parser/index.ts';
import { FakeClock } from '../../src/transaction/clock.ts';
import { TransactionLayer, responseParts } from '../../src/transaction/index.ts';
import { TransportError, type Endpoint, type Received, type SendOptions, type Transport, type TransportKind } from '../../src/transport/types.ts';
import {
  DialogLayer,
  OfferAnswer,
  type DialogLayerOptions,
  type Authenticator,
  type IncomingInvite,
  type InviteFailure,
  type InviteOptions,
  type OutgoingInvite,
  type ProvisionalInfo,
  type SessionDialog,
} from '../../src/dialog/index.ts';

/** A deterministic uniform [0, 1) generator. */
export function seeded(seed = 1): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

export const T1 = 500;

/** An SDP offer of a peer (PCMU, PCMA, telephone-event) with the given direction. */
export function peerSdp(options: { address?: string; port?: number; direction?: string; version?: number; codecs?: string } = {}): string {
  const address = options.address ?? '198.51.100.9';
  return [
    'v=0',
    `o=peer 1000 ${options.version ?? 1} IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${options.port ?? 30000} RTP/AVP ${options.codecs ?? '0 8 101'}`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    `a=${options.direction ?? 'sendrecv'}`,
    '',
  ].join('\r\n');
}

/** The direction attribute of an SDP body. */
export function directionOf(body: Uint8Array | string): string | undefined {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  return /a=(sendrecv|sendonly|recvonly|inactive)/.exec(text)?.[1];
}

export interface Sent {
  readonly at: number;
  readonly message: SipMessage;
  readonly target: Endpoint;
  readonly options: SendOptions;
}

/** A transport that records sends and lets the test deliver messages. */
export class ScriptTransport implements Transport {
  readonly sent: Sent[] = [];
  onReceive: ((received: Received) => void) | undefined;
  /** When set, a send to this port fails at once with ECONNREFUSED. */
  refusePort: number | undefined;

  constructor(
    readonly clock: FakeClock,
    readonly local: { host: string; port: number },
  ) {}

  send(bytes: Uint8Array, target: Endpoint, options: SendOptions = {}): void {
    this.sent.push({ at: this.clock.now(), message: parseMessage(bytes), target, options });
    if (this.refusePort === target.port) queueMicrotask(() => options.onError?.(new TransportError('ECONNREFUSED', target, 'refused')));
  }

  isReliable(transport: TransportKind): boolean {
    return transport !== 'udp';
  }

  localEndpoint(transport: TransportKind): Endpoint {
    return { transport, host: this.local.host, port: this.local.port };
  }

  deliver(message: SipMessage | MessageParts, source: Endpoint): void {
    const parsed = 'kind' in message ? message : parseMessage(formatMessage(message));
    this.onReceive!({ message: parsed, source, local: this.localEndpoint(source.transport), flowId: undefined });
  }

  /** Messages sent: requests by method, responses by "status METHOD". */
  labels(since = 0): string[] {
    return this.sent.slice(since).map((s) => label(s.message));
  }

  /** The last message sent with this label. */
  last(what: string): SipMessage {
    const found = [...this.sent].reverse().find((s) => label(s.message) === what);
    assert.ok(found, `nothing sent as ${what}; sent: ${this.labels().join(', ')}`);
    return found!.message;
  }

  count(what: string): number {
    return this.sent.filter((s) => label(s.message) === what).length;
  }
}

export function label(message: SipMessage): string {
  return message.kind === 'request' ? message.method! : `${message.status} ${message.cseq?.method}`;
}

export interface Ua {
  readonly transport: ScriptTransport;
  readonly transactions: TransactionLayer;
  readonly dialogs: DialogLayer;
  readonly invites: IncomingInvite[];
  readonly endpoint: Endpoint;
  /** A fresh OfferAnswer for this UA (RTP at its address, a port per call). */
  media(): OfferAnswer;
}

let nextRtpPort = 40000;

export function makeUa(
  clock: FakeClock,
  host: string,
  port: number,
  seed: number,
  options: { mediaFor?: boolean; layer?: Partial<Omit<DialogLayerOptions, 'transactions' | 'clock' | 'random' | 'mediaFor'>> } = {},
): Ua {
  const transport = new ScriptTransport(clock, { host, port });
  const random = seeded(seed);
  let dialogs!: DialogLayer;
  const transactions = new TransactionLayer({
    transport,
    clock,
    random,
    user: {
      onRequest: (incoming) => dialogs.onRequest(incoming),
      onAck: (ack) => dialogs.onAck(ack),
      onStrayResponse: (response) => dialogs.onStrayResponse(response),
    },
  });
  transport.onReceive = transactions.receive;
  // Wraps within the RTP range: long seeded runs make many calls.
  const media = (): OfferAnswer => new OfferAnswer({ local: { address: host, port: (nextRtpPort = nextRtpPort >= 65_000 ? 40_000 : nextRtpPort + 1) }, random });
  dialogs = new DialogLayer({
    transactions,
    clock,
    random,
    ...options.layer,
    ...(options.mediaFor === false ? {} : { mediaFor: () => media() }),
  });
  const invites: IncomingInvite[] = [];
  dialogs.onInvite = (invite) => invites.push(invite);
  return { transport, transactions, dialogs, invites, endpoint: { transport: 'udp', host, port }, media };
}

export interface UaRig {
  readonly clock: FakeClock;
  readonly ua: Ua;
  /** The peer's address: the UA's requests go there, the test's messages come from there. */
  readonly peer: Endpoint;
  /** Advances the clock (ms) and runs queued microtasks. */
  advance(ms: number): Promise<void>;
}

/** `options` go to makeUa: no mediaFor, or DialogLayer options (maxDialogs, userAgent ...). */
export function uaRig(options: Parameters<typeof makeUa>[4] = {}): UaRig {
  const clock = new FakeClock();
  const ua = makeUa(clock, '192.0.2.10', 5060, 11, options);
  return {
    clock,
    ua,
    peer: { transport: 'udp', host: '198.51.100.7', port: 5070 },
    advance: async (ms) => {
      clock.advance(ms);
      await flush();
    },
  };
}

/** Lets promises and queued microtasks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A response from the scripted peer to a request the UA sent. */
export function reply(
  request: SipMessage,
  status: number,
  options: { toTag?: string; contact?: string; sdp?: string; recordRoute?: string[]; headers?: Array<[string, string]>; reason?: string } = {},
): MessageParts {
  const headers: Array<[string, string]> = [];
  for (const rr of options.recordRoute ?? []) headers.push(['Record-Route', rr]);
  if (options.contact !== undefined) headers.push(['Contact', options.contact]);
  if (options.sdp !== undefined) headers.push(['Content-Type', 'application/sdp']);
  headers.push(...(options.headers ?? []));
  return responseParts(request, status, {
    headers,
    ...(options.toTag === undefined ? {} : { toTag: options.toTag }),
    ...(options.sdp === undefined ? {} : { body: options.sdp }),
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  });
}

/** A request from the scripted peer. */
export function peerRequest(method: string, fields: { uri: string; via?: string; from: string; to: string; callId: string; cseq: number; contact?: string; sdp?: string; headers?: Array<[string, string]>; body?: string; contentType?: string }): MessageParts {
  const headers: Array<[string, string]> = [
    ['Via', fields.via ?? `SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK${Math.random().toString(36).slice(2)}`],
    ['Max-Forwards', '70'],
    ['From', fields.from],
    ['To', fields.to],
    ['Call-ID', fields.callId],
    ['CSeq', `${fields.cseq} ${method}`],
  ];
  if (fields.contact !== undefined) headers.push(['Contact', fields.contact]);
  headers.push(...(fields.headers ?? []));
  const body = fields.sdp ?? fields.body;
  if (fields.sdp !== undefined) headers.push(['Content-Type', 'application/sdp']);
  else if (fields.contentType !== undefined) headers.push(['Content-Type', fields.contentType]);
  return { method, uri: fields.uri, headers, ...(body === undefined ? {} : { body }) };
}

/** Two UAs on one in-memory network; `drop` decides which messages are lost. */
export interface PairRig {
  readonly clock: FakeClock;
  readonly a: Ua;
  readonly b: Ua;
  latency: number;
  drop: ((message: SipMessage, from: 'a' | 'b') => boolean) | undefined;
  advance(ms: number): Promise<void>;
  /** Advances the clock until `promise` settles (at most `maxMs`), and returns its value. */
  settle<T>(promise: Promise<T>, maxMs?: number): Promise<T>;
}

export function pairRig(): PairRig {
  const clock = new FakeClock();
  const a = makeUa(clock, '192.0.2.10', 5060, 21);
  const b = makeUa(clock, '192.0.2.20', 5060, 22);
  const rig: PairRig = {
    clock,
    a,
    b,
    latency: 10,
    drop: undefined,
    advance: async (ms) => {
      // Step in small slices so that microtasks (promise settlements) run between timers.
      const end = clock.now() + ms;
      while (clock.now() < end) {
        clock.advance(Math.min(5, end - clock.now()));
        await flush();
      }
    },
    settle: async <T>(promise: Promise<T>, maxMs = 60_000): Promise<T> => {
      let done = false;
      let value: T | undefined;
      void promise.then((v) => {
        done = true;
        value = v;
      });
      const end = clock.now() + maxMs;
      await flush();
      while (!done && clock.now() < end) {
        clock.advance(5);
        await flush();
      }
      assert.ok(done, `the promise did not settle within ${maxMs} ms`);
      return value as T;
    },
  };
  const link = (from: Ua, to: Ua, name: 'a' | 'b'): void => {
    const original = from.transport.send.bind(from.transport);
    from.transport.send = (bytes, target, options) => {
      original(bytes, target, options);
      const message = parseMessage(bytes);
      if (rig.drop?.(message, name) === true) return;
      if (target.host !== to.endpoint.host) return;
      clock.setTimer(rig.latency, () => to.transport.deliver(parseMessage(bytes), { transport: target.transport, host: from.endpoint.host, port: from.endpoint.port }));
    };
  };
  link(a, b, 'a');
  link(b, a, 'b');
  return rig;
}

/** Nothing left in either UA: dialogs, INVITEs, dialog timers, transactions, clock timers. */
export function assertIdle(clock: FakeClock, ...uas: Ua[]): void {
  for (const ua of uas) {
    assert.equal(ua.dialogs.stats(), { dialogs: 0, incomingInvites: 0, outgoingInvites: 0, timers: 0 }, `dialog layer of ${ua.endpoint.host}`);
    assert.is(ua.transactions.stats().transactions, 0, `transactions of ${ua.endpoint.host}`);
  }
  assert.is(clock.pending, 0, 'no clock timer left');
}

/** An Authenticator that answers every challenge once with a fixed Authorization, and records what it saw. */
export function fakeAuth(): Authenticator & { challenges: number; answered: number } {
  let held = false;
  let challengesInARow = 0;
  const auth = {
    challenges: 0,
    answered: 0,
    headersFor: ({ method }: { method: string }): Array<[string, string]> => (held ? [['Proxy-Authorization', `Digest username="1001", realm="r", nonce="n", uri="x", response="${method.toLowerCase()}"`]] : []),
    onChallenge: () => {
      auth.challenges++;
      if (++challengesInARow > 1) return { retry: false as const, reason: 'credentials rejected' };
      held = true;
      return { retry: true as const };
    },
    onAnswered: () => {
      auth.answered++;
      challengesInARow = 0;
    },
  };
  return auth;
}

// ------------------------------------------------------------------ calls on the scripted rig

/** The scripted peer's Contact and the URI the UA is called at. */
export const PEER_CONTACT = '<sip:peer@198.51.100.7:5070>';
export const UA_URI = 'sip:ua@192.0.2.10:5060';

/** An outgoing call of the rig's UA to the scripted peer, with what its events reported. */
export interface Dialled {
  readonly call: OutgoingInvite;
  readonly media: OfferAnswer;
  readonly provisionals: ProvisionalInfo[];
  readonly failures: InviteFailure[];
  answered: SessionDialog | undefined;
}

/** Starts a call from the rig's UA to the peer (the INVITE is sent at once). */
export function dial(rig: UaRig, options: Partial<InviteOptions> = {}): Dialled {
  const media = options.media ?? rig.ua.media();
  const dialled: Dialled = { call: undefined as unknown as OutgoingInvite, media, provisionals: [], failures: [], answered: undefined };
  (dialled as { call: OutgoingInvite }).call = rig.ua.dialogs.invite(
    {
      requestUri: 'sip:peer@198.51.100.7:5070',
      from: '"UA" <sip:ua@example.com>',
      to: '<sip:peer@example.com>',
      contact: `<${UA_URI}>`,
      nextHop: rig.peer,
      ...options,
      media,
    },
    {
      onProvisional: (info) => dialled.provisionals.push(info),
      onAnswered: (session) => (dialled.answered = session),
      onFailed: (failure) => dialled.failures.push(failure),
    },
  );
  return dialled;
}

/** The scripted peer calls the UA: an INVITE delivered (with the peer's SDP offer unless `sdp` is null). */
export function callIn(
  rig: UaRig,
  options: { callId?: string; fromTag?: string; cseq?: number; sdp?: string | null; contact?: string; headers?: Array<[string, string]>; via?: string; transport?: TransportKind } = {},
): { readonly incoming: IncomingInvite | undefined; readonly request: SipMessage } {
  const before = rig.ua.invites.length;
  const parts = peerRequest('INVITE', {
    uri: UA_URI,
    from: `<sip:peer@example.com>;tag=${options.fromTag ?? 'peertag'}`,
    to: '<sip:ua@example.com>',
    callId: options.callId ?? 'call-in-1@198.51.100.7',
    cseq: options.cseq ?? 1,
    contact: options.contact ?? PEER_CONTACT,
    ...(options.via === undefined ? {} : { via: options.via }),
    ...(options.sdp === null ? {} : { sdp: options.sdp ?? peerSdp() }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  const request = parseMessage(formatMessage(parts));
  rig.ua.transport.deliver(request, options.transport === undefined ? rig.peer : { ...rig.peer, transport: options.transport });
  return { incoming: rig.ua.invites.length > before ? rig.ua.invites[rig.ua.invites.length - 1] : undefined, request };
}

/** A request of the scripted peer within `session`'s dialog (From/To/Call-ID from the dialog; CSeq as given). */
export function inDialog(
  session: SessionDialog,
  method: string,
  cseq: number,
  options: { sdp?: string; contact?: string; body?: string; contentType?: string; headers?: Array<[string, string]>; via?: string } = {},
): MessageParts {
  const d = session.dialog;
  return peerRequest(method, {
    uri: UA_URI,
    from: `${d.remote};tag=${d.remoteTag}`,
    to: `${d.local};tag=${d.localTag}`,
    callId: d.callId,
    cseq,
    ...options,
  });
}

/** The ACK the scripted peer sends for the UA's 2xx to `invite` (optionally with an answer). */
export function peerAck(invite: SipMessage, ok: SipMessage, sdp?: string): MessageParts {
  return peerRequest('ACK', {
    uri: UA_URI,
    from: invite.header('from')!,
    to: ok.header('to')!,
    callId: invite.callId!,
    cseq: invite.cseq!.seq,
    ...(sdp === undefined ? {} : { sdp }),
  });
}

/** Sends of one label, with their clock times. */
export function times(transport: ScriptTransport, what: string, since = 0): number[] {
  return transport.sent.filter((s) => label(s.message) === what && s.at >= since).map((s) => s.at);
}

/** A confirmed call placed by the rig's UA: the peer answered 200 (Record-Route and Contact as given) and the UA ACKed. */
export function outgoingSession(
  rig: UaRig,
  options: { recordRoute?: string[]; contact?: string; toTag?: string; auth?: Authenticator } = {},
): { readonly session: SessionDialog; readonly invite: SipMessage; readonly ok: MessageParts } {
  const dialled = dial(rig, options.auth === undefined ? {} : { auth: options.auth });
  const invite = rig.ua.transport.last('INVITE');
  const ok = reply(invite, 200, { toTag: options.toTag ?? 'peertag', contact: options.contact ?? PEER_CONTACT, sdp: peerSdp(), ...(options.recordRoute === undefined ? {} : { recordRoute: options.recordRoute }) });
  rig.ua.transport.deliver(ok, rig.peer);
  assert.ok(dialled.answered, 'the call was answered');
  return { session: dialled.answered!, invite, ok };
}

/** A confirmed call the scripted peer placed to the UA: accepted and ACKed. */
export function incomingSession(
  rig: UaRig,
  options: { recordRoute?: string[]; auth?: Authenticator; callId?: string } = {},
): { readonly session: SessionDialog; readonly invite: SipMessage; readonly ok: SipMessage } {
  const { incoming, request } = callIn(rig, {
    ...(options.callId === undefined ? {} : { callId: options.callId }),
    ...(options.recordRoute === undefined ? {} : { headers: options.recordRoute.map((rr): [string, string] => ['Record-Route', rr]) }),
  });
  assert.ok(incoming, 'the application got the call');
  const session = incoming!.accept({ contact: `<${UA_URI}>`, ...(options.auth === undefined ? {} : { auth: options.auth }) });
  const ok = rig.ua.transport.last('200 INVITE');
  rig.ua.transport.deliver(peerAck(request, ok), rig.peer);
  return { session, invite: request, ok };
}
