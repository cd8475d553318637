/**
 * A TypeScript program written against the installed package as a user
 * writes it. scripts/test-package.mjs compiles it in a fresh project with
 * `tsc --strict --exactOptionalPropertyTypes --noEmit` (skipLibCheck false),
 * under moduleResolution nodenext and bundler: it must compile with 0 errors.
 */
import { CallError, Phone, type ConnectionStatusChanged, type PhoneOptions, type SessionStatusChanged } from 'sip-endpoint';
import { parseMessage, serializeMessage, SipParseError, type SipMessage } from 'sip-endpoint/parser';
import {
  FakeClock,
  MissingRandomSourceError,
  RegistrationManager,
  TransactionLayer,
  type Clock,
  type ClientOutcome,
  type Endpoint,
  type Received,
  type SendOptions,
  type Transport,
  type TransportKind,
} from 'sip-endpoint/core';

export async function sdk(): Promise<void> {
  const options: PhoneOptions = { localHost: '127.0.0.1', closeTimeoutMs: 1000 };
  const phone = await Phone.create({ connections: [{ user: '1001', server: '127.0.0.1:5070', transport: 'udp', password: 'secret' }] }, options);
  phone.connections.on('connectionStatusChanged', (event: ConnectionStatusChanged) => {
    const code: number | undefined = event.code;
    console.log(event.connectionId, event.previousStatus, event.status, code);
  });
  phone.sessions.on('sessionStatusChanged', (event: SessionStatusChanged) => console.log(event.sessionId, event.status));
  phone.start();
  try {
    const call = await phone.calls.dial(0, '1002');
    await phone.calls.hangup(call.id);
  } catch (error) {
    if (error instanceof CallError) console.log(error.code);
  }
  await phone.close();
}

export function parser(bytes: Uint8Array): string | undefined {
  try {
    const message: SipMessage = parseMessage(bytes);
    const again = parseMessage(serializeMessage(message));
    return again.topVia?.branch ?? undefined;
  } catch (error) {
    if (error instanceof SipParseError) return `${error.status}`;
    throw error;
  }
}

/** A transport of the embedder's own: what the core layers are given. */
class Loopback implements Transport {
  onReceive: ((received: Received) => void) | undefined;
  send(_bytes: Uint8Array, _target: Endpoint, _options?: SendOptions): void {}
  isReliable(transport: TransportKind): boolean {
    return transport !== 'udp';
  }
  localEndpoint(transport: TransportKind): Endpoint {
    return { transport, host: '192.0.2.10', port: 5060 };
  }
}

export function core(random: () => number): string {
  const clock: Clock = new FakeClock();
  const transport = new Loopback();
  const layer = new TransactionLayer({ transport, clock, user: { onRequest() {} }, random });
  transport.onReceive = layer.receive;
  const manager = new RegistrationManager({ transactionLayer: layer, clock, localEndpoint: (kind) => transport.localEndpoint(kind), random });
  manager.add('a', { user: 'alice', server: { host: '192.0.2.1', port: 5060 }, transport: 'udp' });
  let outcome = '';
  layer.sendRequest(
    { method: 'OPTIONS', uri: 'sip:192.0.2.1', headers: [['From', '<sip:a@example.com>;tag=1'], ['To', '<sip:192.0.2.1>'], ['Call-ID', 'c1'], ['CSeq', '1 OPTIONS']] },
    { transport: 'udp', host: '192.0.2.1', port: 5060 },
    { onFinal: (result: ClientOutcome) => (outcome = `${result.cause} ${result.status}`) },
  );
  const missing: typeof MissingRandomSourceError = MissingRandomSourceError;
  return `${outcome} ${missing.name} ${manager.ids().length}`;
}
