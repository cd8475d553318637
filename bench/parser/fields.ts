/**
 * The values every parser adapter must read from every message, and what is
 * done with them: folded into a checksum in the timed loop, compared with the
 * reference values before any timing.
 */

/**
 * One message's values as a parser gives them. An adapter fills every field
 * (one object is reused across calls in the timed loop, so nothing may be
 * left over from the previous message). The Request-URI is read as the parser
 * offers it: a raw string (`uriRaw`) or parsed parts (`uriHost`/`uriUser`).
 */
export class Fields {
  method: string | undefined = undefined;
  status = 0;
  uriRaw: string | undefined = undefined;
  uriHost: string | undefined = undefined;
  uriUser: string | undefined = undefined;
  branch: string | undefined = undefined;
  fromTag: string | undefined = undefined;
  toTag: string | undefined = undefined;
  callId: string | undefined = undefined;
  cseqSeq = 0;
  cseqMethod: string | undefined = undefined;
  contentLength = 0;
  body: string | Uint8Array | undefined = undefined;
}

/** The values a message holds, derived from its bytes (see workloads.ts). */
export interface Expected {
  method: string | undefined;
  status: number;
  uriRaw: string | undefined;
  uriHost: string | undefined;
  uriUser: string | undefined;
  branch: string;
  fromTag: string;
  toTag: string;
  callId: string;
  cseqSeq: number;
  cseqMethod: string;
  contentLength: number;
  body: string;
}

/** A parser under test. `read` returns false (or throws) when it rejects the message. */
export interface Adapter {
  readonly name: string;
  readonly version: string;
  /** How this adapter reaches the parser, for the report (entry point, workarounds). */
  readonly api: string;
  read(bytes: Uint8Array, out: Fields): boolean;
}

const len = (s: string | Uint8Array | undefined): number => (s === undefined ? 0 : s.length);

/** Everything read folds into one number, so no read can be optimised away. */
export function fold(f: Fields): number {
  return (
    f.status +
    f.cseqSeq +
    f.contentLength +
    len(f.method) +
    len(f.uriRaw) +
    len(f.uriHost) +
    len(f.uriUser) +
    len(f.branch) +
    len(f.fromTag) +
    len(f.toTag) +
    len(f.callId) +
    len(f.cseqMethod) +
    len(f.body)
  );
}

const latin1 = new TextDecoder('latin1');
const bodyText = (b: string | Uint8Array | undefined): string =>
  b === undefined ? '' : typeof b === 'string' ? b : latin1.decode(b);
const opt = (s: string | null | undefined): string => (s == null ? '' : s);

/**
 * Differences between what a parser read and the reference, as
 * `field: got X, want Y` strings (empty when it agrees). A missing tag or
 * user equals an empty one; hosts compare case-insensitively (RFC 3261 s19.1.4).
 */
export function compare(got: Fields, want: Expected): string[] {
  const diffs: string[] = [];
  const check = (field: string, g: unknown, w: unknown): void => {
    if (g !== w) diffs.push(`${field}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`);
  };
  if (want.method !== undefined) {
    check('method', got.method, want.method);
    if (got.uriRaw === undefined && got.uriHost === undefined) diffs.push('uri: not read');
    if (got.uriRaw !== undefined) check('uri', got.uriRaw, want.uriRaw);
    if (got.uriHost !== undefined) {
      check('uri.host', got.uriHost.toLowerCase(), opt(want.uriHost).toLowerCase());
      check('uri.user', opt(got.uriUser), opt(want.uriUser));
    }
  } else {
    check('status', got.status, want.status);
  }
  check('via.branch', opt(got.branch), want.branch);
  check('from.tag', opt(got.fromTag), want.fromTag);
  check('to.tag', opt(got.toTag), want.toTag);
  check('call-id', opt(got.callId), want.callId);
  check('cseq.seq', got.cseqSeq, want.cseqSeq);
  check('cseq.method', opt(got.cseqMethod), want.cseqMethod);
  check('content-length', got.contentLength, want.contentLength);
  check('body', bodyText(got.body), want.body);
  return diffs;
}
