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
 * application's callbacks, all kept alive 32 s after every call.
 */
import type { SipMessage } from '../parser/index.ts';
import type { TransportKind } from '../transport/types.ts';
import { AckFor2xx } from './ack-2xx.ts';
import type { Authenticator } from './authenticator.ts';
import type { DialogContext } from './dialog-context.ts';
import { DialogState, type UacInvite } from './dialog-state.ts';
import { sendInDialog } from './in-dialog-request.ts';

/** Our side of the INVITE's dialogs (s12.1.2), from what we wrote into it. */
export interface SentInvite extends UacInvite {
  readonly cseq: { readonly seq: number };
}

export interface InviteAckOptions {
  /** The INVITE's credentials: "The ACK MUST contain the same credentials as the INVITE." */
  readonly credentials: ReadonlyArray<readonly [string, string]>;
  readonly transport: TransportKind;
  readonly auth: Authenticator | undefined;
}

export class InviteAcks {
  readonly #byTag = new Map<string, AckFor2xx>();
  readonly #context: DialogContext;
  readonly #invite: SentInvite;
  readonly #options: InviteAckOptions;

  constructor(context: DialogContext, invite: SentInvite, options: InviteAckOptions) {
    this.#context = context;
    this.#invite = invite;
    this.#options = options;
  }

  /** The dialog a 2xx (or a 1xx with a To tag) makes with our INVITE; throws a TypeError when it cannot make one. */
  dialogFor(response: SipMessage): DialogState {
    return DialogState.forUac(this.#invite, response);
  }

  /** Whether dialogFor() would make a dialog of this response, without making it (an early dialog is only counted). */
  opensDialog(response: SipMessage): boolean {
    return DialogState.uacCanMake(this.#invite, response);
  }

  /** Sends the ACK for the 2xx of `dialog`, and keeps it for that 2xx's retransmissions. */
  ack(dialog: DialogState): AckFor2xx {
    const ack = new AckFor2xx(this.#context, dialog, { cseq: this.#invite.cseq.seq, headers: this.#options.credentials }, this.#options.transport, undefined);
    ack.send();
    this.#byTag.set(dialog.remoteTag, ack);
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
    const { auth, transport } = this.#options;
    sendInDialog(this.#context, dialog, 'BYE', { ...(auth ? { auth } : {}), transport });
  }

  /** A further 2xx in Accepted: its ACK again when known, else another fork answered (ACK, then BYE). */
  onAdditional2xx(response: SipMessage): void {
    const tag = response.to?.tag;
    if (tag == null) return;
    const known = this.#byTag.get(tag);
    if (known !== undefined) {
      known.send();
      return;
    }
    this.ackAndBye(response);
  }
}
