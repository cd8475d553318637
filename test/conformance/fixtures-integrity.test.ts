/**
 * The conformance fixtures are the bytes the RFCs give, unchanged.
 *
 * Covers: every file listed in SHA256SUMS has that SHA-256; every file of the
 * fixture tree is listed (nothing added without a sum); .gitattributes exists
 * and turns off end-of-line conversion (`-text`); the `bytes` and `sha256`
 * columns of both INDEX.tsv files; every rfc4475 .dat is byte-identical to its
 * member of appendix-a.tar.gz (gunzipped and read as ustar here).
 * Not covered: what the messages mean (rfc4475.test.ts, rfc3665.test.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES, readFixture, readIndex } from './fixtures.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function readSums(): Map<string, string> {
  const sums = new Map<string, string>();
  const text = readFileSync(FIXTURES + 'SHA256SUMS', 'utf8');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // sha256sum format: 64 hex digits, two spaces (or " *" for binary mode), the path.
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    assert.ok(match, `malformed SHA256SUMS line: ${line}`);
    assert.not.ok(sums.has(match[2]!), `listed twice: ${match[2]}`);
    sums.set(match[2]!, match[1]!);
  }
  return sums;
}

function walk(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) files.push(...walk(full));
    else files.push(relative(FIXTURES, full).split(sep).join('/'));
  }
  return files;
}

test('SHA256SUMS: every listed file exists and has that SHA-256', () => {
  const sums = readSums();
  assert.ok(sums.size >= 80, `only ${sums.size} entries`);
  const wrong: string[] = [];
  for (const [path, expected] of sums) {
    assert.ok(existsSync(FIXTURES + path), `listed but missing: ${path}`);
    if (sha256(readFixture(path)) !== expected) wrong.push(path);
  }
  assert.equal(wrong, [], `files whose bytes changed (a checkout converted line endings?): ${wrong.join(', ')}`);
});

test('SHA256SUMS lists every fixture file (except itself and .gitattributes)', () => {
  const sums = readSums();
  const unlisted = walk(FIXTURES).filter((path) => path !== 'SHA256SUMS' && path !== '.gitattributes' && !sums.has(path));
  assert.equal(unlisted, []);
});

test('.gitattributes exists and turns off end-of-line conversion with -text', () => {
  const path = FIXTURES + '.gitattributes';
  assert.ok(existsSync(path), '.gitattributes missing');
  const rules = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const all = rules.find((line) => line.split(/\s+/)[0] === '*');
  assert.ok(all, 'no rule for "*"');
  assert.ok(all.split(/\s+/).slice(1).includes('-text'), `the "*" rule has no -text: ${all}`);
});

for (const [index, folder, fileColumn] of [
  ['rfc4475/INDEX.tsv', 'rfc4475/', 'file'],
  ['rfc3665/INDEX.tsv', 'rfc3665/', 'file'],
] as const) {
  test(`${index}: bytes and sha256 columns match the files`, () => {
    const rows = readIndex(index);
    assert.ok(rows.length > 0);
    for (const row of rows) {
      const bytes = readFixture(folder + row[fileColumn]);
      assert.is(bytes.length, Number(row['bytes']), `${row[fileColumn]} size`);
      assert.is(sha256(bytes), row['sha256'], `${row[fileColumn]} sha256`);
    }
  });
}

/** Members of a ustar archive: name -> content. */
function untar(tar: Uint8Array): Map<string, Uint8Array> {
  const members = new Map<string, Uint8Array>();
  const field = (at: number, length: number): string => {
    const raw = Buffer.from(tar.subarray(at, at + length)).toString('latin1');
    const nul = raw.indexOf('\0');
    return nul < 0 ? raw : raw.slice(0, nul);
  };
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const name = field(offset, 100);
    if (name === '') break; // the two zero blocks that end the archive
    const size = parseInt(field(offset + 124, 12).trim(), 8);
    const type = field(offset + 156, 1);
    const prefix = field(offset + 345, 155);
    const full = (prefix === '' ? name : `${prefix}/${name}`).replace(/^\.\//, '');
    if (type === '0' || type === '') members.set(full, tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return members;
}

test('rfc4475: every .dat is byte-identical to appendix-a.tar.gz (which also holds test.dat)', () => {
  const members = untar(gunzipSync(readFixture('rfc4475/appendix-a.tar.gz')));
  const rows = readIndex('rfc4475/INDEX.tsv');
  for (const row of rows) {
    const name = row['file']!.split('/').pop()!;
    const archived = members.get(name);
    assert.ok(archived, `${name} not in the archive`);
    assert.ok(Buffer.from(archived).equals(readFixture(`rfc4475/${row['file']}`)), `${name} differs from the archive`);
  }
  assert.equal([...members.keys()].filter((name) => !rows.some((row) => row['file']!.endsWith(`/${name}`))), ['test.dat']);
});

test.run();
