/**
 * The linter CLI contract of DESIGN.md, run as users run it:
 * `npm run --silent cli -- lint --json FILE...` (here: tsx src/cli/main.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

const corpus = 'test/fixtures/conformance/rfc4475';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('lint --json prints one JSON line per file with the contract fields', () => {
  const files = ['valid/esc01.dat', 'invalid/badvers.dat', 'semantic/bext01.dat', 'valid/unreason.dat', 'invalid/baddate.dat'];
  const run = cli(['lint', '--json', ...files.map((file) => `${corpus}/${file}`)]);
  // Exit 1: badvers and baddate are rejected (issue 13: lint tells scripts, as sipsak does).
  assert.is(run.status, 1, run.stderr);
  const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.is(lines.length, files.length);
  const [esc01, badvers, bext01, unreason, baddate] = lines;
  assert.equal(
    {
      verdict: esc01.verdict,
      kind: esc01.kind,
      method: esc01.method,
      requestUri: esc01.requestUri,
      callId: esc01.callId,
      cseq: esc01.cseq,
      via: esc01.via,
      contentLength: esc01.contentLength,
      bodyLength: esc01.bodyLength,
      uasAnswer: esc01.uasAnswer,
    },
    {
      verdict: 'accept',
      kind: 'request',
      method: 'INVITE',
      requestUri: { scheme: 'sip', user: 'sips%3Auser%40example.com', host: 'example.net', port: null },
      callId: 'esc01.239409asdfakjkn23onasd0-3234',
      cseq: { seq: 234234, method: 'INVITE' },
      via: [{ transport: 'UDP', host: 'host5.example.net', port: null, branch: 'z9hG4bKkdjuw', received: null, rport: null }],
      contentLength: 150,
      bodyLength: 150,
      uasAnswer: null,
    },
  );
  assert.is(badvers.verdict, 'reject');
  assert.is(badvers.status, 505);
  assert.is(badvers.uasAnswer, 505);
  assert.is(bext01.uasAnswer, 420);
  assert.is(unreason.kind, 'response');
  assert.is(unreason.statusCode, 200);
  assert.is(unreason.uasAnswer, null);
  // Date is parsed lazily; the linter's verdict covers it.
  assert.is(baddate.verdict, 'reject');
  assert.match(baddate.reason, /date/i);
});

test('lint without --json prints a readable line per file', () => {
  const run = cli(['lint', `${corpus}/invalid/badvers.dat`, `${corpus}/semantic/invut.dat`]);
  assert.is(run.status, 1, 'one rejected message');
  assert.match(run.stdout, /^REJECT .*badvers\.dat: 505 /m);
  assert.match(run.stdout, /^ACCEPT .*invut\.dat: INVITE .*UAS answers 415/m);
});

test('lint reports unreadable files and usage errors with a non-zero exit', () => {
  assert.is(cli(['lint', '--json', `${corpus}/nope.dat`]).status, 1);
  assert.is(cli(['lint']).status, 2);
  assert.is(cli(['frobnicate']).status, 2);
});

test('the conformance table agrees with RFC 4475 on all 49 messages', () => {
  const run = cli(['conformance']);
  assert.is(run.status, 0, run.stdout.slice(-2000));
  assert.match(run.stdout, /49\/49 verdicts as RFC 4475 describes/);
});

test.run();
