/**
 * Runs one fuzz input through every entry of the parser and classifies what
 * came out. The parser's contract is "returns a message or throws
 * SipParseError", so:
 *   crash     any other exception (TypeError, RangeError, ...) from parsing,
 *             a getter, header()/headerValues(), validateMessage,
 *             serializeMessage, the stream framer or parseSdp; also a
 *             SipParseError with a status outside 400-599.
 *   masked    a SipParseError made by a safety net from another exception
 *             ("internal parser error: ..." from parseMessage, "malformed SDP
 *             (...)" from parseSdp): the input reached a bug, the net hid it.
 *   roundtrip serializeMessage + parseMessage changed or lost the message, or
 *             rejected it although every header of the original parsed
 *             (serializeSdp + parseSdp likewise).
 *   framing   StreamFramer cut the same bytes differently depending on how
 *             they were chunked (ping/pong aside: CRLF keep-alives split across
 *             chunks legitimately read differently).
 *   limit     StreamFramer held more than maxMessageBytes without an error
 *             (an unbounded buffer is a memory exhaustion for a TCP peer).
 * Hangs are judged by the caller (campaign.ts) from CaseResult.ms.
 */
import {
  DEFAULT_LIMITS,
  SipMessage,
  SipParseError,
  StreamFramer,
  formatNameAddr,
  formatVia,
  isWildcard,
  parseMessage,
  serializeMessage,
  validateMessage,
  type FrameEvent,
  type NameAddr,
} from '../../src/parser/index.ts';
import { getDirection, getFmtp, getRtpmap, isRfc2543Hold, parseSdp, serializeSdp } from '../../src/parser/sdp/index.ts';
import type { Rng } from './mutate.ts';

/** 'hang' is judged by the campaign from CaseResult.ms, never by fuzzOne. */
export type FindingKind = 'crash' | 'masked' | 'roundtrip' | 'framing' | 'limit' | 'hang';

export interface Finding {
  kind: FindingKind;
  /** Where: 'parse:datagram', 'getter:route', 'framer:push', 'reparse', ... */
  stage: string;
  message: string;
  stack: string;
  /** Same bug, same signature: used to de-duplicate a long run's reports. */
  signature: string;
}

export interface CaseResult {
  ms: number;
  findings: Finding[];
  /** The datagram parse accepted the input. */
  accepted: boolean;
  /** Milliseconds per phase (parse, getters, roundtrip, sdp, framer). */
  phases: Record<string, number>;
}

export interface FuzzOneOptions {
  /** Also run the framer "starvation probe" (push 70 KB of filler after the input). */
  probeFramer?: boolean;
  /**
   * Skip the remaining stages (and stop feeding the framer) once the case has
   * run this long: it is a hang anyway, and a quadratic path fed 64 KB can
   * take minutes.
   */
  budgetMs?: number;
  /** Byte-at-a-time framer feeding: 'random' (one case in 20, the default), 'never' or 'always'. */
  drip?: 'random' | 'never' | 'always';
}

const MIN_STATUS = 400;
const MAX_STATUS = 599;
/** Reparse limits: serializing can legitimately grow a message (LF -> CRLF, "a:b" -> "a: b", one added Content-Length). */
const REPARSE_LIMITS = {
  maxMessageBytes: DEFAULT_LIMITS.maxMessageBytes * 4,
  maxHeaders: DEFAULT_LIMITS.maxHeaders + 1,
  maxStartLineBytes: DEFAULT_LIMITS.maxStartLineBytes * 4,
  maxHeaderBytes: DEFAULT_LIMITS.maxHeaderBytes * 4,
};
/** Header names whose lookup is always tried, present or not: every canonical name and compact form. */
const LOOKUP_NAMES = [
  'via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq', 'contact', 'm', 'max-forwards', 'content-length', 'l',
  'content-type', 'c', 'route', 'record-route', 'expires', 'min-expires', 'require', 'proxy-require', 'supported', 'k',
  'unsupported', 'allow', 'accept', 'www-authenticate', 'proxy-authenticate', 'authorization', 'proxy-authorization',
  'retry-after', 'warning', 'date', 'subject', 's', 'content-encoding', 'e', 'event', 'o', 'allow-events', 'u', 'refer-to',
  'r', 'referred-by', 'b', 'session-expires', 'x', 'user-agent', 'server', 'accept-encoding', 'accept-language',
  'timestamp', 'X-Unknown', '', ' ', 'VIA', 'Content-Length ',
];

/** Every getter of SipMessage, found on the prototype so that a getter added later is fuzzed too. */
export const MESSAGE_GETTERS: readonly string[] = Object.entries(Object.getOwnPropertyDescriptors(SipMessage.prototype))
  .filter(([, d]) => typeof d.get === 'function')
  .map(([name]) => name);

export function fuzzOne(input: Uint8Array, rng: Rng, options: FuzzOneOptions = {}): CaseResult {
  const t0 = performance.now();
  const findings: Finding[] = [];
  const run = new Runner(findings, t0 + (options.budgetMs ?? Infinity));

  const phases: Record<string, number> = {};
  let mark = t0;
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = now - mark;
    mark = now;
  };
  const datagram = run.stage('parse:datagram', () => parseMessage(input));
  const stream = run.stage('parse:stream', () => parseMessage(input, { framing: 'stream' }));
  phase('parse');
  const message = datagram.value ?? stream.value;
  if (message !== undefined) {
    const lazyBad = touchMessage(run, message);
    phase('getters');
    roundTrip(run, message, lazyBad);
    phase('roundtrip');
    fuzzSdp(run, message.body);
    phase('sdp');
  }
  fuzzFramer(run, input, rng, options.probeFramer === true, options.drip ?? 'random');
  phase('framer');
  return { ms: performance.now() - t0, findings, accepted: datagram.value !== undefined, phases };
}

interface StageOutcome<T> {
  value: T | undefined;
  /** The clean SipParseError, when the stage rejected the input. */
  rejected: SipParseError | undefined;
}

class Runner {
  /** Set once the deadline passed: the remaining stages are skipped (the case is a hang already). */
  outOfTime = false;

  constructor(
    readonly findings: Finding[],
    readonly deadline: number,
  ) {}

  /** Runs fn; a clean SipParseError is a rejection, anything else a finding. */
  stage<T>(stage: string, fn: () => T): StageOutcome<T> {
    if (this.outOfTime || performance.now() > this.deadline) {
      this.outOfTime = true;
      return { value: undefined, rejected: undefined };
    }
    try {
      return { value: fn(), rejected: undefined };
    } catch (error) {
      if (isCleanRejection(error)) return { value: undefined, rejected: error };
      this.report(classify(error) ?? 'crash', stage, error);
      return { value: undefined, rejected: undefined };
    }
  }

  report(kind: FindingKind, stage: string, error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const message = `${err.name}: ${err.message}`;
    this.findings.push({ kind, stage, message, stack: err.stack ?? message, signature: signatureOf(kind, stage, err) });
  }

  /** A failed check of the harness; `what` replaces the message in the signature (its text varies with the input). */
  fail(kind: FindingKind, stage: string, message: string, what = message): void {
    const error = new FuzzAssertion(message);
    this.findings.push({ kind, stage, message: `${error.name}: ${message}`, stack: error.stack ?? message, signature: `${kind}|${stage}|${what}` });
  }
}

class FuzzAssertion extends Error {
  override readonly name = 'FuzzAssertion';
}

export function isCleanRejection(error: unknown): error is SipParseError {
  return error instanceof SipParseError && classify(error) === undefined;
}

/** undefined for a clean rejection. */
function classify(error: unknown): FindingKind | undefined {
  if (!(error instanceof SipParseError)) return 'crash';
  if (error.reason.startsWith('internal parser error') || error.reason.startsWith('malformed SDP (')) return 'masked';
  if (!Number.isInteger(error.status) || error.status < MIN_STATUS || error.status > MAX_STATUS) return 'crash';
  return undefined;
}

/** kind|stage|error name|message with numbers and quoted text blanked|first src/ frame. */
function signatureOf(kind: FindingKind, stage: string, error: Error): string {
  const text = error.message.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N').slice(0, 120);
  const frame = /\/src\/[^\s)]+/.exec(error.stack ?? '')?.[0] ?? '';
  return `${kind}|${stage.replace(/:.*$/, '')}|${error.name}|${text}|${frame}`;
}

/**
 * Touches every getter, header lookups and the structures they return.
 * Returns true when a lazy header was malformed (a clean SipParseError).
 */
function touchMessage(run: Runner, message: SipMessage): boolean {
  let lazyBad = false;
  const target = message as unknown as Record<string, unknown>;
  for (const name of MESSAGE_GETTERS) {
    const got = run.stage(`getter:${name}`, () => {
      const value = target[name];
      deepTouch(value, 0);
      return value;
    });
    if (got.rejected !== undefined) lazyBad = true;
  }
  const names = new Set(LOOKUP_NAMES);
  const fields = run.stage('getter:headers', () => message.headers).value ?? [];
  for (const field of fields) {
    names.add(field.name);
    names.add(field.canonical);
  }
  for (const name of names) {
    run.stage(`header:${name}`, () => message.header(name));
    run.stage(`headerFields:${name}`, () => message.headerFields(name));
    run.stage(`count:${name}`, () => message.count(name) + Number(message.has(name)));
    if (run.stage(`headerValues:${name}`, () => message.headerValues(name)).rejected !== undefined) lazyBad = true;
  }
  for (const scope of ['uas', 'all'] as const) {
    if (run.stage(`validate:${scope}`, () => validateMessage(message, scope)).rejected !== undefined) lazyBad = true;
  }
  run.stage('helpers', () => {
    for (const via of message.via) formatVia(via);
    const nameAddrs: Array<NameAddr | undefined> = [message.from, message.to];
    for (const contact of message.contact) if (!isWildcard(contact)) nameAddrs.push(contact);
    for (const value of nameAddrs) if (value !== undefined) formatNameAddr(value);
  });
  return lazyBad;
}

/** Walks a getter result: arrays, maps, plain objects and class instances (their getters and toString). */
function deepTouch(value: unknown, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 6 || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const item of value) deepTouch(item, depth + 1);
    return;
  }
  if (value instanceof Map) {
    for (const [key, item] of value) {
      deepTouch(key, depth + 1);
      deepTouch(item, depth + 1);
    }
    return;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== null && proto !== Object.prototype) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (typeof descriptor.get === 'function') deepTouch((value as Record<string, unknown>)[name], depth + 1);
    }
    String(value);
  }
  for (const item of Object.values(value)) deepTouch(item, depth + 1);
}

/** What a round trip must keep: start line, every header (Content-Length aside) and the body. */
function summary(message: SipMessage): string[] {
  const out = [message.kind, message.startLine];
  for (const field of message.headers) {
    // Blanks around a value are not content (a value that starts on a folded line begins with one).
    if (field.canonical !== 'content-length') out.push(`${field.name}: ${trimBlanks(field.value)}`);
  }
  out.push(`callId=${message.callId} cseq=${message.cseq?.seq} ${message.cseq?.method} from.tag=${message.from?.tag} to.tag=${message.to?.tag}`);
  out.push(`via=${message.via.map((v) => `${v.transport} ${v.host}:${v.port};${v.branch}`).join(',')}`);
  out.push(`body=${Buffer.from(message.body).toString('base64')}`);
  return out;
}

/** Trims SP/HTAB only (not CR/LF). A loop: /[ \t]+$/ is quadratic on a long inner run of blanks. */
function trimBlanks(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  return s.slice(start, end);
}

function roundTrip(run: Runner, message: SipMessage, lazyBad: boolean): void {
  const bytes = run.stage('serialize', () => serializeMessage(message)).value;
  if (bytes === undefined) return;
  // Why a reparse may fail at all: serializeMessage writes each value as the
  // accessors see it (unfolded), and parseMessage runs the same eager checks on
  // the same values, so an accepted message must be accepted again. Growth
  // past a limit (LF -> CRLF, "a:b" -> "a: b", an added Content-Length) is
  // ruled out by REPARSE_LIMITS. What remains: a value the original never
  // parsed (lazy headers, checked only on access) can be malformed in a way
  // that the rewrite turns into a different header section; so a rejection
  // is accepted only when such a header was found malformed above.
  const reparsed = run.stage('reparse', () => parseMessage(bytes, { limits: REPARSE_LIMITS }));
  if (reparsed.rejected !== undefined) {
    if (!lazyBad) {
      const reason = reparsed.rejected.message;
      run.fail('roundtrip', 'reparse', `serialized message rejected: ${reason}`, `rejected: ${reason.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N')}`);
    }
    return;
  }
  if (reparsed.value === undefined) return;
  const before = run.stage('summary', () => summary(message)).value;
  const after = run.stage('summary', () => summary(reparsed.value!)).value;
  if (before === undefined || after === undefined) return;
  const length = Math.max(before.length, after.length);
  for (let k = 0; k < length; k++) {
    const a = before[k] ?? '';
    const b = after[k] ?? '';
    if (a !== b) {
      let at = 0;
      while (at < a.length && a[at] === b[at]) at++;
      const from = Math.max(0, at - 30);
      // Header lines are "name: value", the summary lines "callId=...", "via=...", "body=...".
      const label = k < 2 ? 'start line' : /^(callId|via|body)=/.exec(a)?.[1] ?? 'a header value';
      const lineBreak = /[\r\n]/.test(a) || /[\r\n]/.test(b) ? ' (CR/LF in the value)' : '';
      run.fail(
        'roundtrip',
        'reparse',
        `round trip changed ${JSON.stringify(a.slice(from, at + 50))} into ${JSON.stringify(b.slice(from, at + 50))} (${a.length} -> ${b.length} chars)`,
        `changed ${label}${lineBreak}`,
      );
      return;
    }
  }
}

function fuzzSdp(run: Runner, body: Uint8Array): void {
  if (body.length === 0) return;
  const sd = run.stage('sdp:parse', () => parseSdp(body)).value;
  if (sd === undefined) return;
  run.stage('sdp:helpers', () => {
    for (const media of sd.mediaDescriptions) {
      getDirection(media, sd);
      isRfc2543Hold(media, sd);
      for (const format of media.formats) {
        getRtpmap(media, format);
        getFmtp(media, format);
      }
    }
  });
  const text = run.stage('sdp:serialize', () => serializeSdp(sd));
  if (text.rejected !== undefined) run.fail('roundtrip', 'sdp:serialize', `parsed SDP not serializable: ${text.rejected.message}`, 'sdp not serializable');
  if (text.value === undefined) return;
  const again = run.stage('sdp:reparse', () => parseSdp(text.value!));
  if (again.rejected !== undefined) run.fail('roundtrip', 'sdp:reparse', `serialized SDP rejected: ${again.rejected.message}`, 'sdp rejected');
}

interface FramerLog {
  frames: Uint8Array[];
  error: SipParseError | undefined;
}

function fuzzFramer(run: Runner, input: Uint8Array, rng: Rng, probe: boolean, dripMode: 'random' | 'never' | 'always'): void {
  const max = DEFAULT_LIMITS.maxMessageBytes;
  let stopped = false;
  const chunked = run.stage('framer:push', () => {
    const framer = new StreamFramer();
    const log: FramerLog = { frames: [], error: undefined };
    // One case in 20 drips the input a byte per push, as a slow (or hostile) TCP peer can.
    const drip = rng.chance(0.05) ? dripMode !== 'never' : dripMode === 'always';
    for (let at = 0, pushes = 0; at < input.length; pushes++) {
      if ((pushes & 63) === 63 && performance.now() > run.deadline) {
        stopped = true;
        return log;
      }
      const size = drip ? 1 : rng.chance(0.3) ? rng.range(1, 4) : rng.chance(0.7) ? rng.range(1, 256) : rng.range(1, input.length);
      record(run, log, framer.push(input.subarray(at, at + size)));
      at += size;
      if (!framer.failed && framer.buffered > max) {
        run.fail('limit', 'framer:buffer', `framer holds ${framer.buffered} bytes (limit ${max}) without an error`, 'buffer over the limit');
        return log;
      }
    }
    if (probe && !framer.failed) {
      // Starvation probe: whatever state the framer is in, 70 KB more without a line end must end in an error.
      framer.push(new Uint8Array(max + 5000).fill(0x61));
      if (!framer.failed && framer.buffered > max) {
        run.fail('limit', 'framer:probe', `framer holds ${framer.buffered} bytes (limit ${max}) without an error`, 'buffer over the limit after filler');
      }
    }
    return log;
  }).value;
  const whole = run.stage('framer:whole', () => {
    const log: FramerLog = { frames: [], error: undefined };
    record(run, log, new StreamFramer().push(input));
    return log;
  }).value;
  if (chunked === undefined || whole === undefined || stopped) return;
  const differs =
    chunked.frames.length !== whole.frames.length ||
    chunked.frames.some((frame, k) => !sameBytes(frame, whole.frames[k]!)) ||
    (chunked.error === undefined) !== (whole.error === undefined);
  if (differs) {
    run.fail(
      'framing',
      'framer:chunking',
      `chunked: ${chunked.frames.length} frames${chunked.error ? ` + error ${chunked.error.status}` : ''}; ` +
        `one push: ${whole.frames.length} frames${whole.error ? ` + error ${whole.error.status}` : ''}`,
      'chunking changes the frames',
    );
  }
}

function record(run: Runner, log: FramerLog, events: FrameEvent[]): void {
  for (const event of events) {
    if (event.type === 'message') {
      log.frames.push(event.bytes);
      run.stage('framer:parse', () => parseMessage(event.bytes, { framing: 'stream' }));
    } else if (event.type === 'error') {
      if (!isCleanRejection(event.error)) run.report(classify(event.error) ?? 'crash', 'framer:event', event.error);
      log.error = event.error;
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
