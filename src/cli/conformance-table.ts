/**
 * `cli conformance`: lints the bundled RFC 4475 corpus and prints, for each
 * message, the expected and the actual verdict and the UAS answer.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs } from './args.ts';
import { lintMessage } from './lint-report.ts';

export const CONFORMANCE_HELP = `usage: sip-endpoint conformance

Lints the bundled RFC 4475 torture messages and prints, for each, the
verdict RFC 4475 expects, ours, and the status a UAS would answer.
Exit status: 0 when every verdict agrees, 1 otherwise.
`;

const corpus = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/conformance/rfc4475');

/** valid and semantic messages parse (mcl01 excepted: it cannot be framed); invalid ones do not. */
function expectedVerdict(name: string, category: string): 'accept' | 'reject' {
  if (category === 'invalid' || name === 'mcl01') return 'reject';
  return 'accept';
}

export function runConformanceTable(args: string[] = []): number {
  parseCommandArgs('conformance', args, {}, false);
  const rows = readFileSync(join(corpus, 'INDEX.tsv'), 'utf8').trim().split('\n').slice(1);
  let agree = 0;
  const lines: string[] = [];
  for (const row of rows) {
    const [name, category, section, , title, file] = row.split('\t') as [string, string, string, string, string, string];
    const report = lintMessage(file, new Uint8Array(readFileSync(join(corpus, file))));
    const expected = expectedVerdict(name, category);
    const ok = report.verdict === expected;
    if (ok) agree++;
    const outcome = report.verdict === 'reject' ? `reject ${report.status}` : 'accept';
    const uas = report.uasAnswer === null ? '-' : String(report.uasAnswer);
    lines.push(`${ok ? 'ok  ' : 'FAIL'} ${section.padEnd(9)} ${name.padEnd(11)} ${category.padEnd(9)} ${outcome.padEnd(11)} ${uas.padEnd(4)} ${title}`);
  }
  process.stdout.write(`RFC 4475 torture tests: verdict of the sip-endpoint parser\n`);
  process.stdout.write(`${'    '} ${'section'.padEnd(9)} ${'name'.padEnd(11)} ${'category'.padEnd(9)} ${'verdict'.padEnd(11)} ${'uas'.padEnd(4)} title\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(`${agree}/${rows.length} verdicts as RFC 4475 describes\n`);
  return agree === rows.length ? 0 : 1;
}
