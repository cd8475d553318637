/**
 * The core (`sip-endpoint/core`: parser, transactions, registrar client,
 * dialogs) in a bare JavaScript engine: test/quickjs/scenario.ts is bundled
 * with esbuild (platform neutral, so a `node:` import fails the build) and
 * run inside QuickJS (quickjs-emscripten, WebAssembly from node_modules), whose
 * global object has no TextDecoder, TextEncoder, crypto, queueMicrotask,
 * setTimeout, performance or console. No polyfill is added; the randomness
 * and the clock are injected by the scenario, as an embedder would.
 *
 * Covers: every RFC 3665 / RFC 3261 s24 message and two with UTF-8 text
 * parsed (strict verdict and lenient), serialized and parsed again; a
 * client non-INVITE transaction over UDP retransmitted on Timer E and
 * ended by Timer F's 408 at 64*T1 on the fake clock; a registration that is
 * challenged (401 digest) and registered against an in-memory registrar;
 * the clear error naming the `random` option when there is neither Web
 * Crypto nor an injected source. Each result is compared with the same
 * scenario run in Node, where the runtime's TextDecoder/TextEncoder are used.
 * Not covered: the transports and the SDK (they need Node).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { getQuickJS, shouldInterruptAfterDeadline, type QuickJSContext } from 'quickjs-emscripten';
import * as inNode from '../quickjs/scenario.ts';
import type { MessageInput } from '../quickjs/scenario.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const corpus = join(root, 'test/fixtures/conformance/rfc3665');

function sipFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sipFiles(path);
      return name.endsWith('.sip') ? [path] : [];
    });
}

const utf8 = new TextEncoder();
const inputs: MessageInput[] = [
  ...sipFiles(corpus).map((path) => ({ name: relative(corpus, path), bytes: [...readFileSync(path)] })),
  // Non-ASCII text, so that the fallback decoders are used for more than the ASCII check.
  { name: 'utf8-invite', bytes: [...utf8.encode(utf8Invite())] },
  // Bytes that are not UTF-8 in a header value (read as Latin-1, one char per byte).
  { name: 'latin1-header', bytes: [...utf8.encode('OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-l1\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: l1\r\nCSeq: 1 OPTIONS\r\nSubject: x'), 0xe9, 0xff, 0x0d, 0x0a, 0x0d, 0x0a] },
];

function utf8Invite(): string {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=Gespr\u00e4ch\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n';
  return (
    'INVITE sip:j%C3%A4ger@example.com SIP/2.0\r\n' +
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-utf8-1\r\n' +
    'Max-Forwards: 70\r\n' +
    'From: "J\u00e4ger \u65e5\u672c \ud83d\ude00" <sip:alice@example.com>;tag=a1\r\n' +
    'To: <sip:j%C3%A4ger@example.com>\r\n' +
    'Call-ID: utf8-1@192.0.2.10\r\n' +
    'CSeq: 1 INVITE\r\n' +
    'Subject: caf\u00e9\r\n' +
    'Content-Type: application/sdp\r\n' +
    `Content-Length: ${utf8.encode(sdp).length}\r\n` +
    '\r\n' +
    sdp
  );
}

let vm: QuickJSContext;
let bundleText = '';
let bundleInputs: Array<{ path: string; external: string[] }> = [];

/** Runs `scenario.NAME(ARGS)` in QuickJS and returns its result (JSON round trip). */
function inQuickJs(call: string): unknown {
  const result = vm.evalCode(`JSON.stringify(${call})`);
  const json = vm.dump(vm.unwrapResult(result)) as string;
  // Promise jobs (none expected) would run here; the scenario needs none.
  vm.runtime.executePendingJobs();
  return JSON.parse(json) as unknown;
}

test.before(async () => {
  const bundle = await build({
    entryPoints: [join(root, 'test/quickjs/scenario.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'scenario',
    platform: 'neutral',
    absWorkingDir: root,
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  bundleText = bundle.outputFiles[0]!.text;
  bundleInputs = Object.entries(bundle.metafile.inputs).map(([path, input]) => ({ path, external: input.imports.filter((i) => i.external).map((i) => i.path) }));
  const QuickJS = await getQuickJS();
  vm = QuickJS.newContext();
  vm.runtime.setMemoryLimit(256 * 1024 * 1024);
  vm.runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + 60_000));
  vm.unwrapResult(vm.evalCode(bundleText, 'core-bundle.js')).dispose();
});

test.after(() => {
  vm?.dispose();
});

test('the bundle holds the core only: no node: module, no package, no polyfill', () => {
  // platform 'neutral' fails the build on a node: import; nothing may be left external either.
  assert.equal(bundleInputs.flatMap((input) => input.external), []);
  const outside = bundleInputs.map((input) => input.path).filter((path) => !/^(src\/(parser|transaction|registrar-client|dialog|core|errors)\/|src\/transport\/(types|own-via|addresses|target|response-target|raw-headers)\.ts$|test\/quickjs\/)/.test(path));
  assert.equal(outside, [], 'only core layers (and the transport contract files they use) are bundled');
  assert.ok(bundleInputs.length > 80, `${bundleInputs.length} files bundled`);
  // The engine really lacks what the fallbacks stand in for.
  assert.equal(inQuickJs('[typeof TextDecoder, typeof TextEncoder, typeof crypto, typeof queueMicrotask, typeof setTimeout]'), [
    'undefined',
    'undefined',
    'undefined',
    'undefined',
    'undefined',
  ]);
});

test('RFC 3665 messages: parsed, serialized and parsed again in QuickJS as in Node', () => {
  const quick = inQuickJs(`scenario.messages(${JSON.stringify(inputs)})`) as Array<Record<string, unknown>>;
  const node = JSON.parse(JSON.stringify(inNode.messages(inputs))) as Array<Record<string, unknown>>;
  assert.is(quick.length, 29);
  assert.equal(quick, node);
  for (const result of quick) assert.ok(result['roundTrip'], `${String(result['name'])} keeps its meaning through serialize + parse`);
  // The RFC printed no SDP for six s24.2 messages: strict parsing rejects them.
  const rejected = quick.filter((r) => r['strict'] !== 'accept').map((r) => [r['name'], (r['strict'] as { status: number }).status]);
  assert.equal(rejected, ['F01-INVITE', 'F03-INVITE', 'F05-INVITE', 'F09-200-OK', 'F10-200-OK', 'F11-200-OK'].map((name) => [`rfc3261-24.2-session-setup/${name}.sip`, 400]));
  const invite = quick.find((r) => r['name'] === 'utf8-invite')!;
  const meaning = invite['meaning'] as { from: { displayName: string }; uri: string };
  assert.is(meaning.from.displayName, 'J\u00e4ger \u65e5\u672c \ud83d\ude00');
  assert.equal(invite['sdp'], { sessionName: 'Gespr\u00e4ch', origin: '-', media: ['audio 49170'] });
  const latin1 = quick.find((r) => r['name'] === 'latin1-header')!;
  assert.ok(JSON.stringify(latin1['meaning']).includes('subject'));
});

test('a client non-INVITE transaction times out with 408 at 64*T1 on the fake clock (Timer E, Timer F)', () => {
  const quick = inQuickJs('scenario.nonInviteTimeout()') as Record<string, unknown>;
  const node = inNode.nonInviteTimeout() as Record<string, unknown>;
  assert.equal(quick['outcomes'], ['timeout 408']);
  assert.is(quick['outcomeAt'], 32_000);
  // RFC 3261 s17.1.2.2: E doubles from T1 to T2 (4 s), then every T2, until F.
  assert.equal(quick['sentAt'], [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.is(quick['live'], 0);
  assert.is(quick['timers'], 0);
  assert.equal({ ...quick, withoutRandom: null }, { ...node, withoutRandom: null });
  // Without Web Crypto and without an injected `random`, the error names the option.
  assert.match(String(quick['withoutRandom']), /^MissingRandomSourceError: .*`random` option/);
  assert.is(node['withoutRandom'], 'constructed');
});

test('a registration is challenged with digest and registered against an in-memory registrar', () => {
  const quick = inQuickJs('scenario.registration()') as Record<string, unknown>;
  assert.equal(quick['checks'], ['no credentials: 401', 'digest response verified: 200']);
  assert.equal(quick['events'], ['disabled -> registering (undefined undefined)', 'registering -> registered (200 OK)']);
  assert.is(quick['status'], 'registered');
  assert.is(quick['expires'], 3600);
  assert.equal(quick, JSON.parse(JSON.stringify(inNode.registration())));
});

test.run();
