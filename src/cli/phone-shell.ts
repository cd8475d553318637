/**
 * `sip-endpoint phone --config FILE [--events json] [--trace] [--pcap FILE] [--tls-ca FILE]`: the softphone shell of the
 * DESIGN.md contract. Commands on stdin, one a line: connections, enable ID,
 * disable ID, remove ID, dial ID DEST, answer SID, reject SID, hold SID,
 * retrieve SID, hangup SID, dtmf SID DIGITS, sessions, quit. Call actions
 * run in the background: their outcome shows as session events (an error
 * event when one is refused). Events on stdout: one JSON object a line with --events json, else a
 * readable line. quit, end of input, SIGINT and SIGTERM unregister and exit.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { createInterface } from 'node:readline';
import { ConfigError, Phone, type ConnectionInfo, type ConnectionStatusChanged, type SessionStatusChanged, type SipMessageTrace } from '../sdk/index.ts';
import { parseMessage } from '../parser/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { ladder } from './ladder.ts';
import { PcapWriter } from './pcap.ts';

export const PHONE_HELP = `usage: sip-endpoint phone --config FILE [--events json] [--trace] [--pcap FILE] [--tls-ca FILE]

The softphone shell: registers every <Connectivity> of the SipEndpoint.config
(connection ids 0, 1, ... in file order) and reads commands, one a line.
  --config FILE    the SipEndpoint.config
  --events json    every event as one JSON line on stdout (default: text)
  --trace          print every SIP message sent and received (stderr)
  --pcap FILE      write every SIP message to a pcap file (Wireshark, sngrep)
  --tls-ca FILE    also trust the CA certificates in this PEM file for TLS sites (beside Node's bundled roots)

commands:
  connections               the connections and their status
  enable ID | disable ID | remove ID
  dial ID DEST              call DEST (user, user@host or SIP URI) from connection ID
  answer SID | reject SID | hangup SID
  hold SID | retrieve SID   hold / take back a call (one call is active at a time)
  dtmf SID DIGITS           send DTMF (0-9 * # A-D) as SIP INFO
  sessions                  the live calls
  flow [SID]                ladder diagram of a call's messages (no SID: the registrations)
  help                      this list
  quit                      unregister and exit (also end of input, SIGINT, SIGTERM)
`;

/** Every command of the shell, as the unknown-command error and the JSON `help` event list them. */
const COMMAND_LIST = ['connections', 'enable ID', 'disable ID', 'remove ID', 'dial ID DEST', 'answer SID', 'reject SID', 'hold SID', 'retrieve SID', 'hangup SID', 'dtmf SID DIGITS', 'sessions', 'flow [SID]', 'help', 'quit'];

export interface ShellOptions {
  configPath: string;
  json: boolean;
  trace: boolean;
  pcap: string | undefined;
  tlsCa: string | undefined;
}

export function parseShellArgs(args: string[]): ShellOptions {
  const { values } = parseCommandArgs(
    'phone',
    args,
    { config: { type: 'string' }, events: { type: 'string' }, trace: { type: 'boolean' }, pcap: { type: 'string' }, 'tls-ca': { type: 'string' } },
    false,
  );
  if (values.config === undefined) throw new UsageError('phone: --config FILE is required');
  if (values.events !== undefined && values.events !== 'json' && values.events !== 'text') {
    throw new UsageError(`phone: --events takes json or text, got "${values.events}"`);
  }
  return { configPath: values.config, json: values.events === 'json', trace: values.trace === true, pcap: values.pcap, tlsCa: values['tls-ca'] };
}

/** Messages kept for `flow` (the oldest are dropped). */
const MAX_KEPT_MESSAGES = 5000;

export async function runPhoneShell(args: string[]): Promise<number> {
  const options = parseShellArgs(args);
  const out = (event: Record<string, unknown>, text: string): void => {
    process.stdout.write(`${options.json ? JSON.stringify(event) : text}\n`);
  };
  let phone: Phone;
  let ca: string | undefined;
  try {
    ca = options.tlsCa === undefined ? undefined : readFileSync(options.tlsCa, 'utf8');
  } catch (error) {
    process.stderr.write(`phone: cannot read --tls-ca ${options.tlsCa}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return 2;
  }
  try {
    // Added to Node's bundled roots (and NODE_EXTRA_CA_CERTS, which a `ca` option would otherwise
    // hide), not instead of them: sites with public certificates keep working.
    phone = await Phone.fromConfigFile(options.configPath, ca === undefined ? {} : { tls: { ca: [...rootCertificates, ...extraCaCerts(), ca] } });
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `cannot start the phone: ${(error as Error).message}`;
    process.stderr.write(`${message}\n`);
    return 2;
  }
  for (const warning of phone.configWarnings) process.stderr.write(`warning: ${warning}\n`);
  const kept: SipMessageTrace[] = [];
  const pcap = options.pcap === undefined ? undefined : new PcapWriter(options.pcap);
  phone.onSipMessage((trace) => {
    kept.push(trace);
    if (kept.length > MAX_KEPT_MESSAGES) kept.shift();
    pcap?.write(trace);
    if (options.trace) process.stderr.write(formatTrace(trace));
  });
  phone.connections.on('connectionStatusChanged', (event) => out({ event: 'connectionStatusChanged', ...event }, describeChange(event)));
  phone.sessions.on('sessionStatusChanged', (event) => out({ event: 'sessionStatusChanged', ...event }, describeSession(event)));
  phone.sessions.on('dtmfReceived', (event) => out({ event: 'dtmfReceived', ...event }, `session ${event.sessionId}: DTMF ${event.digit} received`));
  phone.sessions.on('sessionFailedOver', (event) =>
    out({ event: 'sessionFailedOver', ...event }, `session ${event.sessionId}: connection ${event.fromConnectionId} failed (${event.code} ${event.reason}), trying connection ${event.toConnectionId}`),
  );
  phone.sessions.on('remoteHoldChanged', (event) =>
    out({ event: 'remoteHoldChanged', ...event }, `session ${event.sessionId}: the far end ${event.remoteHold ? 'holds the call' : 'took the call back'}`),
  );
  phone.start();

  let closing: Promise<number> | undefined;
  const quit = (): Promise<number> =>
    (closing ??= phone.close().then(() => {
      pcap?.close();
      out({ event: 'closed' }, 'phone closed: every connection unregistered');
      return 0;
    }));
  // A terminal gets a prompt, line editing and history; a script on a pipe sees none.
  const interactive = process.stdin.isTTY === true;
  const lines = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive, historySize: 200 });
  if (interactive) {
    process.stdout.write('sip-endpoint phone shell: `help` lists the commands\n');
    lines.setPrompt('sip-endpoint> ');
    lines.prompt();
  }
  // A signal ends the command loop; the code after it unregisters and exits.
  const onSignal = (): void => lines.close();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  for await (const line of lines) {
    const [command, ...rest] = line.trim().split(/\s+/);
    if (command !== undefined && command !== '') {
      if (command === 'quit' || command === 'exit') break;
      try {
        if (command === 'help') {
          const text = PHONE_HELP.slice(PHONE_HELP.indexOf('commands:'));
          out({ event: 'help', commands: COMMAND_LIST, text }, text.trimEnd());
        }
        else if (command === 'flow') showFlow(phone, kept, rest[0], out);
        else runCommand(phone, command, rest, out);
      } catch (error) {
        out({ event: 'error', command, message: (error as Error).message }, `error: ${(error as Error).message}`);
      }
      if (closing !== undefined) break;
    }
    if (interactive) lines.prompt();
  }
  lines.close();
  // Stop reading stdin so that the process can exit.
  process.stdin.destroy();
  const code = await quit();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}

/** One message of --trace, as baresip -s prints them: time, direction, transport, addresses, the message. */
export function formatTrace(trace: SipMessageTrace): string {
  const time = new Date(trace.time).toISOString().slice(11, 23);
  const from = `${bracket(trace.source.host)}:${trace.source.port}`;
  const to = `${bracket(trace.destination.host)}:${trace.destination.port}`;
  const arrow = trace.direction === 'out' ? 'sent' : 'received';
  const text = new TextDecoder().decode(trace.bytes).replace(/\r\n/g, '\n');
  return `${time} ${arrow} ${trace.transport.toUpperCase()} ${from} -> ${to} (${trace.bytes.length} bytes)\n${text}${text.endsWith('\n') ? '' : '\n'}\n`;
}

function bracket(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `flow SID`: the ladder of the session's Call-ID; `flow`: the REGISTERs and their answers. */
function showFlow(phone: Phone, kept: readonly SipMessageTrace[], sessionId: string | undefined, out: Out): void {
  let match: (callId: string | undefined, method: string | undefined) => boolean;
  if (sessionId === undefined) {
    match = (_callId, method) => method === 'REGISTER';
  } else {
    const session = phone.sessions.session(sessionId);
    if (session === undefined) throw new Error(`no live session ${sessionId} (flow shows live calls)`);
    match = (callId) => callId !== undefined && callId === session.callId;
  }
  const selected = kept.filter((trace) => {
    try {
      const message = parseMessage(trace.bytes);
      return match(message.callId, message.cseq?.method);
    } catch {
      return false;
    }
  });
  const diagram = ladder(selected);
  out({ event: 'flow', sessionId: sessionId ?? null, messages: selected.length, diagram }, diagram);
}

type Out = (event: Record<string, unknown>, text: string) => void;

function runCommand(phone: Phone, command: string, args: string[], out: Out): void {
  const id = (): number => {
    const value = Number(args[0]);
    if (args[0] === undefined || !Number.isInteger(value)) throw new Error(`${command} needs a connection id`);
    return value;
  };
  const sid = (): string => {
    if (args[0] === undefined) throw new Error(`${command} needs a session id (see sessions)`);
    return args[0];
  };
  // Call actions settle later: a refusal is reported as an error event, success by the session events.
  const background = (action: Promise<unknown>): void => {
    action.catch((error: Error & { code?: string }) => out({ event: 'error', command, code: error.code, message: error.message }, `error: ${command}: ${error.message}`));
  };
  switch (command) {
    case 'connections': {
      const list = phone.connections.connections.map(connectionJson);
      out({ event: 'connections', connections: list }, phone.connections.connections.map(describeConnection).join('\n') || 'no connections');
      return;
    }
    case 'enable':
      phone.connections.enableConnection(id());
      return;
    case 'disable':
      phone.connections.disableConnection(id());
      return;
    case 'remove': {
      const removed = id();
      phone.connections.removeConnection(removed);
      out({ event: 'connectionRemoved', connectionId: removed }, `connection ${removed} removed`);
      return;
    }
    case 'dial': {
      if (args[1] === undefined) throw new Error('usage: dial ID DESTINATION');
      return background(phone.calls.dial(id(), args.slice(1).join(' ')));
    }
    case 'answer':
      return background(phone.calls.answer(sid()));
    case 'reject':
      return background(phone.calls.reject(sid()));
    case 'hold':
      return background(phone.calls.hold(sid()));
    case 'retrieve':
      return background(phone.calls.retrieve(sid()));
    case 'hangup':
      return background(phone.calls.hangup(sid()));
    case 'dtmf': {
      if (args[1] === undefined) throw new Error('usage: dtmf SID DIGITS');
      return background(phone.calls.sendDtmf(sid(), args[1]));
    }
    case 'sessions': {
      const list = phone.sessions.sessions;
      out({ event: 'sessions', sessions: list }, list.map((s) => `session ${s.id}: ${s.direction} ${s.remote} on connection ${s.connectionID} ${s.status}`).join('\n') || 'no sessions');
      return;
    }
    default:
      throw new Error(`unknown command ${command} (${COMMAND_LIST.join(', ')})`);
  }
}

function connectionJson(c: ConnectionInfo): Record<string, unknown> {
  return {
    id: c.id,
    user: c.user,
    server: c.server,
    transport: c.transport,
    status: c.status,
    enabled: c.enabled,
    expires: c.registrationExpires ?? null,
    expiresAt: c.registrationExpiresAt ?? null,
    lastCode: c.lastCode ?? null,
    lastReason: c.lastReason ?? null,
  };
}

export function describeConnection(c: ConnectionInfo): string {
  const last = c.lastCode === undefined ? '' : `, last ${c.lastCode} ${c.lastReason ?? ''}`.trimEnd();
  // `registrationExpires` is the period granted; the time left comes from registrationExpiresAt.
  const left = c.registrationExpiresAt === undefined ? '' : `, runs out in ${Math.max(0, Math.round((c.registrationExpiresAt - Date.now()) / 1000))} s`;
  const expires = c.registrationExpires === undefined ? '' : `, granted ${c.registrationExpires} s${left}`;
  return `connection ${c.id}: ${c.user}@${c.server} ${c.transport.toUpperCase()} ${c.status}${expires}${last}`;
}

export function describeSession(e: SessionStatusChanged): string {
  const why = e.status === 'disconnected' ? ` (${e.reason ?? 'Normal'}${e.code === undefined ? '' : ` ${e.code}`})` : '';
  const from = e.previousStatus === null ? '' : `${e.previousStatus} -> `;
  return `session ${e.sessionId} (${e.direction} ${e.remote}, connection ${e.connectionId}): ${from}${e.status}${why}`;
}

export function describeChange(e: ConnectionStatusChanged): string {
  const why = e.code === undefined ? (e.reason ? ` (${e.reason})` : '') : ` (${e.code}${e.reason ? ` ${e.reason}` : ''})`;
  return `connection ${e.connectionId}: ${e.previousStatus} -> ${e.status}${why}`;
}

/** The PEM file NODE_EXTRA_CA_CERTS names, if any and readable. */
function extraCaCerts(): string[] {
  const file = process.env['NODE_EXTRA_CA_CERTS'];
  if (file === undefined || file === '') return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    return [];
  }
}
