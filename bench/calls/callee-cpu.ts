/**
 * CPU cost of one call in our callee alone, socketless, against the messages
 * SIPp's caller (sipp-uac.xml) sends: `node --import tsx
 * bench/calls/callee-cpu.ts [COUNT [ROUNDS]]`.
 *
 * cpu.ts measures our caller and our callee together; this one measures the
 * side SIPp calls in `load.ts sippToOurs`, without SIPp, the kernel or the
 * caller's share of the noise. The callee is load.ts's (TransactionLayer +
 * DialogLayer on the real clock, its 100 at once, 180 and 200 from
 * onInvite); each request is parsed from its bytes as the UDP transport does.
 * CONCURRENCY (50) calls open, each step of each call delivered on its own
 * setImmediate turn, a new call when one ends. The driver reads the To tag
 * of our 200 (its ACK and BYE carry it), and prints the median of ROUNDS of
 * COUNT calls after a warm-up: µs of CPU per call, this process.
 */
import { parseMessage } from '../../src/parser/index.ts';
import type { IncomingInvite } from '../../src/dialog/index.ts';
import type { Endpoint, Received, SendOptions, Transport, TransportKind } from '../../src/transport/types.ts';
import { cpuMs, dialogStack, median } from './socketless.ts';

const COUNT = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const WARMUP = Number(process.env.BENCH_CALLS_WARMUP ?? 10_000);
const CONCURRENCY = 50;

const local: Endpoint = { transport: 'udp', host: '127.0.0.1', port: 5062 };
const source: Endpoint = { transport: 'udp', host: '127.0.0.1', port: 5061 };

/** Our sends, kept until the driver reads the To tag of a 200 to an INVITE. */
class SinkTransport implements Transport {
  onReceive: ((received: Received) => void) | undefined;
  lastTag = '';
  send(bytes: Uint8Array, _target: Endpoint, _options?: SendOptions): void {
    // "SIP/2.0 200" and "INVITE" in the CSeq: the answer; its To tag is all the caller needs.
    if (bytes[8] !== 0x32) return;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    if (!text.includes(' INVITE\r\n')) return;
    const to = text.indexOf('\r\nTo:');
    const tag = text.indexOf(';tag=', to);
    this.lastTag = text.slice(tag + 5, text.indexOf('\r\n', tag));
  }
  isReliable(_transport: TransportKind): boolean {
    return false;
  }
  localEndpoint(transport: TransportKind): Endpoint {
    return { ...local, transport };
  }
}

const transport = new SinkTransport();
// T1 50 ms: the RFC's waits (64*T1) end within the run, so each round sees the steady state of finished calls.
const { transactions, dialogs } = dialogStack(transport, local.host, { trying: 0, T1: 50 });
const contact = `<sip:ua@${local.host}:${local.port}>`;
dialogs.onInvite = (invite: IncomingInvite) => {
  invite.ring({ contact });
  invite.accept({ contact });
};

const sdp = ['v=0', 'o=sipp-bench 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
let branches = 0;

function request(lines: string[], body = ''): void {
  const bytes = Buffer.from(`${lines.join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'latin1');
  transactions.receive({ message: parseMessage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)), source, local, flowId: undefined });
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function via(n: number): string {
  return `Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-${n}-${branches++};rport`;
}

/** One call as SIPp's caller makes it (no closure per call: tsx would name each one, at a cost that is not the callee's). */
async function call(n: number): Promise<void> {
  const from = `From: <sip:sipp@127.0.0.1:5061>;tag=4242B${n}`;
  const to = `To: <sip:service@127.0.0.1:5062>`;
  const callId = `Call-ID: ${n}-4242@127.0.0.1`;
  request(['INVITE sip:service@127.0.0.1:5062 SIP/2.0', via(n), 'Max-Forwards: 70', from, to, callId, 'CSeq: 1 INVITE', 'Contact: <sip:sipp@127.0.0.1:5061>', 'Content-Type: application/sdp'], sdp);
  const tag = transport.lastTag;
  await turn();
  request(['ACK sip:ua@127.0.0.1:5062 SIP/2.0', via(n), 'Max-Forwards: 70', from, `${to};tag=${tag}`, callId, 'CSeq: 1 ACK']);
  await turn();
  request(['BYE sip:ua@127.0.0.1:5062 SIP/2.0', via(n), 'Max-Forwards: 70', from, `${to};tag=${tag}`, callId, 'CSeq: 2 BYE']);
  await turn();
}

let callNumber = 0;
async function calls(n: number): Promise<void> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < n) {
      started++;
      await call(callNumber++);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => lane()));
}

await calls(WARMUP);
const before = dialogs.stats();
if (before.dialogs > 0) throw new Error(`${before.dialogs} dialogs left after the warm-up`);
const perCall: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const cpu = cpuMs();
  await calls(COUNT);
  const us = ((cpuMs() - cpu) * 1000) / COUNT;
  perCall.push(us);
  process.stderr.write(`round ${r + 1}: ${us.toFixed(1)} µs CPU per call (callee)\n`);
}
process.stdout.write(`${JSON.stringify({ count: COUNT, rounds: ROUNDS, calleeCpuUsPerCall: Math.round(median(perCall)), all: perCall.map(Math.round) })}\n`);
dialogs.close();
transactions.close();
process.exit(0);
