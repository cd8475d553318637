/** isIPv4 (one pass, runs on every send): the forms it accepts and refuses. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isIP, isIPv4 } from '../../src/transport/addresses.ts';

test('isIPv4 accepts dotted quads of 0-255 and refuses everything else', () => {
  const cases: Array<[string, boolean]> = [
    ['127.0.0.1', true], ['255.255.255.255', true], ['0.0.0.0', true], ['192.0.2.10', true],
    ['256.0.0.1', false], ['1.2.3', false], ['1.2.3.4.5', false], ['1..3.4', false], ['a.b.c.d', false],
    ['', false], ['1.2.3.4 ', false], ['0001.2.3.4', false], ['::1', false], ['.1.2.3', false], ['1.2.3.', false],
  ];
  for (const [host, expected] of cases) assert.is(isIPv4(host), expected, host);
  assert.ok(isIP('::1') && isIP('10.0.0.1') && !isIP('example.com'));
});

test.run();
