/**
 * The legitimate client of the reliability suite: a new TCP or TLS
 * connection that sends one OPTIONS (or REGISTER) and waits for the final
 * response. The time measured is what a client sees: connect (and TLS
 * handshake) + request + response. No answer within 2 s counts as a failure.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface ProbeResult {
  readonly kind: string;
  /** ms from connect to the final response; Infinity when none came. */
  readonly ms: number;
  /** ms until connected (TLS: handshake done), -1 when it never was. */
  readonly connectMs: number;
  readonly status: number | undefined;
  readonly at: number;
}

let seq = 0;

function request(method: 'OPTIONS' | 'REGISTER', transport: 'TCP' | 'TLS', localPort: number): string {
  seq++;
  const aor = method === 'REGISTER' ? 'sip:1001@127.0.0.1' : 'sip:probe@127.0.0.1';
  return (
    `${method} sip:127.0.0.1 SIP/2.0\r\n` +
    `Via: SIP/2.0/${transport} 127.0.0.1:${localPort};branch=z9hG4bK-probe-${seq};rport\r\n` +
    `Max-Forwards: 70\r\nFrom: <${aor}>;tag=p${seq}\r\nTo: <${aor}>\r\n` +
    `Call-ID: probe-${seq}\r\nCSeq: 1 ${method}\r\n` +
    (method === 'REGISTER' ? `Contact: <sip:1001@127.0.0.1:${localPort};transport=${transport.toLowerCase()}>\r\nExpires: 60\r\n` : '') +
    'Content-Length: 0\r\n\r\n'
  );
}

/** One probe: resolves with its time and the final status (a 100 Trying is not an answer). */
export function probe(transport: 'tcp' | 'tls', port: number, method: 'OPTIONS' | 'REGISTER' = 'OPTIONS', timeoutMs = 2000): Promise<ProbeResult> {
  const started = performance.now();
  const kind = `${transport} ${method}`;
  return new Promise((resolve) => {
    let done = false;
    let connectMs = -1;
    let text = '';
    const socket: Socket =
      transport === 'tls'
        ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
        : tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    const finish = (status: number | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ kind, ms: status === undefined ? Infinity : performance.now() - started, connectMs, status, at: started });
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
    socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => {
      connectMs = performance.now() - started;
      socket.write(request(method, transport === 'tls' ? 'TLS' : 'TCP', socket.localPort ?? 9));
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      for (const match of text.matchAll(/SIP\/2\.0 (\d{3}) /g)) {
        const status = Number(match[1]);
        if (status >= 200) return finish(status);
      }
    });
  });
}
