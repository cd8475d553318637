/**
 * A tolerant reader for the few header lines a stateless error response
 * needs (RFC 3261 s8.2.6.2: Via, From, To, Call-ID, CSeq), used when
 * parseMessage rejected the message and its strict view is not available.
 * It never throws: whatever it cannot read is simply missing.
 */

export interface RawHeaders {
  /** 'request' when the start line begins with a method token, 'response' for "SIP/...", else undefined. */
  readonly kind: 'request' | 'response' | undefined;
  /** Method of a request start line (upper case as written). */
  readonly method: string | undefined;
  /** Every Via field value, in order (a field may hold several comma-separated values). */
  readonly via: string[];
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly callId: string | undefined;
  readonly cseq: string | undefined;
}

/** The top Via value read leniently: enough to route a stateless response. */
export interface RawVia {
  readonly transport: string;
  /** sent-by host as written (IPv6 in brackets). */
  readonly host: string;
  readonly port: number | null;
  /** true when rport is present without a value (the sender asks for it). */
  readonly rport: number | true | null;
  readonly received: string | null;
  readonly branch: string | null;
  /** The first Via value as written. */
  readonly text: string;
}

/** Bytes of the header section read at most (a stateless reply never needs more). */
const MAX_SCAN = 65536;

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id' };

/** Reads the start line kind and the header lines of a possibly malformed message. */
export function readRawHeaders(bytes: Uint8Array): RawHeaders {
  const text = latin1(bytes, Math.min(bytes.length, MAX_SCAN));
  const lines = splitLines(text);
  let first = 0;
  while (first < lines.length && lines[first]!.trim() === '') first++;
  const startLine = lines[first] ?? '';
  let kind: RawHeaders['kind'];
  let method: string | undefined;
  if (/^SIP\s*\//i.test(startLine)) kind = 'response';
  else {
    const m = /^([A-Za-z0-9.!%*_+`'~-]+)[ \t]/.exec(startLine);
    if (m !== null) {
      kind = 'request';
      method = m[1];
    }
  }
  const via: string[] = [];
  let from: string | undefined;
  let to: string | undefined;
  let callId: string | undefined;
  let cseq: string | undefined;
  // Unfold continuation lines (RFC 3261 s7.3.1) while walking the header section.
  const fields: string[] = [];
  for (let k = first + 1; k < lines.length; k++) {
    const line = lines[k]!;
    if (line === '') break;
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0) {
      fields[fields.length - 1] += ` ${line.trim()}`;
    } else {
      fields.push(line);
    }
  }
  for (const field of fields) {
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    let name = field.slice(0, colon).trim().toLowerCase();
    name = COMPACT[name] ?? name;
    const value = field.slice(colon + 1).trim();
    switch (name) {
      case 'via':
        via.push(value);
        break;
      case 'from':
        from ??= value;
        break;
      case 'to':
        to ??= value;
        break;
      case 'call-id':
        callId ??= value;
        break;
      case 'cseq':
        cseq ??= value;
        break;
      default:
        break;
    }
  }
  return { kind, method, via, from, to, callId, cseq };
}

const VIA = /^\s*([^\s/]+)\s*\/\s*([^\s/]+)\s*\/\s*([A-Za-z0-9.+-]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?:\s*:\s*([0-9]{1,5}))?\s*(;.*)?$/;

/** The first value of a Via field, read leniently, or undefined when even that fails. */
export function parseRawVia(field: string): RawVia | undefined {
  const text = firstValue(field).trim();
  const m = VIA.exec(text);
  if (m === null) return undefined;
  const port = m[5] === undefined ? null : Number(m[5]);
  if (port !== null && port > 65535) return undefined;
  let rport: number | true | null = null;
  let received: string | null = null;
  let branch: string | null = null;
  for (const part of (m[6] ?? '').split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? null : part.slice(eq + 1).trim();
    if (name === 'rport') rport = value === null || value === '' ? true : /^[0-9]{1,5}$/.test(value) ? Number(value) : true;
    else if (name === 'received') received = value;
    else if (name === 'branch') branch = value;
  }
  return { transport: m[3]!.toUpperCase(), host: m[4]!, port, rport, received, branch, text };
}

/** The value up to the first comma outside quotes (the top Via of a multi-value field). */
export function firstValue(field: string): string {
  let quoted = false;
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted) i++;
    else if (c === ',' && !quoted) return field.slice(0, i);
  }
  return field;
}

function latin1(bytes: Uint8Array, length: number): string {
  let text = '';
  const CHUNK = 8192;
  for (let i = 0; i < length; i += CHUNK) {
    text += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, Math.min(length, i + CHUNK))));
  }
  return text;
}

/** Lines split on LF with a trailing CR removed (bare-LF messages read too). */
function splitLines(text: string): string[] {
  return text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}
