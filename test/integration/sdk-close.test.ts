/**
 * close() leaves nothing behind, even what was waiting for an answer that
 * can no longer come (a review finding of issue 12): a call dialling a
 * silent site, a REGISTER in flight to a silent site. Lab sites on loopback.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Phone } from '../../src/sdk/index.ts';
import { labConnection, labSite, Recorder } from './sdk-support.ts';

test('close() with a call dialling a silent site and a REGISTER in flight: every count is zero', async () => {
  const up = await labSite('up', '127.0.0.1');
  const silent = await labSite('silent', '127.0.0.2');
  const phone = await Phone.create({ connections: [labConnection(up), labConnection(silent)] }, { closeTimeoutMs: 300 });
  try {
    const events = new Recorder(phone);
    phone.start();
    await events.status(0, 'registered', 3000);
    await events.status(1, 'registered', 3000);
    await silent.stop('silent');
    // Connection 1's refresh (every 2 s) goes out to a silent site and waits.
    await new Promise((resolve) => setTimeout(resolve, 2300));
    // A call to a user of the silent site, through it (dial_failover_timeout 2 s not reached before close).
    await phone.calls.dial(1, '1002');
    const busy = phone.stats();
    assert.ok(busy.dialogs.outgoingInvites === 1 || busy.dialogs.outgoingInvites === 0, JSON.stringify(busy.dialogs));
    await phone.close();
    const after = phone.stats();
    assert.equal(after.dialogs, { dialogs: 0, incomingInvites: 0, outgoingInvites: 0, timers: 0 });
    assert.is(after.transactions.transactions, 0);
    assert.equal([after.registrations.inFlight, after.registrations.draining, after.registrations.scheduled, after.registrations.clockTimers], [0, 0, 0, 0]);
    assert.is(after.mediaPorts, 0);
  } finally {
    await up.close();
    await silent.close();
  }
});

test.run();
