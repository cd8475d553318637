/**
 * Keep-alive on real sockets (issue 10): a Phone with
 * send_sip_keep_alive_messages against lab sites on loopback. Over UDP the
 * OPTIONS probe notices a silent site; over TCP the CRLF ping notices a site
 * whose connection is gone. Each comes back `registered` after one retry
 * wait. The timing of a frozen Kamailio (SIGSTOP) is the interop suite's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Phone } from '../../src/sdk/index.ts';
import { labConnection, labSite, Recorder, traceRequests } from './sdk-support.ts';

const KEEP_ALIVE = { sendKeepAlive: true, keepAliveIntervalSeconds: 1, reregisterInSeconds: 3600, minimumRetrySeconds: 1, maximumRetrySeconds: 1 };

test('UDP: OPTIONS every second; a silent site -> unavailable(408) within 2 intervals; back -> registered', async () => {
  const site = await labSite('ka-udp', '127.0.0.1');
  const phone = await Phone.create({ connections: [labConnection(site, KEEP_ALIVE)] });
  try {
    const events = new Recorder(phone);
    const sent = traceRequests(phone);
    phone.start();
    await events.status(0, 'registered', 3000);
    await new Promise((resolve) => setTimeout(resolve, 2300));
    const probes = sent.filter((r) => r.message.method === 'OPTIONS');
    assert.ok(probes.length >= 2, `OPTIONS sent: ${probes.length}`);
    assert.is(probes[0]!.message.uri?.toString(), `sip:127.0.0.1:${site.port}`);
    assert.is(site.counts.get('OPTIONS') !== undefined, true, 'the site saw them');
    const since = events.events.length;
    const frozenAt = performance.now();
    await site.stop('silent');
    const down = await events.status(0, 'unavailable', 4000, since);
    assert.is(down.code, 408);
    assert.ok(down.at - frozenAt <= 2 * 1000 + 500, `noticed after ${Math.round(down.at - frozenAt)} ms`);
    await site.restart();
    const up = await events.status(0, 'registered', 4000, since);
    assert.ok(up.at - down.at < 3000, `registered again ${Math.round(up.at - down.at)} ms later`);
    assert.equal(events.seq(0, since), ['unavailable(408)', 'registered(200)']);
  } finally {
    await phone.close();
    await site.close();
  }
});

test('TCP: the flow is pinged; a site whose connection died -> unavailable; back -> registered', async () => {
  const site = await labSite('ka-tcp', '127.0.0.1');
  const phone = await Phone.create({ connections: [labConnection(site, { ...KEEP_ALIVE, transport: 'tcp' })] });
  try {
    const events = new Recorder(phone);
    const sent = traceRequests(phone);
    phone.start();
    await events.status(0, 'registered', 3000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(sent.filter((r) => r.message.method === 'OPTIONS'), [], 'no OPTIONS over TCP: CRLF pings');
    assert.is(events.seq(0).at(-1), 'registered(200)', 'the pings were answered');
    const since = events.events.length;
    await site.stop('refuse');
    const down = await events.status(0, 'unavailable', 4000, since);
    assert.ok(down.code === 408 || down.code === 503, `code ${down.code}`);
    await site.restart();
    await events.status(0, 'registered', 5000, since);
  } finally {
    await phone.close();
    await site.close();
  }
});

test.run();
