/**
 * Values written into a header line must not end it: a CR or LF would start
 * a header of the writer's choosing (header injection) and a NUL is refused
 * by the parsers that read it. Every value that reaches a header from
 * outside (settings, SipEndpoint.config, API arguments) is checked where it
 * enters, with this check, and refused with a HeaderValueError naming it.
 */

import { SipEndpointError } from '../errors/sip-endpoint-error.ts';
export class HeaderValueError extends SipEndpointError {
  override readonly name = 'HeaderValueError';
  /** What the value is (a setting, an argument): named in the message. */
  readonly field: string;

  constructor(
    field: string,
    message: string,
  ) {
    super('ERR_HEADER_VALUE', message);
    this.field = field;
  }
}

const UNSAFE = /[\r\n\0]/;

/** True when the text holds a CR, LF or NUL. */
export function hasLineBreakOrNul(text: string): boolean {
  return UNSAFE.test(text);
}

/** Returns `value` when it can go into a header line; throws HeaderValueError naming `field` otherwise. */
export function checkHeaderValue(value: string, field: string): string {
  if (typeof value !== 'string') throw new HeaderValueError(field, `${field} must be a string`);
  if (UNSAFE.test(value)) {
    const at = value.search(UNSAFE);
    const what = value[at] === '\0' ? 'NUL' : value[at] === '\r' ? 'CR' : 'LF';
    throw new HeaderValueError(field, `${field} contains ${what} (at ${at}): it would break the header line`);
  }
  return value;
}
