/**
 * One TCP or TLS connection (a "flow", RFC 5626): the stream framer on the
 * read side, a queue while connecting, write-buffer cap, idle timeout,
 * RFC 5626 s4.4.1 keep-alive (answer CRLFCRLF pings with a CRLF pong; on
 * outgoing flows optionally ping and declare the flow dead when no pong comes
 * back), and the senders to tell when the flow fails.
 *
 * Bounds whatever the peer does: a message must arrive within its deadline
 * and above a minimum rate (read-deadline.ts); a peer that does not read our
 * responses stops being read once more than writeHighWaterBytes wait to be
 * written (what it already sent waits, at most one chunk), and is closed if
 * that lasts writeStallMs. Memory per connection: read buffer (one message)
 * + write buffer (maxWriteBufferBytes) + one unread chunk.
 *
 * Life: connecting -> open -> closed (outgoing), open -> closed (incoming).
 * Every socket event handler is guarded: nothing throws out of it.
 */
import type { Socket } from 'node:net';
import { StreamFramer, type FrameEvent, type SipParseError } from '../parser/index.ts';
import { fromNodeError, transportError } from './errors.ts';
import type { KeepAliveOptions, TransportDiagnostic } from './options.ts';
import { callSafely, PendingSenders, type ErrorCallback } from './pending-senders.ts';
import { ReadDeadline, type ExpiryReason } from './read-deadline.ts';
import { takeTurnBudget, waitTurn } from './turn-budget.ts';
import type { Endpoint, TransportError } from './types.ts';

export interface ConnectionSettings {
  readonly maxBufferedBytes: number;
  readonly maxWriteBufferBytes: number;
  readonly writeHighWaterBytes: number;
  readonly writeStallMs: number;
  readonly messageDeadlineMs: number;
  readonly minMessageBytesPerSec: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAlive: KeepAliveOptions;
  readonly pendingSenderMs: number;
  readonly maxPendingSenders: number;
  readonly random: () => number;
}

export interface ConnectionEvents {
  message(connection: StreamConnection, bytes: Uint8Array): void;
  /** Called once; `error` is undefined for a close by us without error (idle, layer close). */
  closed(connection: StreamConnection, error: TransportError | undefined): void;
  diagnostic(diagnostic: TransportDiagnostic): void;
  callbackError(error: unknown): void;
  /** The 400/413 to send before closing for a framing error, from the broken message's header lines; undefined: none. */
  framingReply(connection: StreamConnection, error: SipParseError, head: Uint8Array): Uint8Array | undefined;
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** Hears once whether a keep-alive ping got its pong (true) or the flow failed first (false, why). */
export type PongWaiter = (alive: boolean, reason: string) => void;

const PING = new Uint8Array([13, 10, 13, 10]);
const PONG = new Uint8Array([13, 10]);
/**
 * Messages handled per connection before it waits its turn again (and all
 * connections together per turn: turn-budget.ts). A peer pipelining
 * thousands of requests in 64 KiB chunks otherwise held the loop ~10 ms per
 * chunk and, over 100 such peers, kept every other client waiting seconds.
 */
const MESSAGES_PER_TURN = 4;
/** How long a reply to a framing error may take to leave before the socket is destroyed. */
const LINGER_MS = 1000;

export class StreamConnection {
  state: ConnectionState;
  /** Our side of the connection, known once connected. */
  local: Endpoint | undefined;
  readonly #socket: Socket;
  readonly #framer: StreamFramer;
  readonly #pending: PendingSenders;
  /**
   * Senders of responses: a peer that closes its connection normally (FIN)
   * after our response is not a failure of that response, so they hear only
   * of resets and errors. Senders of requests also hear of a FIN: no response
   * will come on this connection.
   */
  readonly #responseSenders: PendingSenders;
  /** The peer closed its side normally (FIN), with no error. */
  #peerEnded = false;
  readonly #settings: ConnectionSettings;
  readonly #events: ConnectionEvents;
  #queue: Array<{ bytes: Uint8Array; onError: ErrorCallback | undefined }> = [];
  #queuedBytes = 0;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;
  /** Callers of ping() waiting for the pong. */
  #pongWaiters: PongWaiter[] = [];
  readonly #deadline: ReadDeadline;
  /** Reading stopped: the peer does not read what we write. */
  #paused = false;
  /** Reading stopped until this connection's turn: a long pipeline is handled MESSAGES_PER_TURN at a time. */
  #yielding = false;
  /** A message framed but not handled: this turn's budget was spent. Handled first at the next. */
  #held: FrameEvent | undefined;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** A registration uses this outgoing flow: the idle timeout leaves it open. */
  #retained = false;
  #error: TransportError | undefined;
  #closedByUs = false;
  #quiet = false;
  #resolveClosed: () => void = () => {};
  /** Settles once the socket has closed and everything was reported. */
  readonly closed: Promise<void> = new Promise((resolve) => {
    this.#resolveClosed = resolve;
  });

  readonly flowId: string;
  readonly transport: 'tcp' | 'tls';
  readonly direction: 'incoming' | 'outgoing';
  readonly remote: Endpoint;

  constructor(
    socket: Socket,
    flowId: string,
    transport: 'tcp' | 'tls',
    direction: 'incoming' | 'outgoing',
    remote: Endpoint,
    settings: ConnectionSettings,
    events: ConnectionEvents,
    /** Event that means "ready to write" for an outgoing socket; undefined when already open. */
    openEvent: 'connect' | 'secureConnect' | undefined,
  ) {
    this.flowId = flowId;
    this.transport = transport;
    this.direction = direction;
    this.remote = remote;
    this.#socket = socket;
    this.#settings = settings;
    this.#events = events;
    this.#framer = new StreamFramer({ maxMessageBytes: settings.maxBufferedBytes });
    this.#pending = new PendingSenders(settings.pendingSenderMs, settings.maxPendingSenders, () => performance.now(), (e) => events.callbackError(e));
    this.#responseSenders = new PendingSenders(settings.pendingSenderMs, settings.maxPendingSenders, () => performance.now(), (e) => events.callbackError(e));
    this.#deadline = new ReadDeadline(settings, () => this.#framer.buffered, (why, afterMs) => this.#guard(() => this.#expire(why, afterMs)));
    if (direction === 'incoming') this.#deadline.awaitFirstMessage();
    socket.on('data', (chunk: Buffer) => this.#guard(() => this.#onData(chunk)));
    socket.on('error', (error: Error) => this.#guard(() => this.#onError(error)));
    socket.on('end', () => this.#guard(() => this.#onEnd()));
    socket.on('close', () => this.#guard(() => this.#onClose()));
    socket.on('drain', () => this.#guard(() => this.#onDrain()));
    socket.on('timeout', () => this.#guard(() => {
      if (!this.#retained) this.close();
    }));
    if (settings.idleTimeoutMs > 0) socket.setTimeout(settings.idleTimeoutMs);
    socket.setNoDelay(true);
    if (openEvent === undefined) {
      this.state = 'open';
      this.#onOpen();
    } else {
      this.state = 'connecting';
      socket.once(openEvent, () => this.#guard(() => this.#onOpen()));
      this.#connectTimer = setTimeout(() => {
        this.#guard(() => this.fail(transportError('ETIMEDOUT', remote, `no connection within ${settings.connectTimeoutMs} ms`)));
      }, settings.connectTimeoutMs);
    }
  }

  /** Bytes held: read buffer, unsent writes, queue while connecting. */
  get bufferedBytes(): number {
    return this.#framer.buffered + (this.state === 'closed' ? 0 : this.#socket.writableLength) + this.#queuedBytes;
  }

  /** Error callbacks held: senders of requests and of responses. */
  get pendingSenders(): number {
    return this.#pending.size + this.#responseSenders.size;
  }

  /** Reading is stopped because the peer does not read. */
  get paused(): boolean {
    return this.#paused;
  }

  /** A registration uses (true) or stopped using (false) this flow: see the idle timeout. */
  setRetained(retained: boolean): void {
    if (this.#retained === retained) return;
    this.#retained = retained;
    // A timeout ignored while retained is not re-armed by Node until the next byte.
    if (!retained && this.#settings.idleTimeoutMs > 0 && this.state !== 'closed') this.#socket.setTimeout(this.#settings.idleTimeoutMs);
  }

  /** Sends bytes on this flow; failures reach onError (now, asynchronously, or when the flow dies). */
  write(bytes: Uint8Array, onError: ErrorCallback | undefined): void {
    if (this.state === 'closed') {
      this.#failLater(onError, transportError('ECLOSED', this.remote, 'connection closed'));
      return;
    }
    const buffered = this.state === 'connecting' ? this.#queuedBytes : this.#socket.writableLength;
    if (buffered + bytes.length > this.#settings.maxWriteBufferBytes) {
      this.#failLater(onError, transportError('ELIMIT', this.remote, `more than ${this.#settings.maxWriteBufferBytes} bytes waiting to be written`));
      return;
    }
    if (this.state === 'connecting') {
      this.#queue.push({ bytes, onError });
      this.#queuedBytes += bytes.length;
      return;
    }
    this.#senders(bytes).add(onError);
    this.#socket.write(bytes);
    this.#checkPressure();
  }

  /** Forgets a sender's error callback (see Transport.release). */
  release(onError: ErrorCallback): void {
    this.#pending.remove(onError);
    this.#responseSenders.remove(onError);
    // Still connecting: the queued writes would register it when they go out.
    for (const queued of this.#queue) if (queued.onError === onError) queued.onError = undefined;
  }

  #senders(bytes: Uint8Array): PendingSenders {
    // "SIP/" starts a status line: a response.
    return bytes[0] === 0x53 && bytes[1] === 0x49 && bytes[2] === 0x50 && bytes[3] === 0x2f ? this.#responseSenders : this.#pending;
  }

  /**
   * Sends one RFC 5626 CRLFCRLF ping now and waits `timeoutMs` for the pong;
   * without one the flow has failed (s4.4.1) and is closed with ETIMEDOUT.
   * `done` hears the outcome once: true on the pong, false when the flow
   * fails or closes first. A ping already out carries a new waiter along.
   */
  ping(timeoutMs = this.#settings.keepAlive.pongTimeoutMs, done?: PongWaiter): void {
    if (this.state !== 'open') {
      if (done !== undefined) queueMicrotask(() => this.#guard(() => done(false, `connection ${this.state}`)));
      return;
    }
    if (done !== undefined) this.#pongWaiters.push(done);
    if (this.#pongTimer !== undefined) return;
    this.#socket.write(PING);
    this.#pongTimer = setTimeout(() => {
      this.#guard(() => this.fail(transportError('ETIMEDOUT', this.remote, `no keep-alive pong within ${timeoutMs} ms`)));
    }, timeoutMs);
    this.#pongTimer.unref?.();
  }

  #settlePongWaiters(alive: boolean, reason: string): void {
    const waiters = this.#pongWaiters;
    if (waiters.length === 0) return;
    this.#pongWaiters = [];
    for (const waiter of waiters) this.#guard(() => waiter(alive, reason));
  }

  /** Closes with an error reported to every recent sender and to the layer. */
  fail(error: TransportError): void {
    if (this.state === 'closed') return;
    this.#error = error;
    this.#closedByUs = true;
    this.#socket.destroy();
  }

  /** Closes quietly (idle, layer close): queued sends hear ECLOSED, recent senders nothing. */
  close(): void {
    if (this.state === 'closed') return;
    this.#closedByUs = true;
    this.#quiet = true;
    this.#socket.destroy();
  }

  #onOpen(): void {
    if (this.state === 'closed') return;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.state = 'open';
    const address = this.#socket.localAddress;
    const port = this.#socket.localPort;
    if (address !== undefined && port !== undefined) this.local = { transport: this.transport, host: address, port };
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const { bytes, onError } of queue) {
      this.#senders(bytes).add(onError);
      this.#socket.write(bytes);
    }
    if (this.direction === 'outgoing' && this.#settings.keepAlive.intervalMs > 0) this.#schedulePing();
  }

  #schedulePing(): void {
    // RFC 5626 s4.4.1: each interval chosen between 80 % and 100 % of the period.
    const delay = this.#settings.keepAlive.intervalMs * (0.8 + 0.2 * this.#settings.random());
    this.#pingTimer = setTimeout(() => this.#guard(() => this.ping()), delay);
    this.#pingTimer.unref?.();
  }

  #onData(chunk: Buffer): void {
    this.#framer.append(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    // A chunk read just before reading stopped is framed later, at this connection's turn (or the drain).
    if (this.#yielding || this.#paused) return;
    this.#pump(true);
  }

  /**
   * Frames and handles what was read, as far as this turn allows (the framer
   * cuts messages only as they are handled, so the work stays in budget).
   * `fresh`: newly read, not a backlog this connection has had turns for.
   */
  #pump(fresh: boolean): void {
    // The responses to several pipelined requests leave in one write: a syscall each was a fifth of the CPU.
    this.#socket.cork();
    try {
      this.#handle(fresh);
    } finally {
      this.#socket.uncork();
    }
  }

  #handle(fresh: boolean): void {
    let delivered = false;
    let handled = 0;
    for (;;) {
      // Paused: the rest waits for the peer to read (the drain goes on), so no more responses pile up meanwhile.
      if (this.state === 'closed' || this.#paused) return;
      const event = this.#held ?? this.#framer.next();
      this.#held = undefined;
      if (event === undefined) break;
      if (event.type === 'message' && (handled === MESSAGES_PER_TURN || !takeTurnBudget())) {
        // The rest waits its turn, so that no peer's pipeline (nor all of them together) holds up the others.
        this.#held = event;
        this.#yieldTurn(fresh && handled === 0);
        return;
      }
      switch (event.type) {
        case 'message':
          delivered = true;
          handled++;
          this.#events.message(this, event.bytes);
          break;
        case 'ping':
          this.#socket.write(PONG);
          break;
        case 'pong':
          if (this.#pongTimer !== undefined) {
            clearTimeout(this.#pongTimer);
            this.#pongTimer = undefined;
            if (this.direction === 'outgoing' && this.#settings.keepAlive.intervalMs > 0) this.#schedulePing();
            this.#settlePongWaiters(true, 'pong');
          }
          break;
        case 'error':
          this.#onFramingError(event.error, event.head);
          return;
      }
    }
    // Caught up: only part of a message (or nothing) is held.
    if (!this.#reading()) return;
    this.#deadline.afterChunk(delivered);
    this.#socket.resume();
  }

  /** More than writeHighWaterBytes wait to be written: stop reading this peer until it reads. */
  #checkPressure(): void {
    if (this.#paused || this.state !== 'open' || this.#socket.writableLength <= this.#settings.writeHighWaterBytes) return;
    this.#paused = true;
    this.#socket.pause();
    this.#deadline.suspend();
    const pausedAt = performance.now();
    this.#stallTimer = setTimeout(() => this.#guard(() => this.#expire('write-stall', performance.now() - pausedAt)), this.#settings.writeStallMs);
    this.#stallTimer.unref?.();
  }

  /** Everything written has left: read again, starting with what waited. */
  #onDrain(): void {
    if (!this.#paused || this.state === 'closed') return;
    this.#paused = false;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    if (this.#yielding) return; // the turn already scheduled goes on
    this.#pump(false);
  }

  /** Stops reading until this connection's next turn (turn-budget.ts), then goes on. */
  #yieldTurn(first: boolean): void {
    if (this.#yielding) return;
    this.#yielding = true;
    this.#socket.pause();
    // Our own pace is not the peer's: the message deadline and rate start again when we read again.
    this.#deadline.suspend();
    waitTurn(first, () =>
      this.#guard(() => {
        this.#yielding = false;
        if (this.state !== 'closed' && !this.#paused) this.#pump(false);
      }),
    );
  }

  /** Not paused, not waiting a turn, no message held back, not closed (a method: the handlers called above may have changed all). */
  #reading(): boolean {
    return !this.#paused && !this.#yielding && this.#held === undefined && this.state !== 'closed';
  }

  /** A deadline passed (read-deadline.ts, or the peer does not read): the connection goes. */
  #expire(why: ExpiryReason | 'write-stall', afterMs: number): void {
    if (this.state === 'closed') return;
    this.#events.diagnostic({ type: 'connection-expired', source: this.remote, why, afterMs: Math.round(afterMs) });
    const detail =
      why === 'write-stall' ? `peer read nothing for ${this.#settings.writeStallMs} ms`
      : why === 'message-rate' ? `message arriving below ${this.#settings.minMessageBytesPerSec} bytes/s`
      : `no complete message within ${this.#settings.messageDeadlineMs} ms`;
    this.fail(transportError('ETIMEDOUT', this.remote, detail));
  }

  #onFramingError(error: SipParseError, head: Uint8Array | undefined): void {
    // The framing can no longer be trusted: the connection must go, after a 400/413 when a request line was read.
    this.#events.diagnostic({ type: 'framing-error', flowId: this.flowId, source: this.remote, status: error.status, reason: error.reason });
    const failure = transportError(error.status === 413 ? 'ELIMIT' : 'ECONNRESET', this.remote, `framing error from peer: ${error.reason}`);
    const reply = head === undefined || head.length === 0 ? undefined : this.#events.framingReply(this, error, head);
    if (reply === undefined) return this.fail(failure);
    this.#error = failure;
    this.#closedByUs = true;
    this.#deadline.stop();
    this.#socket.pause();
    this.#socket.end(reply);
    this.#lingerTimer = setTimeout(() => this.#socket.destroy(), LINGER_MS);
    this.#lingerTimer.unref?.();
  }

  #onError(error: Error): void {
    if (this.#error !== undefined) return;
    const phase = this.state === 'connecting' ? (this.transport === 'tls' ? 'handshake' : 'connect') : 'open';
    this.#error = fromNodeError(error, this.remote, phase);
  }

  #onEnd(): void {
    if (!this.#closedByUs && this.#error === undefined) {
      this.#error = transportError('ECONNRESET', this.remote, 'connection closed by peer');
      this.#peerEnded = true;
    }
  }

  #onClose(): void {
    if (this.state === 'closed') return;
    const wasConnecting = this.state === 'connecting';
    this.state = 'closed';
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    clearTimeout(this.#stallTimer);
    clearTimeout(this.#lingerTimer);
    this.#connectTimer = this.#pingTimer = this.#pongTimer = this.#stallTimer = this.#lingerTimer = undefined;
    this.#deadline.stop();
    this.#held = undefined;
    let error = this.#error;
    if (error === undefined && !this.#quiet) {
      error = transportError(wasConnecting && this.transport === 'tls' ? 'ETLS' : 'ECONNRESET', this.remote, 'connection closed by peer');
    }
    const queueError = error ?? transportError('ECLOSED', this.remote, 'connection closed before the message was sent');
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const { onError } of queue) if (onError !== undefined) callSafely(onError, queueError, (e) => this.#events.callbackError(e));
    if (error !== undefined && !this.#quiet) this.#pending.fail(error);
    else this.#pending.clear();
    if (error !== undefined && !this.#quiet && !this.#peerEnded) this.#responseSenders.fail(error);
    else this.#responseSenders.clear();
    this.#settlePongWaiters(false, error?.message ?? 'connection closed');
    this.#resolveClosed();
    this.#events.closed(this, this.#quiet ? undefined : error);
  }

  #failLater(onError: ErrorCallback | undefined, error: TransportError): void {
    if (onError === undefined) return;
    queueMicrotask(() => callSafely(onError, error, (e) => this.#events.callbackError(e)));
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#events.callbackError(error);
    }
  }
}
