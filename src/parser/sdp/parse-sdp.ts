/**
 * parseSdp: SDP text (RFC 8866) -> SessionDescription: the line structure is
 * checked first, then the lines are read in one pass. Strict where a wrong value would mislead the offer/answer logic
 * (version, o=, c=, m=, ports, duplicates of single fields); lenient about
 * line ends, field order inside a level, blanks between fields and `s=`.
 */
import { SipParseError } from '../errors.ts';
import type { MediaDescription, SdpLimits, SdpOrigin, SdpTiming, SessionDescription } from './types.ts';
import { DEFAULT_SDP_LIMITS } from './types.ts';
import { decodeBody, utf8Length } from './decode-body.ts';
import { checkLines, lineEnd } from './split-lines.ts';
import { readAttributeAt, readBandwidth, readConnectionAt, readMediaLineAt, readOriginAt, readTiming } from './read-fields.ts';
import { quote, sdpError } from './sdp-error.ts';

/** Types that may appear only before the first m= line. */
const SESSION_ONLY = 'vosuepztr';

export function parseSdp(body: Uint8Array | string, limits?: Partial<SdpLimits>): SessionDescription {
  const resolved = limits === undefined ? DEFAULT_SDP_LIMITS : { ...DEFAULT_SDP_LIMITS, ...limits };
  let decoded: ReturnType<typeof decodeBody> | undefined;
  try {
    decoded = decodeBody(body, resolved);
    return parseText(decoded.text, checkLines(decoded.text, resolved.maxLines), resolved);
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

function parseText(text: string, contentEnd: number, limits: SdpLimits): SessionDescription {
  let newline = text.indexOf('\n');
  let end = lineEnd(text, 0, newline);
  if (contentEnd === 0 || text.charCodeAt(0) !== 118 /* v */) throw sdpError('SDP must start with a v= line', 0);
  const version = text.slice(2, end);
  if (version !== '0' && version.trim() !== '0') throw sdpError(`unsupported SDP version ${quote(version)}`, 0);

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

  // checkLines has vouched for every line up to contentEnd: <letter>=<value>, no stray CR, none blank.
  while (newline !== -1 && newline < contentEnd) {
    const offset = newline + 1;
    newline = text.indexOf('\n', offset);
    end = lineEnd(text, offset, newline);
    const type = text.charCodeAt(offset);
    if (type === 97 /* a */) {
      (media ?? session).attributes.push(readAttributeAt(text, offset + 2, end, offset));
      continue;
    }
    if (type === 109 /* m */) {
      if (session.mediaDescriptions.length >= limits.maxMediaDescriptions) {
        throw sdpError(`SDP has more than ${limits.maxMediaDescriptions} media sections`, offset, 413);
      }
      media = readMediaLineAt(text, offset + 2, end, offset);
      session.mediaDescriptions.push(media);
      continue;
    }
    if (type === 99 /* c */) {
      if (media !== undefined) media.connections.push(readConnectionAt(text, offset + 2, end, offset));
      else if (session.connection !== undefined) throw duplicate('c', offset);
      else session.connection = readConnectionAt(text, offset + 2, end, offset);
      continue;
    }
    const line: SdpLine = { type: text[offset]!, value: text.slice(offset + 2, end), offset };
    if (media !== undefined) readMediaLevelLine(media, line);
    else if (line.type === 'o') {
      if (origin !== undefined) throw duplicate('o', offset);
      origin = readOriginAt(text, offset + 2, end, offset);
    } else if (line.type === 't') {
      lastTiming = readTiming(line.value, offset);
      session.timings.push(lastTiming);
    } else if (line.type === 'r') {
      if (lastTiming === undefined) throw sdpError('r= line without a t= line before it', offset);
      lastTiming.repeats.push(line.value);
    } else if (line.type === 's') {
      if (hasSessionName) throw duplicate('s', offset);
      // RFC 8866 s5.3: "s= " (one space) means no meaningful name.
      session.sessionName = line.value === ' ' ? '' : line.value;
      hasSessionName = true;
    } else readSessionLevelLine(session, line);
  }
  if (origin === undefined) throw sdpError('SDP has no o= line', 0);
  // Added last, as the model has always listed it.
  (session as SessionDescription).origin = origin;
  return session as SessionDescription;
}

/** One line of the session level, other than a, c, m, o, t, r, s. */
interface SdpLine {
  type: string;
  value: string;
  offset: number;
}

function readSessionLevelLine(session: Omit<SessionDescription, 'origin'>, line: SdpLine): void {
  const { type, value, offset } = line;
  switch (type) {
    case 'v':
      throw sdpError('v= line after the first line', offset);
    case 'i':
      if (session.information !== undefined) throw duplicate(type, offset);
      session.information = value;
      return;
    case 'u':
      if (session.uri !== undefined) throw duplicate(type, offset);
      session.uri = value;
      return;
    case 'e':
      session.emails.push(value);
      return;
    case 'p':
      session.phones.push(value);
      return;
    case 'b':
      session.bandwidths.push(readBandwidth(value, offset));
      return;
    case 'z':
      if (session.timezones !== undefined) throw duplicate(type, offset);
      session.timezones = value;
      return;
    case 'k':
      if (session.key !== undefined) throw duplicate(type, offset);
      session.key = value;
      return;
    default:
      session.otherLines.push({ type, value });
  }
}

function readMediaLevelLine(media: MediaDescription, line: SdpLine): void {
  const { type, value, offset } = line;
  switch (type) {
    case 'i':
      if (media.information !== undefined) throw duplicate(type, offset);
      media.information = value;
      return;
    case 'b':
      media.bandwidths.push(readBandwidth(value, offset));
      return;
    case 'k':
      if (media.key !== undefined) throw duplicate(type, offset);
      media.key = value;
      return;
    default:
      if (SESSION_ONLY.includes(type)) throw sdpError(`${type}= line not allowed in a media section`, offset);
      media.otherLines.push({ type, value });
  }
}

function duplicate(type: string, offset: number): SipParseError {
  return sdpError(`more than one ${type}= line at this level`, offset);
}
