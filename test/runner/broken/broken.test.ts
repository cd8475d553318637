// Runner fixture (see test/runner/README.md): throws while loading.
import { test } from 'uvu';

throw new Error('this file fails to load');

test('never registered', () => {});
test.run();
