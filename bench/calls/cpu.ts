/**
 * CPU cost of one whole call in our stack, without sockets, kernel or SIPp:
 * `node --import tsx bench/calls/cpu.ts [COUNT [ROUNDS]]`.
 *
 * The calls part (index.ts) shares two CPUs between our process, SIPp and
 * Kamailio (and, on this machine, other sessions' work), and its figures
 * move a lot from run to run. This measures the part we control, the same
 * way every time: a caller and a callee, each TransactionLayer + DialogLayer
 * on the real clock (RFC 3261 timers: what the transactions keep for Timer
 * L, M, J, K is in the garbage collector's bill), linked by an in-memory
 * transport whose received bytes go through parseMessage as the UDP
 * transport's do, delivered in batches on setImmediate like socket reads.
 * The call is the calls part's: INVITE (SDP) -> 100 -> 180 -> 200 (SDP) ->
 * ACK -> BYE -> 200, CONCURRENCY (50) calls open, a new one when one ends.
 *
 * Output: microseconds of CPU (user + system, this process) per call for
 * both sides together, after a warm-up of WARMUP calls, median of ROUNDS
 * (each round COUNT calls). Add `--cpu-prof` to node for a profile.
 */
import { parseMessage } from '../../src/parser/index.ts';
import { DialogLayer, OfferAnswer, type IncomingInvite } from '../../src/dialog/index.ts';
import { SystemClock, TransactionLayer, cryptoRandom } from '../../src/transaction/index.ts';
import type { Endpoint, Received, SendOptions, Transport, TransportKind } from '../../src/transport/types.ts';

const COUNT = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const WARMUP = 10_000;
const CONCURRENCY = 50;

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

interface Ua {
  readonly transport: MemoryTransport;
  readonly transactions: TransactionLayer;
  readonly dialogs: DialogLayer;
  readonly clock: SystemClock;
  readonly random: () => number;
  readonly endpoint: Endpoint;
}

function ua(endpoint: Endpoint, trying?: number): Ua {
  const transport = new MemoryTransport(endpoint);
  const clock = new SystemClock();
  const random = cryptoRandom();
  let dialogs: DialogLayer | undefined;
  const transactions = new TransactionLayer({
    transport,
    clock,
    random,
    ...(trying === undefined ? {} : { timers: { trying } }),
    user: {
      onRequest: (incoming) => dialogs!.onRequest(incoming),
      onAck: (ack) => dialogs!.onAck(ack),
      onStrayResponse: (response) => dialogs!.onStrayResponse(response),
    },
  });
  transport.onReceive = transactions.receive;
  let rtpPort = 30_000;
  dialogs = new DialogLayer({
    transactions,
    clock,
    random,
    mediaFor: () => new OfferAnswer({ local: { address: endpoint.host, port: (rtpPort = rtpPort >= 60_000 ? 30_000 : rtpPort + 2) }, random }),
  });
  return { transport, transactions, dialogs, clock, random, endpoint };
}

const caller = ua({ transport: 'udp', host: '127.0.0.1', port: 5061 });
// The callee sends what the calls part's does: its transaction's 100 at once, then 180 and 200.
const callee = ua({ transport: 'udp', host: '127.0.0.1', port: 5062 }, 0);
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
async function calls(n: number): Promise<number> {
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

const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

if ((await calls(WARMUP)) > 0) throw new Error('calls failed in the warm-up');
const perCall: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const cpu = cpuMs();
  const wall = performance.now();
  const failed = await calls(COUNT);
  const us = ((cpuMs() - cpu) * 1000) / COUNT;
  if (failed > 0) throw new Error(`${failed} calls failed`);
  perCall.push(us);
  process.stderr.write(`round ${r + 1}: ${us.toFixed(0)} µs CPU per call (both sides), ${Math.round(COUNT / ((performance.now() - wall) / 1000))} calls/s\n`);
}
const sorted = [...perCall].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
process.stdout.write(`${JSON.stringify({ count: COUNT, rounds: ROUNDS, cpuUsPerCall: Math.round(median), all: perCall.map(Math.round) })}\n`);
caller.dialogs.close();
callee.dialogs.close();
caller.transactions.close();
callee.transactions.close();
process.exit(0);
