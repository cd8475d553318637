// Runner fixture (see test/runner/README.md): passes, but leaves a server listening.
import { createServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('opens a server and never closes it', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  assert.ok(server.listening);
});

test.run();
