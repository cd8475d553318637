/**
 * Helpers for the SDK integration tests (not a test file itself): lab sites
 * on loopback, a recorder of connectionStatusChanged events that can wait
 * for one, a trace of the REGISTERs a Phone sends, polling, and a count of
 * the process's open socket handles.
 */
import { parseMessage, type SipMessage } from '../../src/parser/index.ts';
import { LabSite, type LabSiteOptions } from '../../src/lab/lab-site.ts';
import type { ConnectionInput, ConnectionStatusChanged, Phone, SessionStatusChanged } from '../../src/sdk/index.ts';
import type { Endpoint } from '../../src/transport/types.ts';
import { EventLog } from './event-log.ts';
import { waitFor } from './polling.ts';

export { sleep } from './polling.ts';

/** Polls `condition` every 10 ms; throws naming `label` after `ms`. */
export function until(condition: () => boolean, ms: number, label: string): Promise<void> {
  return waitFor(label, condition, ms, 10);
}

/** Open sockets and servers of this process (timers excluded). */
export function socketHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => /UDP|TCP|TLS|Pipe/.test(kind)).length;
}

export interface Change extends ConnectionStatusChanged {
  /** performance.now() when it was emitted. */
  readonly at: number;
}

/** Records every connectionStatusChanged of a phone, with the time it came. */
export class Recorder {
  readonly #log = new EventLog<Change>((seen) => seen.map((e) => `${e.connectionId}:${e.status}(${e.code ?? ''})`).join(', '));

  constructor(phone: Phone) {
    phone.connections.on('connectionStatusChanged', (event) => this.#log.push({ ...event, at: performance.now() }));
  }

  get events(): Change[] {
    return this.#log.entries;
  }

  /** Events of one connection as "status(code)", from index `since`. */
  seq(id: number, since = 0): string[] {
    return this.events
      .slice(since)
      .filter((e) => e.connectionId === id)
      .map((e) => `${e.status}${e.code === undefined ? '' : `(${e.code})`}`);
  }

  /** The first event from index `since` on that matches, waiting at most `ms` for it. */
  waitFor(match: (event: Change) => boolean, ms: number, since = 0, label = 'an event'): Promise<Change> {
    return this.#log.waitFor(label, match, ms, since);
  }

  /** Waits for `status` of connection `id` (from index `since`). */
  status(id: number, status: string, ms: number, since = 0): Promise<Change> {
    return this.waitFor((e) => e.connectionId === id && e.status === status, ms, since, `${status} on connection ${id}`);
  }
}

export interface SessionChange extends SessionStatusChanged {
  /** performance.now() when it was emitted. */
  readonly at: number;
}

/** "s1 ringing @0", "s2 in connected @1", "s1 disconnected:Cancelled @0". */
function describeSession(e: SessionChange): string {
  return `${e.sessionId} ${e.direction === 'inbound' ? 'in ' : ''}${e.status}${e.reason === undefined ? '' : `:${e.reason}`}${e.code === undefined ? '' : `(${e.code})`} @${e.connectionId}`;
}

/** Every sessionStatusChanged of a phone, with the time it came; waits on them. */
export class SessionLog {
  readonly #log = new EventLog<SessionChange>((seen) => seen.map(describeSession).join(', '));

  constructor(phone: Phone) {
    phone.sessions.on('sessionStatusChanged', (event) => this.#log.push({ ...event, at: performance.now() }));
  }

  get events(): SessionChange[] {
    return this.#log.entries;
  }

  /** The events from index `since`, described. */
  seq(since = 0): string[] {
    return this.events.slice(since).map(describeSession);
  }

  wait(label: string, match: (event: SessionChange) => boolean, ms = 5000, since = 0): Promise<SessionChange> {
    return this.#log.waitFor(label, match, ms, since);
  }

  status(sessionId: string, status: string, ms = 5000, since = 0): Promise<SessionChange> {
    return this.wait(`${status} of ${sessionId}`, (e) => e.sessionId === sessionId && e.status === status, ms, since);
  }

  /** The next inbound session that rings (from index `since`). */
  incoming(ms = 5000, since = 0): Promise<SessionChange> {
    return this.wait('an incoming call ringing', (e) => e.direction === 'inbound' && e.status === 'ringing', ms, since);
  }

  /** Each event's previousStatus is the status of that session's event before it (null for its first). */
  previousStatusesChain(): string[] {
    const wrong: string[] = [];
    for (const [index, event] of this.events.entries()) {
      const before = this.events.slice(0, index).filter((e) => e.sessionId === event.sessionId).at(-1);
      if (event.previousStatus !== (before?.status ?? null)) wrong.push(`${event.sessionId} ${event.status}: previousStatus ${event.previousStatus}, expected ${before?.status ?? null}`);
    }
    return wrong;
  }
}

export interface SentRequest {
  readonly at: number;
  readonly to: Endpoint;
  readonly message: SipMessage;
}

/** Every request the phone sends (retransmissions included), from its transport's trace hook. */
export function traceRequests(phone: Phone): SentRequest[] {
  const sent: SentRequest[] = [];
  phone.transport.onTrace = (direction, _transport, _source, destination, bytes) => {
    if (direction !== 'out') return;
    const message = parseMessage(bytes);
    if (message.kind === 'request') sent.push({ at: performance.now(), to: destination, message });
  };
  return sent;
}

/** REGISTERs (not retransmissions) sent to one site host. */
export function registersTo(sent: readonly SentRequest[], host: string, since = 0): SentRequest[] {
  const branches = new Set<string>();
  return sent.filter((r) => {
    if (r.at < since || r.to.host !== host || r.message.method !== 'REGISTER') return false;
    const branch = r.message.topVia?.branch ?? '';
    if (branches.has(branch)) return false;
    branches.add(branch);
    return true;
  });
}

export const PASSWORD = 'lab-secret';

/** A lab site on `host`, port 0, knowing users 1001 and 1002, accepting short expiries. */
export function labSite(name: string, host: string, extra: Partial<LabSiteOptions> = {}): Promise<LabSite> {
  return LabSite.start({ name, host, port: 0, users: { '1001': PASSWORD, '1002': PASSWORD }, minExpires: 1, ...extra });
}

/** A connection to a lab site with lab periods: refresh every 2 s, retry in [1, 3] s. */
export function labConnection(site: LabSite, extra: Partial<ConnectionInput> = {}): ConnectionInput {
  return {
    user: '1001',
    server: `${site.options.host.includes(':') ? `[${site.options.host}]` : site.options.host}:${site.port}`,
    transport: 'udp',
    password: PASSWORD,
    reregisterInSeconds: 2,
    minimumRetrySeconds: 1,
    maximumRetrySeconds: 3,
    ...extra,
  };
}

/** Every numeric field of the transport's stats is zero, and it is closed. */
export function transportIdle(phone: Phone): boolean {
  const stats = phone.transport.stats() as unknown as Record<string, number | boolean>;
  return stats.closed === true && Object.entries(stats).every(([key, value]) => key === 'closed' || value === 0);
}
