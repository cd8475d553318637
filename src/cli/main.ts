#!/usr/bin/env node
/** The sip-endpoint command line: `lint`, `conformance` (more commands come with the SDK). */
import { runLint } from './lint.ts';
import { runConformanceTable } from './conformance-table.ts';

const USAGE = `usage:
  cli lint [--json] FILE...   check SIP messages (one datagram per file)
  cli conformance             lint the bundled RFC 4475 torture corpus and print the table
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'lint':
      return runLint(rest);
    case 'conformance':
      return runConformanceTable();
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
