/**
 * The complexity part of `npm run bench`: inputs that once made a parser
 * super-linear (test/fuzz/FINDINGS.md) or that a hostile peer controls, timed
 * at a size n and at 4n. These were speed assertions in the unit tests; the
 * unit tests now keep only a generous "no hang" guard, and the speed lives
 * here, where a loaded machine makes a figure noisy instead of a test red.
 *
 * Growth = time(4n) / time(n): about 4 for linear work, 16 for quadratic.
 * A check passes when the time at 4n is under its limit and the growth is
 * under 8 (or the work at 4n is too quick, under 2 ms, for growth to mean
 * anything). Each time is the fastest of five runs (of `repeat` rounds for
 * quick work, divided back). A failed check sets the exit code to 1.
 */
import { StreamFramer, parseMessage } from '../../src/parser/index.ts';
import { parseXml } from '../../src/sdk/config/xml-reader.ts';
import { compileLiteral, parserRegexes, pathologicalInputs } from '../../test/unit/parser-regexes.ts';
import { formatTable, progress, type PartResult } from '../part.ts';

const RUNS = 5;
const MAX_GROWTH = 8;
const TOO_QUICK_MS = 2;

interface Check {
  readonly name: string;
  /** The size n and what it counts. */
  readonly n: number;
  readonly unit: string;
  /** ms the work at 4n may take (the bound the unit tests used to assert). */
  readonly limitMs: number;
  /** Builds the work for a size; only what it returns is timed. */
  readonly work: (size: number) => () => void;
  /** Times the work runs per measurement, for work too quick to time once; times are per run. */
  readonly repeat?: number;
}

interface Outcome {
  readonly name: string;
  readonly n: number;
  readonly unit: string;
  readonly msAtN: number;
  readonly msAt4N: number;
  readonly growth: number;
  readonly limitMs: number;
  readonly ok: boolean;
}

const enc = new TextEncoder();

function fastest(fn: () => void, repeat: number): number {
  let best = Infinity;
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    for (let k = 0; k < repeat; k++) fn();
    best = Math.min(best, (performance.now() - t0) / repeat);
  }
  return best;
}

/** F4: a header section sent a byte at a time over TCP. */
const framerByteAtATime: Check = {
  name: 'StreamFramer, header pushed 1 byte at a time (F4)',
  n: 32_768,
  unit: 'header lines',
  limitMs: 2000,
  work: (lines) => {
    const head = enc.encode(`OPTIONS sip:b@h SIP/2.0\r\n${'x:y\n'.repeat(lines)}`);
    return () => {
      const framer = new StreamFramer({ maxMessageBytes: 1 << 20 });
      for (let at = 0; at < head.length; at++) framer.push(head.subarray(at, at + 1));
    };
  },
};

/** F9: blanks before a line fold, in From and in a header read by name. */
const unfolding: Check = {
  name: 'parseMessage + header(), blanks before a fold (F9)',
  n: 4_000, // at 4n each field is just under the 16 KB field limit
  repeat: 50,
  unit: 'blanks',
  limitMs: 200,
  work: (blanks) => {
    const pad = '\t'.repeat(blanks);
    const bytes = enc.encode(
      'OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n' +
        'Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n' +
        `From: Alice${pad}x\r\n y <sip:alice@example.com>;tag=1928301774\r\n` +
        'To: Bob <sip:bob@biloxi.example.com>\r\nMax-Forwards: 70\r\n' +
        'Call-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 314159 OPTIONS\r\n' +
        `Subject: a${pad}b\r\n c\r\nContent-Length: 0\r\n\r\n`,
    );
    return () => {
      const message = parseMessage(bytes);
      message.header('subject');
      void message.from;
    };
  },
};

/** The config file's XML: attributes full of entity references. */
const xmlAttributes: Check = {
  name: 'parseXml, elements of 200 attributes with entities',
  n: 30,
  unit: 'elements',
  limitMs: 2000,
  work: (elements) => {
    const attrs = Array.from({ length: 200 }, (_, i) => `a${i}="${'&amp;x'.repeat(20)}"`).join(' ');
    const text = `<r>${`<c ${attrs}/>`.repeat(elements)}</r>`;
    return () => void parseXml(text, { maxLength: 2 ** 23 });
  },
};

/** Every regex of src/parser on the pathological inputs of the regex audit: the slowest input counts. */
function regexChecks(): Check[] {
  const unique = new Map(parserRegexes().map((regex) => [regex.key, regex.literal]));
  return [...unique].map(([key, literal]) => ({
    name: `regex ${key.length > 60 ? `${key.slice(0, 57)}...` : key}`,
    n: 7_500,
    unit: 'chars',
    limitMs: 200,
    work: (length: number) => {
      const texts = pathologicalInputs(length).flatMap((input) => [input, `${input}x`, `x${input}`]);
      return () => {
        for (const text of texts) {
          compileLiteral(literal).test(text);
          text.replace(compileLiteral(literal, 'g'), '');
        }
      };
    },
  }));
}

function measure(check: Check): Outcome {
  const repeat = check.repeat ?? 1;
  const msAtN = fastest(check.work(check.n), repeat);
  const msAt4N = fastest(check.work(4 * check.n), repeat);
  const growth = msAt4N / Math.max(msAtN, 1e-3);
  const ok = msAt4N < check.limitMs && (growth < MAX_GROWTH || msAt4N * repeat < TOO_QUICK_MS);
  return { name: check.name, n: check.n, unit: check.unit, msAtN, msAt4N, growth, limitMs: check.limitMs, ok };
}

export async function run(): Promise<PartResult> {
  const checks = [framerByteAtATime, unfolding, xmlAttributes, ...regexChecks()];
  const outcomes: Outcome[] = [];
  for (const check of checks) {
    progress(`complexity: ${check.name}`);
    outcomes.push(measure(check));
  }
  const rows = [
    ['check', 'n', 'ms at n', 'ms at 4n', 'growth', 'limit ms', 'verdict'],
    ...outcomes.map((o) => [
      o.name,
      `${o.n} ${o.unit}`,
      o.msAtN.toFixed(2),
      o.msAt4N.toFixed(2),
      `${o.growth.toFixed(1)}x`,
      String(o.limitMs),
      o.ok ? 'ok' : 'TOO SLOW',
    ]),
  ];
  process.stdout.write(`Complexity: time at n and 4n (fastest of ${RUNS}); linear grows ~4x, quadratic ~16x; fails above ${MAX_GROWTH}x or the limit\n`);
  process.stdout.write(`${formatTable(rows, [2, 3, 4, 5])}\n`);
  const ok = outcomes.every((o) => o.ok);
  if (!ok) process.exitCode = 1;
  return {
    bench: 'complexity',
    ok,
    checks: outcomes.map((o) => ({ name: o.name, n: o.n, msAtN: +o.msAtN.toFixed(3), msAt4N: +o.msAt4N.toFixed(3), growth: +o.growth.toFixed(2), ok: o.ok })),
  };
}
