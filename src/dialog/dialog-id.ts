/**
 * Dialog identity (RFC 3261 s12): "A dialog is identified at each UA with a
 * dialog ID, which consists of a Call-ID value, a local tag and a remote tag."
 * Keys for the layer's maps. Values compare as written: Call-IDs "are
 * case-sensitive and are simply compared byte-by-byte" (s20.8), and our own
 * tags are ours, so a peer echoes them unchanged.
 */

/** The key of a dialog: Call-ID, local tag and remote tag. */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0000${localTag}\u0000${remoteTag}`;
}

/** The key of an INVITE we sent, before any To tag: Call-ID and our From tag. */
export function inviteKey(callId: string, localTag: string): string {
  return `${callId}\u0000${localTag}`;
}
