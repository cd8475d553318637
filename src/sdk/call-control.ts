/**
 * ICallControl (`phone.calls`): dial, answer, reject, hold, retrieve, hangup,
 * sendDtmf. Promises for actions, rejected with CallError; progress and
 * outcome through `phone.sessions` events.
 *
 * Outbound calls go out on the connection the application names, through its
 * site (dial-attempts.ts fails them over to another site). Inbound calls are
 * answered on the connection they came in on (incoming-line.ts). At most one
 * call is active: answering, retrieving or dialling one puts the connected
 * one on hold first (re-INVITE a=sendonly; active-call.ts).
 */
import { DialogLayer, checkDigits, DtmfError, OfferAnswer, type IncomingInvite, type SessionDialog } from '../dialog/index.ts';
import { DigestClient, resolveSettings, contactUri, type RegistrationManager } from '../registrar-client/index.ts';
import { quote, type SipMessage } from '../parser/index.ts';
import type { Clock } from '../transaction/index.ts';
import type { Endpoint, Received, TransportKind } from '../transport/types.ts';
import { ActiveCallRule } from './active-call.ts';
import { CallError } from './call-errors.ts';
import type { ConnectionManager } from './connection-manager.ts';
import type { ConnectionSettings } from './config/index.ts';
import { DialAttempts, type DialLine } from './dial-attempts.ts';
import { lineOfInvite } from './incoming-line.ts';
import type { MediaPort, MediaPortSource } from './media-ports.ts';
import { Session, type DisconnectReason, type SessionProperties } from './session.ts';
import type { SessionManager } from './session-manager.ts';

/** What CallControl needs from the Phone that owns it. */
export interface CallHost {
  readonly dialogs: DialogLayer;
  readonly connections: ConnectionManager;
  readonly registrations: RegistrationManager;
  readonly sessions: SessionManager;
  readonly mediaPorts: MediaPortSource;
  readonly clock: Clock;
  readonly random: () => number;
  /** Our address for messages to `target` (Transport.localEndpoint). */
  localEndpoint(kind: TransportKind, target: Endpoint): Endpoint;
}

/** dial()'s options. */
export interface DialOptions {
  /** Aborts the call: before its INVITE leaves, dial() rejects `aborted`; after, the call is hung up. */
  readonly signal?: AbortSignal;
}

export class CallControl {
  readonly #host: CallHost;
  /** The OfferAnswer of each incoming call's RTP port, until the session takes it. */
  readonly #incomingPorts = new WeakMap<OfferAnswer, MediaPort>();
  #nextId = 1;
  #closed = false;
  /** At most one active call (active-call.ts). */
  readonly #rule: ActiveCallRule;

  /** @internal Built by Phone. */
  constructor(host: CallHost) {
    this.#host = host;
    this.#rule = new ActiveCallRule({
      sessions: host.sessions,
      connections: host.connections,
      clock: host.clock,
      act: (session, action) => this.#act(session.id, action),
      isClosed: () => this.#closed,
    });
    host.dialogs.onInvite = (invite) => this.#onInvite(invite);
  }

  /** @internal The DialogLayer's `mediaFor`: an RTP port bound ahead on the address the INVITE reached. */
  mediaFor(request: SipMessage, received: Received): OfferAnswer | undefined {
    void request;
    const address = this.#rtpAddress(received.source);
    const port = this.#host.mediaPorts.take(address);
    if (port === undefined) return undefined;
    const media = new OfferAnswer({ local: { address: port.address, port: port.port }, random: this.#host.random });
    this.#incomingPorts.set(media, port);
    return media;
  }

  /**
   * Calls `destination` (a user of the connection's domain, user@host, or a
   * SIP URI) from connection `connectionId`, failing over to another
   * registered connection when that site is down. Resolves with the session
   * once the INVITE is on its way (status `dialing`).
   *
   * `options.signal` aborts the call: while dial() still waits for the
   * connected call's hold, it rejects `aborted` and sends nothing, and
   * that call is given back (active-call.ts); once the INVITE is out, the
   * call is hung up.
   */
  async dial(connectionId: number, destination: string, options: DialOptions = {}): Promise<SessionProperties> {
    this.#checkOpen();
    const { signal } = options;
    if (isAborted(signal)) throw aborted('dial');
    const { connections } = this.#host;
    if (!connections.has(connectionId)) throw new CallError('no-connection', `no connection ${connectionId}`);
    const attempts = new DialAttempts(this.#attemptHost(), connectionId, destination);
    const first = attempts.firstLine();
    if (first === undefined) throw new CallError('no-connection', `connection ${connectionId} is not registered and no other connection is`);
    const session = new Session(this.#newId(), 'outbound', first, attempts.remoteVia(first), 'dialing');
    this.#rule.userActed();
    // The connected call goes on hold first; `dialing` means the INVITE leaves now.
    await this.#rule.holdOthers(session, () => !this.#closed, signal);
    this.#checkOpen();
    // It may have aborted during the wait.
    if (isAborted(signal)) throw aborted('dial');
    if (signal !== undefined) {
      // Set before the first event: a listener of `dialing` may abort, and the call may end inside start().
      const onAbort = (): void => {
        if (session.status !== 'disconnected') void this.hangup(session.id).catch(() => undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      session.onFinish = () => signal.removeEventListener('abort', onAbort);
    }
    this.#host.sessions.add(session);
    attempts.start(session);
    return session.properties();
  }

  /** Answers a ringing incoming call on its connection; the connected call, if any, is held first. */
  answer(sessionId: string): Promise<SessionProperties> {
    this.#userActs(sessionId, 'ringing');
    return this.#act(sessionId, async (session) => {
      const invite = session.incoming;
      if (session.direction !== 'inbound' || session.status !== 'ringing' || invite === undefined) throw wrongState(session, 'answer');
      // A caller who hangs up meanwhile: the call held for this one is given back.
      const ringing = (): boolean => session.status === 'ringing' && invite.state === 'proceeding' && !this.#closed;
      await this.#rule.holdOthers(session, ringing);
      this.#checkOpen();
      if (!ringing()) throw wrongState(session, 'answer');
      const settings = this.#settings(session.connectionId);
      const dialog = invite.accept({ contact: this.#contact(session.connectionId, invite.received.source), auth: this.#auth(settings) });
      session.incoming = undefined;
      this.#attach(session, dialog);
      this.#host.sessions.change(session, 'connected');
      return session.properties();
    });
  }

  /** Refuses a ringing incoming call (603 Decline by default, or the status given). */
  reject(sessionId: string, status = 603): Promise<SessionProperties> {
    return this.#act(sessionId, async (session) => {
      if (session.direction !== 'inbound' || session.status !== 'ringing' || session.incoming === undefined) throw wrongState(session, 'reject');
      session.incoming.reject(status);
      this.#finish(session, 'Rejected', status);
      return session.properties();
    });
  }

  /** Puts a connected call on hold (re-INVITE a=sendonly). */
  hold(sessionId: string): Promise<SessionProperties> {
    return this.#act(sessionId, async (session) => {
      if (session.status !== 'connected' || session.dialog === undefined) throw wrongState(session, 'hold');
      await this.#reinvite(session, true);
      this.#host.sessions.change(session, 'held');
      return session.properties();
    });
  }

  /** Takes a held call back (re-INVITE a=sendrecv); the connected one, if any, is held first. */
  retrieve(sessionId: string): Promise<SessionProperties> {
    this.#userActs(sessionId, 'held');
    return this.#act(sessionId, async (session) => {
      if (session.status !== 'held' || session.dialog === undefined) throw wrongState(session, 'retrieve');
      await this.#rule.holdOthers(session, () => session.status === 'held' && !this.#closed);
      await this.#reinvite(session, false);
      this.#rule.yieldTo(session);
      this.#host.sessions.change(session, 'connected');
      return session.properties();
    });
  }

  /** Ends a call: CANCEL while dialing or ringing out, 603 for an unanswered incoming one, BYE once answered. */
  hangup(sessionId: string): Promise<SessionProperties> {
    let session: Session;
    try {
      session = this.#get(sessionId);
    } catch (error) {
      return Promise.reject(error);
    }
    if (session.direction === 'outbound' && (session.status === 'dialing' || session.status === 'ringing')) {
      session.outgoing?.cancel();
      this.#finish(session, 'Cancelled', undefined);
      return Promise.resolve(session.properties());
    }
    if (session.direction === 'inbound' && session.status === 'ringing') return this.reject(sessionId, 603);
    // Not queued behind a hold or retrieve in progress (one unanswered would keep it 64*T1): the BYE
    // goes now (s15 allows it while a re-INVITE is pending), and that re-INVITE is abandoned.
    const dialog = session.dialog;
    if (this.#closed) return Promise.reject(new CallError('closed', 'the phone is closed'));
    if (dialog === undefined || session.status === 'disconnected') return Promise.reject(wrongState(session, 'hang up'));
    this.#finish(session, 'Normal', undefined);
    return dialog.bye().then(() => session.properties());
  }

  /** Sends DTMF digits (0-9, *, #, A-D) one INFO each (application/dtmf-relay). */
  sendDtmf(sessionId: string, digits: string): Promise<SessionProperties> {
    let checked: string;
    try {
      checked = checkDigits(digits);
    } catch (error) {
      return Promise.reject(new CallError('invalid-argument', (error as DtmfError).message));
    }
    return this.#act(sessionId, async (session) => {
      if ((session.status !== 'connected' && session.status !== 'held') || session.dialog === undefined) throw wrongState(session, 'send DTMF on');
      for (const digit of checked) {
        const result = await session.dialog.sendDtmf(digit);
        if (result.status < 200 || result.status >= 300) throw requestFailed(`the INFO for DTMF ${digit}`, result, this.#closed);
      }
      return session.properties();
    });
  }

  /** @internal Phone.close(): every call ends (BYE, CANCEL, 480), every port is freed. */
  close(): void {
    this.#closed = true;
    for (const session of this.#host.sessions.all()) this.#finish(session, 'Normal', undefined);
  }

  // ----------------------------------------------------------------- inbound

  #onInvite(invite: IncomingInvite): void {
    const port = this.#incomingPorts.get(invite.media);
    const connectionId = lineOfInvite(invite.request, invite.received, this.#host.connections);
    if (connectionId === undefined || this.#closed) {
      // An INVITE for no enabled connection of ours: 404 (issue 12).
      invite.reject(404);
      port?.release();
      return;
    }
    const remote = invite.request.from?.uri.toString() ?? 'unknown';
    const session = new Session(this.#newId(), 'inbound', connectionId, remote, 'ringing');
    session.incoming = invite;
    session.media = port;
    invite.events.onEnded = (why) => {
      const reason: DisconnectReason = why === 'cancelled' ? 'Cancelled' : why === 'expired' ? 'NoAnswer' : why === 'closed' ? 'Normal' : 'SipError';
      this.#finish(session, reason, why === 'transport-error' ? 503 : undefined);
    };
    invite.ring({ contact: this.#contact(connectionId, invite.received.source) });
    this.#host.sessions.add(session);
  }

  // ---------------------------------------------------------------- helpers

  /** Runs an action on a session after the ones already queued on it; rejects with CallError. */
  #act<T>(sessionId: string, action: (session: Session) => Promise<T>): Promise<T> {
    let session: Session;
    try {
      this.#checkOpen();
      session = this.#get(sessionId);
    } catch (error) {
      return Promise.reject(error);
    }
    const run = session.busy.then(() => action(session));
    session.busy = run.catch(() => undefined);
    return run;
  }

  /** An answer or retrieve of a session in the status it needs counts as the user's next action (at call time: a give-back queued before it yields). */
  #userActs(sessionId: string, status: Session['status']): void {
    if (this.#host.sessions.get(sessionId)?.status === status) this.#rule.userActed();
  }

  #get(sessionId: string): Session {
    const session = this.#host.sessions.get(sessionId);
    if (session === undefined) throw new CallError('no-such-session', `no session ${JSON.stringify(sessionId)}`);
    return session;
  }

  async #reinvite(session: Session, hold: boolean): Promise<void> {
    const result = await session.dialog!.reinvite(hold);
    if (!result.ok) throw requestFailed(`the re-INVITE to ${hold ? 'hold' : 'retrieve'}`, result, this.#closed);
  }

  /** Follows an answered dialog until it ends; the call connects next (answer, or an outbound 2xx). */
  #attach(session: Session, dialog: SessionDialog): void {
    this.#rule.yieldTo(session);
    session.dialog = dialog;
    session.remoteHold = dialog.media.media?.remoteHold ?? false;
    dialog.events = {
      onMedia: (media) => {
        const remoteHold = media?.remoteHold ?? false;
        if (remoteHold === session.remoteHold) return;
        session.remoteHold = remoteHold;
        this.#host.sessions.emit('remoteHoldChanged', { sessionId: session.id, connectionId: session.connectionId, remoteHold });
      },
      onInfo: (info) => {
        if (info.dtmf !== undefined) this.#host.sessions.emit('dtmfReceived', { sessionId: session.id, digit: info.dtmf.digit });
      },
      onTerminated: (termination) => {
        if (termination.cause === 'bye' || termination.cause === 'closed') return this.#finish(session, 'Normal', undefined);
        this.#finish(session, 'SipError', termination.code ?? 500);
        // The site timed out: a request of ours through it got no response at all (not the far end's 408, nor a missing ACK).
        const hop = dialog.dialog.nextHop.host;
        if (termination.unanswered === true && hop != null && this.#host.connections.isServerAddress(session.connectionId, hop)) {
          this.#host.registrations.siteDown(session.connectionId, termination.code ?? 408, `call ${session.id}: ${termination.reason ?? 'no response'}`);
        }
      },
    };
  }

  /** The session is over: one disconnected event, its port freed, its INVITE or dialog ended. */
  #finish(session: Session, reason: DisconnectReason, code: number | undefined): void {
    if (session.status === 'disconnected') return;
    const { incoming, dialog, outgoing } = session;
    this.#host.sessions.change(session, 'disconnected', reason, code);
    session.onFinish?.();
    session.media?.release();
    if (incoming !== undefined && incoming.state === 'proceeding') incoming.reject(480);
    if (outgoing !== undefined && outgoing.state !== 'ended') outgoing.cancel();
    if (dialog !== undefined && dialog.state === 'confirmed' && reason !== 'Normal') void dialog.bye();
    else if (dialog !== undefined && dialog.state === 'confirmed' && this.#closed) void dialog.bye();
  }

  #attemptHost() {
    return {
      dialogs: this.#host.dialogs,
      connections: this.#host.connections,
      clock: this.#host.clock,
      line: (id: number): DialLine => this.#line(id),
      allocateMedia: (address: string) => this.#host.mediaPorts.allocate(address),
      newMedia: (port: MediaPort) => new OfferAnswer({ local: { address: port.address, port: port.port }, random: this.#host.random }),
      siteDown: (id: number, code: number, reason: string) => this.#host.registrations.siteDown(id, code, reason),
      sessions: this.#host.sessions,
      attach: (session: Session, dialog: SessionDialog) => this.#attach(session, dialog),
      finish: (session: Session, reason: DisconnectReason, code: number | undefined) => this.#finish(session, reason, code),
    };
  }

  /** What an INVITE on connection `id` needs: its site, From, Contact, credentials. */
  #line(id: number): DialLine {
    const settings = this.#settings(id);
    const server: Endpoint = { transport: settings.transport, host: settings.server.host, port: settings.server.port };
    const display = settings.displayName === undefined ? '' : `${quote(settings.displayName)} `;
    return {
      id,
      server,
      domain: settings.domain,
      from: `${display}<sip:${settings.user}@${settings.domain}>`,
      contact: this.#contact(id, server),
      auth: this.#auth(settings),
      rport: settings.useRport,
      failoverTimeoutMs: settings.dialFailoverTimeoutMs,
      rtpAddress: this.#rtpAddress(server),
    };
  }

  #settings(id: number): ConnectionSettings {
    const settings = this.#host.connections.settingsOf(id);
    if (settings === undefined) throw new CallError('no-connection', `no connection ${id}`);
    return settings;
  }

  /** Our Contact on connection `id` toward `target`: the registered one, `line=` token included. */
  #contact(id: number, target: Endpoint): string {
    const settings = this.#settings(id);
    const resolved = resolveSettings({ ...settings, line: this.#host.connections.lineOf(id) ?? '' });
    const local = this.#host.localEndpoint(settings.transport, { ...target, transport: settings.transport });
    return `<${contactUri(resolved, local)}>`;
  }

  #auth(settings: ConnectionSettings): DigestClient {
    return new DigestClient(
      settings.password === undefined ? undefined : { username: settings.authUsername, password: settings.password },
      this.#host.random,
    );
  }

  #rtpAddress(toward: Endpoint): string {
    return this.#host.localEndpoint('udp', { ...toward, transport: 'udp' }).host;
  }

  #newId(): string {
    return `s${this.#nextId++}`;
  }

  #checkOpen(): void {
    if (this.#closed) throw new CallError('closed', 'the phone is closed');
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function aborted(action: string): CallError {
  return new CallError('aborted', `${action} aborted by its signal`);
}

function wrongState(session: Session, action: string): CallError {
  return new CallError('wrong-state', `cannot ${action} session ${session.id}: it is ${session.status}`);
}

/** A re-INVITE or INFO that did not succeed, as the CallError its action rejects with: a peer's answer is `refused`, none `no-response`, our own state `wrong-state`. */
function requestFailed(what: string, failure: { readonly status: number; readonly reason: string; readonly cause: string }, closed: boolean): CallError {
  if (closed) return new CallError('closed', `the phone closed before ${what} was answered`);
  switch (failure.cause) {
    case 'response':
      return new CallError('refused', `${what} was answered ${failure.status} ${failure.reason}`, failure.status);
    case 'timeout':
      return new CallError('no-response', `${what} got no answer (${failure.status} ${failure.reason})`, failure.status);
    case 'transportError':
      return new CallError('no-response', `${what} could not reach the peer (${failure.status}: ${failure.reason})`, failure.status);
    case 'unsendable':
      // No target to send it to (503), or the dialog is over (0).
      return failure.status === 0
        ? new CallError('wrong-state', `${what} was not sent: ${failure.reason}`)
        : new CallError('no-response', `${what} could not be sent (${failure.status}: ${failure.reason})`, failure.status);
    case 'ended':
      return new CallError('wrong-state', `${what} was not completed: the call ended (${failure.reason})`);
    default:
      // Our own state forbade it now (another INVITE in progress: 491; no offer possible: 500).
      return new CallError('wrong-state', `${what} was not sent: ${failure.reason}`);
  }
}
