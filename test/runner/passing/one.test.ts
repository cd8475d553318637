// Runner fixture (see test/runner/README.md): passes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('one plus one', () => {
  assert.is(1 + 1, 2);
});

test('an async test', async () => {
  assert.is(await Promise.resolve('done'), 'done');
});

test.run();
