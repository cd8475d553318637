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
import { ownedString, type MessageParts } from '../parser/index.ts';
import type { Endpoint, TransportKind } from '../transport/types.ts';
import type { DialogContext } from './dialog-context.ts';
import type { DialogState } from './dialog-state.ts';

/** Credential header names copied from the INVITE. */
const CREDENTIALS = new Set(['authorization', 'proxy-authorization']);

function isVia([name]: readonly [string, string]): boolean {
  return name.toLowerCase() === 'via';
}

/** One ACK, built once and re-sent unchanged (same branch) for each retransmitted 2xx. */
export class AckFor2xx {
  readonly cseq: number;
  #parts: MessageParts | undefined;
  #target: Endpoint | undefined;

  private readonly context: DialogContext;

  constructor(
    context: DialogContext,
    dialog: DialogState,
    invite: { readonly cseq: number; readonly headers: ReadonlyArray<readonly [string, string]> },
    transport: TransportKind,
    body: Uint8Array | undefined,
  ) {
    this.context = context;
    this.cseq = invite.cseq;
    const headers: Array<[string, string]> = [];
    for (const [name, value] of invite.headers) if (CREDENTIALS.has(name.toLowerCase())) headers.push([name, value]);
    if (body !== undefined) headers.push(['Content-Type', 'application/sdp']);
    const built = dialog.request('ACK', body === undefined ? { headers, cseq: invite.cseq } : { headers, cseq: invite.cseq, body });
    this.#target = context.resolve(built.nextHop, transport);
    this.#parts = built.parts;
  }

  /** Sends (or sends again) the ACK; false when its next hop cannot be reached. */
  send(): boolean {
    const parts = this.#parts;
    const target = this.#target;
    if (parts === undefined || target === undefined) return false;
    try {
      const transactions = this.context.transactions;
      const via = transactions.sendStatelessVia !== undefined ? transactions.sendStatelessVia(parts, target) : transactions.sendStateless(parts, target).header('via');
      // Later sends repeat this ACK with its Via (and branch): a retransmission, not a new request.
      if (via !== undefined && !parts.headers.some(isVia)) {
        // A flat copy: the Via is kept for the call (as built it is a tree of pieces; as read back, a view into the ACK).
        this.#parts = { ...parts, headers: [['Via', ownedString(via)], ...parts.headers] };
      }
      return true;
    } catch {
      return false;
    }
  }
}
