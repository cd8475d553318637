/** `cli lint [--json] FILE...`: parse each file as one datagram and report the verdict. */
import { readFileSync } from 'node:fs';
import { formatLintLine, lintMessage } from './lint-report.ts';

export function runLint(args: string[]): number {
  const json = args.includes('--json');
  const files = args.filter((arg) => arg !== '--json');
  if (files.length === 0) {
    process.stderr.write('usage: cli lint [--json] FILE...\n');
    return 2;
  }
  let unreadable = 0;
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (error) {
      process.stderr.write(`cannot read ${file}: ${(error as Error).message}\n`);
      unreadable++;
      continue;
    }
    const report = lintMessage(file, bytes);
    process.stdout.write(`${json ? JSON.stringify(report) : formatLintLine(report)}\n`);
  }
  return unreadable === 0 ? 0 : 1;
}
