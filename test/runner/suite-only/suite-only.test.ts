// Runner fixture (see test/runner/README.md): a suite's only test is focused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const focused = suite('focused');

focused.only('alone in its suite', () => {
  assert.ok(true);
});

focused.run();
