/**
 * Timer B and Timer F against a SIPp that never answers
 * (test/interop/sipp/uas-silent-*.xml), over UDP on loopback, with the RFC
 * 3261 ratios scaled down ten times: T1 = 50 ms, T2 = 400 ms, T4 = 250 ms,
 * so 64*T1 = 3.2 s.
 *
 * Covers: our TU gets exactly one 408 (cause timeout) at 64*T1 after the
 * request went out (-5 ms / +150 ms); the retransmissions SIPp saw (its
 * -trace_msg log, microsecond timestamps) follow the RFC schedule: INVITE
 * (Timer A) every T1 doubling without a cap, 7 sends in 64*T1; OPTIONS
 * (Timer E) every T1 doubling to T2, 11 sends; SIPp counts the same number
 * of retransmissions on its receive line; SIPp ends its silent pause and
 * exits 0; no transaction or timer is left and the transport closes clean.
 * Not covered here: answered flows (sipp-client, sipp-server), transport
 * errors (sipp-transport-errors).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { requireSipp, startSipp, stopAllSipp } from './harness/sipp.ts';
import { Stack } from './harness/stack.ts';
import type { Endpoint } from '../../src/transport/index.ts';

const T1 = 50;
const T2 = 400;
const TIMERS = { T1, T2, T4: 250 } as const;
const TIMEOUT = 64 * T1;
/** SIPp stays silent this long, then ends the call (after our Timer B/F). */
const SIPP_PAUSE_MS = TIMEOUT + 800;
/** How late a timer or a datagram may be on a busy 2-core box; never early. */
const LATE_MS = 40;
const EARLY_MS = 10;

const test = suite('sipp: Timer B / Timer F against a silent SIPp (UDP)');
let stacks: Stack[] = [];

test.after.each(async () => {
  for (const stack of stacks) await stack.close();
  stacks = [];
  await stopAllSipp();
});

/** Send times (ms after the first send) the RFC asks for in 64*T1, intervals T1*2^n capped at `cap`. */
function schedule(cap: number): number[] {
  const times = [0];
  let interval = T1;
  for (;;) {
    const next = times[times.length - 1]! + interval;
    if (next >= TIMEOUT) return times;
    times.push(next);
    interval = Math.min(interval * 2, cap);
  }
}

for (const [method, scenario, cap, timer] of [
  ['INVITE', 'uas-silent-invite.xml', Infinity, 'B'],
  ['OPTIONS', 'uas-silent-options.xml', T2, 'F'],
] as const) {
  test(`${method} never answered: one 408 at 64*T1 (Timer ${timer}), retransmissions on the RFC schedule`, async () => {
    requireSipp();
    const sipp = await startSipp({ scenario, transport: 'udp', pauseMs: SIPP_PAUSE_MS, traceMessages: true, timeoutSec: 20 });
    const stack = await Stack.start({ timers: TIMERS, trace: true });
    stacks.push(stack);
    const target: Endpoint = { transport: 'udp', host: sipp.host, port: sipp.port };

    const pending = method === 'INVITE' ? stack.request('INVITE', target, { body: 'v=0\r\n' }) : stack.request('OPTIONS', target);
    const outcome = await pending.outcome;
    const firedAt = performance.now();
    const sentAt = stack.trace.find((t) => t.direction === 'out')!.at;
    assert.is(outcome.cause, 'timeout');
    assert.is(outcome.status, 408);
    assert.is(outcome.response.status, 408);
    assert.is(outcome.response.callId, pending.transaction.request.callId);
    const elapsed = firedAt - sentAt;
    assert.ok(elapsed >= TIMEOUT - 5 && elapsed <= TIMEOUT + 150, `Timer ${timer} fired after ${elapsed.toFixed(1)} ms, expected ${TIMEOUT}`);
    // Nothing more comes up, and the transaction is gone at once (no Timer D/K for a timeout).
    assert.equal(stack.stats(), { clientInvite: 0, clientNonInvite: 0, serverInvite: 0, serverNonInvite: 0, transactions: 0, timers: 0 });

    const expected = schedule(cap);
    // What we sent (our trace) and what SIPp received (its log), relative to the first send.
    const ours = stack.trace.filter((t) => t.direction === 'out').map((t) => t.at - sentAt);
    assert.is(ours.length, expected.length, `we sent ${method} ${ours.length} times: ${ours.map((t) => t.toFixed(0)).join(', ')}`);
    const result = await sipp.exit();
    assert.is(result.status, 0, `SIPp exit status\n${result.errors}\n${result.output.slice(-2000)}`);
    assert.is(result.successful, 1);
    const received = sipp.messages().filter((m) => m.direction === 'in');
    assert.ok(received.every((m) => m.startLine.startsWith(`${method} `)), 'SIPp got only our request');
    assert.equal(sipp.messages().filter((m) => m.direction === 'out'), [], 'SIPp never answered');
    const seen = received.map((m) => m.at - received[0]!.at);
    assert.is(seen.length, expected.length, `SIPp saw ${seen.length} copies at ${seen.map((t) => t.toFixed(0)).join(', ')} ms; RFC: ${expected.join(', ')}`);
    // SIPp's silence lasted 0.8 s beyond the timeout: still one outcome only.
    assert.is(pending.finals.length, 1, 'exactly one final outcome');
    const recvLine = result.lines.find((line) => line.label === method);
    assert.is(recvLine?.retransmissions, expected.length - 1, 'SIPp counted the retransmissions');
    for (let k = 1; k < expected.length; k++) {
      const want = expected[k]! - expected[k - 1]!;
      const got = seen[k]! - seen[k - 1]!;
      // Early slack EARLY_MS: on a loaded machine the first datagram can leave a few ms after its timer
      // started (it is written at the end of the event-loop turn), which shortens the first interval
      // as SIPp sees it; a wrong timer value (T1/2, no doubling) is still far outside.
      assert.ok(got >= want - EARLY_MS && got <= want + LATE_MS, `interval ${k} at SIPp: ${got.toFixed(1)} ms, RFC ${want} ms (all: ${seen.map((t) => t.toFixed(1)).join(', ')})`);
      const drift = seen[k]! - expected[k]!;
      assert.ok(drift >= -EARLY_MS && drift <= LATE_MS * 2, `send ${k} at ${seen[k]!.toFixed(1)} ms, RFC ${expected[k]} ms`);
    }
    await stack.close();
    assert.ok(stack.transport.stats().closed);
    assert.is(stack.transport.stats().udpSockets, 0);
    assert.is(stack.clock.pending, 0);
  });
}

test.run();
