/**
 * A peer flooding a UDP port with OPTIONS, each a new request (its own
 * branch and Call-ID), at RATE a second from ADDRESS, in a process of its
 * own. It counts the answers by status. On `stop` it sends
 * `{ type: 'counts', sent, answers }` and exits.
 *
 *   node --import tsx test/reliability/udp-flooder.ts ADDRESS PORT RATE
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

const [address = '127.0.0.9', port, rate] = process.argv.slice(2);
const socket = createSocket('udp4');
socket.bind(0, address);
await once(socket, 'listening');
const local = socket.address();
const answers: Record<string, number> = {};
socket.on('message', (bytes: Buffer) => {
  const status = /^SIP\/2\.0 (\d{3})/.exec(bytes.toString('latin1', 0, 16))?.[1] ?? 'other';
  answers[status] = (answers[status] ?? 0) + 1;
});

let sent = 0;
const request = (n: number): Buffer =>
  Buffer.from(
    `OPTIONS sip:flood@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP ${local.address}:${local.port};branch=z9hG4bK-flood-${n}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:flood@${local.address}>;tag=f\r\nTo: <sip:phone@127.0.0.1>\r\n` +
      `Call-ID: flood-${n}@${local.address}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  );
// A tick every 10 ms sends its share of the rate.
const perTick = Math.max(1, Math.round(Number(rate) / 100));
const ticker = setInterval(() => {
  for (let i = 0; i < perTick; i++) socket.send(request(sent++), Number(port), '127.0.0.1');
}, 10);
process.send?.({ type: 'started' });
process.on('message', (message: { type?: string }) => {
  if (message.type !== 'stop') return;
  clearInterval(ticker);
  // Answers to the last requests are still on their way.
  setTimeout(() => {
    socket.close();
    process.send?.({ type: 'counts', sent, answers }, () => process.exit(0));
  }, 500);
});
