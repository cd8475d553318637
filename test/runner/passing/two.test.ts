// Runner fixture (see test/runner/README.md): passes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('a string', () => {
  assert.match('abc', /b/);
});

test.run();
