// Runner fixture (see test/runner/README.md): registers tests, never calls test.run().
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('never runs', () => {
  assert.unreachable('uvu never runs a test without test.run()');
});

test('never runs either', () => {
  assert.unreachable('uvu never runs a test without test.run()');
});
