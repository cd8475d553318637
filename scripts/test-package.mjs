#!/usr/bin/env node
// The package as users get it (`npm run test:package`): `npm pack` (which
// builds dist/ through prepack), the tarball installed into a fresh project
// in a temporary folder, then, in plain `node` (no tsx):
//   - import `sip-endpoint`, `sip-endpoint/parser` and `sip-endpoint/core`,
//     parse a message, run a transaction on the FakeClock, create and close
//     a Phone; a deep import of an unexported file is refused;
//   - `npx sip-endpoint --version`, `lint` and `conformance`;
//   - a TypeScript consumer (test/package/consumer.ts) compiled with
//     `tsc --strict --exactOptionalPropertyTypes --noEmit`, skipLibCheck
//     false, under moduleResolution nodenext and bundler: 0 errors, the
//     package's .d.ts in the program; test/package/misuse.ts must fail;
//   - the tarball: no tests, benchmarks, CI or scripts; the files users
//     need; at most MAX_PACKED_BYTES.
// Ends with "N passed, N failed" (exit 1 when any failed). Needs no network:
// the package has no dependencies, and TypeScript and @types/node are the
// project's own (node_modules).
//
//   node scripts/test-package.mjs [--tarball FILE] [--keep]
//
// --tarball checks a tarball made elsewhere instead of packing; --keep
// leaves the temporary project for a look.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Largest tarball accepted (gzip size as npm reports it); 0.1.0 packs to about 520 kB. */
const MAX_PACKED_BYTES = 650_000;

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const tarballArg = args.includes('--tarball') ? args[args.indexOf('--tarball') + 1] : undefined;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'sip-endpoint-package-'));
const project = join(work, 'consumer');

let passed = 0;
let failed = 0;

function check(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(error?.message ?? error).split('\n').join('\n     ')}`);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** Runs a command; returns { status, stdout, stderr } (never throws). */
function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', timeout: 180_000, ...options, env: { ...process.env, npm_config_update_notifier: 'false', ...options.env } });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

function describe(result) {
  return `exit ${result.status}${result.error ? ` (${result.error.message})` : ''}\nstdout: ${result.stdout.slice(-2000)}\nstderr: ${result.stderr.slice(-2000)}`;
}

// 1. Pack (prepack runs `npm run build`).
let tarball;
let packed;
check(tarballArg ? `use ${tarballArg}` : 'npm pack builds dist/ (prepack) and packs', () => {
  if (tarballArg) {
    tarball = tarballArg;
    const listing = run('tar', ['-tzvf', tarball]);
    expect(listing.status === 0, describe(listing));
    const size = readFileSync(tarball).length;
    packed = { filename: basename(tarball), size, files: listing.stdout.trim().split('\n').map((line) => ({ path: line.split(/\s+/).pop().replace(/^package\//, '') })) };
    return;
  }
  const result = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root });
  expect(result.status === 0, describe(result));
  // Lifecycle scripts print to stdout too: the JSON is the last top-level array.
  const start = result.stdout.lastIndexOf('\n[\n');
  const json = start >= 0 ? result.stdout.slice(start + 1) : result.stdout;
  packed = JSON.parse(json)[0];
  tarball = join(work, packed.filename);
});

// 2. What the tarball holds.
check(`tarball: no tests, benchmarks, CI or scripts; at most ${MAX_PACKED_BYTES} bytes`, () => {
  expect(packed !== undefined, 'no tarball');
  const paths = packed.files.map((file) => file.path);
  const corpus = 'test/fixtures/conformance/rfc4475/';
  const forbidden = paths.filter(
    (path) =>
      (path.startsWith('test/') && !path.startsWith(corpus)) ||
      /\.test\.[cm]?[jt]s$/.test(path) ||
      /^(bench|\.ci|scripts|coverage|node_modules|examples\/(?!quickstart\/SipEndpoint\.config$))/.test(path) ||
      /(^|\/)(tsconfig[^/]*\.json|\.gitignore|\.gitattributes|package-lock\.json)$/.test(path),
  );
  expect(forbidden.length === 0, `should not be packed: ${forbidden.join(', ')}`);
  const needed = [
    'package.json',
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
    'dist/sdk/index.js',
    'dist/sdk/index.d.ts',
    'dist/sdk/index.d.ts.map',
    'dist/parser/index.js',
    'dist/parser/index.d.ts',
    'dist/core/index.js',
    'dist/core/index.d.ts',
    'dist/cli/main.js',
    'examples/quickstart/SipEndpoint.config',
    `${corpus}INDEX.tsv`,
  ];
  const missing = needed.filter((path) => !paths.includes(path));
  expect(missing.length === 0, `missing from the tarball: ${missing.join(', ')}`);
  const corpusFiles = paths.filter((path) => path.startsWith(corpus) && path.endsWith('.dat'));
  expect(corpusFiles.length === 49, `RFC 4475 corpus: ${corpusFiles.length} .dat files, expected 49`);
  expect(packed.size <= MAX_PACKED_BYTES, `tarball is ${packed.size} bytes, more than ${MAX_PACKED_BYTES}`);
  console.log(`     ${packed.filename}: ${packed.size} bytes packed${packed.unpackedSize ? `, ${packed.unpackedSize} unpacked` : ''}, ${paths.length} files`);
});

// 3. A fresh project installs it (no network: the package has no dependencies).
check('npm install <tarball> in a fresh project', () => {
  expect(tarball !== undefined, 'no tarball');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`);
  const result = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project });
  expect(result.status === 0, describe(result));
  const installed = JSON.parse(readFileSync(join(project, 'node_modules/sip-endpoint/package.json'), 'utf8'));
  expect(installed.version === pkg.version, `installed ${installed.version}, packed ${pkg.version}`);
});

// 4. Plain node, no tsx: the three entry points.
const smoke = `
import { Phone, CallError } from 'sip-endpoint';
import { parseMessage, serializeMessage } from 'sip-endpoint/parser';
import { FakeClock, TransactionLayer, RegistrationManager, parseSdp } from 'sip-endpoint/core';
const out = { phone: typeof Phone, callError: typeof CallError, manager: typeof RegistrationManager, sdp: typeof parseSdp };
const text = 'REGISTER sip:registrar.biloxi.com SIP/2.0\\r\\nVia: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7\\r\\nMax-Forwards: 70\\r\\nTo: Bob <sip:bob@biloxi.com>\\r\\nFrom: Bob <sip:bob@biloxi.com>;tag=456248\\r\\nCall-ID: 843817637684230@998sdasdh09\\r\\nCSeq: 1826 REGISTER\\r\\nContact: <sip:bob@192.0.2.4>\\r\\nExpires: 7200\\r\\nContent-Length: 0\\r\\n\\r\\n';
const m = parseMessage(new TextEncoder().encode(text));
out.parsed = [m.method, m.topVia.branch, m.from.tag, m.cseq.seq, m.expires];
out.roundTrip = new TextDecoder().decode(serializeMessage(m)) === text;
const clock = new FakeClock();
const sent = [];
const transport = { onReceive: undefined, send: (bytes) => sent.push(clock.now()), isReliable: () => false, localEndpoint: (t) => ({ transport: t, host: '192.0.2.10', port: 5060 }) };
const layer = new TransactionLayer({ transport, clock, user: { onRequest() {} } });
let outcome;
layer.sendRequest({ method: 'OPTIONS', uri: 'sip:192.0.2.1', headers: [['From', '<sip:a@example.com>;tag=1'], ['To', '<sip:192.0.2.1>'], ['Call-ID', 'c1'], ['CSeq', '1 OPTIONS']] }, { transport: 'udp', host: '192.0.2.1', port: 5060 }, { onFinal: (o) => (outcome = o.cause + ' ' + o.status) });
clock.advance(40000);
out.transaction = [outcome, sent.length];
const phone = await Phone.create({ connections: [{ user: '1001', server: '127.0.0.1:5070', transport: 'udp' }] }, { localHost: '127.0.0.1', closeTimeoutMs: 1000 });
out.connections = phone.connections.connections.map((c) => [c.id, c.status]);
await phone.close();
out.closed = true;
try { await import('sip-endpoint/src/sdk/index.ts'); out.deepImport = 'allowed'; } catch (e) { out.deepImport = e.code; }
console.log(JSON.stringify(out));
`;
check("plain node: import 'sip-endpoint', '/parser', '/core'; parse; a transaction to 408; create and close a Phone", () => {
  const result = run(process.execPath, ['--input-type=module', '-e', smoke], { cwd: project, timeout: 60_000 });
  expect(result.status === 0, describe(result));
  const out = JSON.parse(result.stdout.trim().split('\n').pop());
  const expected = {
    phone: 'function',
    callError: 'function',
    manager: 'function',
    sdp: 'function',
    parsed: ['REGISTER', 'z9hG4bKnashds7', '456248', 1826, 7200],
    roundTrip: true,
    transaction: ['timeout 408', 11],
    connections: [[0, 'disabled']],
    closed: true,
    deepImport: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
  };
  expect(JSON.stringify(out) === JSON.stringify(expected), `got ${JSON.stringify(out)}\nexpected ${JSON.stringify(expected)}`);
});

// The README's one-liner.
check("node -e \"import('sip-endpoint').then(m => console.log(typeof m.Phone))\" prints function", () => {
  const result = run(process.execPath, ['-e', "import('sip-endpoint').then(m => console.log(typeof m.Phone))"], { cwd: project });
  expect(result.status === 0 && result.stdout === 'function\n', describe(result));
});

// 5. The command.
check('npx sip-endpoint --version prints the version', () => {
  // Exactly as a user types it (npx finds the installed bin; `npx --no sip-endpoint --version` would print npx's own version).
  const result = run('npx', ['sip-endpoint', '--version'], { cwd: project });
  expect(result.status === 0, describe(result));
  expect(result.stdout.trim() === pkg.version, `printed ${JSON.stringify(result.stdout)}, expected ${pkg.version}`);
});

check('npx sip-endpoint lint: a valid message accepted, a broken one rejected', () => {
  const good = 'OPTIONS sip:carol@chicago.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877\r\nMax-Forwards: 70\r\nTo: <sip:carol@chicago.com>\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710\r\nCSeq: 63104 OPTIONS\r\nContent-Length: 0\r\n\r\n';
  writeFileSync(join(project, 'good.sip'), good);
  writeFileSync(join(project, 'bad.sip'), good.replace('CSeq: 63104 OPTIONS', 'CSeq: x OPTIONS'));
  const ok = run('npx', ['--no', '--', 'sip-endpoint', 'lint', '--json', 'good.sip'], { cwd: project });
  expect(ok.status === 0, describe(ok));
  const okReport = JSON.parse(ok.stdout.trim());
  expect(okReport.verdict === 'accept' && okReport.method === 'OPTIONS', `good.sip: ${ok.stdout}`);
  const bad = run('npx', ['--no', '--', 'sip-endpoint', 'lint', '--json', 'bad.sip'], { cwd: project });
  const badReport = JSON.parse(bad.stdout.trim());
  expect(badReport.verdict === 'reject' && badReport.status === 400, `bad.sip: ${describe(bad)}`);
});

check('npx sip-endpoint conformance reads the bundled RFC 4475 corpus: 49/49', () => {
  const result = run('npx', ['--no', '--', 'sip-endpoint', 'conformance'], { cwd: project });
  expect(result.status === 0, describe(result));
  const last = result.stdout.trim().split('\n').pop();
  expect(last === '49/49 verdicts as RFC 4475 describes', `last line: ${last}`);
});

// 6. A TypeScript consumer against the installed .d.ts files.
const tsc = join(root, 'node_modules/typescript/bin/tsc');
function compile(resolution, file) {
  // @types/node for the SDK's node types (a consumer of a Node SDK has it), TypeScript from this project.
  mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
  try {
    symlinkSync(join(root, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'), 'dir');
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  copyFileSync(join(root, 'test/package', file), join(project, file));
  const module = resolution === 'bundler' ? 'preserve' : 'nodenext';
  const config = `tsconfig.${resolution}.${file}.json`;
  writeFileSync(
    join(project, config),
    JSON.stringify({ compilerOptions: { target: 'es2022', module, moduleResolution: resolution, types: ['node'] }, files: [file] }, null, 2),
  );
  return run(process.execPath, [tsc, '-p', config, '--strict', '--exactOptionalPropertyTypes', '--noEmit', '--skipLibCheck', 'false', '--listFiles', '--pretty', 'false'], { cwd: project });
}

for (const resolution of ['nodenext', 'bundler']) {
  check(`tsc --strict --exactOptionalPropertyTypes --noEmit (skipLibCheck false), moduleResolution ${resolution}: 0 errors`, () => {
    const result = compile(resolution, 'consumer.ts');
    const errors = result.stdout.split('\n').filter((line) => line.includes('error TS'));
    expect(result.status === 0 && errors.length === 0, `${errors.length} errors\n${errors.slice(0, 20).join('\n')}\n${describe(result)}`);
    const files = result.stdout.split('\n').filter((line) => line.includes('/node_modules/sip-endpoint/'));
    expect(files.some((line) => line.endsWith('/dist/sdk/index.d.ts')) && files.some((line) => line.endsWith('/dist/core/index.d.ts')), 'the package .d.ts files are not in the program');
    const sources = files.filter((line) => !line.endsWith('.d.ts'));
    expect(sources.length === 0, `the program compiled package sources: ${sources.slice(0, 3).join(', ')}`);
    console.log(`     ${files.length} .d.ts files of the package checked`);
  });
  check(`moduleResolution ${resolution}: a misuse of the package's types is an error`, () => {
    const result = compile(resolution, 'misuse.ts');
    const codes = result.stdout.split('\n').flatMap((line) => line.match(/error (TS\d+)/)?.[1] ?? []);
    expect(JSON.stringify(codes) === JSON.stringify(['TS2345', 'TS2339', 'TS2339', 'TS2339']), `errors: ${codes.join(', ') || 'none'}\n${describe(result)}`);
  });
}

if (keep) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
