/**
 * Our client side against a SIPp UAS (test/interop/sipp/uas-*.xml), on
 * loopback, over UDP and TCP.
 *
 * Covers: OPTIONS -> 200; INVITE -> 180, 200 (with SDP), our ACK for the 2xx
 * (its own branch, the INVITE's CSeq number: SIPp checks both and fails the
 * call otherwise), BYE in the dialog -> 200. SIPp runs with -m 1 and must
 * exit 0 with one successful call and nothing unexpected; our transactions
 * end on their own timers (Timer K, M: T1 = 50 ms keeps 64*T1 at 3.2 s) and
 * the transport closes with no socket left.
 * Not covered here: SIPp as the client (sipp-server), timeouts (sipp-timers),
 * transport errors (sipp-transport-errors).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { requireSipp, startSipp } from './harness/sipp.ts';
import { Stack, distinctMessages, label } from './harness/stack.ts';
import { SETTLE_MS, assertSippSucceeded, stacksFor } from './harness/sipp-suite.ts';
import type { Endpoint } from '../../src/transport/index.ts';


const test = suite('sipp: our client -> SIPp UAS');
const ourStack = stacksFor(test);

/** Every transaction ended on its own timers, then the transport closes clean. */
async function assertClean(stack: Stack): Promise<void> {
  await stack.settled(SETTLE_MS);
  assert.equal(stack.stats(), { clientInvite: 0, clientNonInvite: 0, serverInvite: 0, serverNonInvite: 0, transactions: 0, timers: 0 });
  assert.equal(stack.diagnostics, [], 'transport diagnostics');
  await stack.close();
  const transport = stack.transport.stats();
  assert.ok(transport.closed);
  assert.is(transport.connections, 0);
  assert.is(transport.udpSockets, 0);
  assert.is(stack.clock.pending, 0, 'no timer left on the clock');
}

for (const kind of ['udp', 'tcp'] as const) {
  test(`OPTIONS -> 200 over ${kind.toUpperCase()}`, async () => {
    requireSipp();
    const sipp = await startSipp({ scenario: 'uas-options.xml', transport: kind, timeoutSec: 20 });
    const stack = await ourStack();
    const target: Endpoint = { transport: kind, host: sipp.host, port: sipp.port };
    const options = await stack.options(target);
    assert.is(options.result.cause, 'response');
    assert.is(options.result.status, 200);
    assert.is(options.finals.length, 1);
    const via = options.result.response.topVia!;
    assert.is(via.branch, options.transaction.branch);
    assertSippSucceeded(await sipp.exit());
    // Over UDP a slow SIPp may see our OPTIONS again after T1 (50 ms): copies are identical.
    assert.equal(distinctMessages(stack.trace, 'out').map(label), ['OPTIONS']);
    assert.equal(distinctMessages(stack.trace, 'in').map(label), ['200 OPTIONS']);
    if (kind === 'tcp') assert.is(stack.trace.length, 2, 'nothing resent over TCP');
    await assertClean(stack);
  });

  test(`INVITE -> 180, 200; ACK; BYE -> 200 over ${kind.toUpperCase()}`, async () => {
    requireSipp();
    const sipp = await startSipp({ scenario: 'uas-call.xml', transport: kind, timeoutSec: 20 });
    const stack = await ourStack();
    const target: Endpoint = { transport: kind, host: sipp.host, port: sipp.port };
    const { invite, bye } = await stack.call(target);
    assert.is(invite.outcome.status, 200);
    assert.equal(invite.request.provisionals.map((r) => r.status), [180]);
    assert.is(invite.request.finals.length, 1);
    const response = invite.outcome.response;
    assert.is(response.contentType?.type, 'application');
    assert.ok(new TextDecoder().decode(response.body).includes('m=audio'), 'SDP answer');
    const dialog = invite.dialog!;
    assert.ok(dialog.to.includes(';tag='), 'To tag of the 2xx');
    assert.is(dialog.target.transport, kind, 'Contact transport');
    assert.is(dialog.target.port, sipp.port);
    if (kind === 'tcp') assert.is(dialog.acksSent, 1);
    assert.is.not(dialog.ack!.topVia!.branch, invite.request.transaction.branch, 'the ACK for a 2xx has its own branch');
    assert.is(dialog.ack!.cseq!.seq, dialog.inviteCseq);
    assert.is(bye?.status, 200);
    assertSippSucceeded(await sipp.exit());
    assert.equal(distinctMessages(stack.trace, 'out').map(label), ['INVITE', 'ACK', 'BYE']);
    assert.equal(distinctMessages(stack.trace, 'in').map(label), ['180 INVITE', '200 INVITE', '200 BYE']);
    if (kind === 'tcp') assert.is(stack.trace.length, 6, 'nothing resent over TCP');
    // The INVITE transaction sits in Accepted for 64*T1 (RFC 6026 Timer M), then everything ends.
    assert.is(stack.stats().clientInvite, 1);
    await assertClean(stack);
  });
}

test.run();
