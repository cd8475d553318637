/**
 * The one base class of every error this package throws on purpose, with a
 * stable string `code` to branch on (undici's `lib/core/errors.js` is the
 * model): `error instanceof SipEndpointError` catches them all, `error.code`
 * tells them apart without parsing messages. Below every layer: no import.
 *
 * | class | codes |
 * |---|---|
 * | SipParseError | `ERR_SIP_PARSE` (the SIP status to answer in `status`) |
 * | HeaderValueError | `ERR_HEADER_VALUE` |
 * | TransportError | `ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, `ETLS`, `ECLOSED`, `ELIMIT`, `EUNREACHABLE`, `ETOOBIG`, `EBIND` |
 * | IllegalTransitionError | `ERR_ILLEGAL_TRANSITION` |
 * | MissingRandomSourceError | `ERR_NO_RANDOM_SOURCE` |
 * | DigestError | `cnonce-required`, `nc-required`, `invalid-nc`, `unsupported-algorithm`, `unsupported-qop` |
 * | OfferAnswerError | `malformed-sdp`, `no-common-codec`, `audio-refused`, `answer-mismatch`, `offer-pending`, `answer-pending` |
 * | DtmfError | `ERR_DTMF` |
 * | ConfigError | `xml`, `missing`, `invalid`, `duplicate`, `unknown-connection`, `io` |
 * | XmlError | its XmlErrorCode |
 * | ConnectionError | `ERR_CONNECTION` |
 * | ConnectionSettingsError | `ERR_CONNECTION_SETTINGS` |
 * | CallError | `no-such-session`, `wrong-state`, `no-connection`, `invalid-argument`, `refused`, `no-response`, `closed` |
 * | StateError | `ERR_CLOSED`, `ERR_LIMIT`, `ERR_STATE` |
 */
export class SipEndpointError extends Error {
  override name = 'SipEndpointError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export type StateErrorCode =
  /** The object (layer, manager, phone) is closed. */
  | 'ERR_CLOSED'
  /** A documented cap is reached (transactions, dialogs, registrations). */
  | 'ERR_LIMIT'
  /** The object is not in a state that allows the call (answering an ended INVITE, a used id). */
  | 'ERR_STATE';

/** A call the object's state refuses: closed, over a cap, or not now. */
export class StateError extends SipEndpointError {
  override name = 'StateError';
  declare readonly code: StateErrorCode;

  constructor(code: StateErrorCode, message: string) {
    super(code, message);
  }
}
