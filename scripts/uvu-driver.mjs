// Runs the given test files in one process with uvu, as uvu's own CLI does,
// and writes what happened per file to REPORT (JSON) when the process exits:
// tests that passed, failed and were skipped, as uvu's runner returned them
// (never parsed from its coloured text), and the census of uvu-census.mjs
// (tests registered, .only, .skip, .run() calls), so that scripts/run-tests.mjs
// can tell a file that never ran from a file that passed.
//
//   node --import tsx scripts/uvu-driver.mjs REPORT FILE...
import { writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [reportPath, ...files] = process.argv.slice(2);
if (reportPath === undefined || files.length === 0) {
  console.error('usage: uvu-driver.mjs REPORT FILE...');
  process.exit(2);
}

/** What the process holds before any test (its stdio, for one), left out of the report of what a test left open. */
const atStart = process.getActiveResourcesInfo();
register('./uvu-census-hooks.mjs', import.meta.url);
// uvu waits for exec() instead of running each suite on its own (its CLI mode).
globalThis.UVU_DEFER = 1;
const census = (globalThis.__uvuCensus ??= { current: undefined, files: [] });
const uvu = await import('./uvu-census.mjs');

let finished = false;
let running;
/** Handles still open when the process had to be ended after its last test. */
let lingering;
process.on('exit', (code) => {
  const report = { finished, running, lingering, exitCode: code, files: census.files };
  writeFileSync(reportPath, JSON.stringify(report));
});

for (const [index, file] of files.entries()) {
  const entry = {
    file,
    suites: 0,
    registered: 0,
    only: 0,
    skipped: 0,
    runs: 0,
    total: 0,
    passed: 0,
    skippedTests: 0,
    errors: [],
  };
  census.files.push(entry);
  census.current = entry;
  globalThis.UVU_INDEX = index;
  globalThis.UVU_QUEUE.push([file]);
  try {
    await import(pathToFileURL(resolve(file)).href);
  } catch (error) {
    entry.errors.push(`failed to load: ${error?.stack ?? error}`);
    console.error(`\n${file} failed to load:\n${error?.stack ?? error}`);
  }
  const group = globalThis.UVU_QUEUE[index];
  for (let i = 1; i < group.length; i++) {
    const run = group[i];
    group[i] = async () => {
      running = file;
      try {
        const result = await run();
        const [, passed, skipped, total] = result;
        entry.total += total;
        entry.passed += passed;
        entry.skippedTests += skipped;
        return result;
      } catch (error) {
        // uvu lets an error of an after() hook escape and stop every later file.
        entry.errors.push(`a hook threw: ${error?.stack ?? error}`);
        return [`  a hook threw: ${error?.stack ?? error}\n`, 0, 0, 0];
      }
    };
  }
}
census.current = undefined;

await uvu.exec(false);
running = undefined;
finished = true;

// Every test is done: the process should now exit on its own. One that stays
// up holds a socket, timer or child a test did not close; say which and end
// it, instead of hanging the whole run. RUN_TESTS_LINGER_MS shortens the wait
// for the runner's own test.
const LINGER_MS = Number(process.env.RUN_TESTS_LINGER_MS) || 15_000;
setTimeout(() => {
  lingering = process.getActiveResourcesInfo().filter((kind) => kind !== 'Timeout');
  for (const kind of atStart) {
    const at = lingering.indexOf(kind);
    if (at >= 0) lingering.splice(at, 1);
  }
  console.error(`\nstill running ${LINGER_MS / 1000} s after the last test, holding: ${lingering.join(', ') || 'nothing visible'}`);
  process.exit(1);
}, LINGER_MS).unref();
