/**
 * The phone shell against a TLS site named by host name (`localhost`), as a
 * user with a private CA runs it: `phone --config FILE --tls-ca CA.pem`.
 * The site's certificate (made for the run by the openssl CLI) names only
 * DNS:localhost, no IP address: registering proves the certificate was
 * checked against the configured name, not the address it resolved to.
 *
 * Covers: --tls-ca trusted -> registered over TLS; without it -> unavailable
 * 503 with ETLS (Node's roots do not know the CA); an unreadable --tls-ca
 * file -> exit 2 naming it. Not covered: TLS details (transport-tls.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabSite } from '../../src/lab/lab-site.ts';
import { until } from './sdk-support.ts';
import { writeConfig } from './cli-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-cli-tls-'));

/** A CA, and a server certificate it signed for DNS:localhost only. */
function makeCertificates(): { caPath: string; cert: string; key: string } {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=cli tls test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  writeFileSync(join(dir, 'site.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n');
  ssl('req', ...ec, '-keyout', 'site.key', '-out', 'site.csr', '-subj', '/CN=localhost');
  ssl('x509', '-req', '-in', 'site.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'site.crt', '-days', '2', '-extfile', 'site.ext');
  return { caPath: join(dir, 'ca.pem'), cert: readFileSync(join(dir, 'site.crt'), 'utf8'), key: readFileSync(join(dir, 'site.key'), 'utf8') };
}

const children: ChildProcess[] = [];

function shell(args: string[]): { lines: () => string[]; err: () => string; stdin: NodeJS.WritableStream; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { lines: () => out.split('\n').filter((line) => line !== ''), err: () => err, stdin: child.stdin, exited };
}

test('phone --tls-ca: a TLS site named localhost, its certificate for that name only, registers; without the CA it is unavailable (ETLS); an unreadable CA file is exit 2', async () => {
  const { caPath, cert, key } = makeCertificates();
  const site = await LabSite.start({ name: 'tls', host: '127.0.0.1', users: { '1001': 'secret' }, transports: ['tls'], transport: { tls: { cert, key } } });
  try {
    const config = writeConfig(dir, [['localhost', site.port, 'tls']]);
    const trusted = shell(['phone', '--config', config, '--events', 'json', '--tls-ca', caPath]);
    const events = (): Array<Record<string, unknown>> => trusted.lines().map((line) => JSON.parse(line));
    await until(() => events().some((e) => e.status === 'registered' || e.status === 'unavailable'), 15_000, 'an outcome');
    assert.ok(events().some((e) => e.status === 'registered'), `${JSON.stringify(events())} ${trusted.err()}`);
    assert.is(site.bindings().length, 1);
    assert.is(site.bindings()[0]!.source.transport, 'tls');
    trusted.stdin.write('quit\n');
    assert.is(await trusted.exited, 0);

    const untrusted = shell(['phone', '--config', config, '--events', 'json']);
    const failed = (): Array<Record<string, unknown>> => untrusted.lines().map((line) => JSON.parse(line));
    await until(() => failed().some((e) => e.status === 'unavailable'), 15_000, 'unavailable without the CA');
    const unavailable = failed().find((e) => e.status === 'unavailable')!;
    assert.is(unavailable.code, 503);
    assert.match(String(unavailable.reason), /ETLS/);
    untrusted.stdin.write('quit\n');
    assert.is(await untrusted.exited, 0);

    const missing = shell(['phone', '--config', config, '--tls-ca', join(dir, 'no-such-ca.pem')]);
    assert.is(await missing.exited, 2);
    assert.match(missing.err(), /cannot read --tls-ca .*no-such-ca\.pem: ENOENT/);
  } finally {
    // A failed assertion must not leave a shell running.
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
