/**
 * Our own top Via for an outgoing request: RFC 3261 s8.1.1.7 (branch with
 * the z9hG4bK magic cookie) and RFC 3581 s3 (an empty rport on every
 * request, so the response comes back to the port we sent from).
 */
import { hostForHeader } from './addresses.ts';
import type { Endpoint } from './types.ts';

export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK...;rport"; `branch` gets the cookie when it lacks it. */
export function formatOwnVia(local: Endpoint, branch: string, rport = true): string {
  const b = branch.startsWith(BRANCH_MAGIC_COOKIE) ? branch : `${BRANCH_MAGIC_COOKIE}${branch}`;
  return `SIP/2.0/${local.transport.toUpperCase()} ${hostForHeader(local.host)}:${local.port};branch=${b}${rport ? ';rport' : ''}`;
}
