// Runner fixture (see test/runner/README.md): a test registered after test.run().
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('before run()', () => {
  assert.ok(true);
});

test.run();

test('after run()', () => {
  assert.unreachable('registered after test.run(): never runs');
});
