/**
 * RFC 3261 s18.1.1 end to end: a Phone whose connection is UDP registers
 * with a lab site that challenges with a 1,500-character nonce. The
 * REGISTER with credentials is over 1300 bytes, so it leaves over TCP to the
 * same address (its Via says TCP), and the connection is `registered`; the
 * small REGISTERs stay on UDP.
 * Not covered: the decision table (transport-size-policy, transaction-large-requests).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Phone } from '../../src/sdk/index.ts';
import { labConnection, labSite, Recorder, traceRequests } from './sdk-support.ts';

test('a 1,500-character nonce: the REGISTER with credentials goes over TCP and the UDP connection is registered', async () => {
  const site = await labSite('big-nonce', '127.0.0.1', { nonceBytes: 750 });
  const phone = await Phone.create({ connections: [labConnection(site, { reregisterInSeconds: 60 })] });
  try {
    const recorder = new Recorder(phone);
    const sent = traceRequests(phone);
    phone.start();
    await recorder.status(0, 'registered', 5000);
    const registers = sent.filter((r) => r.message.method === 'REGISTER');
    assert.is(registers.length, 2);
    const [first, second] = registers;
    assert.equal([first!.to.transport, first!.message.topVia!.transport], ['udp', 'UDP']);
    assert.equal([second!.to.transport, second!.message.topVia!.transport], ['tcp', 'TCP']);
    assert.equal([second!.to.host, second!.to.port], [first!.to.host, first!.to.port], 'the same address');
    assert.ok(second!.message.header('authorization')!.length > 1500, 'over 1300 bytes by its Authorization alone');
    assert.is(second!.message.authorization[0]!.params.get('nonce')!.length, 1500);
    assert.is(phone.connections.connections.find((c) => c.id === 0)?.status, 'registered');
  } finally {
    await phone.close();
    await site.close();
  }
});

test.run();
