/**
 * A non-INVITE request within a dialog (BYE, INFO, OPTIONS; RFC 3261
 * s12.2.1.1), sent as a client transaction to the dialog's next hop, with
 * digest: a 401/407 is answered once with the call's credentials (a new CSeq,
 * s22.2 "the client SHOULD ... resubmit the request"), never in a loop (the
 * Authenticator decides).
 */
import type { SipMessage } from '../parser/index.ts';
import type { ClientOutcome, ClientTransactionUser } from '../transaction/user.ts';
import type { TransportKind } from '../transport/types.ts';
import type { Authenticator } from './authenticator.ts';
import type { DialogContext } from './dialog-context.ts';
import type { DialogState } from './dialog-state.ts';

export interface RequestResult {
  /** The final status, or 408/503 standing for a timeout or a transport error (RFC 3261 s8.1.3.1). */
  readonly status: number;
  readonly reason: string;
  readonly cause: ClientOutcome['cause'] | 'unsendable';
  readonly response: SipMessage | undefined;
}

export interface DialogRequestOptions {
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array;
  readonly auth?: Authenticator;
  /** Transport for a next hop whose URI names none: the one the dialog was set up over. */
  readonly transport: TransportKind;
}

/** Challenges answered per request at most (a stale nonce, then the real one). */
const MAX_AUTH_ROUNDS = 2;

/** The default `done`: one function, not a closure made per request. */
function ignoreResult(): void {}

/** Sends `method` in the dialog; `done` hears the final result once. */
export function sendInDialog(
  context: DialogContext,
  dialog: DialogState,
  method: string,
  options: DialogRequestOptions,
  done: (result: RequestResult) => void = ignoreResult,
): void {
  new DialogRequest(context, dialog, method, options, done).send();
}

class DialogRequest implements ClientTransactionUser {
  #rounds = 0;
  #settled = false;

  private readonly context: DialogContext;
  private readonly dialog: DialogState;
  private readonly method: string;
  private readonly options: DialogRequestOptions;
  private readonly done: (result: RequestResult) => void;

  constructor(
    context: DialogContext,
    dialog: DialogState,
    method: string,
    options: DialogRequestOptions,
    done: (result: RequestResult) => void,
  ) {
    this.context = context;
    this.dialog = dialog;
    this.method = method;
    this.options = options;
    this.done = done;
  }

  send(): void {
    const { auth, body } = this.options;
    const credentials = auth?.headersFor({ method: this.method, uri: this.dialog.requestUri }) ?? [];
    const headers = [...(this.options.headers ?? []), ...credentials];
    if (this.context.userAgent !== undefined) headers.push(['User-Agent', this.context.userAgent]);
    const built = this.dialog.request(this.method, body === undefined ? { headers } : { headers, body });
    const target = this.context.resolve(built.nextHop, this.options.transport);
    if (target === undefined) {
      this.#finish({ status: 503, reason: `no transport target for ${built.nextHop.toString()}`, cause: 'unsendable', response: undefined });
      return;
    }
    try {
      this.context.transactions.sendRequest(built.parts, target, this);
    } catch (error) {
      this.#finish({ status: 503, reason: `cannot send: ${error instanceof Error ? error.message : String(error)}`, cause: 'unsendable', response: undefined });
    }
  }

  onFinal(outcome: ClientOutcome): void {
    const auth = this.options.auth;
    if (outcome.cause === 'response' && (outcome.status === 401 || outcome.status === 407) && auth !== undefined && this.#rounds < MAX_AUTH_ROUNDS) {
      if (auth.onChallenge(outcome.response).retry) {
        this.#rounds++;
        this.send();
        return;
      }
    } else {
      auth?.onAnswered();
    }
    this.#finish({
      status: outcome.status,
      reason: outcome.cause === 'transportError' ? outcome.error.message : outcome.cause === 'timeout' ? 'Request Timeout' : (outcome.response.reasonPhrase ?? ''),
      cause: outcome.cause,
      response: outcome.response,
    });
  }

  #finish(result: RequestResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.done(result);
  }
}
