/**
 * Dial failover (issue 12, DESIGN.md "SDK"): the INVITEs of one outbound
 * call, one connection after another, until one site takes the call.
 *
 * (a) The chosen connection is unavailable, failed or disabled: the INVITE
 *     goes out at once on another registered connection (lowest id first).
 * (b) The INVITE fails before any provisional with 408, 503 or a transport
 *     error: the failed connection is reported to the registration scheduler
 *     (`unavailable`, retried), and the call is sent again through the next
 *     registered connection: same destination, new Call-ID and tags.
 * (c) No provisional within the connection's dial_failover_timeout (a proxy
 *     answers 100 Trying within 200 ms, RFC 3261 s16.2): as (b), with 408;
 *     the silent attempt is cancelled (its CANCEL goes when its first
 *     provisional comes; a late 2xx is ACKed and BYEd), so the callee never
 *     sees two live calls.
 * Any provisional commits the call to that site: 486, 603, 404 and every
 * other final answer end the call there. With no connection left the call
 * ends `SipError` with the last code.
 */
import type { DialogLayer, InviteFailure, OutgoingInvite, SessionDialog } from '../dialog/index.ts';
import type { OfferAnswer } from '../dialog/index.ts';
import type { Clock, TimerHandle } from '../transaction/index.ts';
import type { Endpoint } from '../transport/types.ts';
import type { Authenticator } from '../dialog/index.ts';
import { parseDestination } from './destination.ts';
import type { ConnectionManager } from './connection-manager.ts';
import type { MediaPort } from './media-ports.ts';
import type { DisconnectReason, Session } from './session.ts';
import type { SessionManager } from './session-manager.ts';

/** What an INVITE on one connection needs. */
export interface DialLine {
  readonly id: number;
  readonly server: Endpoint;
  readonly domain: string;
  readonly from: string;
  readonly contact: string;
  readonly auth: Authenticator;
  readonly rport: boolean;
  readonly failoverTimeoutMs: number;
  readonly rtpAddress: string;
}

export interface AttemptHost {
  readonly dialogs: DialogLayer;
  readonly connections: ConnectionManager;
  readonly clock: Clock;
  readonly sessions: SessionManager;
  line(id: number): DialLine;
  allocateMedia(address: string): Promise<MediaPort>;
  newMedia(port: MediaPort): OfferAnswer;
  siteDown(id: number, code: number, reason: string): void;
  attach(session: Session, dialog: SessionDialog): void;
  finish(session: Session, reason: DisconnectReason, code: number | undefined): void;
}

/** Statuses that, before any provisional, mean the site (not the callee) failed. */
const SITE_FAILURES = new Set([408, 503]);

export class DialAttempts {
  readonly remote: string;
  readonly #host: AttemptHost;
  readonly #chosen: number;
  readonly #destination: string;
  readonly #tried = new Set<number>();
  #session: Session | undefined;
  #lastCode = 503;
  #lastReason = 'no connection could place the call';

  constructor(host: AttemptHost, chosen: number, destination: string) {
    this.#host = host;
    this.#chosen = chosen;
    this.#destination = destination;
    // Checked now, so that dial() rejects a bad destination before any event.
    this.remote = parseDestination(destination, host.line(chosen).domain).uri.toString();
  }

  /** The connection the first INVITE goes out on: the chosen one if usable, else the lowest registered one. */
  firstLine(): number | undefined {
    return this.#next();
  }

  /** The remote party as reached through connection `id` (a bare user takes that connection's domain). */
  remoteVia(id: number): string {
    return parseDestination(this.#destination, this.#host.line(id).domain).uri.toString();
  }

  start(session: Session): void {
    this.#session = session;
    void this.#attempt();
  }

  #next(): number | undefined {
    const { connections } = this.#host;
    if (!this.#tried.has(this.#chosen) && connections.isUsable(this.#chosen)) return this.#chosen;
    return connections.ids().find((id) => !this.#tried.has(id) && connections.isUsable(id));
  }

  async #attempt(): Promise<void> {
    const session = this.#session!;
    if (session.status === 'disconnected') return;
    const id = this.#next();
    if (id === undefined) return this.#host.finish(session, 'SipError', this.#lastCode);
    // For sessionFailedOver: the connection that failed, and why (moveOn may change these before the event).
    const previous = session.tried.at(-1);
    const failedCode = this.#lastCode;
    const failedReason = this.#lastReason;
    this.#tried.add(id);
    session.tried.push(id);
    session.connectionId = id;
    const line = this.#host.line(id);
    let port: MediaPort;
    try {
      port = await this.#host.allocateMedia(line.rtpAddress);
    } catch (error) {
      return this.#host.finish(session, 'SipError', 500);
    }
    // The await above may have seen the call hung up.
    if (isOver(session)) return port.release();
    session.media?.release();
    session.media = port;
    const destination = parseDestination(this.#destination, line.domain);
    session.remote = destination.uri.toString();
    let committed = false;
    let abandoned = false;
    let timer: TimerHandle | undefined;
    const moveOn = (code: number, reason: string): void => {
      this.#lastCode = code;
      this.#lastReason = reason;
      this.#host.siteDown(id, code, reason);
      void this.#attempt();
    };
    let call: OutgoingInvite;
    try {
      call = this.#host.dialogs.invite(
        {
          requestUri: destination.uri.toString(),
          from: line.from,
          to: destination.to,
          contact: line.contact,
          nextHop: line.server,
          media: this.#host.newMedia(port),
          auth: line.auth,
          rport: line.rport,
        },
        {
          onProvisional: (info) => {
            if (abandoned || session.status === 'disconnected') return;
            committed = true;
            this.#host.clock.clearTimer(timer);
            if (info.status > 100 && session.status === 'dialing') this.#host.sessions.change(session, 'ringing');
          },
          onAnswered: (dialog) => {
            this.#host.clock.clearTimer(timer);
            if (abandoned || session.status === 'disconnected') {
              // Hung up or moved on while the 2xx was on its way: end this call.
              void dialog.bye();
              return;
            }
            session.outgoing = undefined;
            this.#host.attach(session, dialog);
            this.#host.sessions.change(session, 'connected');
          },
          onFailed: (failure) => {
            this.#host.clock.clearTimer(timer);
            if (abandoned || session.status === 'disconnected') return;
            session.outgoing = undefined;
            if (!committed && isSiteFailure(failure)) return moveOn(failure.status, failure.reason);
            const [reason, code] = disconnectReason(failure);
            this.#host.finish(session, reason, code);
          },
        },
      );
    } catch (error) {
      return moveOn(503, `the INVITE could not be sent: ${(error as Error).message}`);
    }
    session.outgoing = call;
    // The INVITE is out on the new connection: the session's properties already name it.
    if (previous !== undefined) {
      this.#host.sessions.emit('sessionFailedOver', { sessionId: session.id, fromConnectionId: previous, toConnectionId: id, code: failedCode, reason: failedReason });
    }
    timer = this.#host.clock.setTimer(line.failoverTimeoutMs, () => {
      timer = undefined;
      if (committed || abandoned || session.status === 'disconnected' || call.state === 'ended') return;
      // (c) a silent site: cancel this attempt (CANCEL after its first provisional, ACK+BYE a late 2xx).
      abandoned = true;
      call.cancel();
      moveOn(408, `no provisional answer to the INVITE within ${line.failoverTimeoutMs} ms`);
    });
  }
}

function isOver(session: Session): boolean {
  return session.status === 'disconnected';
}

function isSiteFailure(failure: InviteFailure): boolean {
  if (failure.cause === 'timeout' || failure.cause === 'transportError' || failure.cause === 'unsendable') return true;
  return failure.cause === 'response' && SITE_FAILURES.has(failure.status);
}

/** A final answer as the application's disconnect reason. */
function disconnectReason(failure: InviteFailure): [DisconnectReason, number | undefined] {
  if (failure.cause === 'cancelled' || failure.status === 487) return ['Cancelled', failure.status];
  switch (failure.status) {
    case 486:
    case 600:
      return ['Busy', failure.status];
    case 603:
      return ['Rejected', failure.status];
    case 408:
      // A 408 *response* after the call was ringing: nobody answered in the proxy's time.
      return failure.cause === 'response' ? ['NoAnswer', failure.status] : ['SipError', failure.status];
    default:
      return ['SipError', failure.status];
  }
}
