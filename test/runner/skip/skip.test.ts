// Runner fixture (see test/runner/README.md): one test skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('runs', () => {
  assert.ok(true);
});

test.skip('skipped', () => {
  assert.unreachable('a skipped test ran');
});

test.run();
