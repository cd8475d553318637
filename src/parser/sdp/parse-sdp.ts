/**
 * parseSdp: SDP text (RFC 8866) -> SessionDescription, in one pass over the
 * lines. Strict where a wrong value would mislead the offer/answer logic
 * (version, o=, c=, m=, ports, duplicates of single fields); lenient about
 * line ends, field order inside a level, blanks between fields and `s=`.
 */
import { SipParseError } from '../errors.ts';
import type { MediaDescription, SdpLimits, SdpOrigin, SdpTiming, SessionDescription } from './types.ts';
import { DEFAULT_SDP_LIMITS } from './types.ts';
import { decodeBody, utf8Length } from './decode-body.ts';
import { splitLines, type SdpLine } from './split-lines.ts';
import { readAttribute, readBandwidth, readConnection, readMediaLine, readOrigin, readTiming } from './read-fields.ts';
import { quote, sdpError } from './sdp-error.ts';

/** Types that may appear only before the first m= line. */
const SESSION_ONLY = 'vosuepztr';

export function parseSdp(body: Uint8Array | string, limits?: Partial<SdpLimits>): SessionDescription {
  const resolved = limits === undefined ? DEFAULT_SDP_LIMITS : { ...DEFAULT_SDP_LIMITS, ...limits };
  let decoded: ReturnType<typeof decodeBody> | undefined;
  try {
    decoded = decodeBody(body, resolved);
    return parseLines(splitLines(decoded.text, resolved.maxLines), resolved);
  } catch (error) {
    if (!(error instanceof SipParseError)) {
      // Defensive: nothing but SipParseError may leave the parser.
      throw sdpError(`malformed SDP (${error instanceof Error ? error.message : String(error)})`, -1);
    }
    if (decoded?.fromUtf8Bytes && error.offset > 0) {
      // Report byte offsets for byte input: the text was decoded from UTF-8.
      const byteOffset = utf8Length(decoded.text, Infinity, Math.min(error.offset, decoded.text.length));
      throw new SipParseError(error.reason, { status: error.status, offset: byteOffset, header: error.header ?? 'sdp' });
    }
    throw error;
  }
}

function parseLines(lines: SdpLine[], limits: SdpLimits): SessionDescription {
  const first = lines[0];
  if (first === undefined || first.type !== 'v') throw sdpError('SDP must start with a v= line', first?.offset ?? 0);
  if (first.value.trim() !== '0') throw sdpError(`unsupported SDP version ${quote(first.value)}`, first.offset);

  // o= may come anywhere before the first m= (lenient order), so it is added last.
  const session: Omit<SessionDescription, 'origin'> = {
    version: 0,
    sessionName: '',
    emails: [],
    phones: [],
    bandwidths: [],
    timings: [],
    attributes: [],
    otherLines: [],
    mediaDescriptions: [],
  };
  let origin: SdpOrigin | undefined;
  let hasSessionName = false;
  let lastTiming: SdpTiming | undefined;
  let media: MediaDescription | undefined;

  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const { type, value, offset } = line;
    if (type === 'm') {
      if (session.mediaDescriptions.length >= limits.maxMediaDescriptions) {
        throw sdpError(`SDP has more than ${limits.maxMediaDescriptions} media sections`, offset, 413);
      }
      media = readMediaLine(value, offset);
      session.mediaDescriptions.push(media);
      continue;
    }
    if (media !== undefined) {
      readMediaLevelLine(media, line);
      continue;
    }
    switch (type) {
      case 'v':
        throw sdpError('v= line after the first line', offset);
      case 'o':
        if (origin !== undefined) throw duplicate(line);
        origin = readOrigin(value, offset);
        break;
      case 's':
        if (hasSessionName) throw duplicate(line);
        // RFC 8866 s5.3: "s= " (one space) means no meaningful name.
        session.sessionName = value === ' ' ? '' : value;
        hasSessionName = true;
        break;
      case 'i':
        if (session.information !== undefined) throw duplicate(line);
        session.information = value;
        break;
      case 'u':
        if (session.uri !== undefined) throw duplicate(line);
        session.uri = value;
        break;
      case 'e':
        session.emails.push(value);
        break;
      case 'p':
        session.phones.push(value);
        break;
      case 'c':
        if (session.connection !== undefined) throw duplicate(line);
        session.connection = readConnection(value, offset);
        break;
      case 'b':
        session.bandwidths.push(readBandwidth(value, offset));
        break;
      case 't':
        lastTiming = readTiming(value, offset);
        session.timings.push(lastTiming);
        break;
      case 'r':
        if (lastTiming === undefined) throw sdpError('r= line without a t= line before it', offset);
        lastTiming.repeats.push(value);
        break;
      case 'z':
        if (session.timezones !== undefined) throw duplicate(line);
        session.timezones = value;
        break;
      case 'k':
        if (session.key !== undefined) throw duplicate(line);
        session.key = value;
        break;
      case 'a':
        session.attributes.push(readAttribute(value, offset));
        break;
      default:
        session.otherLines.push({ type, value });
    }
  }
  if (origin === undefined) throw sdpError('SDP has no o= line', 0);
  return { ...session, origin };
}

function readMediaLevelLine(media: MediaDescription, line: SdpLine): void {
  const { type, value, offset } = line;
  switch (type) {
    case 'i':
      if (media.information !== undefined) throw duplicate(line);
      media.information = value;
      return;
    case 'c':
      media.connections.push(readConnection(value, offset));
      return;
    case 'b':
      media.bandwidths.push(readBandwidth(value, offset));
      return;
    case 'k':
      if (media.key !== undefined) throw duplicate(line);
      media.key = value;
      return;
    case 'a':
      media.attributes.push(readAttribute(value, offset));
      return;
    default:
      if (SESSION_ONLY.includes(type)) throw sdpError(`${type}= line not allowed in a media section`, offset);
      media.otherLines.push({ type, value });
  }
}

function duplicate(line: SdpLine): SipParseError {
  return sdpError(`more than one ${line.type}= line at this level`, line.offset);
}
