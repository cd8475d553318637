/**
 * `cli phone --config FILE [--events json]`: the softphone shell of the
 * DESIGN.md contract. Commands on stdin, one a line: connections, enable ID,
 * disable ID, remove ID, dial ID DEST, answer SID, reject SID, hold SID,
 * retrieve SID, hangup SID, dtmf SID DIGITS, sessions, quit. Call actions
 * run in the background: their outcome shows as session events (an error
 * event when one is refused). Events on stdout: one JSON object a line with --events json, else a
 * readable line. quit, end of input, SIGINT and SIGTERM unregister and exit.
 */
import { createInterface } from 'node:readline';
import { ConfigError, Phone, type ConnectionInfo, type ConnectionStatusChanged, type SessionStatusChanged } from '../sdk/index.ts';

export interface ShellOptions {
  configPath: string;
  json: boolean;
}

export function parseShellArgs(args: string[]): ShellOptions | string {
  let configPath: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--config') configPath = args[++i];
    else if (arg === '--events') {
      const value = args[++i];
      if (value !== 'json' && value !== 'text') return `--events takes json or text, got ${String(value)}`;
      json = value === 'json';
    } else return `unknown argument ${arg}`;
  }
  if (configPath === undefined) return 'usage: cli phone --config FILE [--events json]';
  return { configPath, json };
}

export async function runPhoneShell(args: string[]): Promise<number> {
  const options = parseShellArgs(args);
  if (typeof options === 'string') {
    process.stderr.write(`${options}\n`);
    return 2;
  }
  const out = (event: Record<string, unknown>, text: string): void => {
    process.stdout.write(`${options.json ? JSON.stringify(event) : text}\n`);
  };
  let phone: Phone;
  try {
    phone = await Phone.fromConfigFile(options.configPath);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `cannot start the phone: ${(error as Error).message}`;
    process.stderr.write(`${message}\n`);
    return 2;
  }
  phone.connections.on('connectionStatusChanged', (event) => out({ event: 'connectionStatusChanged', ...event }, describeChange(event)));
  phone.sessions.on('sessionStatusChanged', (event) => out({ event: 'sessionStatusChanged', ...event }, describeSession(event)));
  phone.sessions.on('dtmfReceived', (event) => out({ event: 'dtmfReceived', ...event }, `session ${event.sessionId}: DTMF ${event.digit} received`));
  phone.start();

  let closing: Promise<number> | undefined;
  const quit = (): Promise<number> =>
    (closing ??= phone.close().then(() => {
      out({ event: 'closed' }, 'phone closed: every connection unregistered');
      return 0;
    }));
  const lines = createInterface({ input: process.stdin, terminal: false });
  // A signal ends the command loop; the code after it unregisters and exits.
  const onSignal = (): void => lines.close();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  for await (const line of lines) {
    const [command, ...rest] = line.trim().split(/\s+/);
    if (command === undefined || command === '') continue;
    if (command === 'quit' || command === 'exit') break;
    try {
      runCommand(phone, command, rest, out);
    } catch (error) {
      out({ event: 'error', command, message: (error as Error).message }, `error: ${(error as Error).message}`);
    }
    if (closing !== undefined) break;
  }
  lines.close();
  // Stop reading stdin so that the process can exit.
  process.stdin.destroy();
  const code = await quit();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
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
      throw new Error(`unknown command ${command} (connections, enable ID, disable ID, remove ID, dial ID DEST, answer SID, reject SID, hold SID, retrieve SID, hangup SID, dtmf SID DIGITS, sessions, quit)`);
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
    lastCode: c.lastCode ?? null,
    lastReason: c.lastReason ?? null,
  };
}

export function describeConnection(c: ConnectionInfo): string {
  const last = c.lastCode === undefined ? '' : `, last ${c.lastCode} ${c.lastReason ?? ''}`.trimEnd();
  const expires = c.registrationExpires === undefined ? '' : `, expires in ${c.registrationExpires} s`;
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
