/**
 * For the linter's report of a message that does not parse: what could be
 * read of it. A body shorter than its Content-Length is taken as present;
 * the header a parse error names is taken out (every line of it,
 * continuations too) and the rest parsed again, a few headers at most; a
 * bad start line leaves nothing to read. The message as reparsed is only
 * read for the report: its verdict stays the first error's.
 */
import { canonicalName, parseMessage, SipParseError, type SipMessage } from '../core/index.ts';

/** Headers taken out, at most, before giving up. */
const MAX_REMOVED = 4;

export interface Salvaged {
  readonly message: SipMessage;
  /** Canonical names of the headers taken out. */
  readonly removed: ReadonlySet<string>;
}

export function salvage(bytes: Uint8Array): Salvaged | undefined {
  const removed = new Set<string>();
  let current = bytes;
  let failure: SipParseError;
  for (;;) {
    // A body shorter than its Content-Length: read as it is (the value reported, the body as present).
    try {
      return { message: parseMessage(current, { allowIncompleteBody: true }), removed };
    } catch (next) {
      if (!(next instanceof SipParseError)) throw next;
      failure = next;
    }
    const header = failure.header;
    if (header === undefined || removed.has(header) || removed.size >= MAX_REMOVED) return undefined;
    removed.add(header);
    const without = withoutHeader(current, header);
    if (without === undefined) return undefined;
    current = without;
  }
}

/** `bytes` with every field of header `name` (canonical) taken out of the header section; undefined when there is none. */
function withoutHeader(bytes: Uint8Array, name: string): Uint8Array | undefined {
  // latin1 maps each byte to one char and back: the body and any other byte come out as they went in.
  const text = new TextDecoder('latin1').decode(bytes);
  const match = /\r?\n\r?\n/.exec(text);
  const headEnd = match === null ? text.length : match.index;
  const lines = text.slice(0, headEnd).split(/\r?\n/);
  const kept: string[] = [lines[0]!];
  let dropping = false;
  let dropped = false;
  for (const line of lines.slice(1)) {
    const continuation = line.startsWith(' ') || line.startsWith('\t');
    if (!continuation) {
      const colon = line.indexOf(':');
      dropping = colon > 0 && canonicalName(line.slice(0, colon).trim()) === name;
      dropped ||= dropping;
    }
    if (!dropping) kept.push(line);
  }
  if (!dropped) return undefined;
  const rebuilt = kept.join('\r\n') + text.slice(headEnd);
  const out = new Uint8Array(rebuilt.length);
  for (let i = 0; i < rebuilt.length; i++) out[i] = rebuilt.charCodeAt(i);
  return out;
}
