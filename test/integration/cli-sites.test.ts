/**
 * `sip-endpoint sites`, run as users run it (tsx src/cli/main.ts): the lab
 * sites of a config and the answering party 1002 come up, a Phone of 1001
 * registers at both and its call to 1002 is answered; SIGTERM stops it all
 * with exit 0. A port already taken: exit 1, named. Not covered: the lab
 * site itself (lab-site.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Phone } from '../../src/sdk/index.ts';
import { until } from './sdk-support.ts';
import { freePort, writeConfig } from './cli-support.ts';

function sites(config: string): { out: () => string; err: () => string; exited: Promise<number | null>; stop: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sites', '--config', config]);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { out: () => out, err: () => err, exited, stop: () => child.kill('SIGTERM') };
}

test('sites: both lab sites and 1002 come up; a Phone registers at both and its call to 1002 is answered; SIGTERM exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-sites-'));
  const servers: Array<[string, number, string]> = [['127.0.0.1', await freePort('127.0.0.1'), 'udp'], ['127.0.0.2', await freePort('127.0.0.2'), 'tcp']];
  const config = writeConfig(dir, servers);
  const run = sites(config);
  let phone: Phone | undefined;
  let passed = false;
  try {
    await until(() => run.out().includes('ready:'), 15_000, `sites ready (stdout: ${run.out()} stderr: ${run.err()})`);
    assert.match(run.out(), `site 0: lab registrar + proxy on 127.0.0.1:${servers[0]![1]}`);
    assert.match(run.out(), `answering party 1002: 127.0.0.1:${servers[0]![1]} registered, 127.0.0.2:${servers[1]![1]} registered`);
    phone = await Phone.fromConfigFile(config);
    const started = await phone.start();
    assert.equal(started.map((c) => c.status), ['registered', 'registered']);
    let connected = false;
    phone.sessions.on('sessionStatusChanged', (e) => (connected ||= e.status === 'connected'));
    const call = await phone.calls.dial(1, '1002');
    await until(() => connected, 10_000, 'the call to 1002 answered');
    await phone.calls.hangup(call.id);
    passed = true;
  } finally {
    await phone?.close();
    run.stop();
    const code = await run.exited;
    rmSync(dir, { recursive: true, force: true });
    // Only once the steps above passed: a failure there is the one to report, not the exit code it causes.
    if (passed) assert.is(code, 0, `exit code (stderr: ${run.err()})`);
  }
  assert.match(run.out(), 'stopping');
});

test('sites: a port already taken is named, exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-sites-'));
  const taken = createSocket('udp4');
  taken.bind(0, '127.0.0.1');
  await once(taken, 'listening');
  try {
    const run = sites(writeConfig(dir, [['127.0.0.1', taken.address().port, 'udp']]));
    assert.is(await run.exited, 1);
    assert.match(run.err(), /^sites: .*EADDRINUSE/m);
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
