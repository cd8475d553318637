/**
 * The transaction layer (RFC 3261 s17): creates client transactions for the
 * TU's requests, matches what the transport receives to live transactions
 * (s17.1.3, s17.2.3), creates server transactions for new requests and hands
 * them to the TU, and forgets every transaction the moment it terminates.
 * stats() counts what is alive, so tests can prove that nothing leaks.
 */
import { StateError } from '../errors/sip-endpoint-error.ts';
import { findHeader, formatMessage, ownedBytes, parseCSeq, parseMessage, type MessageParts, type SipMessage } from '../parser/index.ts';
import type { Endpoint, Received, SendOptions, Transport } from '../transport/types.ts';
import type { Clock } from './clock.ts';
import { ClientInviteTransaction } from './client-invite.ts';
import { OutgoingRequest } from './client-transaction.ts';
import { ClientNonInviteTransaction } from './client-non-invite.ts';
import { ClientTable } from './client-table.ts';
import { hasMagicCookie, MAGIC_COOKIE } from './matching.ts';
import { ServerTable } from './server-table.ts';
import { positiveCap, ServerAdmission } from './server-admission.ts';
import { responseTarget } from '../transport/response-target.ts';
import { formatOwnVia } from '../transport/own-via.ts';
import { responseParts, statelessTag, withReceivedVia, type ResponseOptions } from './responses.ts';
import { ServerInviteTransaction } from './server-invite.ts';
import { ServerNonInviteTransaction } from './server-non-invite.ts';
import { cryptoRandom } from './random.ts';
import { resolveTimerSettings, timerValues, type TimerSettings } from './timers.ts';
import type { ClientTransactionUser, ServerTransaction, TransactionContext, TransactionCounters, TransactionUser } from './user.ts';

export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;
export type Transaction = ClientTransaction | ServerTransaction;

export interface TransactionLayerOptions {
  readonly transport: Transport;
  readonly clock: Clock;
  /** Receives new requests, ACKs for 2xx and stray responses. */
  readonly user: TransactionUser;
  /** Uniform in [0, 1), for branch values; crypto.getRandomValues by default (cryptoRandom). */
  readonly random?: () => number;
  /** T1, T2, T4 and the 100 Trying delay; RFC 3261 defaults otherwise. */
  readonly timers?: Partial<TimerSettings>;
  /** Put `rport` (RFC 3581) in the Via of every request this layer adds a Via to; default true. */
  readonly rport?: boolean;
  /**
   * Most live transactions (client + server) at once; default 200,000. Past
   * it a new client request throws, and a new request from the network is
   * answered 503 with Retry-After statelessly (RFC 3261 s21.5.4).
   */
  readonly maxTransactions?: number;
  /**
   * Most live server transactions for requests from untrusted sources (all
   * of them without `trustedSource`); default three quarters of
   * maxTransactions, so a flood never takes the room of our own requests
   * (REGISTER refreshes, calls) nor of trusted sources: it gets the 503.
   */
  readonly maxServerTransactions?: number;
  /**
   * Most live server transactions for requests from one untrusted source
   * (an address; an IPv6 /64); default no limit. Past it that source gets
   * the 503 and the others are served.
   */
  readonly maxServerTransactionsPerSource?: number;
  /** Sources whose requests no per-source or server cap counts (the SDK: its sites, and requests to our registered Contact). */
  readonly trustedSource?: (source: Endpoint, request: SipMessage) => boolean;
}

/** Default cap of live transactions: about half a GB of state at ~2.5 KB each. */
export const DEFAULT_MAX_TRANSACTIONS = 200_000;

export interface SendRequestOptions {
  /** Send over this connection (TCP/TLS flow of a received request). */
  readonly flowId?: string;
  /** `rport` (RFC 3581) in the Via this layer adds; default: the layer's `rport` option. */
  readonly rport?: boolean;
}

/** Live transactions by kind, and the timers they hold. */
export interface TransactionStats {
  readonly clientInvite: number;
  readonly clientNonInvite: number;
  readonly serverInvite: number;
  readonly serverNonInvite: number;
  readonly transactions: number;
  readonly timers: number;
}

const BRANCH_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const BRANCH_DIGITS_5 = 62 ** 5;

/** The char code of the lowest base-62 digit of floor(n). */
function charOf(n: number): number {
  return BRANCH_ALPHABET.charCodeAt(Math.floor(n) % 62);
}

/** Methods whose CSeq isPlainCSeq() reads without the parser (tokens all). */
const PLAIN_METHODS = new Set(['INVITE', 'BYE', 'OPTIONS', 'INFO', 'CANCEL', 'REGISTER', 'MESSAGE', 'UPDATE', 'PRACK', 'REFER', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH']);

/**
 * True when a CSeq value is exactly `<1 to 9 digits> <method>`, as we write
 * them: what parseCSeq() would read as `method`, told without encoding and
 * parsing the value. Anything else goes to the parser.
 */
export function isPlainCSeq(value: string, method: string): boolean {
  const digits = value.length - method.length - 1;
  if (digits < 1 || digits > 9 || !PLAIN_METHODS.has(method) || value.charCodeAt(digits) !== 0x20 || !value.endsWith(method)) return false;
  for (let i = 0; i < digits; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

export class TransactionLayer {
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #user: TransactionUser;
  readonly #random: () => number;
  readonly #settings: TimerSettings;
  readonly #rport: boolean;
  readonly #contexts = new Map<boolean, TransactionContext>();
  readonly #clients = new ClientTable<ClientTransaction>();
  readonly #servers = new ServerTable<ServerTransaction>();
  readonly #maxTransactions: number;
  readonly #admission: ServerAdmission<ServerTransaction>;
  readonly #counters: TransactionCounters = { clientTransactions: 0, serverTransactions: 0, retransmissions: 0 };
  #branches = 0;
  #closed = false;

  constructor(options: TransactionLayerOptions) {
    this.#transport = options.transport;
    this.#clock = options.clock;
    this.#user = options.user;
    this.#random = options.random ?? cryptoRandom();
    this.#settings = resolveTimerSettings(options.timers);
    this.#rport = options.rport ?? true;
    this.#maxTransactions = positiveCap('maxTransactions', options.maxTransactions) ?? DEFAULT_MAX_TRANSACTIONS;
    this.#admission = new ServerAdmission({
      maxUntrusted: positiveCap('maxServerTransactions', options.maxServerTransactions) ?? Math.max(1, Math.floor((this.#maxTransactions * 3) / 4)),
      perSource: positiveCap('maxServerTransactionsPerSource', options.maxServerTransactionsPerSource),
      trusted: options.trustedSource,
    });
  }

  /**
   * Starts a client transaction for a request (s17.1): INVITE or any other
   * method but ACK. A Via with a new branch is put on top unless the parts
   * carry a Via already (a CANCEL carries its INVITE's). The TU hears of it
   * through `user`; a transport error raised inside send() reaches it before
   * this returns. Throws on a request the layer cannot send (ACK, no branch,
   * unparsable parts, branch in use, layer closed).
   *
   * RFC 3261 s18.1.1 is applied here: a request too large for UDP goes to
   * the same address over TCP (Transport.planRequest), built with a TCP Via,
   * and its transaction runs with reliable timers (`transaction.target`
   * says where it went). A request carrying its own Via (a CANCEL) goes the
   * way that Via says, so a CANCEL follows its INVITE to TCP.
   */
  sendRequest(parts: MessageParts, requested: Endpoint, user: ClientTransactionUser, options: SendRequestOptions = {}): ClientTransaction {
    if (this.#closed) throw new StateError('ERR_CLOSED', 'transaction layer is closed');
    const method = parts.method;
    if (method === undefined) throw new TypeError('sendRequest needs a request (parts.method)');
    if (method === 'ACK') throw new TypeError('an ACK is not a transaction: use sendStateless (the ACK for a 300-699 is sent by its INVITE transaction)');
    if (this.#liveCount() >= this.#maxTransactions) throw new StateError('ERR_LIMIT', `transaction limit reached (${this.#maxTransactions} live)`);
    const rport = options.rport ?? this.#rport;
    const prepared = this.#prepareRequest(parts, requested, rport);
    const { branch, cseqMethod } = prepared;
    let { bytes } = prepared;
    let target = requested;
    if (target.transport === 'udp') {
      if (prepared.viaTransport === 'TCP') {
        target = { transport: 'tcp', host: target.host, port: target.port };
      } else if (prepared.viaTransport === undefined && branch !== undefined) {
        const plan = this.#transport.planRequest?.(bytes.length, target);
        if (plan?.action === 'tcp') {
          target = plan.target;
          bytes = formatMessage(parts, this.#via(target, branch, rport));
        }
      }
    }
    if (!hasMagicCookie(branch)) throw new TypeError(`a client transaction needs a branch starting with ${MAGIC_COOKIE}`);
    if (cseqMethod !== method) throw new TypeError(`CSeq method ${String(cseqMethod)} differs from ${method}`);
    // Only a branch the TU wrote can clash: ours carry this layer's counter (newBranch), and a probe of the big table per request showed in profiles.
    if (prepared.viaTransport !== undefined && this.#clients.taken(branch, method)) {
      throw new StateError('ERR_STATE', `a ${method} client transaction with branch ${branch} is already live`);
    }
    // An INVITE transaction lives up to 32 s (Timer M): its request must not pin a shared chunk.
    const outgoing = new OutgoingRequest(method === 'INVITE' ? ownedBytes(bytes) : bytes, target, options.flowId, branch, method);
    const context = this.#context(target.transport);
    const transaction =
      method === 'INVITE'
        ? new ClientInviteTransaction(context, outgoing, user)
        : new ClientNonInviteTransaction(context, outgoing, user);
    this.#clients.add(transaction);
    this.#counters.clientTransactions++;
    transaction.handle({ type: 'start' });
    return transaction;
  }

  /**
   * Sends a request outside any transaction: the ACK for a 2xx (s13.2.2.4),
   * which the dialog layer resends itself. A Via with a new branch is added
   * unless the parts carry one. Returns the message as sent.
   */
  sendStateless(parts: MessageParts, target: Endpoint, options: SendOptions = {}): SipMessage {
    return parseMessage(this.#sendStateless(parts, target, options).bytes);
  }

  /**
   * sendStateless() without parsing the request back: returns the Via it put
   * on top (undefined when the parts carried one), all the ACK for a 2xx
   * needs to resend itself. Parsing the whole ACK again cost more than
   * building it.
   */
  sendStatelessVia(parts: MessageParts, target: Endpoint, options: SendOptions = {}): string | undefined {
    return this.#sendStateless(parts, target, options).via;
  }

  /** Everything the transport receives (`transport.onReceive = layer.receive`). */
  readonly receive = (received: Received): void => {
    if (this.#closed) return;
    const message = received.message;
    if (message.kind === 'response') {
      const branch = message.topVia?.branch;
      const method = message.cseq?.method;
      const transaction = branch == null || method === undefined ? undefined : this.#clients.get(branch, method);
      if (transaction !== undefined) transaction.handle({ type: 'response', message });
      else this.#user.onStrayResponse?.(message, received);
      return;
    }
    const method = message.method;
    if (method === undefined || message.topVia === undefined) return;
    if (message.cseq === undefined) return this.#refuseIncomplete(message, received, method);
    if (method === 'ACK') {
      // No response to an ACK; one without To, From or Call-ID matches no transaction or dialog.
      if (missingHeader(message) !== undefined) return;
      const transaction = this.#findServer(message, 'INVITE');
      if (transaction?.kind === 'server-invite') transaction.handle({ type: 'ack', message, received });
      else this.#user.onAck?.(message, received);
      return;
    }
    const existing = this.#findServer(message, method);
    if (existing !== undefined) {
      existing.handle({ type: 'request', message });
      return;
    }
    this.#serve(message, received, method);
  };

  /** RFC 3261 s9.2: the INVITE server transaction a CANCEL cancels ("assuming that the request method is anything but CANCEL or ACK"). */
  findCancelled(cancel: SipMessage): ServerInviteTransaction | undefined {
    const transaction = this.#findServer(cancel, 'INVITE');
    return transaction?.kind === 'server-invite' ? transaction : undefined;
  }

  /** A new branch: the magic cookie, random characters and a counter, so no two are equal. */
  newBranch(): string {
    // Ten chars from two draws (five each), made into one string at once: a draw per char cost more than the rest of the branch.
    const high = this.#fiveChars();
    const low = this.#fiveChars();
    const id = String.fromCharCode(
      charOf(high), charOf(high / 62), charOf(high / 3844), charOf(high / 238_328), charOf(high / 14_776_336),
      charOf(low), charOf(low / 62), charOf(low / 3844), charOf(low / 238_328), charOf(low / 14_776_336),
    );
    return `${MAGIC_COOKIE}${id}.${(this.#branches++).toString(36)}`;
  }

  /** A uniform integer below 62^5 (< 2^30): five base-62 digits from one random() value (cryptoRandom's hold 32 bits). */
  #fiveChars(): number {
    return Math.floor(this.#random() * BRANCH_DIGITS_5) % BRANCH_DIGITS_5;
  }

  stats(): TransactionStats {
    let clientInvite = 0;
    let clientNonInvite = 0;
    let serverInvite = 0;
    let serverNonInvite = 0;
    let timers = 0;
    for (const transaction of this.#allLive()) {
      timers += transaction.liveTimers;
      if (transaction.kind === 'client-invite') clientInvite++;
      else if (transaction.kind === 'client-non-invite') clientNonInvite++;
      else if (transaction.kind === 'server-invite') serverInvite++;
      else serverNonInvite++;
    }
    return { clientInvite, clientNonInvite, serverInvite, serverNonInvite, transactions: this.#liveCount(), timers };
  }

  /** Totals since the layer was made: transactions started and messages retransmitted. */
  counters(): TransactionCounters {
    return { ...this.#counters };
  }

  /** Ends every transaction at once (no TU is told) and drops what arrives later. */
  close(): void {
    this.#closed = true;
    for (const transaction of [...this.#allLive()]) transaction.handle({ type: 'terminate' });
  }

  #serve(request: SipMessage, received: Received, method: string): void {
    if (missingHeader(request) !== undefined) return this.#refuseIncomplete(request, received, method);
    // Unreachable with To, From, Call-ID, CSeq and a Via (receive() checked the last two): kept as the table's guard.
    if (!this.#servers.matchable(request, method)) return;
    // RFC 3261 s18.2.2: the request's flow while open, else the transport's one answer for where responses go.
    const route = { target: responseTarget(received), flowId: received.flowId };
    const admitted = this.#liveCount() < this.#maxTransactions ? this.#admission.admit(received.source, request, this.#servers.size) : undefined;
    if (admitted === undefined) {
      // Over a cap: answer statelessly, keep no state (s21.5.4 "Service Unavailable").
      this.#replyStateless(request, received, route, 503, { headers: [['Retry-After', '5']] });
      return;
    }
    const context = this.#context(received.source.transport);
    const transaction =
      method === 'INVITE' ? new ServerInviteTransaction(context, received, route) : new ServerNonInviteTransaction(context, received, route);
    this.#servers.add(transaction, request);
    this.#admission.take(transaction, admitted);
    this.#counters.serverTransactions++;
    transaction.handle({ type: 'start' });
    const cancelled = method === 'CANCEL' ? this.findCancelled(request) : undefined;
    this.#user.onRequest({ request, received, transaction, cancelled });
  }

  /**
   * A request without To, From, Call-ID or CSeq (s8.1.1; RFC 4475 3.1.2.18
   * "insuf": "Ideally, it will respond with a 400"): answered statelessly,
   * no transaction kept for a request no TU could act on; an ACK is dropped.
   */
  #refuseIncomplete(request: SipMessage, received: Received, method: string): void {
    if (method === 'ACK') return;
    const route = { target: responseTarget(received), flowId: received.flowId };
    this.#replyStateless(request, received, route, 400, { reason: `Missing ${missingHeader(request) ?? 'cseq'} header` });
  }

  #replyStateless(request: SipMessage, received: Received, route: { readonly target: Endpoint; readonly flowId: string | undefined }, status: number, options: ResponseOptions): void {
    // s8.2.6.2: a To tag when the request had none; s8.2.7: a stateless UAS gives the same tag to the same request.
    const parts = withReceivedVia(responseParts(request, status, { ...options, toTag: statelessTag(request) }), received);
    this.#transport.send(formatMessage(parts), route.target, { flowId: route.flowId });
  }

  #findServer(request: SipMessage, method: string): ServerTransaction | undefined {
    return this.#servers.find(request, method);
  }

  #liveCount(): number {
    return this.#clients.size + this.#servers.size;
  }

  *#allLive(): Iterable<Transaction> {
    yield* this.#clients.values();
    yield* this.#servers.values();
  }

  #forget(transaction: Transaction): void {
    if (transaction.kind === 'client-invite' || transaction.kind === 'client-non-invite') {
      this.#clients.delete(transaction);
      return;
    }
    this.#servers.delete(transaction);
    this.#admission.release(transaction);
  }

  #context(kind: Endpoint['transport']): TransactionContext {
    const reliable = this.#transport.isReliable(kind);
    let context = this.#contexts.get(reliable);
    if (context === undefined) {
      context = {
        clock: this.#clock,
        transport: this.#transport,
        timers: timerValues(this.#settings, reliable),
        counters: this.#counters,
        onTerminated: (transaction) => this.#forget(transaction as Transaction),
        passAck: (ack, received) => this.#user.onAck?.(ack, received),
      };
      this.#contexts.set(reliable, context);
    }
    return context;
  }

  /**
   * A request's bytes, branch and CSeq method, and the transport of the Via
   * the parts carried (undefined: the Via is ours). With our own Via (the
   * usual case) nothing is parsed back; parts that carry a Via (a CANCEL) are.
   */
  #prepareRequest(parts: MessageParts, target: Endpoint, rport: boolean): { bytes: Uint8Array; branch: string | undefined; cseqMethod: string | undefined; viaTransport?: string } {
    if (findHeader(parts.headers, 'via') >= 0) {
      const bytes = formatMessage(parts);
      const message = parseMessage(bytes);
      return { bytes, branch: message.topVia?.branch ?? undefined, cseqMethod: message.cseq?.method, viaTransport: message.topVia?.transport.toUpperCase() ?? '' };
    }
    const branch = this.newBranch();
    const bytes = formatMessage(parts, this.#via(target, branch, rport));
    const cseq = findHeader(parts.headers, 'cseq');
    let cseqMethod: string | undefined;
    if (cseq >= 0 && isPlainCSeq(parts.headers[cseq]![1], parts.method!)) {
      cseqMethod = parts.method;
    } else {
      try {
        cseqMethod = cseq < 0 ? undefined : parseCSeq(parts.headers[cseq]![1]).method;
      } catch {
        cseqMethod = undefined;
      }
    }
    return { bytes, branch, cseqMethod };
  }

  /** The request as sent, and the Via we put on top (none when the parts carried one). */
  #sendStateless(parts: MessageParts, target: Endpoint, options: SendOptions): { bytes: Uint8Array; via: string | undefined } {
    if (findHeader(parts.headers, 'via') >= 0) {
      const bytes = formatMessage(parts);
      this.#transport.send(bytes, target, options);
      return { bytes, via: undefined };
    }
    let via = this.#via(target, this.newBranch());
    let bytes = formatMessage(parts, via);
    // s18.1.1 as in sendRequest(), for a request that gets our Via (a large ACK for a 2xx).
    if (target.transport === 'udp') {
      const plan = this.#transport.planRequest?.(bytes.length, target);
      if (plan?.action === 'tcp') {
        target = plan.target;
        via = this.#via(target, this.newBranch());
        bytes = formatMessage(parts, via);
      }
    }
    this.#transport.send(bytes, target, options);
    return { bytes, via };
  }

  #via(target: Endpoint, branch: string, rport = this.#rport): string {
    return formatOwnVia(this.#transport.localEndpoint(target.transport, target), branch, rport);
  }
}

/** The first of To, From, Call-ID and CSeq a request lacks, in the UAS checks' order (s8.1.1), or undefined. */
function missingHeader(request: SipMessage): string | undefined {
  if (request.to === undefined) return 'to';
  if (request.from === undefined) return 'from';
  if (request.callId === undefined) return 'call-id';
  if (request.cseq === undefined) return 'cseq';
  return undefined;
}
