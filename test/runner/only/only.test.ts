// Runner fixture (see test/runner/README.md): .only hides a failing test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test.only('focused', () => {
  assert.ok(true);
});

test('hidden and failing', () => {
  assert.unreachable('this test fails when it runs');
});

test.run();
