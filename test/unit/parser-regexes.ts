/**
 * The regular expressions of src/parser, found in its sources (not a test
 * file): parser-robustness.test.ts checks that each one has been reviewed
 * and does not hang; bench/complexity measures how each scales.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PARSER_DIR = fileURLToPath(new URL('../../src/parser/', import.meta.url));

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) files.push(...sourceFiles(full));
    else if (name.endsWith('.ts')) files.push(full);
  }
  return files;
}

/**
 * Regex literals of a TypeScript source. A small scanner, not a parser: it
 * skips comments, strings and template literals (but scans the code inside
 * `${...}`), and takes a "/" as the start of a regex when the previous token
 * cannot end an expression. Good enough for this code base; `new RegExp(...)`
 * is refused by a separate check.
 */
export function regexLiterals(source: string): string[] {
  const found: string[] = [];
  const n = source.length;
  const isWord = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_$]/.test(c);

  /** Scans code from i; inside a template expression, returns just past its closing brace. */
  const code = (from: number, inTemplate: boolean): number => {
    let previous = '';
    let depth = 0;
    let i = from;
    while (i < n) {
      const c = source[i]!;
      const next = source[i + 1];
      if (c === '/' && next === '/') {
        const lf = source.indexOf('\n', i);
        i = lf < 0 ? n : lf;
      } else if (c === '/' && next === '*') {
        const close = source.indexOf('*/', i + 2);
        i = close < 0 ? n : close + 2;
      } else if (c === '"' || c === "'") {
        i++;
        while (i < n && source[i] !== c) i += source[i] === '\\' ? 2 : 1;
        i++;
        previous = 'string';
      } else if (c === '`') {
        i = template(i + 1);
        previous = 'string';
      } else if (c === '/' && regexAllowedAfter(previous)) {
        let j = i + 1;
        let inClass = false;
        while (j < n && source[j] !== '\n') {
          const d = source[j]!;
          if (d === '\\') j++;
          else if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          else if (d === '/' && !inClass) break;
          j++;
        }
        j++;
        while (j < n && /[a-z]/.test(source[j]!)) j++;
        found.push(source.slice(i, j));
        i = j;
        previous = 'regex';
      } else if (isWord(c)) {
        let j = i;
        while (isWord(source[j])) j++;
        previous = source.slice(i, j);
        i = j;
      } else {
        if (c === '{') depth++;
        if (c === '}' && depth-- === 0 && inTemplate) return i + 1;
        if (!/\s/.test(c)) previous = c;
        i++;
      }
    }
    return i;
  };

  /** Scans a template literal body from i (just after the backtick); returns just past the closing one. */
  const template = (from: number): number => {
    let i = from;
    while (i < n) {
      if (source[i] === '\\') i += 2;
      else if (source[i] === '`') return i + 1;
      else if (source[i] === '$' && source[i + 1] === '{') i = code(i + 2, true);
      else i++;
    }
    return i;
  };

  code(0, false);
  return found;
}

const KEYWORDS_BEFORE_EXPRESSION = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await']);

function regexAllowedAfter(previous: string): boolean {
  if (previous === '') return true;
  if (previous === ')' || previous === ']' || previous === '}' || previous === 'string' || previous === 'regex') return false;
  if (/^[A-Za-z0-9_$]/.test(previous)) return KEYWORDS_BEFORE_EXPRESSION.has(previous);
  return true;
}

/** Every .ts file of src/parser: its path relative to src/parser and its text. */
export function parserSources(): Array<{ name: string; source: string }> {
  return sourceFiles(PARSER_DIR).map((file) => ({ name: relative(PARSER_DIR, file), source: readFileSync(file, 'utf8') }));
}

/** Every regex literal of src/parser, keyed "file literal" (file relative to src/parser). */
export function parserRegexes(): Array<{ key: string; literal: string }> {
  return parserSources().flatMap(({ name, source }) => regexLiterals(source).map((literal) => ({ key: `${name} ${literal}`, literal })));
}

/** The regex a literal such as "/a+/gi" denotes, with the flags given instead of its own g and y. */
export function compileLiteral(literal: string, extraFlags = ''): RegExp {
  const close = literal.lastIndexOf('/');
  const flags = literal.slice(close + 1).replace(/[gy]/g, '');
  return new RegExp(literal.slice(1, close), flags + extraFlags);
}

/**
 * Long runs of the characters SIP text is made of (blanks, digits, quotes,
 * escapes, separators, folds): what makes an ambiguous regex backtrack.
 * Each is about `length` characters; callers also try them with a character
 * before and after.
 */
export function pathologicalInputs(length: number): string[] {
  return [' ', '\t', 'a', '0', '%', '\\', '"', ';', ',', '\r', '\n', '\r\n', '\r\n ', ' \t', 'a ', '"\\', '0:', 'Mon, '].map((unit) =>
    unit.repeat(Math.ceil(length / unit.length)),
  );
}
