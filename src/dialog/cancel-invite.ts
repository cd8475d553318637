/**
 * The CANCEL of an INVITE we sent (RFC 3261 s9.1), for our calls and our
 * re-INVITEs alike. Its own outcome does not matter: the INVITE's final
 * response (487, or a 2xx that crossed it) settles the call, and the caller
 * gives the INVITE up 64*T1 later if none comes.
 */
import { cancelParts } from '../transaction/cancel.ts';
import type { Endpoint } from '../transport/types.ts';
import type { DialogTransactions, SentRequest } from './dialog-context.ts';

/** Sends the CANCEL of `invite` to `target`; false when it cannot be sent (the transaction layer closed). */
export function cancelInvite(transactions: DialogTransactions, invite: SentRequest, target: Endpoint): boolean {
  try {
    // Only called once a provisional came: in Proceeding the transaction still holds its request.
    transactions.sendRequest(cancelParts(invite.request), target, { onFinal() {} });
    return true;
  } catch {
    return false;
  }
}
