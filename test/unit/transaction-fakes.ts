/**
 * Test doubles for the transaction-layer tests (not a test file itself): a
 * loopback Transport that records every send with the FakeClock time, can
 * fail sends (at once, inside send(), or later), and injects received
 * messages; recording TUs; message builders; and the no-leak check.
 */
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage, type MessageParts, type SipMessage } from '../../src/parser/index.ts';
import {
  TransportError,
  type Endpoint,
  type Received,
  type SendOptions,
  type Transport,
  type TransportErrorCode,
  type TransportKind,
} from '../../src/transport/types.ts';
import { FakeClock } from '../../src/transaction/clock.ts';
import {
  TransactionLayer,
  responseParts,
  type ClientOutcome,
  type ClientTransactionUser,
  type IncomingRequest,
  type ServerTransactionUser,
  type TransactionLayerOptions,
} from '../../src/transaction/index.ts';

export interface Sent {
  /** FakeClock time of the send. */
  readonly at: number;
  readonly bytes: Uint8Array;
  readonly message: SipMessage;
  readonly target: Endpoint;
  readonly options: SendOptions;
}

export const LOCAL = { host: '192.0.2.10', port: 5060 };
export const PEER_UDP: Endpoint = { transport: 'udp', host: '198.51.100.7', port: 5070 };
export const PEER_TCP: Endpoint = { transport: 'tcp', host: '198.51.100.7', port: 5070 };

export class FakeTransport implements Transport {
  readonly sent: Sent[] = [];
  /** release() calls: FakeClock time, target and the options given. */
  readonly released: Array<{ readonly at: number; readonly target: Endpoint; readonly options: SendOptions }> = [];
  onReceive: ((received: Received) => void) | undefined;
  /** When set, every send fails inside send() with this code. */
  failInside: TransportErrorCode | undefined;

  constructor(readonly clock: FakeClock) {}

  send(bytes: Uint8Array, target: Endpoint, options: SendOptions = {}): void {
    this.sent.push({ at: this.clock.now(), bytes, message: parseMessage(bytes), target, options });
    if (this.failInside !== undefined) options.onError?.(new TransportError(this.failInside, target, 'failed inside send'));
  }

  release(target: Endpoint, options: SendOptions): void {
    this.released.push({ at: this.clock.now(), target, options });
  }

  /** noResponse() calls: FakeClock time, target, options, and how many release() calls came before it. */
  readonly silences: Array<{ readonly at: number; readonly target: Endpoint; readonly options: SendOptions; readonly releasedBefore: number }> = [];

  noResponse(target: Endpoint, options: SendOptions): void {
    this.silences.push({ at: this.clock.now(), target, options, releasedBefore: this.released.length });
  }

  isReliable(transport: TransportKind): boolean {
    return transport !== 'udp';
  }

  localEndpoint(transport: TransportKind): Endpoint {
    return { transport, host: LOCAL.host, port: transport === 'tls' ? 5061 : LOCAL.port };
  }

  /**
   * Reports a failure for an earlier send, as the transport does when it
   * learns of it (ICMP, RST): to its sender, unless the sender released the
   * callback since (a real transport has forgotten it then).
   */
  fail(index = this.sent.length - 1, code: TransportErrorCode = 'ECONNREFUSED'): TransportError {
    const sent = this.sent[index]!;
    const error = new TransportError(code, sent.target, `send ${index} failed`);
    if (!this.released.some((r) => r.options === sent.options)) sent.options.onError?.(error);
    return error;
  }

  /** Hands a message to the layer as received from `source`. */
  deliver(message: Uint8Array | MessageParts | SipMessage, source: Endpoint, flowId?: string): void {
    const parsed =
      message instanceof Uint8Array ? parseMessage(message) : 'kind' in message ? message : parseMessage(formatMessage(message));
    this.onReceive!({ message: parsed, source, local: this.localEndpoint(source.transport), flowId });
  }

  /** Sends of one method (requests) or status (responses). */
  of(what: string | number): Sent[] {
    return this.sent.filter((s) => (typeof what === 'number' ? s.message.status === what : s.message.method === what));
  }

  times(what: string | number): number[] {
    return this.of(what).map((s) => s.at);
  }
}

/** The layer's TU, recording. respondWith answers every new request at once. */
export class RecordingTu {
  readonly requests: IncomingRequest[] = [];
  readonly acks: SipMessage[] = [];
  readonly strays: SipMessage[] = [];
  readonly serverErrors: TransportError[] = [];
  ackTimeouts = 0;
  onRequestHook: ((incoming: IncomingRequest) => void) | undefined;

  readonly serverUser: ServerTransactionUser = {
    onTransportError: (error) => this.serverErrors.push(error),
    onAckTimeout: () => this.ackTimeouts++,
  };

  onRequest(incoming: IncomingRequest): void {
    incoming.transaction.user = this.serverUser;
    this.requests.push(incoming);
    this.onRequestHook?.(incoming);
  }

  onAck(ack: SipMessage): void {
    this.acks.push(ack);
  }

  onStrayResponse(response: SipMessage): void {
    this.strays.push(response);
  }
}

/** A client TU that records what it hears, with the FakeClock time of each final. */
export class ClientRecorder implements ClientTransactionUser {
  readonly provisional: SipMessage[] = [];
  readonly finals: Array<ClientOutcome & { at: number }> = [];
  readonly additional: SipMessage[] = [];
  readonly errors: TransportError[] = [];

  constructor(private readonly clock: FakeClock) {}

  onProvisional(response: SipMessage): void {
    this.provisional.push(response);
  }

  onFinal(outcome: ClientOutcome): void {
    this.finals.push({ ...outcome, at: this.clock.now() });
  }

  onAdditional2xx(response: SipMessage): void {
    this.additional.push(response);
  }

  onTransportError(error: TransportError): void {
    this.errors.push(error);
  }
}

export interface Harness {
  clock: FakeClock;
  transport: FakeTransport;
  tu: RecordingTu;
  layer: TransactionLayer;
}

export function harness(options: Partial<TransactionLayerOptions> = {}): Harness {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  const tu = new RecordingTu();
  let seed = 0;
  const layer = new TransactionLayer({
    transport,
    clock,
    user: tu,
    random: () => ((seed = (seed * 31 + 7) % 101) / 101),
    ...options,
  });
  transport.onReceive = layer.receive;
  return { clock, transport, tu, layer };
}

/** No live transaction, no timer in the layer, none on the clock. */
export function assertClean({ layer, clock }: Harness): void {
  const stats = layer.stats();
  assert.equal(stats, { clientInvite: 0, clientNonInvite: 0, serverInvite: 0, serverNonInvite: 0, transactions: 0, timers: 0 }, 'layer stats');
  assert.is(clock.pending, 0, 'FakeClock.pending');
}

let calls = 0;

/** A request as a TU hands it to sendRequest (no Via: the layer adds it). */
export function requestParts(method: string, extra: Array<[string, string]> = []): MessageParts {
  calls++;
  return {
    method,
    uri: 'sip:bob@example.com',
    headers: [
      ['Max-Forwards', '70'],
      ['From', `Alice <sip:alice@example.com>;tag=from${calls}`],
      ['To', 'Bob <sip:bob@example.com>'],
      ['Call-ID', `call-${calls}@192.0.2.10`],
      ['CSeq', `${calls} ${method}`],
      ...extra,
    ],
  };
}

/** The response a peer sends to a request we sent. */
export function reply(request: SipMessage, status: number, toTag: string | undefined = status > 100 ? 'peer-tag' : undefined): Uint8Array {
  return formatMessage(responseParts(request, status, toTag === undefined ? {} : { toTag }));
}

/** A request as a peer sends it to us. */
export function peerRequest(
  method: string,
  options: { branch?: string | null; sentBy?: string; cseq?: number; callId?: string; toTag?: string; uri?: string; transport?: string } = {},
): MessageParts {
  const branch = options.branch === undefined ? 'z9hG4bKpeer1' : options.branch;
  const via = `SIP/2.0/${options.transport ?? 'UDP'} ${options.sentBy ?? '198.51.100.7:5070'}${branch === null ? '' : `;branch=${branch}`}`;
  const cseqMethod = method;
  return {
    method,
    uri: options.uri ?? 'sip:alice@192.0.2.10',
    headers: [
      ['Via', via],
      ['Max-Forwards', '70'],
      ['From', 'Bob <sip:bob@example.com>;tag=peer-from'],
      ['To', `Alice <sip:alice@example.com>${options.toTag === undefined ? '' : `;tag=${options.toTag}`}`],
      ['Call-ID', options.callId ?? 'peer-call@198.51.100.7'],
      ['CSeq', `${options.cseq ?? 1} ${cseqMethod}`],
    ],
  };
}

/** The ACK a peer sends for a non-2xx final we sent (same branch and To tag as the response). */
export function peerAck(invite: MessageParts, toTag: string | undefined): MessageParts {
  const headers = invite.headers.map(([name, value]): [string, string] => {
    if (name === 'CSeq') return [name, value.replace(/INVITE$/, 'ACK')];
    if (name === 'To' && toTag !== undefined) return [name, `${value};tag=${toTag}`];
    return [name, value];
  });
  return { method: 'ACK', uri: invite.uri!, headers };
}

/** Header value of a sent message. */
export function headerOf(sent: Sent | SipMessage, name: string): string | undefined {
  return ('message' in sent ? sent.message : sent).header(name);
}
