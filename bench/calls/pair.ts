/**
 * A caller and a callee in one process for the calls part's socketless
 * measurements (cpu.ts, retained.ts): each a TransactionLayer + DialogLayer
 * on the real clock, linked by an in-memory transport whose received bytes
 * go through parseMessage as the UDP transport's do, delivered in batches on
 * setImmediate like socket reads. The call is the calls part's: INVITE (SDP)
 * -> 100 -> 180 -> 200 (SDP) -> ACK -> BYE -> 200, CONCURRENCY (50) calls
 * open, a new one when one ends.
 *
 * BENCH_CALLS_CALLER_T1 / BENCH_CALLS_CALLEE_T1 (ms) shorten one side's
 * T1 (and T4 to 10*T1), so that what a finished call keeps for the RFC's
 * waits (Timers J, K, L, M) can be told apart per side.
 */
import { parseMessage } from '../../src/parser/index.ts';
import { OfferAnswer, type IncomingInvite } from '../../src/dialog/index.ts';
import type { Endpoint, Received, SendOptions, Transport, TransportKind } from '../../src/transport/types.ts';
import { dialogStack, type DialogStack } from './socketless.ts';

const CONCURRENCY = 50;

const envMs = (name: string): number | undefined => {
  const value = Number(process.env[name] ?? '');
  return value > 0 ? value : undefined;
};
const timers = { callerT1: envMs('BENCH_CALLS_CALLER_T1'), calleeT1: envMs('BENCH_CALLS_CALLEE_T1') };

/** One end of an in-memory UDP link: sends are parsed and delivered to the peer on the next setImmediate. */
class MemoryTransport implements Transport {
  onReceive: ((received: Received) => void) | undefined;
  peer: MemoryTransport | undefined;
  readonly #local: Endpoint;
  #inbox: Uint8Array[] = [];
  #scheduled = false;

  constructor(local: Endpoint) {
    this.#local = local;
  }

  send(bytes: Uint8Array, _target: Endpoint, _options?: SendOptions): void {
    this.peer!.#enqueue(bytes.slice());
  }

  isReliable(_transport: TransportKind): boolean {
    return false;
  }

  localEndpoint(transport: TransportKind): Endpoint {
    return { ...this.#local, transport };
  }

  #enqueue(bytes: Uint8Array): void {
    this.#inbox.push(bytes);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const batch = this.#inbox;
      this.#inbox = [];
      const source = this.peer!.#local;
      for (const datagram of batch) this.onReceive?.({ message: parseMessage(datagram), source, local: this.#local, flowId: undefined });
    });
  }
}

interface Ua extends DialogStack {
  readonly transport: MemoryTransport;
  readonly endpoint: Endpoint;
}

function ua(endpoint: Endpoint, trying: number | undefined, T1: number | undefined): Ua {
  const transport = new MemoryTransport(endpoint);
  const stack = dialogStack(transport, endpoint.host, { ...(trying === undefined ? {} : { trying }), ...(T1 === undefined ? {} : { T1 }) });
  transport.onReceive = stack.transactions.receive;
  return { ...stack, transport, endpoint };
}

const caller = ua({ transport: 'udp', host: '127.0.0.1', port: 5061 }, undefined, timers.callerT1);
// The callee sends what the calls part's does: its transaction's 100 at once, then 180 and 200.
const callee = ua({ transport: 'udp', host: '127.0.0.1', port: 5062 }, 0, timers.calleeT1);
caller.transport.peer = callee.transport;
callee.transport.peer = caller.transport;
const calleeContact = `<sip:callee@${callee.endpoint.host}:${callee.endpoint.port}>`;
callee.dialogs.onInvite = (invite: IncomingInvite) => {
  invite.ring({ contact: calleeContact });
  invite.accept({ contact: calleeContact });
};

const requestUri = `sip:callee@${callee.endpoint.host}:${callee.endpoint.port}`;
const from = `<sip:caller@${caller.endpoint.host}:${caller.endpoint.port}>`;
const contact = `<sip:caller@${caller.endpoint.host}:${caller.endpoint.port}>`;
let rtpPort = 20_000;

function call(): Promise<boolean> {
  return new Promise((resolve) => {
    rtpPort = rtpPort >= 60_000 ? 20_000 : rtpPort + 2;
    caller.dialogs.invite(
      { requestUri, from, to: `<${requestUri}>`, contact, nextHop: callee.endpoint, media: new OfferAnswer({ local: { address: '127.0.0.1', port: rtpPort }, random: caller.random }) },
      {
        onAnswered: (session) => void session.bye().then((result) => resolve(result.status === 200)),
        onFailed: () => resolve(false),
      },
    );
  });
}

/** `n` calls, CONCURRENCY at a time; the number that failed. */
export async function calls(n: number): Promise<number> {
  let started = 0;
  let failed = 0;
  const lane = async (): Promise<void> => {
    while (started < n) {
      started++;
      if (!(await call())) failed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => lane()));
  return failed;
}

/** Ends both sides (their tables and timers), so that the process can exit. */
export function closePair(): void {
  caller.dialogs.close();
  callee.dialogs.close();
  caller.transactions.close();
  callee.transactions.close();
}
