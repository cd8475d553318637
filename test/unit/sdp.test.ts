// SDP parse/serialize (src/parser/sdp): every RFC 4317 and RFC 3264 s10
// description parses and round-trips, directions and holds read as the RFCs
// say, leniencies that real-world SDP needs, and each rejected form throws
// SipParseError with its status. The mutation fuzz is in sdp-fuzz.test.ts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SipParseError } from '../../src/parser/errors.ts';
import {
  effectiveConnection,
  findAttribute,
  findAttributes,
  findDirection,
  getDirection,
  getFmtp,
  getRtpmap,
  isRfc2543Hold,
  parseFmtpParameters,
  parseSdp,
  serializeSdp,
  serializeSdpBytes,
  setDirection,
  type MediaDirection,
  type SessionDescription,
} from '../../src/parser/sdp/index.ts';

interface SdpVector {
  id: string;
  section: string;
  sdp: string;
  /** SHA-256 of `sdp`; for RFC 4317 also of the text as printed (see the file's description). */
  sha256: string;
  printed_sha256?: string;
}

const vectorsUrl = new URL('../fixtures/conformance/vectors/sdp-offer-answer.json', import.meta.url);
const vectorsFile = JSON.parse(readFileSync(vectorsUrl, 'utf8')) as { rfc4317: SdpVector[]; rfc3264: SdpVector[] };
const vectors: SdpVector[] = [...vectorsFile.rfc4317, ...vectorsFile.rfc3264];
const encoder = new TextEncoder();
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function vector(id: string): SdpVector {
  const found = vectors.find((v) => v.id === id);
  if (found === undefined) throw new Error(`no vector ${id}`);
  return found;
}

/** Runs fn and returns the SipParseError it threw; fails on any other outcome. */
function expectParseError(fn: () => unknown, status = 400, reasonPart?: string): SipParseError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof SipParseError)) {
    assert.unreachable(`expected SipParseError, got ${thrown === undefined ? 'no error' : String(thrown)}`);
    throw thrown;
  }
  assert.is(thrown.status, status, `status of "${thrown.message}"`);
  assert.is(thrown.header, 'sdp');
  if (reasonPart !== undefined) assert.ok(thrown.reason.includes(reasonPart), `reason "${thrown.reason}" lacks "${reasonPart}"`);
  return thrown;
}

/** Lines joined with CRLF, ending with one. */
function sdp(...lines: string[]): string {
  return lines.map((line) => `${line}\r\n`).join('');
}

const HEAD = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's= ', 'c=IN IP4 192.0.2.1', 't=0 0'];
const AUDIO = ['m=audio 49170 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'];

function roundTrips(parsed: SessionDescription): void {
  assert.equal(parseSdp(serializeSdp(parsed)), parsed);
  assert.equal(parseSdp(serializeSdpBytes(parsed)), parsed);
}

// ---- vectors -------------------------------------------------------------

test('all 62 vector descriptions parse from bytes and from a string, identically', () => {
  assert.is(vectors.length, 62);
  for (const v of vectors) {
    const fromBytes = parseSdp(encoder.encode(v.sdp));
    assert.equal(parseSdp(v.sdp), fromBytes, v.id);
    assert.ok(fromBytes.timings.length === 1, v.id);
  }
});

test('every vector round-trips: parse(serialize(parse(x))) deep-equals parse(x)', () => {
  for (const v of vectors) roundTrips(parseSdp(v.sdp));
});

test('the RFC 4317 vectors are the RFC text byte for byte (SHA-256 of each, and of the text as printed)', () => {
  assert.is(vectorsFile.rfc4317.length, 54);
  for (const v of vectorsFile.rfc4317) {
    assert.is(sha256(v.sdp), v.sha256, v.id);
    // RFC 4317 s1: the s= line holds a single space, which the printed RFC cannot show; as printed it reads "s=".
    assert.is(sha256(v.sdp.replace('\r\ns= \r\n', '\r\ns=\r\n')), v.printed_sha256, v.id);
  }
  for (const v of vectorsFile.rfc3264) assert.is(sha256(v.sdp), v.sha256, v.id);
});

test('RFC 4317: parse then serialize gives back every description byte for byte', () => {
  for (const v of vectorsFile.rfc4317) assert.is(serializeSdp(parseSdp(v.sdp)), v.sdp, v.id);
});

test('RFC 3264 s10: parse then serialize gives back each description except its "s=" line, which we write "s= "', () => {
  // Why ours differs: RFC 3264 prints "s=" with nothing after it, but RFC 4566
  // s5.3 (and RFC 8866 s5.3) say the field MUST NOT be empty and SHOULD be
  // "s= " for a session without a name. We read both and write the valid form.
  assert.is(vectorsFile.rfc3264.length, 8);
  for (const v of vectorsFile.rfc3264) {
    const theirs = v.sdp.split('\r\n');
    const ours = serializeSdp(parseSdp(v.sdp)).split('\r\n');
    assert.is(ours.length, theirs.length, v.id);
    const differing = theirs.flatMap((line, i) => (line === ours[i] ? [] : [`${JSON.stringify(line)} -> ${JSON.stringify(ours[i])}`]));
    assert.equal(differing, ['"s=" -> "s= "'], v.id);
  }
});

test('RFC 4317 2.1 offer: every field of the model', () => {
  const sd = parseSdp(vector('rfc4317-2.1-offer').sdp);
  assert.equal(sd.origin, {
    username: 'alice',
    sessionId: '2890844526',
    sessionVersion: '2890844526',
    netType: 'IN',
    addrType: 'IP4',
    address: 'host.atlanta.example.com',
  });
  assert.is(sd.version, 0);
  assert.is(sd.sessionName, '');
  assert.equal(sd.connection, { netType: 'IN', addrType: 'IP4', address: 'host.atlanta.example.com' });
  assert.equal(sd.timings, [{ start: '0', stop: '0', repeats: [] }]);
  assert.is(sd.mediaDescriptions.length, 2);
  const [audio, video] = sd.mediaDescriptions;
  assert.equal(audio, {
    media: 'audio',
    port: 49170,
    proto: 'RTP/AVP',
    formats: ['0', '8', '97'],
    connections: [],
    bandwidths: [],
    attributes: [
      { name: 'rtpmap', value: '0 PCMU/8000' },
      { name: 'rtpmap', value: '8 PCMA/8000' },
      { name: 'rtpmap', value: '97 iLBC/8000' },
    ],
    otherLines: [],
  });
  assert.is(video!.media, 'video');
  assert.equal(video!.formats, ['31', '32']);
  assert.equal(getRtpmap(audio!, 97), { payloadType: '97', encodingName: 'iLBC', clockRate: 8000, isStatic: false });
});

/** Expected direction of each m= line where the RFC text sets one; all others are sendrecv. */
const DIRECTIONS: Record<string, MediaDirection[]> = {
  'rfc4317-2.4-offer': ['sendrecv', 'sendonly'],
  'rfc4317-2.4-answer': ['sendrecv', 'recvonly'],
  'rfc4317-3.1-answer': ['sendonly'],
  'rfc4317-3.1-offer-2': ['sendrecv'],
  'rfc4317-3.2-offer': ['sendrecv', 'sendonly'],
  'rfc4317-3.2-answer': ['sendrecv', 'recvonly'],
  'rfc4317-3.2-offer-2': ['sendonly', 'recvonly'],
  'rfc4317-3.2-answer-2': ['sendrecv', 'sendonly'],
  'rfc4317-4.1-offer-2': ['sendrecv', 'recvonly'],
  'rfc4317-4.1-answer-2': ['sendrecv', 'sendonly'],
  'rfc3264-10.1-offer-2': ['sendrecv', 'sendrecv', 'sendrecv', 'recvonly'],
  'rfc3264-10.1-answer-2': ['sendrecv', 'sendrecv', 'sendrecv', 'sendonly'],
  'rfc3264-10.2-offer': ['inactive'],
  'rfc3264-10.2-answer': ['inactive'],
  'rfc3264-10.2-offer-2': ['sendrecv'],
  'rfc3264-10.2-answer-2': ['sendrecv'],
};
/** RFC 4317 s5.2 and s5.3: the descriptions with c=IN IP4 0.0.0.0. */
const LEGACY_HOLDS = new Set(['rfc4317-5.2-offer', 'rfc4317-5.3-answer']);

test('direction and legacy hold of every stream match the vectors', () => {
  for (const v of vectors) {
    const sd = parseSdp(v.sdp);
    const expected = DIRECTIONS[v.id] ?? sd.mediaDescriptions.map(() => 'sendrecv');
    assert.equal(sd.mediaDescriptions.map((m) => getDirection(m, sd)), expected, v.id);
    for (const m of sd.mediaDescriptions) assert.is(isRfc2543Hold(m, sd), LEGACY_HOLDS.has(v.id), v.id);
  }
});

test('declined streams keep their m= line with port 0 (RFC 3264 s6, RFC 4317 2.2/4.3)', () => {
  assert.equal(parseSdp(vector('rfc4317-2.2-answer').sdp).mediaDescriptions.map((m) => m.port), [49172, 0]);
  assert.equal(parseSdp(vector('rfc4317-4.3-offer-2').sdp).mediaDescriptions.map((m) => m.port), [49174, 0]);
  const refused = parseSdp(vector('rfc3264-10.1-answer').sdp).mediaDescriptions[1]!;
  assert.is(refused.port, 0);
  assert.equal(refused.attributes, []);
  // No a=rtpmap for 31: the RFC 3551 static assignment answers.
  assert.equal(getRtpmap(refused, '31'), { payloadType: '31', encodingName: 'H261', clockRate: 90000, isStatic: true });
});

test('RFC 4317 2.8: a media-level c= overrides the session c= for that stream', () => {
  const sd = parseSdp(vector('rfc4317-2.8-answer').sdp);
  assert.is(effectiveConnection(sd.mediaDescriptions[0]!, sd)!.address, 'host.biloxi.example.com');
  assert.is(effectiveConnection(sd.mediaDescriptions[1]!, sd)!.address, 'otherhost.biloxi.example.com');
});

test('RFC 4317 5.1: a description without any m= line', () => {
  assert.equal(parseSdp(vector('rfc4317-5.1-offer').sdp).mediaDescriptions, []);
});

// ---- helpers ---------------------------------------------------------------

test('direction: media level wins over session level; default sendrecv', () => {
  const sd = parseSdp(sdp(...HEAD, 'a=sendonly', ...AUDIO, 'm=audio 49172 RTP/AVP 0', 'a=inactive'));
  const [first, second] = sd.mediaDescriptions;
  assert.is(getDirection(first!, sd), 'sendonly');
  assert.is(getDirection(first!), 'sendrecv');
  assert.is(getDirection(second!, sd), 'inactive');
  assert.is(findDirection(sd), 'sendonly');
  assert.is(findDirection(first!), undefined);
});

test('setDirection replaces in place, drops duplicates, appends when absent, and round-trips', () => {
  const sd = parseSdp(sdp(...HEAD, 'm=audio 1 RTP/AVP 0', 'a=ptime:20', 'a=sendonly', 'a=x', 'a=INACTIVE'));
  const media = sd.mediaDescriptions[0]!;
  setDirection(media, 'inactive');
  assert.equal(media.attributes, [
    { name: 'ptime', value: '20' },
    { name: 'inactive', value: undefined },
    { name: 'x', value: undefined },
  ]);
  setDirection(media, 'sendrecv');
  assert.is(getDirection(media, sd), 'sendrecv');
  assert.ok(serializeSdp(sd).includes('a=ptime:20\r\na=sendrecv\r\na=x\r\n'));
  setDirection(sd, 'recvonly');
  assert.equal(sd.attributes, [{ name: 'recvonly', value: undefined }]);
  assert.is(getDirection(media, sd), 'sendrecv', 'explicit media-level sendrecv still wins');
  roundTrips(sd);
});

test('isRfc2543Hold: IN IP4 0.0.0.0 only, media c= first; :: and IPv4-mapped are not holds', () => {
  const held = parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's= ', 'c=IN IP4 0.0.0.0', 't=0 0', ...AUDIO));
  assert.ok(isRfc2543Hold(held.mediaDescriptions[0]!, held));
  const mediaOverride = parseSdp(sdp(...HEAD, 'm=audio 1 RTP/AVP 0', 'c=IN IP4 0.0.0.0', 'm=audio 2 RTP/AVP 0'));
  assert.ok(isRfc2543Hold(mediaOverride.mediaDescriptions[0]!, mediaOverride));
  assert.not.ok(isRfc2543Hold(mediaOverride.mediaDescriptions[1]!, mediaOverride));
  for (const address of ['::', '::ffff:0.0.0.0', '0:0:0:0:0:0:0:0']) {
    const v6 = parseSdp(sdp('v=0', 'o=- 1 1 IN IP6 2001:db8::1', 's= ', `c=IN IP6 ${address}`, 't=0 0', ...AUDIO));
    assert.not.ok(isRfc2543Hold(v6.mediaDescriptions[0]!, v6), address);
  }
  const noConnection = parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's= ', 't=0 0', ...AUDIO));
  assert.not.ok(isRfc2543Hold(noConnection.mediaDescriptions[0]!, noConnection));
});

test('attribute lookup: first and all by name', () => {
  const sd = parseSdp(sdp(...HEAD, 'a=tool:x', 'a=group:BUNDLE 0 1', 'a=group:LS 0 1', 'a=ice-lite'));
  assert.equal(findAttribute(sd, 'group'), { name: 'group', value: 'BUNDLE 0 1' });
  assert.equal(findAttributes(sd, 'group').map((a) => a.value), ['BUNDLE 0 1', 'LS 0 1']);
  assert.equal(findAttribute(sd, 'ice-lite'), { name: 'ice-lite', value: undefined });
  assert.is(findAttribute(sd, 'nope'), undefined);
  assert.equal(findAttributes(sd, 'nope'), []);
});

test('rtpmap and fmtp of a payload type', () => {
  const sd = parseSdp(
    sdp(
      ...HEAD,
      'm=audio 49170 RTP/AVP 111 101 8 96 95 94',
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 minptime=10; useinbandfec=1',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=rtpmap:96 broken',
      'a=rtpmap:95 x/8000/1/2',
      'a=rtpmap:94',
      'a=fmtp:94',
      'a=rtpmap',
      'a=fmtp',
    ),
  );
  const audio = sd.mediaDescriptions[0]!;
  assert.equal(getRtpmap(audio, 111), { payloadType: '111', encodingName: 'opus', clockRate: 48000, encodingParameters: '2', isStatic: false });
  assert.equal(getRtpmap(audio, '8'), { payloadType: '8', encodingName: 'PCMA', clockRate: 8000, isStatic: true });
  assert.equal(getRtpmap(audio, 10)?.encodingParameters, '2');
  assert.is(getRtpmap(audio, 96), undefined, 'malformed rtpmap reads as absent');
  assert.is(getRtpmap(audio, 95), undefined);
  assert.is(getRtpmap(audio, 94), undefined);
  assert.is(getRtpmap(audio, 120), undefined, 'dynamic type without rtpmap');
  assert.is(getFmtp(audio, 111), 'minptime=10; useinbandfec=1');
  assert.is(getFmtp(audio, '101'), '0-15');
  assert.is(getFmtp(audio, 94), '');
  assert.is(getFmtp(audio, 8), undefined);
  assert.equal(parseFmtpParameters(getFmtp(audio, 111)!), [
    { name: 'minptime', value: '10' },
    { name: 'useinbandfec', value: '1' },
  ]);
  assert.equal(parseFmtpParameters('0-15;;'), [{ name: '0-15', value: undefined }]);
  const nonRtp = parseSdp(sdp(...HEAD, 'm=application 9 udp wb')).mediaDescriptions[0]!;
  assert.is(getRtpmap(nonRtp, 0), undefined, 'no static table outside RTP profiles');
});

// ---- leniency ----------------------------------------------------------------

test('lenient: LF-only line ends, no final line end, trailing blank lines', () => {
  const reference = parseSdp(sdp(...HEAD, ...AUDIO));
  assert.equal(parseSdp([...HEAD, ...AUDIO].join('\n')), reference);
  assert.equal(parseSdp([...HEAD, ...AUDIO].join('\r\n')), reference);
  assert.equal(parseSdp(`${sdp(...HEAD, ...AUDIO)}\r\n\r\n`), reference);
  assert.equal(parseSdp(`${[...HEAD, ...AUDIO].join('\n')}\n\n`), reference);
});

test('lenient: s= empty, a single space, or missing all mean "no name"; other names kept as written', () => {
  const names = (line?: string) =>
    parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', ...(line === undefined ? [] : [line]), 't=0 0')).sessionName;
  assert.is(names('s='), '');
  assert.is(names('s= '), '');
  assert.is(names(), '');
  assert.is(names('s=  two spaces '), '  two spaces ');
  assert.is(names('s=Café – ünïcode'), 'Café – ünïcode');
  assert.ok(serializeSdp(parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 h', 's=', 't=0 0'))).includes('\r\ns= \r\n'));
});

test('lenient: IPv6 in o= and c= (RFC 5118 / RFC 3266 forms), IPv4-mapped, multicast suffixes', () => {
  const sd = parseSdp(
    sdp(
      'v=0',
      'o=assistant 971731711378798081 0 IN IP6 2001:db8::20',
      's=Live video feed',
      'c=IN IP6 2001:db8::20',
      't=0 0',
      'm=audio 6000 RTP/AVP 0',
      'c=IN IP6 ::ffff:192.0.2.151',
      'm=video 6024 RTP/AVP 107',
      'c=IN IP4 192.0.2.2',
      'a=rtpmap:107 H263-1998/90000',
      'm=audio 6010 RTP/AVP 0',
      'c=IN IP6 FF1E:03AD::7F2E:172A:1E24/3',
      'c=IN IP4 224.2.1.1/127/3',
      'c=IN IP4 224.2.1.1/127',
      'c=ATM NSAP 47.0005.80/x/y',
    ),
  );
  assert.equal(sd.origin.address, '2001:db8::20');
  assert.is(sd.origin.addrType, 'IP6');
  assert.equal(sd.connection, { netType: 'IN', addrType: 'IP6', address: '2001:db8::20' });
  assert.equal(sd.mediaDescriptions[0]!.connections[0], { netType: 'IN', addrType: 'IP6', address: '::ffff:192.0.2.151' });
  assert.equal(sd.mediaDescriptions[1]!.connections[0]!.addrType, 'IP4');
  assert.equal(sd.mediaDescriptions[2]!.connections, [
    { netType: 'IN', addrType: 'IP6', address: 'FF1E:03AD::7F2E:172A:1E24', numberOfAddresses: 3 },
    { netType: 'IN', addrType: 'IP4', address: '224.2.1.1', ttl: 127, numberOfAddresses: 3 },
    { netType: 'IN', addrType: 'IP4', address: '224.2.1.1', ttl: 127 },
    { netType: 'ATM', addrType: 'NSAP', address: '47.0005.80/x/y' },
  ]);
  roundTrips(sd);
});

test('session id and version beyond 2^53 stay exact strings', () => {
  const sd = parseSdp(sdp('v=0', 'o=- 18446744073709551615 98765432109876543210 IN IP4 h', 's=x', 't=0 0'));
  assert.is(sd.origin.sessionId, '18446744073709551615');
  assert.is(sd.origin.sessionVersion, '98765432109876543210');
  assert.is(BigInt(sd.origin.sessionVersion) + 1n, 98765432109876543211n);
  roundTrips(sd);
});

test('lenient: extra blanks between fields, any field order within a level, "a=sendonly "', () => {
  const sd = parseSdp(
    sdp('v=0 ', 'a=tool:t', 'c=IN  IP4 192.0.2.1', 's=x', 't=0   0', 'o=-  1 1 IN IP4 h', 'm=audio  49170  RTP/AVP 0  8 ', 'a=sendonly ', 'c=IN IP4 192.0.2.9', 'i=title'),
  );
  assert.is(sd.origin.username, '-');
  assert.equal(sd.mediaDescriptions[0]!.formats, ['0', '8']);
  assert.is(getDirection(sd.mediaDescriptions[0]!, sd), 'sendonly');
  assert.is(sd.mediaDescriptions[0]!.information, 'title');
  roundTrips(sd);
});

test('every field type, unknown line types kept in order; canonical order on output', () => {
  const text = sdp(
    'v=0',
    'o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1',
    's=Call to John Smith',
    'i=SDP Offer #1',
    'u=http://www.jdoe.example.com/home.html',
    'e=Jane Doe <jane@jdoe.example.com>',
    'e=j@example.com',
    'p=+1 617 555-6011',
    'c=IN IP4 198.51.100.1',
    'b=CT:128',
    't=3724394400 3724398000',
    'r=604800 3600 0 90000',
    'r=7d 1h 0 25h',
    't=0 0',
    'z=2882844526 -1h 2898848070 0',
    'k=prompt',
    'a=recvonly',
    'y=unknown session line',
    'X=upper-case type',
    'm=audio 49170/2 RTP/AVP 0',
    'i=audio title',
    'c=IN IP4 198.51.100.1',
    'b=AS:64',
    'k=clear:secret',
    'a=rtpmap:0 PCMU/8000',
    'a=fmtp:0',
    'a=empty:',
    'w=unknown media line',
    'm=video 51372 RTP/AVP 99 100',
    'a=rtpmap:99 h263-1998/90000',
  );
  const sd = parseSdp(text);
  assert.is(sd.information, 'SDP Offer #1');
  assert.is(sd.uri, 'http://www.jdoe.example.com/home.html');
  assert.equal(sd.emails, ['Jane Doe <jane@jdoe.example.com>', 'j@example.com']);
  assert.equal(sd.phones, ['+1 617 555-6011']);
  assert.equal(sd.bandwidths, [{ type: 'CT', bandwidth: 128 }]);
  assert.equal(sd.timings, [
    { start: '3724394400', stop: '3724398000', repeats: ['604800 3600 0 90000', '7d 1h 0 25h'] },
    { start: '0', stop: '0', repeats: [] },
  ]);
  assert.is(sd.timezones, '2882844526 -1h 2898848070 0');
  assert.is(sd.key, 'prompt');
  assert.equal(sd.otherLines, [
    { type: 'y', value: 'unknown session line' },
    { type: 'X', value: 'upper-case type' },
  ]);
  const audio = sd.mediaDescriptions[0]!;
  assert.is(audio.numberOfPorts, 2);
  assert.is(audio.information, 'audio title');
  assert.equal(audio.bandwidths, [{ type: 'AS', bandwidth: 64 }]);
  assert.is(audio.key, 'clear:secret');
  assert.equal(findAttribute(audio, 'empty'), { name: 'empty', value: '' });
  assert.equal(audio.otherLines, [{ type: 'w', value: 'unknown media line' }]);
  assert.is(serializeSdp(sd), text, 'already canonical: byte-identical output');
  roundTrips(sd);

  const shuffled = parseSdp(sdp('v=0', 'a=x', 'q=raw', 't=0 0', 'b=AS:1', 's=n', 'o=- 1 1 IN IP4 h', 'm=audio 1 RTP/AVP 0', 'w=raw', 'a=y', 'b=AS:2'));
  assert.is(
    serializeSdp(shuffled),
    sdp('v=0', 'o=- 1 1 IN IP4 h', 's=n', 'b=AS:1', 't=0 0', 'a=x', 'q=raw', 'm=audio 1 RTP/AVP 0', 'b=AS:2', 'a=y', 'w=raw'),
  );
  roundTrips(shuffled);
});

test('bytes that are not UTF-8 are read as ISO-8859-1 (a=charset), nothing lost', () => {
  const bytes = encoder.encode(sdp('v=0', 'o=- 1 1 IN IP4 h', 's=Caf?', 't=0 0'));
  bytes[bytes.indexOf(0x3f)] = 0xe9; // latin-1 é
  const sd = parseSdp(bytes);
  assert.is(sd.sessionName, 'Café');
  roundTrips(sd);
});

test('custom limits apply', () => {
  const text = sdp(...HEAD, ...AUDIO);
  expectParseError(() => parseSdp(text, { maxLines: 6 }), 413, 'more than 6 lines');
  expectParseError(() => parseSdp(text, { maxMediaDescriptions: 0 }), 413, 'media sections');
  expectParseError(() => parseSdp(text, { maxBytes: 20 }), 413, 'exceeds 20 bytes');
  expectParseError(() => parseSdp(encoder.encode(text), { maxBytes: 20 }), 413);
  assert.ok(parseSdp(text, { maxLines: 7 }));
});

// ---- rejections --------------------------------------------------------------

test('rejects a NUL anywhere, e.g. inside an attribute (bytes and string)', () => {
  const text = sdp(...HEAD, 'm=audio 49170 RTP/AVP 0', 'a=rtpmap:0 PC\0MU/8000');
  const fromBytes = expectParseError(() => parseSdp(encoder.encode(text)), 400, 'NUL');
  assert.is(fromBytes.offset, text.indexOf('\0'));
  expectParseError(() => parseSdp(text), 400, 'NUL');
  expectParseError(() => parseSdp('\0'), 400, 'NUL');
});

test('rejects a media port or port count outside 0..65535 instead of wrapping it', () => {
  const media = (line: string) => () => parseSdp(sdp(...HEAD, line));
  expectParseError(media('m=audio 4294967296 RTP/AVP 0'), 400, 'out of range');
  expectParseError(media('m=audio 65536 RTP/AVP 0'), 400, 'out of range');
  expectParseError(media('m=audio 99999999999999999999 RTP/AVP 0'), 400, 'out of range');
  expectParseError(media('m=audio -1 RTP/AVP 0'), 400, 'not a number');
  expectParseError(media('m=audio 1e3 RTP/AVP 0'), 400, 'not a number');
  expectParseError(media('m=audio 0x10 RTP/AVP 0'), 400, 'not a number');
  expectParseError(media('m=audio 49170/x RTP/AVP 0'), 400, 'number of ports');
  expectParseError(media('m=audio 49170/ RTP/AVP 0'), 400, 'number of ports');
  expectParseError(media('m=audio 49170/0 RTP/AVP 0'), 400, 'at least 1');
  expectParseError(media('m=audio 49170/65536 RTP/AVP 0'), 400, 'out of range');
  assert.is(parseSdp(sdp(...HEAD, 'm=audio 65535 RTP/AVP 0')).mediaDescriptions[0]!.port, 65535);
});

test('rejects malformed m= lines', () => {
  for (const line of ['m=audio 49170 RTP/AVP', 'm=audio 49170', 'm=audio', 'm=', 'm=au"dio 1 RTP/AVP 0']) {
    expectParseError(() => parseSdp(sdp(...HEAD, line)), 400, 'm=');
  }
});

test('rejects lines not of the form <letter>=<value>', () => {
  for (const line of ['foo', '1=x', 'a x', '=x', 'ab=c', 'a', ' a=x', 'é=x']) {
    expectParseError(() => parseSdp(sdp(...HEAD, line)), 400, 'line not of the form');
  }
});

test('rejects a missing or wrong v= line and a second one', () => {
  expectParseError(() => parseSdp(''), 400, 'v=');
  expectParseError(() => parseSdp('\r\n'), 400, 'v=');
  expectParseError(() => parseSdp(sdp('o=- 1 1 IN IP4 h', 'v=0', 's=x', 't=0 0')), 400, 'start with a v=');
  expectParseError(() => parseSdp(sdp('v=1', 'o=- 1 1 IN IP4 h', 's=x', 't=0 0')), 400, 'version');
  expectParseError(() => parseSdp(sdp('v=00', 'o=- 1 1 IN IP4 h', 's=x', 't=0 0')), 400, 'version');
  expectParseError(() => parseSdp(sdp('\uFEFFv=0', 'o=- 1 1 IN IP4 h', 's=x')), 400);
  expectParseError(() => parseSdp(sdp(...HEAD, 'v=0')), 400, 'after the first line');
});

test('rejects c= lines with too few or too many fields and bad suffixes', () => {
  const bad = ['c=IN IP4', 'c=IN', 'c=', 'c=IN IP4 a b', 'c=IN IP4 /127', 'c=IN IP4 224.2.1.1/256', 'c=IN IP4 224.2.1.1/x', 'c=IN IP4 224.2.1.1/1/2/3', 'c=IN IP4 224.2.1.1/1/0', 'c=IN IP6 ff00::1/1/2', 'c=IN IP6 ff00::1/x'];
  for (const line of bad) {
    expectParseError(() => parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 h', 's=x', line, 't=0 0')), 400, 'c=');
    expectParseError(() => parseSdp(sdp(...HEAD, 'm=audio 1 RTP/AVP 0', line)), 400, 'c=');
  }
});

test('rejects malformed o=, t=, b=, a= lines', () => {
  const cases: Array<[string, string]> = [
    ['o=- 1 1 IN IP4', 'o= line needs 6 fields'],
    ['o=- 1 1 IN IP4 h extra', 'o= line needs 6 fields'],
    ['o=- x 1 IN IP4 h', 'session id'],
    ['o=- 1 -1 IN IP4 h', 'session version'],
  ];
  for (const [line, reason] of cases) expectParseError(() => parseSdp(sdp('v=0', line, 's=x', 't=0 0')), 400, reason);
  for (const line of ['t=0', 't=0 0 0', 't=now 0', 'b=AS', 'b=:64', 'b=AS:x', 'b=AS:99999999999999999', 'a=', 'a=:x', 'a=bad name:x', 'a=bad"name']) {
    expectParseError(() => parseSdp(sdp(...HEAD, line)), 400, line.slice(0, 2));
  }
});

test('rejects structural errors: no o=, duplicates, misplaced lines, bare CR, inner blank line', () => {
  expectParseError(() => parseSdp(sdp('v=0', 's=x', 't=0 0')), 400, 'no o=');
  for (const line of ['o=- 2 2 IN IP4 h', 's=again', 'i=a', 'c=IN IP4 h', 'z=0 0', 'k=prompt']) {
    const head = [...HEAD, 'i=info', 'z=1 -1h', 'k=clear:x'];
    expectParseError(() => parseSdp(sdp(...head, line)), 400, 'more than one');
  }
  for (const line of ['i=a', 'k=prompt']) {
    expectParseError(() => parseSdp(sdp(...HEAD, 'm=audio 1 RTP/AVP 0', line, line)), 400, 'more than one');
  }
  for (const line of ['o=- 1 1 IN IP4 h', 's=x', 'u=http://x', 'e=x@y', 'p=1', 't=0 0', 'r=1 1 0', 'z=0 0']) {
    expectParseError(() => parseSdp(sdp(...HEAD, 'm=audio 1 RTP/AVP 0', line)), 400, 'not allowed in a media section');
  }
  expectParseError(() => parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 h', 's=x', 'r=1 1 0', 't=0 0')), 400, 'r= line without');
  expectParseError(() => parseSdp(`${sdp(...HEAD)}a=x\ry\r\n`), 400, 'CR not followed by LF');
  expectParseError(() => parseSdp(`${sdp(...HEAD)}a=x\r\r\n`), 400, 'CR not followed by LF');
  expectParseError(() => parseSdp(`${sdp(...HEAD)}\r\n${sdp(...AUDIO)}`), 400, 'empty line');
});

test('rejects oversized input with 413: bytes, lines, media sections', () => {
  const big = sdp(...HEAD, `a=x:${'y'.repeat(65536)}`);
  expectParseError(() => parseSdp(big), 413, '65536 bytes');
  expectParseError(() => parseSdp(encoder.encode(big)), 413, '65536 bytes');
  // Multi-byte chars count as their UTF-8 bytes for a string input too.
  expectParseError(() => parseSdp(sdp(...HEAD, `a=x:${'é'.repeat(33000)}`)), 413);
  const lines = Array.from({ length: 1100 }, (_, i) => `a=l${i}`);
  expectParseError(() => parseSdp(sdp(...HEAD, ...lines)), 413, '1024 lines');
  assert.ok(parseSdp(sdp(...HEAD, ...lines.slice(0, 1024 - HEAD.length))));
  const media = Array.from({ length: 65 }, (_, i) => `m=audio ${1000 + i} RTP/AVP 0`);
  expectParseError(() => parseSdp(sdp(...HEAD, ...media)), 413, '64 media sections');
  assert.is(parseSdp(sdp(...HEAD, ...media.slice(0, 64))).mediaDescriptions.length, 64);
});

test('error offsets point at the bad line, in bytes for byte input', () => {
  const text = sdp('v=0', 'o=- 1 1 IN IP4 h', 's=Ünïcödé', 't=0 0', 'm=audio 70000 RTP/AVP 0');
  const fromString = expectParseError(() => parseSdp(text));
  assert.is(fromString.offset, text.indexOf('m='));
  const bytes = encoder.encode(text);
  const fromBytes = expectParseError(() => parseSdp(bytes));
  assert.is(fromBytes.offset, bytes.indexOf(0x6d /* m */, bytes.indexOf(0x74 /* t= */)));
  assert.is(fromBytes.reason, fromString.reason);
});

test('byte offsets count 4 bytes for a character outside the BMP', () => {
  const text = sdp('v=0', 'o=- 1 1 IN IP4 h', 's=call 📞 now', 't=0 0', 'x');
  const error = expectParseError(() => parseSdp(encoder.encode(text)), 400, 'line not of the form');
  assert.is(error.offset, encoder.encode(text).length - 3);
});

test('a throwing Uint8Array subclass still yields SipParseError (defensive wrap)', () => {
  class Hostile extends Uint8Array {
    override indexOf(): number {
      throw new TypeError('boom');
    }
  }
  expectParseError(() => parseSdp(new Hostile(4)), 400, 'boom');
});

test('rejects an input that is neither bytes nor a string', () => {
  for (const bad of [undefined, null, 42, {}, [118, 61, 48]]) {
    expectParseError(() => parseSdp(bad as unknown as string), 400, 'Uint8Array or a string');
  }
});

// ---- serializer guards --------------------------------------------------------

test('serializer refuses a model that would not read back the same (status 500)', () => {
  const base = () => parseSdp(sdp(...HEAD, 'm=audio 1 RTP/AVP 0', 'c=IN IP4 224.2.1.1/1/1'));
  const mutations: Array<(sd: SessionDescription) => void> = [
    (sd) => { sd.sessionName = 'x\r\na=injected'; },
    (sd) => { sd.attributes.push({ name: 'x', value: 'a\nb' }); },
    (sd) => { sd.attributes.push({ name: 'a b', value: undefined }); },
    (sd) => { sd.attributes.push({ name: 'a:b', value: undefined }); },
    (sd) => { sd.attributes.push({ name: '', value: 'v' }); },
    (sd) => { sd.origin.username = 'two words'; },
    (sd) => { sd.origin.address = ''; },
    (sd) => { sd.origin.sessionVersion = '1.5'; },
    (sd) => { sd.timings.push({ start: 'now', stop: '0', repeats: [] }); },
    (sd) => { sd.bandwidths.push({ type: 'AS', bandwidth: -1 }); },
    (sd) => { sd.bandwidths.push({ type: 'A:S', bandwidth: 1 }); },
    (sd) => { sd.bandwidths.push({ type: '', bandwidth: 1 }); },
    (sd) => { sd.otherLines.push({ type: 'xy', value: '' }); },
    (sd) => { sd.otherLines.push({ type: '1', value: '' }); },
    (sd) => { sd.mediaDescriptions[0]!.port = 65536; },
    (sd) => { sd.mediaDescriptions[0]!.port = 1.5; },
    (sd) => { sd.mediaDescriptions[0]!.numberOfPorts = 0; },
    (sd) => { sd.mediaDescriptions[0]!.formats = []; },
    (sd) => { sd.mediaDescriptions[0]!.formats = ['0 8']; },
    (sd) => { sd.mediaDescriptions[0]!.connections[0]!.ttl = 256; },
    (sd) => { sd.mediaDescriptions[0]!.connections[0]!.numberOfAddresses = 0; },
  ];
  for (const mutate of mutations) {
    const sd = base();
    mutate(sd);
    expectParseError(() => serializeSdp(sd), 500, 'cannot serialize');
  }
  assert.ok(serializeSdp(base()).includes('c=IN IP4 224.2.1.1/1/1\r\n'));
});

test.run();
