/**
 * Findings recorded in test/fuzz/FINDINGS.md and waiting for a parser fix.
 * While an entry is here, `npm test` stays green: the bounded fuzz run in
 * test/unit/parser-robustness.test.ts tolerates matching findings (and says
 * so), and the regression test written for it must still fail. Delete the entry
 * when the fix lands: its regression test then runs, and the fuzz run fails
 * again on the finding if it was not really fixed. The fuzz run also warns
 * when an entry no longer matches anything.
 * FUZZ_NO_KNOWN=1 in the environment ignores this list (to check a fix, or
 * to see every open finding fail).
 */
import type { Finding } from './fuzz-one.ts';

export interface KnownFinding {
  /** The id in FINDINGS.md. */
  id: string;
  summary: string;
  matches: (finding: Finding) => boolean;
}

export const KNOWN_FINDINGS: readonly KnownFinding[] = [
];

/** True when FUZZ_NO_KNOWN=1: every finding counts, every regression test runs. */
export const knownIgnored = process.env.FUZZ_NO_KNOWN === '1';
const ignored = knownIgnored;

export function knownFindingOf(finding: Finding): KnownFinding | undefined {
  return ignored ? undefined : KNOWN_FINDINGS.find((known) => known.matches(finding));
}

export function isOpen(id: string): boolean {
  return !ignored && KNOWN_FINDINGS.some((known) => known.id === id);
}
