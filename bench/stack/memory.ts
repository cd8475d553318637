/**
 * Memory per live client transaction, run in a child process of its own by
 * the stack part (`node --expose-gc --import tsx bench/stack/memory.ts N`),
 * so that nothing else lives in its heap. Prints one JSON line.
 *
 * The stack (SipTransportLayer over UDP + TransactionLayer on the real
 * clock) sends N INVITEs (with a small SDP offer) and then N OPTIONS to a
 * loopback UDP socket that reads and drops everything. T1 is 60 s, so no
 * retransmission and no timeout happens while we measure: every transaction
 * sits in Calling/Trying with its Timer A/E and B/F armed, its request
 * (parsed and as bytes) held, and the transport keeping its error callback
 * (pending senders, capped at maxPendingSenders per target). The requests
 * go straight to TransactionLayer.sendRequest with one shared TU object, so
 * the harness costs nothing per transaction. After a full
 * GC, the growth of heapUsed (V8 heap) and of arrayBuffers (the message
 * bytes outside it) divided by N is the cost of one live transaction.
 */
import { createSocket } from 'node:dgram';
import { Stack } from '../../test/interop/harness/stack.ts';
import type { MessageParts } from '../../src/parser/index.ts';
import type { ClientTransactionUser } from '../../src/transaction/index.ts';
import type { Endpoint } from '../../src/transport/index.ts';

const count = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;

interface Sample {
  readonly heapUsed: number;
  readonly arrayBuffers: number;
}

async function settle(): Promise<Sample> {
  // Let the sends drain (libuv callbacks), then collect twice (weak maps, finalizers).
  for (let k = 0; k < 5; k++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 50));
  if (gc !== undefined) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, arrayBuffers: usage.arrayBuffers };
}

function perTransaction(before: Sample, after: Sample): { heapBytes: number; bufferBytes: number; totalBytes: number } {
  const heapBytes = (after.heapUsed - before.heapUsed) / count;
  const bufferBytes = (after.arrayBuffers - before.arrayBuffers) / count;
  return { heapBytes: Math.round(heapBytes), bufferBytes: Math.round(bufferBytes), totalBytes: Math.round(heapBytes + bufferBytes) };
}

async function main(): Promise<void> {
  const sink = createSocket('udp4');
  await new Promise<void>((resolve) => sink.bind({ address: '127.0.0.1', port: 0 }, resolve));
  sink.on('message', () => {});
  const target: Endpoint = { transport: 'udp', host: '127.0.0.1', port: sink.address().port };
  const stack = await Stack.start({ timers: { T1: 60_000, T2: 60_000 } });
  const held: unknown[] = [];

  // Warm up the code paths (and the connected UDP socket) so that JIT code and caches are not counted.
  for (let k = 0; k < 200; k++) {
    held.push(stack.request('INVITE', target, { body: 'v=0\r\n' }));
    held.push(stack.request('OPTIONS', target));
  }
  const base = await settle();
  const warm = stack.stats();

  const sdp = 'v=0\r\no=stack 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
  // Straight to the layer, with one shared TU object: what is measured is the
  // transaction layer and the transport, not the harness.
  const user: ClientTransactionUser = { onFinal: () => {} };
  const local = stack.endpoint('udp');
  const request = (method: string, n: number): MessageParts => ({
    method,
    uri: `sip:service@127.0.0.1:${target.port}`,
    headers: [
      ['Max-Forwards', '70'],
      ['From', `<sip:stack@127.0.0.1:${local.port}>;tag=m${method}${n}`],
      ['To', `<sip:service@127.0.0.1:${target.port}>`],
      ['Call-ID', `mem-${method}-${n}@127.0.0.1`],
      ['CSeq', `1 ${method}`],
      ['Contact', `<sip:stack@127.0.0.1:${local.port};transport=udp>`],
      ...(method === 'INVITE' ? [['Content-Type', 'application/sdp'] as [string, string]] : []),
    ],
    ...(method === 'INVITE' ? { body: sdp } : {}),
  });
  for (let k = 0; k < count; k++) stack.layer.sendRequest(request('INVITE', k), target, user);
  const invites = await settle();
  const inviteStats = stack.stats();
  for (let k = 0; k < count; k++) stack.layer.sendRequest(request('OPTIONS', k), target, user);
  const options = await settle();
  const optionStats = stack.stats();
  const transportStats = stack.transport.stats();

  const result = {
    count,
    gcExposed: gc !== undefined,
    clientInvite: { live: inviteStats.clientInvite - warm.clientInvite, timers: inviteStats.timers - warm.timers, ...perTransaction(base, invites) },
    clientNonInvite: { live: optionStats.clientNonInvite - warm.clientNonInvite, timers: optionStats.timers - inviteStats.timers, ...perTransaction(invites, options) },
    pendingSenders: transportStats.pendingSenders,
  };
  await stack.close();
  sink.close();
  held.length = 0;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
