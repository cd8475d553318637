/**
 * The process under attack in the reliability suite: a Phone (registered
 * over TCP and UDP to a registrar the parent runs) or a LabSite, on
 * 127.0.0.1 with UDP, TCP and TLS listeners. It talks to the parent over the
 * IPC channel: `ready` with its ports, `status` for every connection status
 * change, a `sample` every 250 ms (RSS, heap, transport stats), and on
 * `close` it closes, reports what is still open (`closed`) and exits on its
 * own: a handle left open would keep it alive, and the parent notices.
 *
 *   node --import tsx test/reliability/target.ts '{"kind":"phone",...}'
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LabSite } from '../../src/lab/lab-site.ts';
import { Phone } from '../../src/sdk/index.ts';
import type { SipTransportLayer, TransportStats } from '../../src/transport/index.ts';

export interface TargetConfig {
  readonly kind: 'phone' | 'site';
  readonly certPath: string;
  readonly keyPath: string;
  /** Phone: the registrar (a lab site in the parent) and the password of user 1001. */
  readonly registrar?: { readonly host: string; readonly port: number };
  readonly password: string;
}

export type TargetMessage =
  | { readonly type: 'ready'; readonly tcp: number; readonly tls: number; readonly udp: number }
  | { readonly type: 'status'; readonly id: number; readonly status: string; readonly code: number | undefined; readonly at: number }
  | { readonly type: 'sample'; readonly rss: number; readonly heapUsed: number; readonly heapTotal: number; readonly external: number; readonly stats: TransportStats; readonly diagnostics: Record<string, number>; readonly expiredAfterMs: Record<string, number>; readonly loopDelayMaxMs: number; readonly at: number }
  | { readonly type: 'closed'; readonly handles: string[]; readonly stats: TransportStats | undefined };

const config = JSON.parse(process.argv[2]!) as TargetConfig;
const tls = { cert: readFileSync(config.certPath, 'utf8'), key: readFileSync(config.keyPath, 'utf8') };
const send = (message: TargetMessage): void => void process.send?.(message);

let transport: SipTransportLayer;
let close: () => Promise<void>;
if (config.kind === 'phone') {
  const registrar = config.registrar!;
  const common = {
    user: '1001',
    server: `${registrar.host}:${registrar.port}`,
    password: config.password,
    reregisterInSeconds: 10,
    minimumRetrySeconds: 1,
    maximumRetrySeconds: 2,
    sendKeepAlive: true,
    keepAliveIntervalSeconds: 2,
  };
  const phone = await Phone.create({ connections: [{ ...common, transport: 'tcp' }, { ...common, transport: 'udp' }] }, { localHost: '127.0.0.1', tls });
  phone.connections.on('connectionStatusChanged', (e) => send({ type: 'status', id: e.connectionId, status: e.status, code: e.code, at: Date.now() }));
  phone.start();
  transport = phone.transport;
  close = () => phone.close();
} else {
  const site = await LabSite.start({
    name: 'attacked',
    host: '127.0.0.1',
    port: 0,
    transports: ['udp', 'tcp', 'tls'],
    users: { '1001': config.password, '1002': config.password },
    minExpires: 1,
    transport: { tls },
  });
  transport = site.transport!;
  close = () => site.close();
}

// What the transport did on its own (evictions, expiries, rejections), counted by type and reason.
const diagnostics: Record<string, number> = {};
/** The longest each kind of expiry waited (the target's own view of its deadlines). */
const expiredAfterMs: Record<string, number> = {};
transport.onDiagnostic = (d) => {
  const key = 'why' in d && d.why !== undefined ? `${d.type}:${d.why}` : d.type;
  diagnostics[key] = (diagnostics[key] ?? 0) + 1;
  if (d.type === 'connection-expired') expiredAfterMs[d.why] = Math.max(expiredAfterMs[d.why] ?? 0, d.afterMs);
};

const port = (kind: 'udp' | 'tcp' | 'tls'): number => transport.listeners.find((l) => l.transport === kind)!.port;
send({ type: 'ready', udp: port('udp'), tcp: port('tcp'), tls: port('tls') });

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const sampler = setInterval(() => {
  const memory = process.memoryUsage();
  const loopDelayMaxMs = loopDelay.max / 1e6;
  loopDelay.reset();
  send({ type: 'sample', rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, stats: transport.stats(), diagnostics, expiredAfterMs, loopDelayMaxMs, at: Date.now() });
}, 250);

process.on('message', (message: { type?: string }) => {
  if (message.type !== 'close') return;
  clearInterval(sampler);
  loopDelay.disable();
  void close().then(() => {
    // The IPC channel is the one handle that may remain; it goes with disconnect().
    const handles = process.getActiveResourcesInfo().filter((kind) => /TCP|UDP|TLS/.test(kind));
    send({ type: 'closed', handles, stats: transport.stats() });
    process.disconnect?.();
  });
});
