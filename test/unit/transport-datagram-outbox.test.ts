/** DatagramOutbox (src/transport/datagram-outbox.ts): one turn's datagrams go out together, in order, at its end. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'node:dgram';
import { DatagramOutbox } from '../../src/transport/datagram-outbox.ts';

type Sent = { bytes: string; port: number | undefined; host: string | undefined };

/** A stand-in for a dgram Socket: records sends, or throws when told to. */
function fakeSocket(throwOn?: string): { socket: Socket; sent: Sent[] } {
  const sent: Sent[] = [];
  const socket = {
    send(bytes: Uint8Array, ...rest: unknown[]): void {
      const text = new TextDecoder().decode(bytes);
      if (text === throwOn) throw new Error('Not running');
      const callback = rest.find((r) => typeof r === 'function') as ((error: Error | null) => void) | undefined;
      const addressed = typeof rest[0] === 'number';
      sent.push({ bytes: text, port: addressed ? (rest[0] as number) : undefined, host: addressed ? (rest[1] as string) : undefined });
      callback?.(null);
    },
  } as unknown as Socket;
  return { socket, sent };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('nothing goes out during the turn; at its end everything does, in order, connected and addressed alike', async () => {
  const { socket, sent } = fakeSocket();
  const outbox = new DatagramOutbox(socket);
  outbox.push(enc('a'), 0, '', undefined);
  outbox.push(enc('b'), 5060, '192.0.2.1', undefined);
  outbox.push(enc('c'), 0, '', undefined);
  assert.is(sent.length, 0);
  assert.is(outbox.size, 3);
  await turn();
  assert.equal(sent, [
    { bytes: 'a', port: undefined, host: undefined },
    { bytes: 'b', port: 5060, host: '192.0.2.1' },
    { bytes: 'c', port: undefined, host: undefined },
  ]);
  assert.is(outbox.size, 0);
  outbox.push(enc('d'), 0, '', undefined);
  await turn();
  assert.equal(sent.map((s) => s.bytes), ['a', 'b', 'c', 'd'], 'a later turn schedules again');
});

test('flush() sends at once; a send that throws reaches its own callback and the rest still go', async () => {
  const { socket, sent } = fakeSocket('bad');
  const outbox = new DatagramOutbox(socket);
  const heard: Array<string | null> = [];
  outbox.push(enc('one'), 0, '', (error) => heard.push(error?.message ?? null));
  outbox.push(enc('bad'), 0, '', (error) => heard.push(error?.message ?? null));
  outbox.push(enc('two'), 0, '', undefined);
  outbox.flush();
  assert.equal(sent.map((s) => s.bytes), ['one', 'two']);
  assert.equal(heard, [null, 'Not running']);
  await turn();
  assert.equal(sent.map((s) => s.bytes), ['one', 'two'], 'the scheduled flush finds nothing left');
});

test.run();
