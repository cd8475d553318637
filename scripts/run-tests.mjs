#!/usr/bin/env node
// Runs uvu over the given test folders (optionally under c8) and ends with the
// line "N passed, N failed" that CI reads; uvu's own summary is not enough.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const coverage = args.includes('--coverage');
// --allow-empty: a suite that has no tests yet reports 0 passed, 0 failed instead of failing.
const allowEmpty = args.includes('--allow-empty');
const folders = args.filter((arg) => !arg.startsWith('--')).filter((dir) => existsSync(dir));

const hasTests = (dir) =>
  readdirSync(dir).some((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? hasTests(full) : /\.test\.ts$/.test(name);
  });

let passed = 0;
let failed = 0;
let skipped = 0;

function runFolder(dir) {
  const uvu = ['--import', 'tsx', 'node_modules/uvu/bin.js', dir, '\\.test\\.ts$'];
  const command = coverage ? 'node_modules/.bin/c8' : process.execPath;
  const commandArgs = coverage
    ? ['--clean=false', '--reporter=none', '--include=src/**', process.execPath, ...uvu]
    : uvu;
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; process.stdout.write(chunk); });
    child.on('close', (code) => {
      const total = /Total:\s+(\d+)/.exec(out);
      const ok = /Passed:\s+(\d+)/.exec(out);
      const skip = /Skipped:\s+(\d+)/.exec(out);
      if (!total || !ok) {
        // The folder crashed before uvu could summarise: count it as a failure.
        failed += 1;
        console.error(`test run of ${dir} ended without a summary (exit ${code})`);
      } else {
        passed += Number(ok[1]);
        skipped += Number(skip ? skip[1] : 0);
        failed += Number(total[1]) - Number(ok[1]);
        if (code !== 0 && Number(total[1]) === Number(ok[1])) failed += 1;
      }
      resolve();
    });
  });
}

if (coverage) {
  const { rmSync } = await import('node:fs');
  rmSync('coverage', { recursive: true, force: true });
}
for (const dir of folders) if (hasTests(dir)) await runFolder(dir);
if (coverage && passed + failed > 0) {
  await new Promise((resolve) => {
    const report = spawn('node_modules/.bin/c8', ['report', '--reporter=text-summary', '--reporter=text', '--include=src/**'], { stdio: 'inherit' });
    report.on('close', resolve);
  });
}
if (passed + failed === 0 && !allowEmpty) {
  console.error('no tests were run');
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
