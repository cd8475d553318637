// Runner fixture (see test/runner/README.md): one test fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('passes', () => {
  assert.is(2 * 2, 4);
});

test('fails', () => {
  assert.is(2 * 2, 5);
});

test.run();
