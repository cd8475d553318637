/**
 * What the socketless measurements (pair.ts, cpu.ts, callee-cpu.ts) share:
 * one side's stack as load.ts wires it (TransactionLayer + DialogLayer on the
 * real clock, an RTP port per call from 30000), and the process's CPU time.
 */
import { DialogLayer, OfferAnswer } from '../../src/dialog/index.ts';
import { SystemClock, TransactionLayer, cryptoRandom } from '../../src/transaction/index.ts';
import type { Transport } from '../../src/transport/types.ts';

export interface DialogStack {
  readonly transactions: TransactionLayer;
  readonly dialogs: DialogLayer;
  readonly clock: SystemClock;
  readonly random: () => number;
}

/** A TransactionLayer + DialogLayer on `transport` (its received messages go to `transactions.receive`); `T1` sets T4 to 10*T1. */
export function dialogStack(transport: Transport, host: string, timers: { readonly trying?: number; readonly T1?: number }): DialogStack {
  const clock = new SystemClock();
  const random = cryptoRandom();
  let dialogs: DialogLayer | undefined;
  const { trying, T1 } = timers;
  const transactions = new TransactionLayer({
    transport,
    clock,
    random,
    timers: { ...(trying === undefined ? {} : { trying }), ...(T1 === undefined ? {} : { T1, T4: T1 * 10 }) },
    user: {
      onRequest: (incoming) => dialogs!.onRequest(incoming),
      onAck: (ack) => dialogs!.onAck(ack),
      onStrayResponse: (response) => dialogs!.onStrayResponse(response),
    },
  });
  let rtpPort = 30_000;
  dialogs = new DialogLayer({
    transactions,
    clock,
    random,
    mediaFor: () => new OfferAnswer({ local: { address: host, port: (rtpPort = rtpPort >= 60_000 ? 30_000 : rtpPort + 2) }, random }),
  });
  return { transactions, dialogs, clock, random };
}

/** CPU time of this process (user + system), ms. */
export function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** The median of `values` (the upper one of an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
