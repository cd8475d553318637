// What a test file gets when it imports 'uvu' under scripts/uvu-driver.mjs
// (uvu-census-hooks.mjs redirects the import here): uvu itself, with `test`
// and every `suite()` counting, for the file being loaded, the tests it
// registers, its .only and .skip calls and its .run() calls. uvu reports
// none of these per file, and says nothing at all about a file that never
// calls .run().
import * as uvu from '../node_modules/uvu/dist/index.mjs';

/** The census the driver reads: one entry per test file, `current` the one loading. */
const census = (globalThis.__uvuCensus ??= { current: undefined, files: [] });

function note(key) {
  const entry = census.current;
  if (entry !== undefined) entry[key] += 1;
}

function counted(real) {
  const wrapped = (name, handler) => {
    note('registered');
    return real(name, handler);
  };
  Object.assign(wrapped, real); // before, after (with .each), ...
  wrapped.only = (name, handler) => {
    note('only');
    return real.only(name, handler);
  };
  wrapped.skip = (...args) => {
    note('skipped');
    return real.skip(...args);
  };
  wrapped.run = () => {
    note('runs');
    return real.run();
  };
  return wrapped;
}

export const test = counted(uvu.test);
export const suite = (name, state) => {
  note('suites');
  return counted(uvu.suite(name, state));
};
export const exec = uvu.exec;
