/**
 * One peer cannot take the room of our sites (PhoneOptions
 * maxTransactionsPerPeer): over real UDP on loopback, an address that is not
 * the server of a connection gets 503 with Retry-After once it holds that
 * many requests in progress, while the connection's server, sending as
 * many, is answered every time, and so are requests addressed to the
 * Contact we registered (its line= token).
 * Not covered: the caps themselves (test/unit/transaction-limits.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { parseMessage } from '../../src/parser/index.ts';
import { Phone } from '../../src/sdk/index.ts';
import { socketHandles, until } from './sdk-support.ts';

async function socketOn(host: string): Promise<{ socket: Socket; statuses: number[] }> {
  const socket = createSocket('udp4');
  socket.bind(0, host);
  await once(socket, 'listening');
  const statuses: number[] = [];
  socket.on('message', (bytes: Buffer) => {
    const message = parseMessage(new Uint8Array(bytes));
    if (message.kind === 'response') statuses.push(message.status!);
  });
  return { socket, statuses };
}

function options(from: Socket, branch: string, line?: string): Buffer {
  const { address, port } = from.address();
  return Buffer.from(
    [
      `OPTIONS sip:1001@127.0.0.1${line === undefined ? '' : `;line=${line}`} SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK${branch}`,
      'Max-Forwards: 70',
      `From: <sip:peer@${address}>;tag=quota`,
      'To: <sip:1001@127.0.0.1>',
      `Call-ID: ${branch}@${address}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

test('maxTransactionsPerPeer: a stranger past it gets 503, our site sending as many is answered', async () => {
  const handles = socketHandles();
  const site = await socketOn('127.0.0.1');
  const stranger = await socketOn('127.0.0.9');
  const phone = await Phone.create({ connections: [{ user: '1001', server: `127.0.0.1:${site.socket.address().port}`, password: 'secret' }] }, { maxTransactionsPerPeer: 3, closeTimeoutMs: 100 });
  try {
    const listener = phone.transport.listeners.find((l) => l.transport === 'udp')!;
    for (let i = 0; i < 5; i++) stranger.socket.send(options(stranger.socket, `stranger${i}`), listener.port, listener.host);
    for (let i = 0; i < 5; i++) site.socket.send(options(site.socket, `site${i}`), listener.port, listener.host);
    await until(() => stranger.statuses.length === 5 && site.statuses.length === 5, 5000, 'ten answers');
    assert.equal([...stranger.statuses].sort(), [200, 200, 200, 503, 503]);
    assert.equal(site.statuses, [200, 200, 200, 200, 200]);
    // Addressed to the Contact we registered (its line= token): routed by a site, whatever node it left from.
    const line = phone.connections.lineOf(0)!;
    for (let i = 0; i < 4; i++) stranger.socket.send(options(stranger.socket, `routed${i}`, line), listener.port, listener.host);
    await until(() => stranger.statuses.length === 9, 5000, 'four more answers');
    assert.equal(stranger.statuses.slice(5), [200, 200, 200, 200]);
  } finally {
    await phone.close();
    for (const { socket } of [site, stranger]) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  // A closed UDP handle is released a turn of the event loop after close()'s callback: the next file counts sockets.
  await until(() => socketHandles() <= handles, 2000, 'every socket released');
});

test('maxTransactionsPerPeer must be a positive integer', async () => {
  for (const bad of [0, -1, 1.5]) {
    const error = await Phone.create({ connections: [{ user: '1001', server: '127.0.0.1:5060' }] }, { maxTransactionsPerPeer: bad }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    assert.instance(error, RangeError);
    assert.match((error as Error).message, /maxTransactionsPerPeer must be a positive integer/);
  }
});

test.run();
