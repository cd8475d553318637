/**
 * SIPp's UAC (test/interop/sipp/uac-*.xml) against our server side, on
 * loopback, over UDP and TCP.
 *
 * Covers: OPTIONS -> 200; INVITE -> 180, 200 with SDP, SIPp's ACK reaching
 * our TU (onAck), BYE -> 200. SIPp checks our responses (Via with received
 * and rport filled in, To tag, Contact it then sends the ACK and BYE to, SDP
 * answer, CSeq) and fails the call otherwise; it runs with -m 1 and must exit
 * 0 with one successful call, nothing unexpected, none of its requests
 * resent (we answered within its 500 ms). Our
 * server transactions end on their own timers (Timer J, L: T1 = 50 ms keeps
 * 64*T1 at 3.2 s) and the transport closes with no socket left.
 * Not covered here: our client side (sipp-client), timeouts (sipp-timers),
 * transport errors (sipp-transport-errors).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { requireSipp, startSipp } from './harness/sipp.ts';
import { Stack, distinctMessages, label } from './harness/stack.ts';
import { SETTLE_MS, assertSippSucceeded, stacksFor } from './harness/sipp-suite.ts';


const test = suite('sipp: SIPp UAC -> our server');
const ourStack = stacksFor(test);

/** The exchange is over when our last response has gone out (SIPp checked it and exited). */
async function assertClean(stack: Stack): Promise<void> {
  const callDone = Math.max(...stack.trace.filter((t) => t.direction === 'out').map((t) => t.at));
  await stack.settled(SETTLE_MS);
  assert.equal(stack.stats(), { clientInvite: 0, clientNonInvite: 0, serverInvite: 0, serverNonInvite: 0, transactions: 0, timers: 0 });
  assert.is(stack.harnessTimers, 0);
  assert.is(stack.openDialogs, 0);
  assert.equal(stack.diagnostics, [], 'transport diagnostics');
  assert.equal(stack.serverErrors.filter((e) => e.at < callDone), [], 'transport errors on our responses during the exchange');
  // SIPp closing its TCP connection normally after the call is not a failure
  // of the responses it already got (the flow tells response senders only of
  // resets and errors).
  assert.equal(stack.serverErrors, [], 'no transport error reported for delivered responses');
  await stack.close();
  const transport = stack.transport.stats();
  assert.ok(transport.closed);
  assert.is(transport.connections, 0);
  assert.is(transport.udpSockets, 0);
  assert.is(stack.clock.pending, 0, 'no timer left on the clock');
}

for (const kind of ['udp', 'tcp'] as const) {
  test(`SIPp OPTIONS -> our 200 over ${kind.toUpperCase()}`, async () => {
    requireSipp();
    const stack = await ourStack();
    const us = stack.endpoint(kind);
    const sipp = await startSipp({ scenario: 'uac-options.xml', transport: kind, remote: us, timeoutSec: 20 });
    assertSippSucceeded(await sipp.exit(), { noSippResends: true });
    assert.equal(stack.served, { options: 1, invite: 0, ack: 0, bye: 0, other: 0 });
    const inbound = distinctMessages(stack.trace, 'in');
    assert.equal(inbound.map((t) => t.startLine), [`OPTIONS sip:service@${us.host}:${us.port} SIP/2.0`]);
    assert.is(inbound[0]!.peer.transport, kind);
    assert.equal(distinctMessages(stack.trace, 'out').map(label), ['200 OPTIONS']);
    await assertClean(stack);
  });

  test(`SIPp INVITE -> our 180, 200; ACK; BYE -> 200 over ${kind.toUpperCase()}`, async () => {
    requireSipp();
    const stack = await ourStack();
    const us = stack.endpoint(kind);
    const sipp = await startSipp({ scenario: 'uac-call.xml', transport: kind, remote: us, timeoutSec: 20 });
    assertSippSucceeded(await sipp.exit(), { noSippResends: true });
    assert.equal(stack.served, { options: 0, invite: 1, ack: 1, bye: 1, other: 0 });
    assert.equal(distinctMessages(stack.trace, 'in').map(label), ['INVITE', 'ACK', 'BYE']);
    // Our 2xx is resent over UDP from T1 (50 ms) until the ACK: identical copies, if any.
    assert.equal(distinctMessages(stack.trace, 'out').map(label), ['180 INVITE', '200 INVITE', '200 BYE']);
    if (kind === 'tcp') assert.is(stack.trace.length, 6, 'nothing resent over TCP');
    await assertClean(stack);
  });
}

test.run();
