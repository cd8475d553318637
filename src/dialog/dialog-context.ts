/**
 * What every dialog machine gets from the dialog layer that owns it: the
 * transaction layer to send through, the clock, randomness, timer values,
 * how a URI becomes a transport target, the header values the UA advertises,
 * and the layer's registry of live dialogs.
 */
import type { MessageParts, SipMessage, Uri } from '../parser/index.ts';
import type { Clock } from '../transaction/clock.ts';
import type { ClientTransactionUser } from '../transaction/user.ts';
import type { Endpoint, TransportKind } from '../transport/types.ts';

/** What the dialog layer keeps of a client transaction it started: an INVITE's CANCEL reads the request back (s9.1), and a call that ends destroys it. */
export interface SentRequest {
  /** The request as sent; may throw once the transaction has its final response. */
  readonly request: SipMessage;
  handle(event: { readonly type: 'terminate' }): void;
}

/** The part of the TransactionLayer the dialog layer uses. */
export interface DialogTransactions {
  sendRequest(parts: MessageParts, target: Endpoint, user: ClientTransactionUser, options?: { readonly flowId?: string; readonly rport?: boolean }): SentRequest;
  /** Returns the message as sent (its Via tells the branch). */
  sendStateless(parts: MessageParts, target: Endpoint, options?: { readonly flowId?: string }): { header(name: string): string | undefined };
  /** The same without parsing the request back: the Via put on top, or undefined when the parts carried one. */
  sendStatelessVia?(parts: MessageParts, target: Endpoint): string | undefined;
}

/** A URI to the address it is sent to (RFC 3263 resolution is the caller's: the default takes IP addresses only). */
export type TargetResolver = (uri: Uri, fallback: TransportKind) => Endpoint | undefined;

export interface DialogRegistry {
  /** A dialog (early or confirmed) now answers to its key. */
  add(key: string, dialog: DialogEntry): void;
  remove(key: string, dialog: DialogEntry): void;
  /** Something that outlives its dialog for a while (a re-INVITE being cancelled): counted in stats, ended by destroy(). */
  linger(item: Lingering): void;
  unlinger(item: Lingering): void;
}

/** What lingers after its dialog ended, with its timers. */
export interface Lingering {
  readonly liveTimers: number;
  /** Ends it now: timers cleared, transaction ended, nothing sent. */
  abandonNow(): void;
}

/** What the registry holds; SessionDialog implements it. */
export interface DialogEntry {
  readonly key: string;
}

export interface DialogContext {
  readonly transactions: DialogTransactions;
  readonly clock: Clock;
  readonly random: () => number;
  /** RFC 3261 T1 and T2 (ms): 2xx retransmission from T1 doubling to T2, given up after 64*T1. */
  readonly T1: number;
  readonly T2: number;
  readonly resolve: TargetResolver;
  readonly userAgent: string | undefined;
  /** Allow and Supported header values of this UA. */
  readonly allow: string;
  readonly supported: string;
  readonly registry: DialogRegistry;
}

/**
 * A token of `length` random characters (tags; RFC 3261 s19.3 wants at least
 * 32 bits of randomness), as one flat string: appended char by char, a
 * Call-ID (20) was a chain of 8 pieces, kept as long as the call's waits.
 */
export function randomToken(random: () => number, length = 10): string {
  const codes: number[] = new Array<number>(length);
  let draw = 0;
  for (let i = 0; i < length; i++) {
    // One draw (32 random bits from the crypto source) gives 6 base-36 chars
    // (31 bits): its fraction times 36 yields a char, the rest the next one.
    if (i % CHARS_PER_DRAW === 0) draw = random();
    draw *= 36;
    const digit = Math.floor(draw);
    draw -= digit;
    codes[i] = ALPHABET.charCodeAt(digit % 36);
  }
  return String.fromCharCode.apply(null, codes);
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const CHARS_PER_DRAW = 6;
