/**
 * The offer/answer state of one session (RFC 3264 s4, RFC 3261 s13.2.1):
 *
 *             createOffer               receiveOffer
 *   have-local-offer <------- stable -------> have-remote-offer
 *        |                    ^    ^                  |
 *        +-- receiveAnswer ---+    +--- createAnswer -+
 *        +-- rollback --------+    +--- rollback -----+
 *
 * One offer at a time. RFC 3264 s4: an agent "MUST NOT generate a new offer
 * if it has received an offer which it has not yet answered or rejected.
 * Furthermore, it MUST NOT generate a new offer if it has generated a prior
 * offer for which it has not yet received an answer or a rejection."
 * The dialog layer calls createOffer for an INVITE or re-INVITE (or for the
 * 2xx of an INVITE that came without SDP), receiveAnswer on the 2xx (or the
 * ACK), receiveOffer and createAnswer for an incoming INVITE or re-INVITE,
 * rollback when an offer goes unanswered (488, 491, timeout, or our own
 * rejection of theirs). A call in a state its move does not start from
 * throws IllegalTransitionError: a bug in the caller. What the peer sends
 * wrong throws OfferAnswerError with the status to answer it with.
 */
import type { SessionDescription } from '../parser/sdp/index.ts';
import { parseSdp } from '../parser/sdp/index.ts';
import type { SipParseError } from '../parser/errors.ts';
import { IllegalTransitionError } from '../transaction/machine.ts';
import { cryptoRandom } from '../transaction/random.ts';
import { answerParts, chooseAudio, type AudioChoice } from './answer.ts';
import { isTelephoneEvent } from './codec-match.ts';
import { AUDIO_PROTO, sdpAddress, slotOf, writeAudioSection, writeSections, writeTimings, type StreamSlot } from './local-offer.ts';
import { LocalOrigin, randomSessionId } from './local-origin.ts';
import { utf8Bytes } from '../parser/text.ts';
import {
  DEFAULT_CODECS,
  TELEPHONE_EVENT,
  resolveCodec,
  type Codec,
  type CodecChoice,
  type LocalMedia,
  type NegotiatedMedia,
} from './media.ts';
import { OfferAnswerError } from './offer-answer-error.ts';
import { PayloadTypeMap } from './payload-types.ts';
import { readAnswerTo, type OfferedAudio } from './read-answer.ts';
import { offerDirection } from './stream-direction.ts';
import { ourActingDirection } from './peer-stream.ts';

export interface OfferAnswerOptions {
  /** Our RTP address and port for this call. */
  readonly local: LocalMedia;
  /** Uniform in [0, 1), for the o= session id; crypto.getRandomValues by default (cryptoRandom). */
  readonly random?: () => number;
  /** o= username; default '-' (RFC 8866 s5.2: no user ids on the host). */
  readonly username?: string;
  /** Our codecs in order of preference; default PCMU, PCMA. telephone-event is always offered. */
  readonly codecs?: readonly CodecChoice[];
}

export type OfferAnswerState = 'stable' | 'have-local-offer' | 'have-remote-offer';

type Move = 'createOffer' | 'receiveOffer' | 'receiveAnswer' | 'createAnswer' | 'rollback';

const MOVES: { readonly [M in Move]: { readonly from: readonly OfferAnswerState[]; readonly to: OfferAnswerState } } = {
  createOffer: { from: ['stable'], to: 'have-local-offer' },
  receiveOffer: { from: ['stable'], to: 'have-remote-offer' },
  receiveAnswer: { from: ['have-local-offer'], to: 'stable' },
  createAnswer: { from: ['have-remote-offer'], to: 'stable' },
  rollback: { from: ['have-local-offer', 'have-remote-offer'], to: 'stable' },
};

interface OurPendingOffer {
  readonly hold: boolean;
  readonly slots: readonly StreamSlot[];
  readonly audio: OfferedAudio;
}

interface TheirPendingOffer {
  readonly offer: SessionDescription;
  readonly choice: AudioChoice | undefined;
}

export class OfferAnswer {
  #state: OfferAnswerState = 'stable';
  readonly #local: LocalMedia;
  /** Our codecs in order of preference, then telephone-event: what we offer and accept. */
  readonly #formats: readonly Codec[];
  readonly #origin: LocalOrigin;
  readonly #payloadTypes = new PayloadTypeMap();
  /** The session's m= lines after the last completed exchange, and which one is our audio. */
  #slots: readonly StreamSlot[] = [];
  #audioIndex: number | undefined;
  #media: NegotiatedMedia | undefined;
  #localHold = false;
  #ours: OurPendingOffer | undefined;
  #theirs: TheirPendingOffer | undefined;

  constructor(options: OfferAnswerOptions) {
    this.#local = checkLocal(options.local);
    this.#formats = options.codecs === undefined ? defaultFormats() : withEvents(checkCodecs(options.codecs.map(resolveCodec)));
    const username = options.username ?? '-';
    if (options.username !== undefined && !isSdpField(username)) throw new TypeError(`o= username ${JSON.stringify(username)} is empty or has a blank`);
    this.#origin = new LocalOrigin(username, randomSessionId(options.random ?? cryptoRandom()), this.#local);
  }

  get state(): OfferAnswerState {
    return this.#state;
  }

  /** Whether we hold the peer, as of the last completed exchange; the next offer or answer keeps it unless told otherwise. */
  get localHold(): boolean {
    return this.#localHold;
  }

  /**
   * The media of the last completed exchange; undefined before the first one,
   * and after an exchange without an active stream (an offer without m= lines,
   * RFC 4317 5.1, or with every stream at port 0).
   */
  get media(): NegotiatedMedia | undefined {
    return this.#media;
  }

  /** Our o= session id (decimal digits), the same in every SDP of this session. */
  get sessionId(): string {
    return this.#origin.sessionId;
  }

  /**
   * stable -> have-local-offer. `hold` true puts the peer on hold (a=sendonly,
   * or a=inactive when the peer holds us), false resumes (a=sendrecv);
   * omitted keeps the current hold. Every m= line of the session is kept,
   * others at port 0 (RFC 3264 s8); after an exchange without audio our
   * stream is added at the end.
   */
  createOffer(options: { readonly hold?: boolean } = {}): Uint8Array {
    this.#check('createOffer');
    const hold = options.hold ?? this.#localHold;
    const audioIndex = this.#audioIndex ?? this.#slots.length;
    const slots = this.#audioIndex === undefined ? [...this.#slots, { media: 'audio', proto: AUDIO_PROTO, format: '0' }] : this.#slots;
    const peerReceives = this.#media === undefined || !this.#media.remoteHold;
    const offered = this.#numberedCodecs();
    const codecs = offered.slice(0, -1);
    const telephoneEvent = offered[offered.length - 1]!.payloadType;
    const direction = offerDirection(hold, peerReceives);
    const audio = writeAudioSection({ local: this.#local, codecs, telephoneEvent, direction });
    const text = this.#origin.write(writeTimings(undefined) + writeSections(slots, audioIndex, audio));
    this.#payloadTypes.recordCodecs(offered);
    this.#ours = { hold, slots, audio: { index: audioIndex, codecs: offered, direction: ourActingDirection(direction, this.#local) } };
    this.#move('createOffer');
    return utf8Bytes(text);
  }

  /** Our codecs then telephone-event, numbered for the next offer (RFC 3264 s8.3.2). */
  #numberedCodecs(): Codec[] {
    const taken = new Set<number>();
    const numbered: Codec[] = [];
    for (const codec of this.#formats) {
      const payloadType = this.#payloadTypes.numberFor(codec, taken);
      taken.add(payloadType);
      numbered.push(payloadType === codec.payloadType ? codec : { ...codec, payloadType });
    }
    return numbered;
  }

  /**
   * have-local-offer -> stable, whatever the outcome: the answer came in a 2xx
   * or an ACK, and no second answer can follow. On success the negotiated
   * media; on failure OfferAnswerError (400 unreadable or m= lines not lined
   * up, 488 audio refused or no common codec) and the previous media, hold and
   * m= lines stay (the caller ends the call or sends a new offer).
   */
  receiveAnswer(body: Uint8Array): NegotiatedMedia {
    this.#check('receiveAnswer');
    const pending = this.#ours!;
    this.#ours = undefined;
    this.#move('receiveAnswer');
    const answer = parseBody(body, 'answer');
    const media = readAnswerTo(pending.slots.length, pending.audio, answer);
    this.#payloadTypes.record(answer.mediaDescriptions[media.streamIndex]!);
    this.#media = media;
    this.#localHold = pending.hold;
    this.#slots = pending.slots;
    this.#audioIndex = pending.audio.index;
    return media;
  }

  /**
   * Reads an answer to our pending offer without completing the exchange:
   * for early media from the SDP of a provisional response, which RFC 3261
   * s13.2.1 allows to carry "that same exact answer" before the 2xx. Throws
   * as receiveAnswer does; the state stays have-local-offer.
   */
  previewAnswer(body: Uint8Array): NegotiatedMedia {
    this.#check('receiveAnswer');
    const pending = this.#ours!;
    return readAnswerTo(pending.slots.length, pending.audio, parseBody(body, 'answer'));
  }

  /**
   * stable -> have-remote-offer. Throws OfferAnswerError and stays stable
   * when the offer cannot be taken: 400 malformed, 488 no usable audio
   * stream; 491 while our own offer is pending (glare), 500 while we owe an
   * answer (RFC 3261 s14.2).
   */
  receiveOffer(body: Uint8Array): void {
    if (this.#state === 'have-local-offer') throw new OfferAnswerError('offer-pending', 'an offer arrived while ours is pending');
    if (this.#state === 'have-remote-offer') throw new OfferAnswerError('answer-pending', 'an offer arrived while we owe an answer');
    const offer = parseBody(body, 'offer');
    const choice = chooseAudio(offer, this.#formats);
    this.#theirs = { offer, choice };
    this.#move('receiveOffer');
  }

  /**
   * have-remote-offer -> stable: our answer. Directions per RFC 3264 s6.1:
   * sendonly -> recvonly (inactive while we hold), recvonly -> sendonly,
   * inactive -> inactive, sendrecv -> sendrecv (sendonly while we hold);
   * c=IN IP4 0.0.0.0 counts as the peer not receiving. `hold` as in createOffer.
   */
  createAnswer(options: { readonly hold?: boolean } = {}): Uint8Array {
    return utf8Bytes(this.createAnswerText(options));
  }

  /**
   * @internal createAnswer() as text, for a body that goes straight into a
   * response (our 2xx): the response's bytes are written from it, without
   * an array of its own for the SDP (a new ArrayBuffer per call, ~2% of a
   * callee's CPU in profiles).
   */
  createAnswerText(options: { readonly hold?: boolean } = {}): string {
    this.#check('createAnswer');
    const { offer, choice } = this.#theirs!;
    this.#theirs = undefined;
    const hold = options.hold ?? this.#localHold;
    const parts = answerParts(offer, choice, { local: this.#local, hold });
    const text = this.#origin.write(parts.body);
    if (choice !== undefined) this.#payloadTypes.record(offer.mediaDescriptions[choice.index]!);
    this.#media = parts.media;
    this.#localHold = hold;
    this.#slots = offer.mediaDescriptions.map(slotOf);
    this.#audioIndex = choice?.index;
    this.#move('createAnswer');
    return text;
  }

  /**
   * have-local-offer or have-remote-offer -> stable, as if the pending offer
   * had never been made: our re-INVITE got 488, 491 or timed out, or we
   * refused theirs. Media, hold and m= lines stay as they were; the o=
   * version does not go back (the peer may have seen the withdrawn offer).
   */
  rollback(): void {
    this.#check('rollback');
    this.#ours = undefined;
    this.#theirs = undefined;
    this.#move('rollback');
  }

  #check(move: Move): void {
    if (!MOVES[move].from.includes(this.#state)) {
      throw new IllegalTransitionError(`offer-answer ${move}`, this.#state, MOVES[move].to);
    }
  }

  #move(move: Move): void {
    this.#check(move);
    this.#state = MOVES[move].to;
  }
}

function parseBody(body: Uint8Array, what: 'offer' | 'answer'): SessionDescription {
  try {
    return parseSdp(body);
  } catch (error) {
    // parseSdp lets nothing but SipParseError out.
    throw new OfferAnswerError('malformed-sdp', `malformed SDP ${what}: ${(error as SipParseError).message}`, { cause: error });
  }
}

function checkLocal(local: LocalMedia): LocalMedia {
  if (!Number.isInteger(local.port) || local.port < 1 || local.port > 65535) {
    throw new RangeError(`local RTP port ${local.port} is not in 1..65535`);
  }
  const { address } = sdpAddress(local.address);
  if (!isSdpField(address)) throw new TypeError(`local RTP address ${JSON.stringify(local.address)} is empty or has a blank`);
  return { address, port: local.port };
}

/** The default formats, resolved and checked once (on first use: the core creates nothing at load). */
let defaults: readonly Codec[] | undefined;

function defaultFormats(): readonly Codec[] {
  return (defaults ??= withEvents(checkCodecs(DEFAULT_CODECS.map(resolveCodec))));
}

function withEvents(codecs: readonly Codec[]): readonly Codec[] {
  return [...codecs, TELEPHONE_EVENT];
}

function checkCodecs(codecs: readonly Codec[]): readonly Codec[] {
  if (codecs.length === 0) throw new RangeError('at least one codec is needed');
  for (const codec of codecs) {
    const valid =
      Number.isInteger(codec.payloadType) && codec.payloadType >= 0 && codec.payloadType <= 127 &&
      Number.isInteger(codec.clockRate) && codec.clockRate > 0 &&
      isSdpField(codec.name) && !codec.name.includes('/');
    if (!valid) throw new TypeError(`codec ${JSON.stringify(codec)} is not a valid RTP payload format`);
    if (isTelephoneEvent(codec)) throw new TypeError('telephone-event is always offered; it is not a codec to list');
  }
  return codecs;
}

/** Non-empty, and no blank or control character that would break an SDP line. */
function isSdpField(value: string): boolean {
  return value !== '' && !/[\s\x00-\x1f\x7f]/.test(value);
}
