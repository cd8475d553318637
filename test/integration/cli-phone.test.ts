/**
 * The phone shell and the QuickStart, run as users run them (tsx
 * src/cli/main.ts, i.e. `npm run --silent cli -- phone ...` and `npm start`),
 * against lab sites on loopback. Covers the JSON event contract, the
 * connection commands, a dial refused by the site (session events), an
 * unknown command, quit and SIGTERM, and the whole QuickStart. Calls in the
 * shell are covered by cli-phone-calls.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabSite } from '../../src/lab/lab-site.ts';
import { until } from './sdk-support.ts';
import { writeConfig } from './cli-support.ts';

const users = { '1001': 'secret' };

function shell(args: string[]): { child: ChildProcessWithoutNullStreams; lines: () => string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines: () => out.split('\n').filter((line) => line !== ''), exited };
}

test('phone --events json: registration events, connections, disable, a dial to an unknown user, an unknown command, quit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-cli-'));
  const a = await LabSite.start({ name: 'a', host: '127.0.0.1', users });
  const b = await LabSite.start({ name: 'b', host: '127.0.0.2', users });
  try {
    const run = shell(['phone', '--config', writeConfig(dir, [['127.0.0.1', a.port, 'udp'], ['127.0.0.2', b.port, 'tcp']]), '--events', 'json']);
    const events = (): Array<Record<string, unknown>> => run.lines().map((line) => JSON.parse(line));
    const registered = (id: number): boolean => events().some((e) => e.event === 'connectionStatusChanged' && e.connectionId === id && e.status === 'registered');
    await until(() => registered(0) && registered(1), 10_000, 'both registered');
    const first = events().find((e) => e.connectionId === 0 && e.status === 'registered')!;
    assert.equal(first, { event: 'connectionStatusChanged', connectionId: 0, status: 'registered', previousStatus: 'registering', code: 200, reason: 'OK' });
    run.child.stdin.write('connections\n');
    await until(() => events().some((e) => e.event === 'connections'), 5000, 'the connections list');
    const list = events().find((e) => e.event === 'connections')!.connections as Array<Record<string, unknown>>;
    assert.equal(list.map((c) => [c.id, c.user, c.transport, c.status]), [[0, '1001', 'udp', 'registered'], [1, '1001', 'tcp', 'registered']]);
    // `expires` is the period granted, `expiresAt` when it runs out: about that period from now.
    for (const c of list) {
      assert.is(typeof c.expires, 'number');
      const left = ((c.expiresAt as number) - Date.now()) / 1000;
      assert.ok(left > (c.expires as number) - 30 && left <= (c.expires as number), `expiresAt ${String(c.expiresAt)} is about ${String(c.expires)} s from now`);
    }
    run.child.stdin.write('disable 1\ndial 0 sip:2000@127.0.0.1\nfrobnicate\nhelp\n');
    await until(() => events().some((e) => e.connectionId === 1 && e.status === 'disabled'), 5000, 'connection 1 disabled');
    await until(() => b.bindings().length === 0, 5000, 'site 1 unregistered');
    await until(() => events().some((e) => e.event === 'error' && e.command === 'frobnicate'), 5000, 'the unknown command refused');
    assert.match(String(events().find((e) => e.command === 'frobnicate')!.message), 'flow [SID], help, quit');
    // `help` keeps the one-JSON-line-per-event contract too (every line above parsed as JSON).
    await until(() => events().some((e) => e.event === 'help'), 5000, 'help as an event');
    assert.ok((events().find((e) => e.event === 'help')!.commands as string[]).includes('dial ID DEST'));
    // The site knows no user 2000: the call ends SipError 404 (no failover: a final answer).
    await until(() => events().some((e) => e.event === 'sessionStatusChanged' && e.status === 'disconnected'), 5000, 'the call ended');
    const call = events().filter((e) => e.event === 'sessionStatusChanged');
    assert.equal(call.map((e) => [e.status, e.previousStatus, e.connectionId, e.direction, e.reason, e.code]), [
      ['dialing', null, 0, 'outbound', undefined, undefined],
      ['disconnected', 'dialing', 0, 'outbound', 'SipError', 404],
    ]);
    assert.is(call[0]!.remote, 'sip:2000@127.0.0.1');
    assert.is(a.bindings().length, 1);
    run.child.stdin.write('quit\n');
    assert.is(await run.exited, 0);
    assert.is(a.bindings().length, 0, 'quit unregisters');
    assert.equal(events().at(-1), { event: 'closed' });
  } finally {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('phone: SIGTERM unregisters and exits 0; a bad config is an error naming the file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-cli-'));
  const a = await LabSite.start({ name: 'a', host: '127.0.0.1', users });
  try {
    const run = shell(['phone', '--config', writeConfig(dir, [['127.0.0.1', a.port, 'udp']])]);
    await until(() => run.lines().some((line) => /connection 0: registering -> registered \(200 OK\)/.test(line)), 10_000, 'registered');
    run.child.kill('SIGTERM');
    assert.is(await run.exited, 0);
    assert.is(a.bindings().length, 0);
    const bad = join(dir, 'bad.config');
    writeFileSync(bad, '<Cfg>\n<Container name="Basic">\n<Connectivity user="1001" server="127.0.0.1:99999"/>\n</Container></Cfg>');
    const broken = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'phone', '--config', bad]);
    let err = '';
    broken.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise((resolve) => broken.on('exit', resolve));
    assert.is(code, 2);
    assert.match(err, /bad\.config:3/);
  } finally {
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm start (the QuickStart) passes every step and exits 0', async () => {
  const run = shell(['quickstart']);
  const code = await run.exited;
  assert.is(code, 0, run.lines().join('\n'));
  assert.ok(run.lines().some((line) => line.includes('QuickStart: all 7 steps happened')));
});

test.run();
