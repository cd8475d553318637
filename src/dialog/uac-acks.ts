/**
 * The ACKs for the 2xx answers to one INVITE of ours (RFC 3261 s13.2.2.4),
 * one per To tag, and what its transaction still asks of the call in
 * Accepted (RFC 6026: 64*T1 after the first 2xx): a 2xx sent again gets its
 * ACK again; a 2xx from another fork is ACKed, then ended with a BYE ("If
 * more than one 2xx are received ... the UAC MUST ... construct the ACK ...
 * and then ... send a BYE").
 *
 * Apart from OutgoingInvite so that a transaction waiting out Timer M holds
 * this and not the call: the call led to its session, media and the
 * application's callbacks, all kept alive 32 s after every call. What is
 * kept for that wait is text (the ACK, our From and Request-URI), not parsed
 * objects: see InviteAcks.releaseInvite and AckFor2xx.
 */
import { parseNameAddr, parseUri, type NameAddr, type SipMessage, type Uri } from '../parser/index.ts';
import type { TransportKind } from '../transport/types.ts';
import { AckFor2xx } from './ack-2xx.ts';
import type { Authenticator } from './authenticator.ts';
import type { DialogContext } from './dialog-context.ts';
import { DialogState, type UacInvite } from './dialog-state.ts';
import { sendInDialog } from './in-dialog-request.ts';

const URI_OPTIONS = { allowHeaders: false } as const;

/** What we wrote into the INVITE that its dialogs are made of (s12.1.2): text, not parsed. */
export interface SentInvite {
  readonly callId: string;
  /** Our From with its tag. */
  readonly from: string;
  readonly seq: number;
  readonly uri: string;
}

export interface InviteAckOptions {
  /** The INVITE's credentials: "The ACK MUST contain the same credentials as the INVITE." */
  readonly credentials: ReadonlyArray<readonly [string, string]>;
  readonly transport: TransportKind;
  readonly auth: Authenticator | undefined;
}

/** Between the Call-ID (a token: never holds it) and the From in InviteAcks's text. */
const SEPARATOR = '\n';

const NO_CREDENTIALS: ReadonlyArray<readonly [string, string]> = [];

/**
 * Other forks' ACKs kept for their 2xx retransmissions, at most: a peer
 * can answer with any number of To tags. A 2xx of a fork beyond is ACKed and
 * BYEd each time it comes, as a new one, and nothing of it is kept: its
 * BYEs carry the same CSeq, harmless (the first BYE ended the dialog, and
 * the peer answers the others 481).
 */
export const MAX_OTHER_FORK_ACKS = 16;

/**
 * Also our side of the INVITE's dialogs (UacInvite): the From and
 * Request-URI are kept as text, parsed up front (so that one we cannot read
 * fails the call before anything is sent) and kept parsed while the call
 * lives. After releaseInvite() they are parsed again on each read: only a
 * 2xx of another fork in Accepted reads them then.
 */
export class InviteAcks implements UacInvite {
  /** `callId\nfrom`: one flat string (a second one cost its own header). */
  readonly #callIdAndFrom: string;
  readonly #seq: number;
  readonly #uriText: string;
  #from: NameAddr | undefined;
  #uri: Uri | undefined;
  readonly #context: DialogContext;
  readonly #credentials: ReadonlyArray<readonly [string, string]>;
  readonly #transport: TransportKind;
  readonly #auth: Authenticator | undefined;
  /** The first 2xx's ACK; a Map (by To tag) only for other forks' (rare). */
  #firstAck: AckFor2xx | undefined;
  #otherAcks: Map<string, AckFor2xx> | undefined;

  /** Throws (a SipParseError) when the From or Request-URI cannot be read. */
  constructor(context: DialogContext, invite: SentInvite, options: InviteAckOptions) {
    this.#from = parseNameAddr(invite.from, 'from');
    this.#uri = parseUri(invite.uri, 'request-uri', URI_OPTIONS);
    this.#callIdAndFrom = [invite.callId, invite.from].join(SEPARATOR);
    this.#seq = invite.seq;
    this.#uriText = invite.uri;
    this.#context = context;
    this.#credentials = options.credentials.length === 0 ? NO_CREDENTIALS : options.credentials;
    this.#transport = options.transport;
    this.#auth = options.auth;
  }

  get callId(): string {
    return this.#callIdAndFrom.slice(0, this.#callIdAndFrom.indexOf(SEPARATOR));
  }

  get cseq(): { readonly seq: number } {
    return { seq: this.#seq };
  }

  get from(): NameAddr {
    return this.#from ?? parseNameAddr(this.#callIdAndFrom.slice(this.#callIdAndFrom.indexOf(SEPARATOR) + 1), 'from');
  }

  get uri(): Uri {
    return this.#uri ?? parseUri(this.#uriText, 'request-uri', URI_OPTIONS);
  }

  /** The dialog a 2xx (or a 1xx with a To tag) makes with our INVITE; throws a TypeError when it cannot make one. */
  dialogFor(response: SipMessage): DialogState {
    return DialogState.forUac(this, response);
  }

  /** Whether dialogFor() would make a dialog of this response, without making it (an early dialog is only counted). */
  opensDialog(response: SipMessage): boolean {
    return DialogState.uacCanMake(this, response);
  }

  /** The call has ended: drop the parsed From and Request-URI (with the views and maps they hold), else kept for Timer M. */
  releaseInvite(): void {
    this.#from = undefined;
    this.#uri = undefined;
  }

  /** Sends the ACK for the 2xx of `dialog`, and keeps it for that 2xx's retransmissions. */
  ack(dialog: DialogState): AckFor2xx {
    const ack = new AckFor2xx(this.#context, dialog, { cseq: this.#seq, headers: this.#credentials }, this.#transport, undefined);
    ack.send(this.#context.transactions);
    const tag = dialog.remoteTag;
    if (this.#firstAck === undefined || this.#firstAck.isForTag(tag)) this.#firstAck = ack;
    else if ((this.#otherAcks ??= new Map()).size < MAX_OTHER_FORK_ACKS) this.#otherAcks.set(tag, ack);
    return ack;
  }

  /** ACKs a 2xx of a dialog we do not keep, then BYEs it; its retransmissions get the same ACK. */
  ackAndBye(response: SipMessage): void {
    let dialog: DialogState;
    try {
      dialog = this.dialogFor(response);
    } catch {
      return;
    }
    this.ack(dialog);
    this.bye(dialog);
  }

  /** A BYE in a dialog the call does not keep. */
  bye(dialog: DialogState): void {
    const auth = this.#auth;
    const transport = this.#transport;
    sendInDialog(this.#context, dialog, 'BYE', { ...(auth ? { auth } : {}), transport });
  }

  /** A further 2xx in Accepted: its ACK again when known, else another fork answered (ACK, then BYE). */
  onAdditional2xx(response: SipMessage): void {
    const tag = response.to?.tag;
    if (tag == null) return;
    const known = this.#firstAck?.isForTag(tag) === true ? this.#firstAck : this.#otherAcks?.get(tag);
    if (known !== undefined) {
      known.send(this.#context.transactions);
      return;
    }
    this.ackAndBye(response);
  }
}
