/**
 * Phone.start() resolves once every configured connection has its first
 * outcome (issue 13): registered, unavailable or failed; at close() before
 * that; and with no connection at once. With `{ until: 'any' }` at the first
 * connection registered, a silent site still registering; rejected on a
 * closed phone. Lab sites on loopback.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConnectionError, Phone } from '../../src/sdk/index.ts';
import { labConnection, labSite } from './sdk-support.ts';

test('start() resolves with the collection when each connection has an outcome (registered, failed)', async () => {
  const site = await labSite('start', '127.0.0.1');
  const phone = await Phone.create({ connections: [labConnection(site), labConnection(site, { password: 'wrong' })] });
  try {
    const infos = await phone.start();
    assert.equal(infos.map((c) => [c.id, c.status]), [[0, 'registered'], [1, 'failed']]);
  } finally {
    await phone.close();
    await site.close();
  }
});

test('start() resolves when close() comes first; with no connection at once', async () => {
  const site = await labSite('silent', '127.0.0.1');
  await site.stop('silent');
  const phone = await Phone.create({ connections: [labConnection(site)] });
  let settled = false;
  const started = phone.start().then((infos) => {
    settled = true;
    return infos;
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.is(settled, false, 'a silent site has no outcome yet');
  await phone.close();
  const infos = await started;
  assert.equal(infos.map((c) => c.status), ['disabled']);
  await site.close();
  const empty = await Phone.create({ connections: [] });
  assert.equal(await empty.start(), []);
  await empty.close();
});

test("start({ until: 'any' }) resolves at the first connection registered, while a silent site is still registering; a closed phone's start() rejects", async () => {
  const up = await labSite('up', '127.0.0.1');
  const silent = await labSite('silent', '127.0.0.2');
  await silent.stop('silent');
  const phone = await Phone.create({ connections: [labConnection(silent), labConnection(up)] }, { closeTimeoutMs: 300 });
  try {
    const began = performance.now();
    const infos = await phone.start({ until: 'any' });
    assert.ok(performance.now() - began < 5000, 'not the 32 s of the silent site');
    assert.equal(infos.map((c) => [c.id, c.status]), [[0, 'registering'], [1, 'registered']]);
  } finally {
    await phone.close();
  }
  const error = await phone.start().then(() => undefined, (e: unknown) => e);
  assert.instance(error, ConnectionError);
  await up.close();
  await silent.close();
});

test('start() after a connection was enabled and registered by hand resolves without waiting for an event that will not come', async () => {
  const site = await labSite('early', '127.0.0.1');
  const silent = await labSite('early-silent', '127.0.0.2');
  await silent.stop('silent');
  const one = await Phone.create({ connections: [labConnection(site)] });
  const two = await Phone.create({ connections: [labConnection(site), labConnection(silent)] }, { closeTimeoutMs: 300 });
  const within = <T>(promise: Promise<T>): Promise<T | 'pending'> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), 3000)));
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  };
  try {
    assert.is((await one.connections.enableConnection(0))?.status, 'registered');
    const all = await within(one.start());
    assert.ok(all !== 'pending', "'all': settled although its one connection had its outcome before start()");
    assert.equal(all.map((c) => c.status), ['registered']);

    assert.is((await two.connections.enableConnection(0))?.status, 'registered');
    const any = await within(two.start({ until: 'any' }));
    assert.ok(any !== 'pending', "'any': settled at once, one connection registered already");
    assert.equal(any.map((c) => c.status), ['registered', 'registering'], 'the silent site still registering');
  } finally {
    await one.close();
    await two.close();
    await site.close();
    await silent.close();
  }
});

test.run();
