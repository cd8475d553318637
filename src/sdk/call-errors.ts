/**
 * Why a call action was refused: every rejected promise of `phone.calls`
 * carries a CallError with a stable `code`.
 */
import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
export type CallErrorCode =
  /** No session with that id (never was, or ended and forgotten). */
  | 'no-such-session'
  /** The session's status does not allow the action (answer a connected call, hold a ringing one ...). */
  | 'wrong-state'
  /** No connection can place the call: the chosen one is unknown, and no other is registered. */
  | 'no-connection'
  /** The destination or the DTMF digits are not valid (CR/LF, NUL, not a SIP address ...). */
  | 'invalid-argument'
  /** The peer refused the action (a re-INVITE answered 488, a BYE answered 481 ...). */
  | 'refused'
  /** The action's request got no response (timed out: 408) or could not reach the peer (transport error: 503); `status` says which. */
  | 'no-response'
  /** The application aborted the action (dial()'s `signal`) before it took effect. */
  | 'aborted'
  /** The phone is closed. */
  | 'closed';

export class CallError extends SipEndpointError {
  override readonly name = 'CallError';
  declare readonly code: CallErrorCode;
  /** The SIP status behind a `refused` or `no-response`, when there is one. */
  readonly status: number | undefined;

  constructor(code: CallErrorCode, message: string, status?: number) {
    super(code, message);
    this.status = status;
  }
}
