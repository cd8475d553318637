/**
 * The command line behaves like the tools people know (issue 13): help and
 * version on stdout with exit 0, unknown commands and options named with exit
 * 2, lint reading `-` and exiting 1 on a rejected message, a closed output
 * pipe ending quietly, and the phone shell's --trace, --pcap, `flow`, `help`
 * and config warnings. Run as users run it: node src/cli/main.ts via tsx.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabSite } from '../../src/lab/lab-site.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== undefined) child.stdin.end(stdin);
  });
}

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

test('--help, -h, help, help COMMAND and COMMAND --help: stdout, exit 0', async () => {
  for (const args of [['--help'], ['-h'], ['help'], []]) {
    const run = await cli(args);
    assert.is(run.code, 0, args.join(' '));
    assert.match(run.stdout, /^usage: sip-endpoint COMMAND/);
    assert.is(run.stderr, '');
  }
  for (const command of ['phone', 'lint', 'conformance', 'quickstart']) {
    for (const args of [['help', command], [command, '--help'], [command, '-h']]) {
      const run = await cli(args);
      assert.is(run.code, 0, args.join(' '));
      assert.match(run.stdout, new RegExp(`^usage: sip-endpoint ${command}`));
    }
  }
});

test('--version prints the package version', async () => {
  const run = await cli(['--version']);
  assert.equal([run.code, run.stdout], [0, `${version}\n`]);
});

test('an unknown command or option is named on stderr, exit 2', async () => {
  const unknown = await cli(['frobnicate']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const option = await cli(['lint', '--colour', 'x.sip']);
  assert.is(option.code, 2);
  assert.match(option.stderr, /--colour/);
  const phone = await cli(['phone', '--config']);
  assert.is(phone.code, 2);
  assert.match(phone.stderr, /--config/);
  assert.is((await cli(['help', 'nosuch'])).code, 2);
});

test('lint: - reads stdin; exit 0 when all accepted, 1 when one is rejected', async () => {
  const good = readFileSync('test/fixtures/conformance/rfc4475/valid/wsinv.dat', 'latin1');
  const ok = await cli(['lint', '--json', '-'], good);
  assert.is(ok.code, 0);
  assert.is(JSON.parse(ok.stdout).verdict, 'accept');
  const mixed = await cli(['lint', 'test/fixtures/conformance/rfc4475/valid/wsinv.dat', 'test/fixtures/conformance/rfc4475/invalid/badvers.dat']);
  assert.is(mixed.code, 1);
  assert.is(mixed.stdout.trim().split('\n').length, 2, 'every file is still reported');
});

test('a closed output pipe ends quietly (conformance | head -1)', async () => {
  const run = await new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'conformance']);
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', (chunk: Buffer) => {
      stdout = chunk.toString().split('\n')[0]!;
      child.stdout.destroy();
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  assert.match(run.stdout, /RFC 4475/);
  assert.is(run.stderr, '', 'no EPIPE stack');
  assert.is(run.code, 0);
});

test('phone: a misspelt setting is refused naming the one meant; an unknown one is a warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-cli-'));
  try {
    const file = (settings: string): string => {
      const path = join(dir, `c${Math.random().toString(36).slice(2)}.config`);
      writeFileSync(path, `<Cfg><Container name="Basic"><Connectivity user="1001" server="127.0.0.1:9"/></Container><Container name="Genesys"><domain name="proxies"><section name="proxy0">${settings}</section></domain></Container></Cfg>`);
      return path;
    };
    const misspelt = await cli(['phone', '--config', file('<setting name="pasword" value="x"/>')], 'quit\n');
    assert.is(misspelt.code, 2);
    assert.match(misspelt.stderr, /"pasword".*"password"/);
    const unknown = await cli(['phone', '--config', file('<setting name="codec_priority" value="pcmu"/>')], 'quit\n');
    assert.is(unknown.code, 0);
    assert.match(unknown.stderr, /warning: .*unknown setting "codec_priority"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('phone: --trace prints the SIP messages, --pcap writes them, flow draws the registration ladder, help lists commands', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-cli-'));
  const site = await LabSite.start({ name: 'a', host: '127.0.0.1', users: { '1001': 'secret' } });
  try {
    const config = join(dir, 'SipEndpoint.config');
    writeFileSync(config, `<Cfg><Container name="Basic"><Connectivity user="1001" server="127.0.0.1:${site.port}"/></Container><Container name="Genesys"><domain name="proxies"><section name="proxy0"><setting name="password" value="secret"/></section></domain></Container></Cfg>`);
    const pcap = join(dir, 'run.pcap');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'phone', '--config', config, '--trace', '--pcap', pcap]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!stdout.includes('registered') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    child.stdin.write('flow\nhelp\nquit\n');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.is(code, 0);
    assert.match(stderr, /sent UDP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ \(\d+ bytes\)\nREGISTER sip:127\.0\.0\.1:\d+ SIP\/2\.0/);
    assert.match(stderr, /received UDP .*\nSIP\/2\.0 401/);
    assert.match(stdout, /REGISTER sip:127\.0\.0\.1:\d+ -+->\|/, 'a ladder line for the REGISTER');
    assert.match(stdout, /\|<- 200 OK \(REGISTER\)/);
    assert.match(stdout, /commands:\n  connections/);
    const bytes = readFileSync(pcap);
    assert.is(bytes.readUInt32LE(0), 0xa1b2c3d4, 'pcap magic');
    assert.is(bytes.readUInt32LE(20), 101, 'LINKTYPE_RAW');
    const first = bytes.readUInt32LE(24 + 8);
    const packet = bytes.subarray(40, 40 + first);
    assert.is(packet[0]! >> 4, 4, 'an IPv4 packet');
    assert.is(packet[9], 17, 'UDP');
    assert.match(packet.subarray(28).toString('latin1'), /^REGISTER /);
  } finally {
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
