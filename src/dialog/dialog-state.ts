/**
 * The state of one dialog (RFC 3261 s12.1): "the dialog ID, a local sequence
 * number ..., a remote sequence number ..., a local URI, a remote URI, remote
 * target, a boolean flag called "secure", and a route set". Built from the
 * INVITE and its response on the UAC side (s12.1.2) or from the INVITE on the
 * UAS side (s12.1.1); builds requests within the dialog (s12.2.1.1) and
 * checks the CSeq of requests received in it (s12.2.2).
 */
import { formatNameAddr, isWildcard, ownedString, parseNameAddr, parseUri, SipParseError, type MessageParts, type NameAddr, type SipMessage, type Uri } from '../parser/index.ts';
import { dialogKey } from './dialog-id.ts';

/** Largest CSeq number (s8.1.1.5: "MUST be expressible as a 32-bit unsigned integer"). */
const MAX_CSEQ = 0xffffffff;

export interface InDialogRequest {
  readonly parts: MessageParts;
  /** Where the request goes first: the first Route's URI (loose routing) or the Request-URI. */
  readonly nextHop: Uri;
}

export interface RequestOptions {
  /** Header fields after the dialog's own (Contact, Content-Type, Authorization ...). */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array;
  /** CSeq number to use instead of the next one (the ACK and CANCEL share their INVITE's). */
  readonly cseq?: number;
}

/** What forUac() reads of our INVITE: a SipMessage, or the fields we wrote into it. */
export interface UacInvite {
  readonly callId: string | undefined;
  readonly from: NameAddr | undefined;
  readonly cseq: { readonly seq: number } | undefined;
  readonly uri: Uri | undefined;
}

/** The name-addr of From/To without its tag (other header params kept). */
function withoutTag(value: NameAddr): string {
  return formatNameAddr(value, 'tag');
}

/** The URI of the first Contact, when it is a usable name-addr. */
function contactUri(message: SipMessage): Uri | undefined {
  const first = message.contact[0];
  return first === undefined || isWildcard(first) ? undefined : first.uri;
}

export class DialogState {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** From (our requests) / To (theirs): name-addr without tag. */
  readonly local: string;
  readonly remote: string;
  /** s12.1: the dialog is secure when the request came over TLS with a sips Request-URI. */
  readonly secure: boolean;
  localSeq: number;
  /** Empty (undefined) until the peer sends a request in the dialog (UAC side). */
  remoteSeq: number | undefined;
  remoteTarget: Uri;
  /** Route set as header values, in the order our requests carry them. */
  readonly routeSet: readonly string[];
  readonly key: string;
  /** The first route's URI, parsed on first use (every request in a proxied dialog reads it, twice). */
  #firstRoute: Uri | undefined;

  private constructor(fields: {
    callId: string;
    localTag: string;
    remoteTag: string;
    local: string;
    remote: string;
    secure: boolean;
    localSeq: number;
    remoteSeq: number | undefined;
    remoteTarget: Uri;
    routeSet: readonly string[];
  }) {
    // A dialog lives for the whole call: its strings are copies, not views into the INVITE or the response
    // they were read from (a view keeps that whole message alive, ~0.7 KB per dialog).
    this.callId = ownedString(fields.callId);
    this.localTag = ownedString(fields.localTag);
    this.remoteTag = ownedString(fields.remoteTag);
    this.local = ownedString(fields.local);
    this.remote = ownedString(fields.remote);
    this.secure = fields.secure;
    this.localSeq = fields.localSeq;
    this.remoteSeq = fields.remoteSeq;
    this.remoteTarget = ownedUri(fields.remoteTarget);
    this.routeSet = fields.routeSet.map(ownedString);
    this.key = ownedString(dialogKey(this.callId, this.localTag, this.remoteTag));
  }

  /** Whether forUac() makes a dialog of this response: both tags, the Call-ID, the CSeq and a target. Checked without building it (an early dialog is only counted). */
  static uacCanMake(invite: UacInvite, response: SipMessage): boolean {
    return !!response.to?.tag && !!invite.from?.tag && invite.callId !== undefined && invite.cseq !== undefined && (invite.uri !== undefined || contactUri(response) !== undefined);
  }

  /**
   * s12.1.2: from our INVITE and a 1xx (with a To tag) or 2xx to it. "The
   * route set MUST be set to the list of URIs in the Record-Route header
   * field from the response, taken in reverse order"; "The remote target
   * MUST be set to the URI from the Contact header field of the response."
   * Throws a TypeError when uacCanMake() says no.
   */
  static forUac(invite: UacInvite, response: SipMessage): DialogState {
    if (!DialogState.uacCanMake(invite, response)) throw new TypeError('a dialog needs both tags, a Call-ID, a CSeq and a target (a Contact or the Request-URI)');
    // A 2xx without Contact breaks s12.1.2; the Request-URI is the best target left.
    const target = (contactUri(response) ?? invite.uri)!;
    return new DialogState({
      callId: invite.callId!,
      localTag: invite.from!.tag!,
      remoteTag: response.to!.tag!,
      local: withoutTag(invite.from!),
      remote: withoutTag(response.to!),
      secure: invite.uri?.scheme === 'sips',
      localSeq: invite.cseq!.seq,
      remoteSeq: undefined,
      remoteTarget: target,
      routeSet: routesOf(response).reverse(),
    });
  }

  /**
   * s12.1.1: from an INVITE we answer with `localTag`. "The route set MUST be
   * set to the list of URIs in the Record-Route header field from the
   * request, taken in order"; the remote sequence number is the request's
   * CSeq; our local sequence number starts at `localSeq` (s12.1.1 leaves it
   * empty; s8.1.1.5 wants a value below 2^31 for a first request).
   */
  static forUas(invite: SipMessage, localTag: string, localSeq: number, viaTls: boolean): DialogState {
    const target = contactUri(invite);
    if (target === undefined || invite.callId === undefined || invite.cseq === undefined || !invite.from?.tag) {
      throw new TypeError('an INVITE that makes a dialog needs a Contact, a Call-ID, a CSeq and a From tag');
    }
    return new DialogState({
      callId: invite.callId,
      localTag,
      remoteTag: invite.from.tag,
      local: withoutTag(invite.to!),
      remote: withoutTag(invite.from),
      secure: viaTls && invite.uri?.scheme === 'sips',
      localSeq,
      remoteSeq: invite.cseq.seq,
      remoteTarget: target,
      routeSet: routesOf(invite),
    });
  }

  /**
   * s12.2.1.1: a request within the dialog. To = remote URI and tag, From =
   * local URI and tag, the dialog's Call-ID, CSeq = local sequence number + 1
   * (unless `cseq` is given), and the Request-URI and Route from the remote
   * target and route set: loose routing when the first route has `lr`, else
   * strict routing (the first route in the Request-URI, the remote target
   * last in Route).
   */
  request(method: string, options: RequestOptions = {}): InDialogRequest {
    let seq = options.cseq;
    if (seq === undefined) {
      if (this.localSeq >= MAX_CSEQ) throw new RangeError('the local CSeq is exhausted');
      seq = ++this.localSeq;
    }
    const { requestUri, routes } = this.#routing();
    const headers: Array<[string, string]> = [];
    for (const route of routes) headers.push(['Route', route]);
    headers.push(
      ['Max-Forwards', '70'],
      ['From', `${this.local};tag=${this.localTag}`],
      ['To', `${this.remote};tag=${this.remoteTag}`],
      ['Call-ID', this.callId],
      ['CSeq', `${seq} ${method}`],
    );
    for (const [name, value] of options.headers ?? []) headers.push([name, value]);
    const parts: MessageParts = { method, uri: requestUri.toString(), headers };
    if (options.body !== undefined) parts.body = options.body;
    const nextHop = routes.length > 0 && requestUri === this.remoteTarget ? this.#firstRouteUri() : requestUri;
    return { parts, nextHop };
  }

  /** Where the dialog's requests go first: the first route (loose or strict routing), else the remote target. */
  get nextHop(): Uri {
    return this.routeSet.length > 0 ? this.#firstRouteUri() : this.remoteTarget;
  }

  /** The Request-URI of the next request in the dialog (for digest's `uri`). */
  get requestUri(): string {
    return this.#routing().requestUri.toString();
  }

  #firstRouteUri(): Uri {
    return (this.#firstRoute ??= parseNameAddr(this.routeSet[0]!, 'route').uri);
  }

  /** Loose routing when the first route has `lr`, else strict routing (s12.2.1.1). */
  #routing(): { requestUri: Uri; routes: readonly string[] } {
    const routes = this.routeSet;
    if (routes.length === 0) return { requestUri: this.remoteTarget, routes };
    const first = this.#firstRouteUri();
    if (first.params.has('lr')) return { requestUri: this.remoteTarget, routes };
    // s12.2.1.1 strict routing: "place the first URI from the route set into
    // the Request-URI ... the remote target as the last value".
    return { requestUri: withoutHeaders(first), routes: [...routes.slice(1), `<${this.remoteTarget.toString()}>`] };
  }

  /**
   * s12.2.2: "If the remote sequence number is empty, it MUST be set to the
   * value of the sequence number in the CSeq header field value in the
   * request. If the remote sequence number was not empty, but the sequence
   * number of the request is lower than the remote sequence number, the
   * request is out of order and MUST be rejected with a 500". ACK and CANCEL
   * carry their INVITE's number and are not checked here.
   */
  acceptRemoteCSeq(seq: number): boolean {
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /**
   * Target refresh (s12.2.1.2, s12.2.2): a re-INVITE or its 2xx with a
   * Contact moves the remote target. A 2xx whose Contact does not parse
   * (requests are checked before they get here) leaves the target where it
   * was: the 2xx is still acknowledged, to the target that worked so far.
   */
  refreshTarget(message: SipMessage): void {
    let target: Uri | undefined;
    try {
      target = contactUri(message);
    } catch (error) {
      if (error instanceof SipParseError) return;
      throw error;
    }
    if (target !== undefined) this.remoteTarget = ownedUri(target);
  }
}

/** The URI parsed again from a copy of its text: a parsed URI keeps a view into the message it came from. */
function ownedUri(uri: Uri): Uri {
  return parseUri(ownedString(uri.toString()));
}

/** The Record-Route values of a message, in order (a loop: flatMap with a callback showed in profiles). */
function routesOf(message: SipMessage): string[] {
  const routes: string[] = [];
  const fields = message.headerFields('Record-Route');
  for (let f = 0; f < fields.length; f++) {
    const values = splitRoutes(fields[f]!);
    for (let v = 0; v < values.length; v++) routes.push(values[v]!);
  }
  return routes;
}

/** A Record-Route field may carry several values. */
function splitRoutes(field: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === '"' && field[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(field.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = field.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

/** A route URI as a Request-URI: no ?headers (RFC 3261 s19.1.1). */
function withoutHeaders(uri: Uri): Uri {
  const text = uri.toString();
  const q = text.indexOf('?');
  return q < 0 ? uri : parseUri(text.slice(0, q));
}
