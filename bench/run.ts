/**
 * `npm run bench` runs every part; `npm run bench -- parser` (or any list of
 * part names) runs those alone. Each part prints its table; the last line of
 * stdout is one JSON object: the part's summary when one part ran, otherwise
 * `{"bench":"all","parts":{NAME: summary, ...},"node":...}`.
 *
 * The comparison parsers are dependencies of bench/package.json, never of the
 * library; they are installed here on first use.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progress, type PartModule, type PartResult } from './part.ts';

/** The parts, in the order `npm run bench` runs them. To add one: a line here. */
const parts: Record<string, () => Promise<PartModule>> = {
  parser: () => import('./parser/index.ts'),
  stack: () => import('./stack/index.ts'),
  register: () => import('./register/index.ts'),
  calls: () => import('./calls/index.ts'),
  complexity: () => import('./complexity/index.ts'),
};

const benchDir = fileURLToPath(new URL('.', import.meta.url));

/** Parts that import the comparison stacks of bench/package.json. */
const PARTS_WITH_DEPENDENCIES = new Set(['parser']);

/** True when every dependency of bench/package.json is in bench/node_modules. */
function dependenciesInstalled(): boolean {
  const manifest = JSON.parse(readFileSync(join(benchDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  return Object.keys(manifest.dependencies ?? {}).every((name) =>
    existsSync(join(benchDir, 'node_modules', name, 'package.json')),
  );
}

/** Runs npm with its output on stderr; true when it succeeded. */
function npm(args: readonly string[]): boolean {
  const cli = process.env['npm_execpath'];
  const [command, argv] =
    cli !== undefined && cli.endsWith('.js') ? [process.execPath, [cli, ...args]] : ['npm', [...args]];
  const result = spawnSync(command, argv, {
    stdio: ['ignore', process.stderr, process.stderr],
    shell: command === 'npm' && process.platform === 'win32',
  });
  return result.status === 0;
}

function installDependencies(): void {
  if (dependenciesInstalled()) return;
  progress('bench: installing the comparison parsers into bench/node_modules ...');
  const flags = ['--prefix', benchDir, '--no-audit', '--no-fund'];
  if ((npm(['ci', ...flags]) || npm(['install', ...flags])) && dependenciesInstalled()) return;
  progress('bench: could not install bench/package.json dependencies; parts go on without them');
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2).filter((arg) => arg !== '--');
  const unknown = requested.filter((name) => !(name in parts));
  if (unknown.length > 0) {
    progress(`bench: unknown part ${unknown.join(', ')}; parts: ${Object.keys(parts).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const selected = requested.length > 0 ? requested : Object.keys(parts);
  // Only the parser part compares against the npm stacks (bench/package.json).
  if (selected.some((name) => PARTS_WITH_DEPENDENCIES.has(name))) installDependencies();

  const results: Record<string, PartResult> = {};
  for (const name of selected) {
    const load = parts[name];
    if (load === undefined) continue;
    const part = await load();
    results[name] = await part.run();
    process.stdout.write('\n');
  }
  const only = selected.length === 1 ? results[selected[0] ?? ''] : undefined;
  const summary = only ?? { bench: 'all', parts: results, node: process.version };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

await main();
