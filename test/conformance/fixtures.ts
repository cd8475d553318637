/**
 * Shared helpers of the conformance suites (not a test file): where the
 * fixtures live, how to read them (raw bytes, never a string first, never a
 * line-ending conversion), the INDEX.tsv reader and a SipParseError catcher.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { SipParseError } from '../../src/parser/index.ts';

/** Absolute path of test/fixtures/conformance/, with a trailing slash. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/conformance/', import.meta.url));

/** A fixture as raw bytes (a Buffer, which is a Uint8Array). */
export function readFixture(relative: string): Buffer {
  return readFileSync(FIXTURES + relative);
}

export type IndexRow = Record<string, string>;

/** Rows of a tab-separated INDEX.tsv (UTF-8, one header row), keyed by column name. */
export function readIndex(relative: string): IndexRow[] {
  const lines = readFileSync(FIXTURES + relative, 'utf8').split('\n').filter((line) => line.length > 0);
  const columns = lines[0]!.split('\t');
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    assert.is(cells.length, columns.length, `INDEX row has ${cells.length} cells: ${line.slice(0, 40)}`);
    const row: IndexRow = {};
    columns.forEach((name, k) => (row[name] = cells[k]!));
    return row;
  });
}

/** Runs fn, asserts that it throws a SipParseError and returns it. */
export function parseError(fn: () => unknown, what = 'input'): SipParseError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) assert.unreachable(`${what}: expected SipParseError, nothing was thrown`);
  if (!(thrown instanceof SipParseError)) assert.unreachable(`${what}: expected SipParseError, got ${String(thrown)}`);
  return thrown as SipParseError;
}

/** Replaces one ASCII substring in a byte array (for variants of a fixture); asserts it occurs once. */
export function replaceAscii(bytes: Uint8Array, from: string, to: string): Buffer {
  const text = Buffer.from(bytes).toString('latin1');
  const at = text.indexOf(from);
  assert.ok(at >= 0 && text.indexOf(from, at + 1) < 0, `exactly one ${JSON.stringify(from)} expected`);
  return Buffer.concat([Buffer.from(bytes).subarray(0, at), Buffer.from(to, 'latin1'), Buffer.from(bytes).subarray(at + from.length)]);
}
