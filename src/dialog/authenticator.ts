/**
 * What the dialog layer needs of digest authentication (RFC 3261 s22): the
 * credentials for a request, and a verdict on a 401/407. The registrar
 * client's DigestClient has this shape; the SDK passes one per call with the
 * connection's credentials (the dialog layer does not import its sibling).
 */
import type { SipMessage } from '../parser/index.ts';

export type AuthVerdict = { readonly retry: true } | { readonly retry: false; readonly reason: string };

export interface Authenticator {
  /** Authorization / Proxy-Authorization fields for the next request (none before a challenge). */
  headersFor(request: { readonly method: string; readonly uri: string; readonly body?: Uint8Array }): Array<[string, string]>;
  /** A 401 or 407 came: answer it once (retry) or give up (never a loop). */
  onChallenge(response: SipMessage): AuthVerdict;
  /** The request got an answer that is not a challenge. */
  onAnswered(): void;
}
