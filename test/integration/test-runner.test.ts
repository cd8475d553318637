/**
 * scripts/run-tests.mjs, the runner behind `npm test` and `.ci/run`, run on
 * the fixture folders of test/runner (see its README) in a child process.
 *
 * Covers: the last line "N passed, N failed, N skipped" in the form .ci/run
 * reads; counts that survive uvu's colours; a skipped test, a .only (in
 * `test` and in a `suite`), a file without test.run(), a file with no tests,
 * a test registered after test.run(), a file that fails to load, a process
 * left running after its last test, a failing test, a missing folder and an
 * empty folder each failing the run (exit 1)
 * and named in a `problem:` line; folders summed.
 * Not covered: coverage (c8) and the interop folder (npm run test:interop).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = 'test/runner';
/** The pattern .ci/run greps for in each suite's output. */
const CI_LINE = /^[0-9]+ passed, [0-9]+ failed/;

interface Run {
  readonly code: number | null;
  readonly output: string;
  readonly last: string;
  readonly problems: string[];
}

/** Runs the runner on the folders, with colour forced on or off. */
function runner(folders: string[], colour = false): Promise<Run> {
  // A test process left running is ended after 2 s here (15 s by default).
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: colour ? '1' : '0', RUN_TESTS_LINGER_MS: '2000' };
  delete env.NODE_V8_COVERAGE; // the fixtures are not what coverage measures
  if (colour) delete env.NO_COLOR;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/run-tests.mjs', ...folders], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = output.trimEnd().split('\n');
      resolve({ code, output, last: lines.at(-1) ?? '', problems: lines.filter((line) => line.startsWith('problem: ')) });
    });
  });
}

const at = (name: string): string => `${fixtures}/${name}`;

test('all passing: exit 0 and a last line .ci/run reads, skipped count included', async () => {
  const run = await runner([at('passing')]);
  assert.is(run.last, '3 passed, 0 failed, 0 skipped', run.output);
  assert.match(run.last, CI_LINE);
  assert.is(run.code, 0);
  assert.equal(run.problems, []);
});

test('a test.skip is counted as skipped, never as passed, and fails the run', async () => {
  const run = await runner([at('skip')]);
  assert.is(run.last, '1 passed, 0 failed, 1 skipped', run.output);
  assert.is(run.code, 1);
});

test('the counts are the same when uvu colours its output', async () => {
  const run = await runner([at('skip')], true);
  assert.ok(run.output.includes('\u001b['), 'uvu printed colour codes');
  assert.is(run.last, '1 passed, 0 failed, 1 skipped', run.output);
  assert.is(run.code, 1);
});

test('a test.only hiding a failing test: the hidden test is skipped, the .only is a problem, the run fails', async () => {
  const run = await runner([at('only')]);
  assert.is(run.last, '1 passed, 1 failed, 1 skipped', run.output);
  assert.equal(run.problems, ['problem: test/runner/only/only.test.ts: 1 test focused with .only']);
  assert.is(run.code, 1);
});

test('a .only in a suite() fails the run even when it hides nothing', async () => {
  const run = await runner([at('suite-only')]);
  assert.is(run.last, '1 passed, 1 failed, 0 skipped', run.output);
  assert.equal(run.problems, ['problem: test/runner/suite-only/suite-only.test.ts: 1 test focused with .only']);
  assert.is(run.code, 1);
});

test('a file that never calls test.run(), and one with no tests at all, each fail the run', async () => {
  const run = await runner([at('no-run')]);
  assert.is(run.last, '0 passed, 2 failed, 0 skipped', run.output);
  assert.equal(run.problems, [
    'problem: test/runner/no-run/never-run.test.ts: registers 2 tests but never calls .run()',
    'problem: test/runner/no-run/no-tests.test.ts: registers no tests',
  ]);
  assert.is(run.code, 1);
});

test('a test registered after test.run() is reported as never run', async () => {
  const run = await runner([at('late')]);
  assert.is(run.last, '1 passed, 1 failed, 0 skipped', run.output);
  assert.equal(run.problems, ['problem: test/runner/late/late.test.ts: 1 test registered after its last .run() never ran']);
  assert.is(run.code, 1);
});

test('a file that throws while loading fails the run', async () => {
  const run = await runner([at('broken')]);
  assert.is(run.last, '0 passed, 1 failed, 0 skipped', run.output);
  assert.equal(run.problems, ['problem: test/runner/broken/broken.test.ts: failed to load: Error: this file fails to load']);
  assert.is(run.code, 1);
});

test('a test process that stays up after its last test (a server left open) is ended and fails the run', async () => {
  const run = await runner([at('lingering')]);
  assert.is(run.last, '1 passed, 1 failed, 0 skipped', run.output);
  assert.equal(run.problems, ['problem: test/runner/lingering: the test process did not exit after its last test (open: TCPServerWrap)']);
  assert.is(run.code, 1);
});

test('a failing test is counted and fails the run', async () => {
  const run = await runner([at('failing')]);
  assert.is(run.last, '1 passed, 1 failed, 0 skipped', run.output);
  assert.equal(run.problems, []);
  assert.is(run.code, 1);
});

test('a named folder that does not exist fails the run, other folders still count', async () => {
  const run = await runner([at('no-such-folder'), at('passing')]);
  assert.is(run.last, '3 passed, 1 failed, 0 skipped', run.output);
  assert.equal(run.problems, ['problem: test/runner/no-such-folder: no such folder']);
  assert.is(run.code, 1);
});

test('an empty folder fails the run (what test:interop does when its suites are gone)', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'runner-empty-'));
  try {
    const run = await runner([empty]);
    assert.is(run.last, '0 passed, 1 failed, 0 skipped', run.output);
    assert.equal(run.problems, [`problem: ${empty}: no *.test.ts files`]);
    assert.is(run.code, 1);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('no folder named at all fails the run', async () => {
  const run = await runner([]);
  assert.is(run.last, '0 passed, 1 failed, 0 skipped', run.output);
  assert.is(run.code, 1);
});

test('several folders: one line per folder, the last line sums them', async () => {
  const run = await runner([at('passing'), at('failing'), at('skip')]);
  const perFolder = run.output.split('\n').filter((line) => line.startsWith(`${fixtures}/`) && line.includes(' passed, '));
  assert.equal(perFolder, [
    'test/runner/passing: 3 passed, 0 failed, 0 skipped',
    'test/runner/failing: 1 passed, 1 failed, 0 skipped',
    'test/runner/skip: 1 passed, 0 failed, 1 skipped',
  ]);
  assert.is(run.last, '5 passed, 1 failed, 1 skipped');
  assert.is(run.code, 1);
});

test.run();
