/**
 * The transport-error path against a SIPp killed mid-transaction
 * (test/interop/sipp/uas-silent-invite.xml: it takes the INVITE and stays
 * silent), on loopback, with the RFC 3261 timers (T1 = 500 ms, Timer B =
 * 32 s), so that a 503 can only come from the transport.
 *
 * Covers: TCP: SIPp has logged our INVITE, we SIGKILL it by PID, its
 * connection closes and our TU gets exactly one 503 (cause transportError,
 * ECONNRESET) in well under 1 s, long before Timer B. UDP: SIPp has logged
 * our INVITE, we SIGKILL it; nothing happens until our next retransmission
 * (Timer A, T1 after the INVITE), which meets ICMP port unreachable: one 503
 * (ECONNREFUSED) within 100 ms of that retransmission. In both, the
 * transaction is gone at once and the transport closes clean.
 * Not covered here: timeouts (sipp-timers), answered flows (sipp-client,
 * sipp-server).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { requireSipp, startSipp, stopAllSipp } from './harness/sipp.ts';
import { Stack } from './harness/stack.ts';
import type { Endpoint } from '../../src/transport/index.ts';

const T1 = 500;
const TIMER_B = 64 * T1;

const test = suite('sipp: SIPp killed mid-transaction -> 503');
let stacks: Stack[] = [];

test.after.each(async () => {
  for (const stack of stacks) await stack.close();
  stacks = [];
  await stopAllSipp();
});

async function setUp(kind: 'udp' | 'tcp') {
  requireSipp();
  // SIPp would stay silent for a minute; it is killed long before.
  const sipp = await startSipp({ scenario: 'uas-silent-invite.xml', transport: kind, pauseMs: 60_000, traceMessages: true, timeoutSec: 90 });
  const stack = await Stack.start({ timers: { T1 }, trace: true });
  stacks.push(stack);
  const target: Endpoint = { transport: kind, host: sipp.host, port: sipp.port };
  const pending = stack.request('INVITE', target, { body: 'v=0\r\n' });
  await sipp.waitForMessage('INVITE', (m) => m.direction === 'in' && m.startLine.startsWith('INVITE '));
  return { sipp, stack, pending };
}

async function assertGone(stack: Stack): Promise<void> {
  assert.equal(stack.stats(), { clientInvite: 0, clientNonInvite: 0, serverInvite: 0, serverNonInvite: 0, transactions: 0, timers: 0 });
  await stack.close();
  const transport = stack.transport.stats();
  assert.ok(transport.closed);
  assert.is(transport.connections, 0);
  assert.is(transport.udpSockets, 0);
  assert.is(stack.clock.pending, 0);
}

test('TCP: SIPp killed after it got our INVITE -> one 503 (ECONNRESET) within 1 s, not Timer B', async () => {
  const { sipp, stack, pending } = await setUp('tcp');
  assert.equal(pending.finals, [], 'no outcome while SIPp holds the INVITE');
  const killedAt = performance.now();
  await sipp.kill();
  const outcome = await pending.outcome;
  const after = performance.now() - killedAt;
  assert.is(outcome.cause, 'transportError');
  assert.is(outcome.status, 503);
  assert.is(outcome.response.status, 503);
  if (outcome.cause === 'transportError') assert.is(outcome.error.code, 'ECONNRESET');
  assert.ok(after < 1000, `503 came ${after.toFixed(1)} ms after the kill`);
  assert.ok(performance.now() - pending.startedAt < TIMER_B / 2, 'long before Timer B');
  // Over TCP nothing was retransmitted.
  assert.equal(stack.trace.filter((t) => t.direction === 'out').map((t) => t.startLine.split(' ')[0]), ['INVITE']);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.is(pending.finals.length, 1, 'exactly one outcome');
  await assertGone(stack);
});

test('UDP: SIPp killed after it got our INVITE -> one 503 (ECONNREFUSED) within 100 ms of the next retransmission', async () => {
  const { sipp, stack, pending } = await setUp('udp');
  await sipp.kill();
  assert.equal(pending.finals, [], 'UDP: nothing tells us before we send again');
  const outcome = await pending.outcome;
  const at = performance.now();
  assert.is(outcome.cause, 'transportError');
  assert.is(outcome.status, 503);
  if (outcome.cause === 'transportError') assert.is(outcome.error.code, 'ECONNREFUSED');
  const sends = stack.trace.filter((t) => t.direction === 'out');
  assert.is(sends.length, 2, `the INVITE and one retransmission (got ${sends.map((t) => t.startLine).join(' | ')})`);
  const retransmittedAt = sends[1]!.at;
  const interval = retransmittedAt - sends[0]!.at;
  assert.ok(interval >= T1 - 5 && interval <= T1 + 100, `Timer A fired after ${interval.toFixed(1)} ms, T1 = ${T1}`);
  const after = at - retransmittedAt;
  assert.ok(after >= 0 && after < 100, `503 came ${after.toFixed(1)} ms after the retransmission`);
  assert.ok(at - pending.startedAt < TIMER_B / 2, 'long before Timer B');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.is(pending.finals.length, 1, 'exactly one outcome');
  await assertGone(stack);
});

test.run();
