/**
 * Command-line arguments through node:util parseArgs, with its errors turned
 * into UsageError (exit 2, the option named) like the tools people know.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line the program cannot run: printed on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T, allowPositionals: boolean) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${command}: ${message}`);
  }
}
