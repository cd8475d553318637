/**
 * The Phone's side of the call tests (test/interop/calls-*.test.ts): two
 * Kamailio sites with INVITE authentication, a Phone (DN 1001) with one
 * connection to each, a recorder of its session events that can wait for
 * one, and its SIP trace (phone.onSipMessage) parsed, to assert on the wire.
 */
import type { Test } from 'uvu';
import { parseMessage, type SipMessage } from '../../../src/parser/index.ts';
import { Phone, type ConnectionInput, type PhoneOptions } from '../../../src/sdk/index.ts';
import { EventLog } from '../../integration/event-log.ts';
import { SessionLog } from '../../integration/sdk-support.ts';
import type { Endpoint } from '../../../src/transport/types.ts';
import { DEFAULT_PASSWORD, kamailioMissing, startSite, type KamailioSite } from './kamailio.ts';

export { SessionLog, type SessionChange } from '../../integration/sdk-support.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sites A (127.0.0.1) and B (127.0.0.2), both challenging initial INVITEs with 407. */
export async function startTwoSites(prefix: string): Promise<{ a: KamailioSite; b: KamailioSite }> {
  const missing = kamailioMissing();
  if (missing !== undefined) throw new Error(`Kamailio is needed for these tests: ${missing}`);
  const a = await startSite({ name: `${prefix}-a`, address: '127.0.0.1', callAuth: true });
  const b = await startSite({ name: `${prefix}-b`, address: '127.0.0.2', callAuth: true });
  return { a, b };
}

/** DN 1001's connection to a site (UDP unless extra.transport says tcp), with short retry waits. */
export function connectionTo(site: KamailioSite, extra: Partial<ConnectionInput> = {}): ConnectionInput {
  const transport = extra.transport === 'tcp' ? 'tcp' : 'udp';
  return {
    user: '1001',
    server: `${site.uriHost}:${site.ports[transport]}`,
    transport,
    password: DEFAULT_PASSWORD,
    minimumRetrySeconds: 1,
    maximumRetrySeconds: 2,
    ...extra,
  };
}

export interface Traced {
  readonly at: number;
  readonly direction: 'in' | 'out';
  /** The other side: where it went or where it came from. */
  readonly peer: Endpoint;
  readonly message: SipMessage;
  readonly text: string;
}

/** The phone's SIP trace, parsed (keep-alives excluded). */
export class Wire {
  readonly #log = new EventLog<Traced>((seen) => `${seen.length} messages`);
  /** Everything traced so far, in order. */
  readonly messages: readonly Traced[] = this.#log.entries;
  readonly #off: () => void;
  /** Called synchronously for each message, before the stack handles it (the freeze hook). */
  onMessage: ((traced: Traced) => void) | undefined;

  constructor(phone: Phone) {
    this.#off = phone.onSipMessage((trace) => {
      const message = parseMessage(trace.bytes);
      const traced: Traced = {
        at: performance.now(),
        direction: trace.direction,
        peer: trace.direction === 'out' ? trace.destination : trace.source,
        message,
        text: new TextDecoder().decode(trace.bytes),
      };
      this.onMessage?.(traced);
      this.#log.push(traced);
    });
  }

  stop(): void {
    this.#off();
  }

  /** Messages of one Call-ID (in both directions), in order. */
  call(callId: string | undefined): Traced[] {
    return this.messages.filter((m) => m.message.callId === callId);
  }

  /** Requests we sent / received with this method (retransmissions included). */
  requests(direction: 'in' | 'out', method: string, callId?: string): Traced[] {
    return this.messages.filter((m) => m.direction === direction && m.message.method === method && (callId === undefined || m.message.callId === callId));
  }

  /** Responses with this status to this CSeq method. */
  responses(direction: 'in' | 'out', status: number, cseqMethod: string, callId?: string): Traced[] {
    return this.messages.filter(
      (m) => m.direction === direction && m.message.status === status && m.message.cseq?.method === cseqMethod && (callId === undefined || m.message.callId === callId),
    );
  }

  /** Every call's ladder, one line per Call-ID (for failure messages). */
  summary(): string {
    const ids = [...new Set(this.messages.map((m) => m.message.callId))];
    return ids
      .filter((id) => !this.messages.some((m) => m.message.callId === id && (m.message.method === 'REGISTER' || m.message.cseq?.method === 'REGISTER' || m.message.method === 'OPTIONS')))
      .map((id) => `our side, Call-ID ${id}: ${this.ladder(id).join(', ')}`)
      .join('\n');
  }

  /** "out INVITE", "in 407 INVITE", ... for one Call-ID, retransmissions removed (same start line and CSeq in a row). */
  ladder(callId: string | undefined): string[] {
    const lines: string[] = [];
    const seen = new Set<string>();
    for (const m of this.call(callId)) {
      const what = m.message.kind === 'request' ? m.message.method! : `${m.message.status} ${m.message.cseq?.method ?? ''}`;
      const key = `${m.direction} ${what} ${m.message.cseq?.seq} ${m.message.topVia?.branch ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      lines.push(`${m.direction} ${what}`);
    }
    return lines;
  }

  wait(label: string, match: (m: Traced) => boolean, ms = 5000, since = 0): Promise<Traced> {
    return this.#log.waitFor(`${label} on the wire`, match, ms, since);
  }
}

/**
 * test() whose failures also say what was seen: each `note` registered
 * during the test (our ladders, the peer's) is added to the error message.
 */
export function explained(test: Test): { tested: (name: string, body: () => Promise<void>) => void; note: (what: () => string) => void } {
  let notes: Array<() => string> = [];
  const tested = (name: string, body: () => Promise<void>): void => {
    test(name, async () => {
      notes = [];
      try {
        await body();
      } catch (error) {
        const seen = notes.map((what) => {
          try {
            return what();
          } catch (failure) {
            return String(failure);
          }
        });
        if (error instanceof Error && seen.length > 0) error.message += `\n--- seen ---\n${seen.join('\n')}`;
        throw error;
      }
    });
  };
  return { tested, note: (what) => notes.push(what) };
}

/** The a= direction attribute of an SDP body, or undefined. */
export function direction(m: Traced): string | undefined {
  return /\r?\na=(sendrecv|sendonly|recvonly|inactive)\r?\n/.exec(m.text)?.[1];
}

/** The body of a message (after the blank line). */
export function bodyOf(m: Traced): string {
  const at = m.text.indexOf('\r\n\r\n');
  return at < 0 ? '' : m.text.slice(at + 4);
}

/** The Proxy-Authorization digest params of a request, or undefined. */
export function proxyAuthorization(m: Traced): Map<string, string> | undefined {
  return m.message.proxyAuthorization[0]?.params;
}

/** The site's UDP or TCP listener (the transport's trace names the site as host:port). */
export function isSite(peer: Endpoint, site: KamailioSite): boolean {
  return peer.host === site.address && peer.port === (peer.transport === 'tcp' ? site.ports.tcp : site.ports.udp);
}

/** A phone with connections 0 -> A and 1 -> B, started, both registered. */
export async function registeredPhone(a: KamailioSite, b: KamailioSite, extra: Partial<ConnectionInput> = {}, options: PhoneOptions = {}): Promise<{ phone: Phone; sessions: SessionLog; wire: Wire }> {
  const phone = await Phone.create({ connections: [connectionTo(a, extra), connectionTo(b, extra)] }, options);
  const sessions = new SessionLog(phone);
  const wire = new Wire(phone);
  const registered = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`phone not registered at both sites within 5 s: ${JSON.stringify(phone.connections.connections.map((c) => c.status))}`)), 5000);
    const check = (): void => {
      if (phone.connections.registeredIds().length === 2) {
        clearTimeout(timer);
        off();
        resolve();
      }
    };
    const off = phone.connections.on('connectionStatusChanged', check);
  });
  phone.start();
  try {
    await registered;
  } catch (error) {
    await phone.close();
    throw error;
  }
  return { phone, sessions, wire };
}
