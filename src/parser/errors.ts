/**
 * The one error the parser throws. `status` is the SIP response a UAS would
 * send for it (400 malformed, 505 version, 413 too large, ...); `offset` is
 * the byte offset in the input where the problem was seen.
 */
import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
export class SipParseError extends SipEndpointError {
  override readonly name = 'SipParseError';
  readonly status: number;
  readonly reason: string;
  readonly offset: number;
  /** Header (canonical lower-case name) or SDP line the problem is in, when known. */
  readonly header: string | undefined;

  constructor(reason: string, options: { status?: number; offset?: number; header?: string } = {}) {
    const header = options.header;
    super('ERR_SIP_PARSE', header === undefined ? reason : `${header}: ${reason}`);
    this.status = options.status ?? 400;
    this.reason = reason;
    this.offset = options.offset ?? -1;
    this.header = header;
  }
}
