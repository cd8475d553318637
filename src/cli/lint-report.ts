/** Builds the linter's per-file verdict (the JSON contract of the README, "The linter"). */
import { answerWithoutDialogs, parseMessage, SipParseError, validateMessage, type SipMessage } from '../core/index.ts';
import { salvage } from './lint-salvage.ts';

export interface LintReport {
  file: string;
  verdict: 'accept' | 'reject';
  status?: number;
  reason?: string;
  kind: 'request' | 'response';
  method?: string;
  statusCode?: number;
  requestUri?: { scheme: string; user: string | null; host: string | null; port: number | null };
  /** null (and `via` empty) where the message could not be read that far. */
  callId: string | null;
  cseq: { seq: number; method: string } | null;
  via: Array<{ transport: string; host: string; port: number | null; branch: string | null; received: string | null; rport: number | true | null }>;
  contentLength: number | null;
  bodyLength: number | null;
  uasAnswer: number | null;
  uasReason?: string;
}

const STATUS_LINE_PREFIX = /^[\r\n]*SIP\//i;

export function lintMessage(file: string, bytes: Uint8Array): LintReport {
  let message: SipMessage;
  try {
    message = parseMessage(bytes);
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
    const head = new TextDecoder('latin1').decode(bytes.subarray(0, 16));
    const kind = STATUS_LINE_PREFIX.test(head) ? 'response' : 'request';
    // A request that cannot be parsed is answered with the error's status; a response is dropped.
    const rejected = { verdict: 'reject' as const, status: error.status, reason: error.message, uasAnswer: kind === 'request' ? error.status : null };
    const salvaged = salvage(bytes);
    if (salvaged === undefined) return { file, kind, callId: null, cseq: null, via: [], contentLength: null, bodyLength: null, ...rejected };
    // What the rest of the message says, the faulty header's fields left null.
    const report = { ...describe(file, salvaged.message), ...rejected };
    if (salvaged.removed.has('call-id')) report.callId = null;
    if (salvaged.removed.has('cseq')) report.cseq = null;
    if (salvaged.removed.has('via')) report.via = [];
    if (salvaged.removed.has('content-length')) report.contentLength = null;
    return report;
  }
  const report = describe(file, message);
  try {
    // The verdict covers every header the stack can parse, not only the eager ones.
    validateMessage(message);
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
    report.verdict = 'reject';
    report.status = error.status;
    report.reason = error.message;
    report.uasAnswer = message.kind === 'request' ? error.status : null;
    return report;
  }
  if (message.kind === 'request') {
    const answer = answerWithoutDialogs(message);
    if (answer !== null) {
      report.uasAnswer = answer.status;
      report.uasReason = answer.reason;
    }
  }
  return report;
}

/** The fields the parse gave, read so that one bad header leaves the others reported. */
function describe(file: string, message: SipMessage): LintReport {
  const report: LintReport = { file, verdict: 'accept', kind: message.kind, callId: null, cseq: null, via: [], contentLength: null, bodyLength: message.body.length, uasAnswer: null };
  if (message.kind === 'request') {
    report.method = message.method!;
    const uri = message.uri!;
    report.requestUri = { scheme: uri.scheme, user: uri.user, host: uri.host, port: uri.port };
  } else {
    report.statusCode = message.status!;
  }
  report.callId = read(() => message.callId ?? null, null);
  report.cseq = read(() => message.cseq ?? null, null);
  report.via = read(
    () =>
      message.via.map((via) => ({
        transport: via.transport,
        host: via.host,
        port: via.port,
        branch: via.branch,
        received: via.received,
        rport: via.rport,
      })),
    [],
  );
  report.contentLength = read(() => message.contentLength, null);
  return report;
}

function read<T>(get: () => T, otherwise: T): T {
  try {
    return get();
  } catch (error) {
    if (error instanceof SipParseError) return otherwise;
    throw error;
  }
}

export function formatLintLine(report: LintReport): string {
  if (report.verdict === 'reject') return `REJECT ${report.file}: ${report.status} ${report.reason}`;
  const what = report.kind === 'request' ? `${report.method} ${uriText(report)}` : `${report.statusCode} response`;
  const uas = report.uasAnswer === null ? 'handed to the application' : `UAS answers ${report.uasAnswer} (${report.uasReason})`;
  return `ACCEPT ${report.file}: ${what}; ${uas}`;
}

function uriText(report: LintReport): string {
  const uri = report.requestUri!;
  const user = uri.user === null ? '' : `${uri.user}@`;
  return uri.host === null ? `${uri.scheme}:...` : `${uri.scheme}:${user}${uri.host}${uri.port === null ? '' : `:${uri.port}`}`;
}
