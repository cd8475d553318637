/**
 * Memory per established idle dialog, in a child process of its own run by
 * the calls part (`node --expose-gc --import tsx bench/calls/memory.ts COUNT
 * T1`), so that nothing else lives in its heap. Prints one JSON line.
 *
 * Our caller and our callee in this one process, each a DialogUa (transport
 * on 127.0.0.1 UDP, TransactionLayer, DialogLayer on the real clock, no
 * trace), make COUNT calls over loopback (INVITE with SDP -> 200 with SDP ->
 * ACK), at most WINDOW call set-ups at a time, and keep them up: COUNT
 * concurrent calls, 2 x COUNT confirmed dialogs in the process. Why both
 * ends here rather than SIPp holding the calls: the figure is only ours
 * (no other process, nothing shared to subtract), both roles are measured
 * in the same conditions, and ending one side's dialogs silently afterwards
 * splits the figure by role. The application keeps what an application
 * keeps: the SessionDialog of each call (the layer keeps it too).
 *
 * Idle: every transaction of the set-up has ended on its own timers
 * (Timer L and M are 64*T1 after the 2xx: T1 is a knob, 100 ms by default,
 * so that idle comes in 6.4 s; T1 changes no per-dialog state) and no
 * dialog holds a timer (the ACKs came). Then, after full GCs:
 *
 *   per dialog = (heapUsed idle - heapUsed before the calls) / (2 x COUNT)
 *
 * "Before" is taken after a warm-up of WARMUP calls made and hung up in
 * the same process (their transactions ended), so JIT code and caches are
 * not counted. Then every caller-side dialog is ended without a BYE
 * (SessionDialog.end(), nothing on the wire) and let go: the drop in
 * heapUsed is the caller's share, the rest the callee's. arrayBuffers
 * (memory outside the V8 heap) and rss are reported the same way.
 */
import { DialogUa } from '../../test/interop/harness/dialog-ua.ts';
import { OfferAnswer, type IncomingInvite, type SessionDialog } from '../../src/dialog/index.ts';

const count = Number(process.argv[2] ?? 10_000);
const T1 = Number(process.argv[3] ?? 100);
const WINDOW = 100;
const WARMUP = 500;
const gc = (globalThis as { gc?: () => void }).gc;

interface Sample {
  readonly heapUsed: number;
  readonly arrayBuffers: number;
  readonly rss: number;
}

async function settle(): Promise<Sample> {
  for (let k = 0; k < 5; k++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 50));
  if (gc !== undefined) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, arrayBuffers: usage.arrayBuffers, rss: usage.rss };
}

async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`memory bench: ${what} not reached after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const timers = { T1, T2: Math.max(4 * T1, 400), T4: 5 * T1 };

async function main(): Promise<void> {
  const callee = await DialogUa.start({ trace: false, record: false, timers });
  const caller = await DialogUa.start({ trace: false, record: false, timers });
  const calleeContact = callee.contact('udp');
  const calleeSessions: SessionDialog[] = [];
  callee.dialogs.onInvite = (invite: IncomingInvite) => {
    calleeSessions.push(invite.accept({ contact: calleeContact }));
  };
  const target = callee.endpoint('udp');
  const requestUri = `sip:callee@${target.host}:${target.port}`;
  const local = caller.endpoint('udp');
  const from = `<sip:caller@${local.host}:${local.port}>`;
  const contact = caller.contact('udp');
  let rtpPort = 20_000;

  /** COUNT calls, WINDOW set-ups at a time; resolves with the callers' sessions. */
  const establish = async (n: number): Promise<SessionDialog[]> => {
    const sessions: SessionDialog[] = [];
    let started = 0;
    let failed = 0;
    const one = (): Promise<void> =>
      new Promise((resolve) => {
        rtpPort = rtpPort >= 60_000 ? 20_000 : rtpPort + 2;
        caller.dialogs.invite(
          { requestUri, from, to: `<${requestUri}>`, contact, nextHop: target, media: new OfferAnswer({ local: { address: '127.0.0.1', port: rtpPort }, random: caller.random }) },
          {
            onAnswered: (session) => {
              sessions.push(session);
              resolve();
            },
            onFailed: () => {
              failed++;
              resolve();
            },
          },
        );
      });
    const lane = async (): Promise<void> => {
      while (started < n) {
        started++;
        await one();
      }
    };
    await Promise.all(Array.from({ length: Math.min(WINDOW, n) }, () => lane()));
    if (failed > 0) throw new Error(`memory bench: ${failed} of ${n} calls failed`);
    return sessions;
  };
  const idle = (): boolean =>
    [caller, callee].every((ua) => {
      const { dialogs, transactions } = ua.stats();
      return transactions.transactions === 0 && dialogs.timers === 0 && dialogs.incomingInvites === 0 && dialogs.outgoingInvites === 0;
    });

  // Warm-up: calls made and hung up, every transaction ended.
  const warm = await establish(WARMUP);
  await Promise.all(warm.map((session) => session.bye()));
  calleeSessions.length = 0;
  await until('warm-up idle', () => idle() && caller.dialogs.stats().dialogs === 0 && callee.dialogs.stats().dialogs === 0, 64 * T1 + 10_000);
  const before = await settle();

  const started = performance.now();
  let callerSessions: SessionDialog[] | undefined = await establish(count);
  const setupMs = performance.now() - started;
  await until('idle dialogs', idle, 64 * T1 + 20_000);
  const dialogsAt = { caller: caller.dialogs.stats().dialogs, callee: callee.dialogs.stats().dialogs };
  if (dialogsAt.caller !== count || dialogsAt.callee !== count) throw new Error(`memory bench: ${JSON.stringify(dialogsAt)} dialogs, expected ${count} each`);
  const full = await settle();

  // The caller's share: its dialogs ended without a BYE and let go.
  for (const session of callerSessions) session.end({ by: 'local', cause: 'closed', code: undefined, reason: undefined });
  callerSessions = undefined;
  const calleeOnly = await settle();
  const callerLeft = caller.dialogs.stats().dialogs;

  const perDialog = (a: Sample, b: Sample, n: number) => ({
    heapBytes: Math.round((b.heapUsed - a.heapUsed) / n),
    arrayBufferBytes: Math.round((b.arrayBuffers - a.arrayBuffers) / n),
    rssBytes: Math.round((b.rss - a.rss) / n),
  });
  const result = {
    count,
    dialogs: 2 * count,
    T1,
    gcExposed: gc !== undefined,
    setupMs: Math.round(setupMs),
    perDialog: perDialog(before, full, 2 * count),
    caller: perDialog(calleeOnly, full, count),
    callee: perDialog(before, calleeOnly, count),
    callerDialogsLeft: callerLeft,
  };
  for (const session of calleeSessions) session.end({ by: 'local', cause: 'closed', code: undefined, reason: undefined });
  await caller.close();
  await callee.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
