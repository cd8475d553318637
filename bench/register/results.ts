/**
 * What the register part measures, as the runner (index.ts) collects it and
 * the report (report.ts) prints it: settings, one SIPp run, one run of ours,
 * a run that failed, and the results of the whole part.
 */
import type { OursClosed, OursRegistered } from './ours.ts';

export const HOST = '127.0.0.1';
export const SHM_MB = 256;

export const userName = (i: number): string => `u${String(i).padStart(5, '0')}`;

export interface Settings {
  readonly count: number;
  readonly rounds: number;
  readonly sippLimits: readonly number[];
  readonly window: number;
  /** Connections our process registers against an in-process lab site before each measured run (JIT warm-up). */
  readonly warmup: number;
  readonly children: number;
  readonly deadlineS: number;
}

export interface SippRun {
  readonly round: number;
  readonly limit: number;
  readonly status: number | string;
  readonly successful: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly registrationsPerSec: number;
  readonly transactionsPerSec: number;
  readonly retransmissions: number;
  readonly timeouts: number;
  /** Datagrams the site's UDP socket dropped (its receive queue was full). */
  readonly siteDrops: number;
  readonly bindingsAfter: number;
}

export interface OursRun {
  /** undefined: the diagnostic run, after the rounds. */
  readonly round: number | undefined;
  readonly label: string;
  readonly registered: OursRegistered;
  readonly closed: OursClosed | undefined;
  readonly registrationsPerSec: number;
  /** REGISTER transactions (distinct branches) per second. */
  readonly transactionsPerSec: number;
  /** REGISTER datagrams (retransmissions included) per second. */
  readonly sendsPerSec: number;
  readonly siteDrops: number;
  /** Datagrams our own UDP sockets dropped (the listener, remote "*", and the socket connected to the site). */
  readonly ourDrops: number;
  readonly ourSockets: ReadonlyArray<{ readonly remote: string; readonly drops: number }>;
  readonly bindingsRegistered: number;
  /** u00000's binding points at our port. */
  readonly firstBindingOurs: boolean;
  readonly bindingsAfterClose: number | undefined;
  readonly heapPerConnection: number;
  readonly rssPerConnection: number;
}

/** A run that threw: kept as a row, with where it stood. */
export interface RunError {
  readonly error: string;
  readonly round?: number | undefined;
  readonly limit?: number | undefined;
}
export type Outcome<T> = T | RunError;
export const failed = (value: unknown): value is RunError => typeof value === 'object' && value !== null && 'error' in value;

export interface Median {
  readonly registrationsPerSec: number;
  readonly runs: number;
}

export interface Results {
  readonly settings: Settings;
  readonly versions: { readonly sipp: string; readonly kamailio: string };
  /** Every SIPp run, in the order run (round by round). */
  readonly sipp: ReadonlyArray<Outcome<SippRun>>;
  /** Every all-at-once run of ours, one a round. */
  readonly ours: ReadonlyArray<Outcome<OursRun>>;
  readonly windowed: Outcome<OursRun> | undefined;
  readonly sippBest: SippRun | undefined;
  readonly oursBest: OursRun | undefined;
  /** The run the memory figure and detail lines come from: our best, else (none complete) the first with figures, to see what went wrong. */
  readonly oursShown: OursRun | undefined;
  /** SIPp's complete runs at its best limit, and our complete runs. */
  readonly sippMedian: Median | undefined;
  readonly oursMedian: Median | undefined;
  readonly elapsedS: number;
}

export const oursLabel = (settings: Settings, round: number | undefined): string =>
  round === undefined
    ? `ours, cold process${settings.window > 0 ? `, ${settings.window} at once` : ''} (diagnostic)`
    : `ours, all at once, round ${round}`;
export const sippLabel = (run: { readonly limit?: number | undefined; readonly round?: number | undefined }): string =>
  `SIPp -l ${run.limit ?? '?'}, round ${run.round ?? '?'}`;
