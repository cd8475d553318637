#!/usr/bin/env node
/** The sip-endpoint command line: `phone`, `quickstart`, `lint`, `conformance`. */
import { runLint } from './lint.ts';
import { runConformanceTable } from './conformance-table.ts';
import { runPhoneShell } from './phone-shell.ts';
import { runQuickStart } from './quickstart.ts';

const USAGE = `usage:
  cli phone --config FILE [--events json]   the softphone shell (commands on stdin)
  cli quickstart [--config FILE]            the QuickStart demo (npm start)
  cli lint [--json] FILE...                 check SIP messages (one datagram per file)
  cli conformance                           lint the bundled RFC 4475 torture corpus and print the table
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'lint':
      return runLint(rest);
    case 'conformance':
      return runConformanceTable();
    case 'phone':
      return runPhoneShell(rest);
    case 'quickstart':
      return runQuickStart(rest);
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
