#!/usr/bin/env node
// Runs the *.test.ts files of each named folder (one process per folder,
// optionally under c8) and ends with the line CI reads:
//
//   N passed, N failed, N skipped
//
// The counts come from uvu's runner through scripts/uvu-driver.mjs, not from
// its coloured text. `failed` is the failed tests plus one for each problem
// listed above the line: a named folder that is missing or has no test
// files, a file that fails to load, registers no tests or never runs the
// ones it registers, a test focused with .only, a hook that throws, a test
// process that ends early or stays up after its last test. The run fails
// (exit 1) when `failed` or `skipped` is not 0: a skipped or focused test is
// never committed on purpose, so there is no CI mode; it fails everywhere.
//
//   node scripts/run-tests.mjs [--coverage] FOLDER...
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const coverage = args.includes('--coverage');
const unknown = args.filter((arg) => arg.startsWith('--') && arg !== '--coverage');
if (unknown.length > 0) {
  console.error(`run-tests: unknown option ${unknown.join(' ')}`);
  process.exit(2);
}
const folders = args.filter((arg) => !arg.startsWith('--'));
const driver = fileURLToPath(new URL('./uvu-driver.mjs', import.meta.url));
const bin = (name) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));

/** Test files under dir (any depth), sorted, as paths relative to the working directory. */
function testFiles(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...testFiles(full));
    else if (name.endsWith('.test.ts')) found.push(relative('.', full));
  }
  return found.sort((a, b) => a.localeCompare(b)); // the order uvu's own CLI uses
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

const totals = { passed: 0, failedTests: 0, skipped: 0 };
/** Everything wrong that is not a failed test; each counts as one failure. */
const problems = [];

function runFolder(dir, files) {
  const scratch = mkdtempSync(join(tmpdir(), 'run-tests-'));
  const reportPath = join(scratch, 'report.json');
  const uvu = ['--import', 'tsx', driver, reportPath, ...files];
  const [command, commandArgs] = coverage
    ? [bin('c8'), ['--clean=false', '--reporter=none', '--include=src/**', process.execPath, ...uvu]]
    : [process.execPath, uvu];
  return new Promise((done) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code, signal) => {
      const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : undefined;
      rmSync(scratch, { recursive: true, force: true });
      done(summarise(dir, report, code ?? signal));
    });
  });
}

/** Counts one folder's report; every way it can be wrong becomes a problem. */
function summarise(dir, report, exit) {
  const counts = { passed: 0, failedTests: 0, skipped: 0 };
  const found = [];
  if (report === undefined) {
    found.push(`${dir}: the test process wrote no report (exit ${exit})`);
  } else {
    for (const f of report.files) {
      counts.passed += f.passed;
      counts.failedTests += f.total - f.passed;
      counts.skipped += f.skippedTests;
      const declared = f.registered + f.only;
      for (const error of f.errors) found.push(`${f.file}: ${error.split('\n')[0]}`);
      if (f.errors.length > 0) {
        // Said above; what it registered before failing proves nothing.
      } else if (declared + f.skipped === 0) found.push(`${f.file}: registers no tests`);
      else if (f.runs === 0) found.push(`${f.file}: registers ${plural(declared + f.skipped, 'test')} but never calls .run()`);
      else if (report.finished) {
        // What uvu ran or skipped, less the .skip calls, is every test registered before a .run().
        const lost = declared - (f.total + f.skippedTests - f.skipped);
        if (lost > 0) found.push(`${f.file}: ${plural(lost, 'test')} registered after its last .run() never ran`);
      }
      if (f.only > 0) found.push(`${f.file}: ${plural(f.only, 'test')} focused with .only`);
      if (f.skipped > 0) console.log(`${f.file}: ${f.skipped} skipped with .skip`);
    }
    if (!report.finished) found.push(`${dir}: the test process ended early${report.running ? ` in ${report.running}` : ''} (exit ${exit})`);
    else if (report.lingering) found.push(`${dir}: the test process did not exit after its last test (open: ${report.lingering.join(', ') || 'nothing visible'})`);
    else if (exit !== 0 && counts.failedTests === 0 && found.length === 0) found.push(`${dir}: the test process exited with ${exit}`);
  }
  problems.push(...found);
  console.log(`${dir}: ${counts.passed} passed, ${counts.failedTests + found.length} failed, ${counts.skipped} skipped`);
  return counts;
}

if (folders.length === 0) problems.push('run-tests: no folder named');
if (coverage) rmSync('coverage', { recursive: true, force: true });
let ran = false;
for (const dir of folders) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    problems.push(`${dir}: no such folder`);
    continue;
  }
  const files = testFiles(dir);
  if (files.length === 0) {
    problems.push(`${dir}: no *.test.ts files`);
    continue;
  }
  const counts = await runFolder(dir, files);
  ran = true;
  totals.passed += counts.passed;
  totals.failedTests += counts.failedTests;
  totals.skipped += counts.skipped;
}
for (const problem of problems) console.log(`problem: ${problem}`);
if (coverage && ran) {
  await new Promise((done) => {
    const report = spawn(bin('c8'), ['report', '--reporter=text-summary', '--reporter=text', '--include=src/**'], { stdio: 'inherit' });
    report.on('close', done);
  });
}
const failed = totals.failedTests + problems.length;
console.log(`${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped`);
process.exit(failed === 0 && totals.skipped === 0 ? 0 : 1);
