/**
 * What a benchmark part is: a module under bench/ whose `run()` prints its
 * table to stdout and returns its JSON summary. bench/run.ts lists the parts.
 */

/** A part's JSON summary: `bench` names the part; the rest is the part's own. */
export interface PartResult {
  readonly bench: string;
  readonly [key: string]: unknown;
}

export interface PartModule {
  run(): Promise<PartResult>;
}

/** Progress goes to stderr, so stdout holds only the tables and the JSON line. */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A number from the environment (benchmark knobs such as BENCH_ROUNDS), else the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

/** Text columns padded to line up; `right` lists the columns aligned to the right. */
export function formatTable(rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (right.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
