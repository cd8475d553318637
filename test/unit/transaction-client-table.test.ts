/**
 * ClientTable (src/transaction/client-table.ts): s17.1.3 matching by branch
 * and method without key strings. Covers a CANCEL beside its INVITE (same
 * branch), a method that does not match, a branch in use, delete() of
 * another object under the same key, iteration over both kinds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientTable } from '../../src/transaction/client-table.ts';

const tx = (branch: string, method: string) => ({ branch, method });

test('a CANCEL and its INVITE share a branch: each response finds its own transaction', () => {
  const table = new ClientTable<ReturnType<typeof tx>>();
  const invite = tx('z9hG4bK1', 'INVITE');
  const cancel = tx('z9hG4bK1', 'CANCEL');
  table.add(invite);
  assert.ok(table.taken('z9hG4bK1', 'CANCEL') === false);
  table.add(cancel);
  assert.is(table.size, 2);
  assert.is(table.get('z9hG4bK1', 'INVITE'), invite);
  assert.is(table.get('z9hG4bK1', 'CANCEL'), cancel);
  assert.is(table.get('z9hG4bK1', 'BYE'), undefined, 's17.1.3: the CSeq method must match too');
  assert.is(table.get('z9hG4bK2', 'INVITE'), undefined);
  assert.equal([...table.values()], [invite, cancel]);
  table.delete(invite);
  assert.is(table.get('z9hG4bK1', 'INVITE'), undefined);
  assert.is(table.get('z9hG4bK1', 'CANCEL'), cancel);
  table.delete(cancel);
  assert.is(table.size, 0);
});

test('a branch in use is taken for every other method but CANCEL; delete() leaves another object alone', () => {
  const table = new ClientTable<ReturnType<typeof tx>>();
  const options = tx('z9hG4bKa', 'OPTIONS');
  table.add(options);
  assert.ok(table.taken('z9hG4bKa', 'OPTIONS'));
  assert.ok(table.taken('z9hG4bKa', 'REGISTER'), 's8.1.1.7: a branch is unique to its request');
  assert.not.ok(table.taken('z9hG4bKa', 'CANCEL'));
  assert.not.ok(table.taken('z9hG4bKb', 'OPTIONS'));
  table.delete(tx('z9hG4bKa', 'OPTIONS'));
  assert.is(table.get('z9hG4bKa', 'OPTIONS'), options, 'an equal-looking object is not the one stored');
  table.delete(options);
  assert.is(table.size, 0);
});

test.run();
