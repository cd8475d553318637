/**
 * The README's SDK example ("Using the SDK") runs as written: its code is
 * read from README.md, pointed at a copy of the bundled config whose sites
 * are on free ports (and its `import` at the sources instead of the built
 * package), and run with tsx against `sip-endpoint sites` on that config.
 * It must exit 0 after the call was connected, held, retrieved and hung up.
 * Guards the README against drifting from the API (a new user's walkthrough
 * found the example failing three ways).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { socketHandles, until } from './sdk-support.ts';
import { freePort } from './cli-support.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLED = 'examples/quickstart/SipEndpoint.config';

function run(args: string[]): { out: () => string; exited: Promise<number | null>; stop: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  // 'close': the exit code once its pipes are closed too.
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { out: () => out, exited, stop: () => child.kill('SIGTERM') };
}

test('the README SDK example runs as written against sip-endpoint sites', async () => {
  const handles = socketHandles();
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const code = /### Using the SDK[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'the example is in the README');
  assert.match(code!, `Phone.fromConfigFile('${BUNDLED}')`);
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-readme-'));
  const [port0, port1] = [await freePort('127.0.0.1'), await freePort('127.0.0.2')];
  const config = readFileSync(join(ROOT, BUNDLED), 'utf8').replace('127.0.0.1:5070', `127.0.0.1:${port0}`).replace('127.0.0.2:5080', `127.0.0.2:${port1}`);
  const configPath = join(dir, 'SipEndpoint.config');
  writeFileSync(configPath, config);
  // .mts: ESM (top-level await) wherever the temp dir is.
  const example = join(dir, 'example.mts');
  writeFileSync(
    example,
    code!
      .replace("from 'sip-endpoint'", `from ${JSON.stringify(join(ROOT, 'src/sdk/index.ts'))}`)
      .replace(`'${BUNDLED}'`, JSON.stringify(configPath))
      .replaceAll('127.0.0.1:5070', `127.0.0.1:${port0}`),
  );
  const sites = run(['src/cli/main.ts', 'sites', '--config', configPath]);
  try {
    await until(() => sites.out().includes('ready:'), 15_000, `sites ready: ${sites.out()}`);
    const script = run([example]);
    const code = await script.exited;
    assert.is(code, 0, script.out());
    for (const change of ['dialing -> ringing', 'ringing -> connected', 'connected -> held', 'held -> connected', 'connected -> disconnected Normal']) {
      assert.match(script.out(), change);
    }
  } finally {
    sites.stop();
    await sites.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  // Sockets and pipes are released a turn after they close: the next file counts them.
  await until(() => socketHandles() <= handles, 2000, 'every socket and pipe released');
});

test.run();
