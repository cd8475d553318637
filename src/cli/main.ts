#!/usr/bin/env node
/**
 * The sip-endpoint command line: `phone`, `quickstart`, `sites`, `lint`,
 * `conformance`. Conventions of the tools people know (baresip, sipsak,
 * sngrep): `--help`/`-h` and `help` on stdout with exit 0, `--version`,
 * unknown commands and options named on stderr with exit 2, a closed output
 * pipe ends the program quietly.
 */
import { readFileSync } from 'node:fs';
import { runLint, LINT_HELP } from './lint.ts';
import { runConformanceTable, CONFORMANCE_HELP } from './conformance-table.ts';
import { runPhoneShell, PHONE_HELP } from './phone-shell.ts';
import { runQuickStart, QUICKSTART_HELP } from './quickstart.ts';
import { runLabSites, SITES_HELP } from './lab-sites.ts';
import { UsageError } from './args.ts';

const USAGE = `usage: sip-endpoint COMMAND [OPTIONS]

commands:
  phone --config FILE [--events json] [--trace] [--pcap FILE]
                       the softphone shell (commands on stdin; \`help\` lists them)
  quickstart           the QuickStart story against two lab sites (npm start)
  sites [--config FILE]
                       the QuickStart's lab sites and answering party 1002, left
                       running for the phone shell and the SDK examples
  lint [--json] FILE...|-
                       check SIP messages, one datagram per file (- reads stdin);
                       exit 1 when any message is rejected
  conformance          the RFC 4475 torture corpus: expected verdict, ours, UAS answer
  help [COMMAND]       this text, or a command's

options: -h, --help   help; --version  the version
`;

const HELP: Readonly<Record<string, string>> = {
  phone: PHONE_HELP,
  quickstart: QUICKSTART_HELP,
  sites: SITES_HELP,
  lint: LINT_HELP,
  conformance: CONFORMANCE_HELP,
};

function version(): string {
  // Two levels up from src/cli/ and from dist/cli/ alike.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === 'help') {
    const topic = rest[0];
    if (topic === undefined) process.stdout.write(USAGE);
    else if (HELP[topic] !== undefined) process.stdout.write(HELP[topic]!);
    else throw new UsageError(`help: unknown command "${topic}"`);
    return 0;
  }
  if (HELP[command] !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(HELP[command]!);
    return 0;
  }
  switch (command) {
    case 'lint':
      return runLint(rest);
    case 'conformance':
      return runConformanceTable(rest);
    case 'phone':
      return runPhoneShell(rest);
    case 'quickstart':
      return runQuickStart(rest);
    case 'sites':
      return runLabSites(rest);
    default:
      throw new UsageError(command.startsWith('-') ? `unknown option "${command}"` : `unknown command "${command}"`);
  }
}

// A reader that went away (`sip-endpoint conformance | head -1`) ends the program quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`sip-endpoint: ${error.message}\n(sip-endpoint --help lists the commands and options)\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
