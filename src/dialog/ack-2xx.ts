/**
 * The ACK for a 2xx to an INVITE (RFC 3261 s13.2.2.4): a request of its own
 * within the dialog, sent outside any transaction, and sent again for every
 * retransmission of that 2xx. "The header fields of the ACK are constructed
 * in the same way as for any request sent within a dialog ... with the
 * exception of the CSeq and the header fields related to authentication. The
 * sequence number of the CSeq header field MUST be the same as the INVITE
 * being acknowledged, but the CSeq method MUST be ACK. The ACK MUST contain
 * the same credentials as the INVITE." An answer owed for an offer in the 2xx
 * rides in its body.
 */
import type { MessageParts } from '../parser/index.ts';
import type { Endpoint, TransportKind } from '../transport/types.ts';
import type { DialogContext, DialogTransactions } from './dialog-context.ts';
import type { DialogState } from './dialog-state.ts';

/** Credential header names copied from the INVITE. */
const CREDENTIALS = new Set(['authorization', 'proxy-authorization']);

/** Separates the Request-URI and the header fields in AckFor2xx's text (no value holds a line break). */
const LINE = '\n';
const NAME_END = ': ';

/**
 * One ACK, built once and re-sent unchanged (same branch) for each
 * retransmitted 2xx. Once sent with our Via it is kept as one flat string
 * (Request-URI, then the header fields) and its target: it waits out Timer M
 * (32 s) in its INVITE transaction's user, and its parts (arrays, header
 * strings made of pieces of the dialog's) were several times that size.
 * Methods are TS `private`, not `#` (a #method costs each instance a slot).
 */
export class AckFor2xx {
  readonly cseq: number;
  /** The parts until a send has put our Via in them; then `uri\nName: value\nName: value...`, Via first. */
  #content: MessageParts | string;
  readonly #body: Uint8Array | undefined;
  readonly #target: Endpoint | undefined;

  constructor(
    context: DialogContext,
    dialog: DialogState,
    invite: { readonly cseq: number; readonly headers: ReadonlyArray<readonly [string, string]> },
    transport: TransportKind,
    body: Uint8Array | undefined,
  ) {
    this.cseq = invite.cseq;
    this.#body = body;
    const headers: Array<[string, string]> = [];
    for (const [name, value] of invite.headers) if (CREDENTIALS.has(name.toLowerCase())) headers.push([name, value]);
    if (body !== undefined) headers.push(['Content-Type', 'application/sdp']);
    const built = dialog.request('ACK', body === undefined ? { headers, cseq: invite.cseq } : { headers, cseq: invite.cseq, body });
    this.#target = context.resolve(built.nextHop, transport);
    this.#content = built.parts;
  }

  /** Sends (or sends again) the ACK through `transactions` (the dialog layer's: not kept here); false when its next hop cannot be reached. */
  send(transactions: DialogTransactions): boolean {
    const target = this.#target;
    if (target === undefined) return false;
    const content = this.#content;
    const parts = typeof content === 'string' ? this.partsOfText(content) : content;
    try {
      const via = transactions.sendStatelessVia !== undefined ? transactions.sendStatelessVia(parts, target) : transactions.sendStateless(parts, target).header('via');
      // Later sends repeat this ACK with its Via (and branch): a retransmission, not a new request.
      if (via !== undefined && parts === content && !parts.headers.some(isVia)) this.#content = textOf(parts, via);
      return true;
    } catch {
      return false;
    }
  }

  /** Whether this is the ACK of the dialog with that remote tag: its To ends with it (DialogState.request writes `remote;tag=remoteTag`), so no copy of the tag is kept. Only for a further 2xx (rare). */
  isForTag(tag: string): boolean {
    const content = this.#content;
    const to = (typeof content === 'string' ? this.partsOfText(content) : content).headers.find(isTo);
    return to !== undefined && to[1].endsWith(`;tag=${tag}`);
  }

  /** The parts again from the kept text (only for a retransmitted 2xx). */
  private partsOfText(text: string): MessageParts {
    const lines = text.split(LINE);
    const headers: Array<[string, string]> = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const end = line.indexOf(NAME_END);
      headers.push([line.slice(0, end), line.slice(end + NAME_END.length)]);
    }
    const parts: MessageParts = { method: 'ACK', uri: lines[0]!, headers };
    if (this.#body !== undefined) parts.body = this.#body;
    return parts;
  }
}

function isVia([name]: readonly [string, string]): boolean {
  return name.toLowerCase() === 'via';
}

function isTo([name]: readonly [string, string]): boolean {
  return name.toLowerCase() === 'to';
}

/** The ACK as one flat string: join() copies every piece into a new string (concatenation would keep a tree of them). */
function textOf(parts: MessageParts, via: string): string {
  const lines = [parts.uri!, `Via${NAME_END}${via}`];
  for (const [name, value] of parts.headers) lines.push(`${name}${NAME_END}${value}`);
  return lines.join(LINE);
}
