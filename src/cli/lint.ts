/**
 * `sip-endpoint lint [--json] FILE...|-`: parses each file as one datagram
 * and reports the verdict (DESIGN.md's JSON contract with --json). `-` reads
 * standard input. Exit status, as sipsak does for scripts: 0 when every
 * message is accepted, 1 when any is rejected or cannot be read, 2 for a
 * wrong command line.
 */
import { readFileSync } from 'node:fs';
import { parseCommandArgs, UsageError } from './args.ts';
import { formatLintLine, lintMessage } from './lint-report.ts';

export const LINT_HELP = `usage: sip-endpoint lint [--json] FILE...
       sip-endpoint lint [--json] -          (the message on stdin)

Parses each file as one SIP datagram, checks every header the stack can
parse, and prints the verdict with the status a UAS would answer.
  --json   one JSON line per file (the contract in the README, "The linter")
Exit status: 0 all accepted, 1 any rejected or unreadable, 2 usage error.
`;

export function runLint(args: string[]): number {
  const { values, positionals: files } = parseCommandArgs('lint', args, { json: { type: 'boolean' } }, true);
  if (files.length === 0) throw new UsageError('lint: no FILE given (use - for standard input)');
  let failures = 0;
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file === '-' ? 0 : file));
    } catch (error) {
      process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
      failures++;
      continue;
    }
    const report = lintMessage(file, bytes);
    if (report.verdict === 'reject') failures++;
    process.stdout.write(`${values.json === true ? JSON.stringify(report) : formatLintLine(report)}\n`);
  }
  return failures === 0 ? 0 : 1;
}
