/**
 * The RFC 4317 and RFC 3264 s10 examples (test/fixtures/conformance/vectors/
 * sdp-offer-answer.json) through our offer/answer code, three ways:
 *
 * A. Every offer, as an initial offer to our default endpoint (PCMU, PCMA):
 *    what we answer, or 488, and the RFC 3264 s6 properties of every answer.
 * B. Every answer, read against its offer as if we had sent that offer
 *    (readAnswer): the codec, address, direction and holds each RFC outcome
 *    states.
 * C. Sections replayed round by round with one OfferAnswer playing one party
 *    (with codecs chosen to match that party: iLBC, G.723), our SDP in place
 *    of theirs and the other party's vectors fed in: directions, refused
 *    streams, o= version rules across rounds.
 *
 * Where we answer differently from the RFC's party, the test says why; every
 * such answer is one RFC 3264 allows. Expected values are written from the
 * RFC text, not computed by the module.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Codec } from '../../src/dialog/media.ts';
import { readAnswer } from '../../src/dialog/read-answer.ts';
import { getDirection, parseSdp, type MediaDirection, type SessionDescription } from '../../src/parser/sdp/index.ts';
import { bytes, endpoint, expectError, parsed, sections, versionOf } from './dialog-sdp-fakes.ts';

interface Vector {
  id: string;
  section: string;
  round: number;
  role: 'offer' | 'answer';
  sender: string;
  sdp: string;
}

const file = JSON.parse(
  readFileSync(new URL('../fixtures/conformance/vectors/sdp-offer-answer.json', import.meta.url), 'utf8'),
) as { rfc4317: Vector[]; rfc3264: Vector[] };
const VECTORS: Vector[] = [...file.rfc4317, ...file.rfc3264];

function vector(id: string): Vector {
  const found = VECTORS.find((v) => v.id === id);
  if (found === undefined) throw new Error(`no vector ${id}`);
  return found;
}
const body = (id: string): Uint8Array => bytes(vector(id).sdp);
const sdp = (id: string): SessionDescription => parseSdp(vector(id).sdp);
const mLines = (answer: Uint8Array): string[] => sections(answer).map((section) => section.split('\r\n')[0]!);
const directionOf = (answer: Uint8Array, index: number): MediaDirection => {
  const description = parsed(answer);
  return getDirection(description.mediaDescriptions[index]!, description);
};

const ILBC: Codec = { name: 'iLBC', payloadType: 97, clockRate: 8000 };
const G723: Codec = { name: 'G723', payloadType: 4, clockRate: 8000 };

// ---------------------------------------------------------------- A. offers

type FreshOutcome = { index: number; line: string; direction: MediaDirection } | 488 | 'no-media';
const sendrecv = (index: number, line: string): FreshOutcome => ({ index, line, direction: 'sendrecv' });

/**
 * Our default endpoint's answer to each offer. Where the RFC's answerer chose
 * iLBC we have no iLBC: 488. Where we list PCMU and PCMA and the RFC's Bob
 * only PCMU (2.1, 2.8), both are legal (s6.1: at least one common format),
 * and PCMU, the offerer's first, is what we send, as the RFC outcome says.
 */
const FRESH: Record<string, FreshOutcome> = {
  'rfc4317-2.1-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0 8'),
  'rfc4317-2.2-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0 8'),
  'rfc4317-2.2-offer-2': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc4317-2.3-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0 8'),
  // Two audio streams: we take the first; the telephone-event-only stream is refused (RFC 3264 s6 allows it; one RTP port per call).
  'rfc4317-2.4-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc4317-2.5-offer': 488,
  'rfc4317-2.5-offer-2': 488,
  // The RFC's Bob prefers iLBC and takes the second stream; we take the first usable one, PCMU.
  'rfc4317-2.6-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc4317-2.7-offer': 488,
  'rfc4317-2.7-offer-2': 488,
  'rfc4317-2.8-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0 8'),
  'rfc4317-3.1-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc4317-3.1-offer-2': 488,
  'rfc4317-3.2-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc4317-3.2-offer-2': 488,
  'rfc4317-4.1-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc4317-4.1-offer-2': 488,
  'rfc4317-4.2-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc4317-4.2-offer-2': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc4317-4.3-offer': 488,
  'rfc4317-4.3-offer-2': 488,
  'rfc4317-5.1-offer': 'no-media',
  'rfc4317-5.1-offer-2': 488,
  'rfc4317-5.2-offer': 488,
  'rfc4317-5.2-offer-2': 488,
  'rfc4317-5.3-offer': 488,
  'rfc4317-5.3-offer-2': 488,
  'rfc3264-10.1-offer': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc3264-10.1-offer-2': sendrecv(0, 'm=audio 40000 RTP/AVP 0'),
  'rfc3264-10.2-offer': { index: 0, line: 'm=audio 40000 RTP/AVP 0', direction: 'inactive' },
  'rfc3264-10.2-offer-2': 488,
};

/** RFC 3264 s6.1: what an answer may say to each offered direction. */
const ALLOWED: Record<MediaDirection, readonly MediaDirection[]> = {
  sendrecv: ['sendrecv', 'sendonly', 'recvonly', 'inactive'],
  sendonly: ['recvonly', 'inactive'],
  recvonly: ['sendonly', 'inactive'],
  inactive: ['inactive'],
};

/** The RFC 3264 s6 properties of any answer of ours to `offer`. */
function checkAnswerShape(offer: SessionDescription, answerBody: Uint8Array, accepted: number | undefined): void {
  const answer = parsed(answerBody);
  // "The answer MUST contain exactly the same number of "m=" lines as the offer."
  assert.is(answer.mediaDescriptions.length, offer.mediaDescriptions.length);
  // "The "t=" line in the answer MUST equal that of the offer."
  assert.equal(answer.timings, offer.timings);
  assert.equal(answer.connection, { netType: 'IN', addrType: 'IP4', address: '192.0.2.10' });
  for (const [index, ours] of answer.mediaDescriptions.entries()) {
    const theirs = offer.mediaDescriptions[index]!;
    // s6.1: "The media type of the stream in the answer MUST match that of the offer."
    assert.is(ours.media, theirs.media);
    assert.is(ours.proto, theirs.proto);
    if (index !== accepted) {
      assert.is(ours.port, 0, `m= line ${index} refused`);
      continue;
    }
    assert.is(ours.port, 40000);
    for (const format of ours.formats) assert.ok(theirs.formats.includes(format), `format ${format} was offered`);
    assert.ok(ALLOWED[getDirection(theirs, offer)].includes(getDirection(ours, answer)));
  }
}

test('A. every vector offer has an expected outcome, and every outcome is for an offer', () => {
  const offers = VECTORS.filter((v) => v.role === 'offer').map((v) => v.id);
  assert.equal(Object.keys(FRESH).sort(), offers.sort());
});

for (const [id, outcome] of Object.entries(FRESH)) {
  test(`A. ${id} as an initial offer: ${outcome === 488 ? '488' : outcome === 'no-media' ? 'no media' : outcome.line}`, () => {
    const oa = endpoint();
    if (outcome === 488) {
      expectError(() => oa.receiveOffer(body(id)), 'no-common-codec', 488);
      assert.is(oa.state, 'stable');
      return;
    }
    oa.receiveOffer(body(id));
    const answer = oa.createAnswer();
    if (outcome === 'no-media') {
      checkAnswerShape(sdp(id), answer, undefined);
      assert.is(oa.media, undefined);
      return;
    }
    checkAnswerShape(sdp(id), answer, outcome.index);
    assert.is(mLines(answer)[outcome.index], outcome.line);
    assert.is(directionOf(answer, outcome.index), outcome.direction);
    assert.equal(oa.media?.codec, { name: 'PCMU', payloadType: 0, clockRate: 8000 });
  });
}

// --------------------------------------------------------------- B. answers

interface ReadOutcome {
  codec: string;
  payloadType: number;
  index: number;
  remote: string;
  direction: MediaDirection;
  remoteHold?: boolean;
  localHold?: boolean;
  telephoneEvent?: number;
}

const BIL = 'host.biloxi.example.com';
const ATL = 'host.atlanta.example.com';
const plain = (codec: string, payloadType: number, remote: string, index = 0): ReadOutcome => ({ codec, payloadType, index, remote, direction: 'sendrecv' });

/** Each answer read against its offer, as the offerer: what the RFC outcome says the offerer gets. */
const READ: Record<string, ReadOutcome | 'no-media'> = {
  'rfc4317-2.1-answer': plain('PCMU', 0, `${BIL}:49174`),
  'rfc4317-2.2-answer': plain('PCMU', 0, `${BIL}:49172`),
  'rfc4317-2.2-answer-2': plain('PCMU', 0, `${BIL}:49172`),
  // "Bob answers iLBC with dynamic payload type 99 where the offer used 97, which is allowed": we send it as 99.
  'rfc4317-2.3-answer': plain('iLBC', 99, `${BIL}:49172`),
  'rfc4317-2.4-answer': plain('iLBC', 97, `${BIL}:49172`),
  'rfc4317-2.5-answer': plain('iLBC', 97, `${BIL}:49174`),
  // Bob's re-offer moved him; Alice's answer (her previous SDP) is read against it.
  'rfc4317-2.5-answer-2': plain('iLBC', 97, `${ATL}:49170`),
  // "Bob declines the first audio stream (PCMU) with port 0 and accepts the second (iLBC + telephone-event)."
  'rfc4317-2.6-answer': { ...plain('iLBC', 97, `${BIL}:49170`, 1), telephoneEvent: 101 },
  'rfc4317-2.7-answer': plain('iLBC', 99, `${BIL}:49172`),
  'rfc4317-2.7-answer-2': plain('iLBC', 99, `${BIL}:49172`),
  // The media-level c= (otherhost) is on the video stream: the audio keeps the session address.
  'rfc4317-2.8-answer': plain('PCMU', 0, `${BIL}:49174`),
  // "Hold: Bob answers with a=sendonly and a placeholder c= address": he holds us, we only receive.
  'rfc4317-3.1-answer': { ...plain('iLBC', 97, 'placeholder.biloxi.example.com:49172'), direction: 'recvonly', remoteHold: true },
  // "his re-offer ... takes the call off hold and Alice changes her port."
  'rfc4317-3.1-answer-2': plain('iLBC', 97, `${ATL}:49178`),
  'rfc4317-3.2-answer': plain('iLBC', 97, `${BIL}:49172`),
  // Arguably not legal (s6.1 wants recvonly or inactive to sendonly): we accept it and keep to our sendonly;
  // the answer's PCMU (0) was not in Bob's re-offer, so iLBC.
  'rfc4317-3.2-answer-2': { ...plain('iLBC', 97, `${ATL}:49170`), direction: 'sendonly', localHold: true },
  'rfc4317-4.1-answer': plain('iLBC', 97, `${BIL}:49170`),
  'rfc4317-4.1-answer-2': plain('iLBC', 97, `${ATL}:49170`),
  'rfc4317-4.2-answer': plain('PCMU', 0, `${BIL}:49172`),
  'rfc4317-4.2-answer-2': plain('PCMU', 0, `${BIL}:49172`),
  'rfc4317-4.3-answer': plain('iLBC', 97, `${BIL}:49174`),
  'rfc4317-4.3-answer-2': plain('iLBC', 97, `${ATL}:49170`),
  // 3pcc: no m= lines either way, so no media.
  'rfc4317-5.1-answer': 'no-media',
  'rfc4317-5.1-answer-2': plain('iLBC', 97, `${BIL}:49172`),
  // Alice's own offer had c=0.0.0.0: she cannot receive, so she only sends.
  'rfc4317-5.2-answer': { ...plain('iLBC', 97, `${BIL}:49170`), direction: 'sendonly', localHold: true },
  'rfc4317-5.2-answer-2': plain('iLBC', 97, `${BIL}:49170`),
  // "Bob answers with c=IN IP4 0.0.0.0 and a random port (black hole)": nothing to send to.
  'rfc4317-5.3-answer': { ...plain('iLBC', 97, '0.0.0.0:9322'), direction: 'recvonly', remoteHold: true },
  'rfc4317-5.3-answer-2': plain('iLBC', 97, `${ATL}:49170`),
  'rfc3264-10.1-answer': plain('PCMU', 0, 'host.example.com:49920'),
  // The events stream (RFC prints telephone-events, sic) is a separate m= line: not ours.
  'rfc3264-10.1-answer-2': plain('PCMU', 0, 'host.anywhere.com:49170'),
  // "a=inactive until a codec is locked down": neither side sends or receives.
  'rfc3264-10.2-answer': { ...plain('PCMU', 0, 'host.example.com:54344'), direction: 'inactive', remoteHold: true, localHold: true },
  'rfc3264-10.2-answer-2': plain('G723', 4, 'host.example.com:54344'),
};

const offerFor = (answer: Vector): Vector =>
  VECTORS.find((v) => v.role === 'offer' && v.section === answer.section && v.round === answer.round)!;

test('B. every vector answer has an expected reading', () => {
  const answers = VECTORS.filter((v) => v.role === 'answer').map((v) => v.id);
  assert.equal(Object.keys(READ).sort(), answers.sort());
});

for (const [id, expected] of Object.entries(READ)) {
  test(`B. ${id} read against ${offerFor(vector(id)).id}`, () => {
    const media = readAnswer(sdp(offerFor(vector(id)).id), sdp(id));
    if (expected === 'no-media') {
      assert.is(media, undefined);
      return;
    }
    assert.ok(media !== undefined);
    assert.equal(
      {
        codec: media.codec.name,
        payloadType: media.codec.payloadType,
        index: media.streamIndex,
        remote: `${media.remote.address}:${media.remote.port}`,
        direction: media.direction,
        remoteHold: media.remoteHold,
        localHold: media.localHold,
        telephoneEvent: media.telephoneEvent,
      },
      { remoteHold: false, localHold: false, telephoneEvent: undefined, ...expected },
    );
  });
}

test('B. readAnswer: an accepted audio stream that keeps none of our codecs is 488, a refused one too', () => {
  const description = (mLine: string) => parseSdp(`v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n${mLine}\r\n`);
  const offer = description('m=audio 5000 RTP/AVP 0');
  expectError(() => readAnswer(offer, description('m=audio 6000 RTP/AVP 8')), 'no-common-codec', 488);
  expectError(() => readAnswer(offer, description('m=audio 0 RTP/AVP 0')), 'audio-refused', 488);
});

// ------------------------------------------------------------- C. rounds

test('C. 2.2 as Bob: PCMU+PCMA and video refused; the re-offer narrows to PCMU, our answer changes: version +1', () => {
  const bob = endpoint();
  bob.receiveOffer(body('rfc4317-2.2-offer'));
  const first = bob.createAnswer();
  // The same answer as the RFC's Bob, but for our port.
  assert.equal(mLines(first), ['m=audio 40000 RTP/AVP 0 8', 'm=video 0 RTP/AVP 31']);
  bob.receiveOffer(body('rfc4317-2.2-offer-2'));
  const second = bob.createAnswer();
  assert.equal(mLines(second), ['m=audio 40000 RTP/AVP 0', 'm=video 0 RTP/AVP 31']);
  assert.is(BigInt(versionOf(second)), BigInt(versionOf(first)) + 1n);
  assert.equal(bob.media?.remote, { address: ATL, port: 51372 });
  assert.equal(bob.media?.codecs.map((c) => c.name), ['PCMU']);
});

test('C. 2.5 as Bob (iLBC): our re-offer keeps the refused video line; Alice\'s unchanged answer is accepted', () => {
  const bob = endpoint({ codecs: [ILBC] });
  bob.receiveOffer(body('rfc4317-2.5-offer'));
  const answer = bob.createAnswer();
  assert.equal(mLines(answer), ['m=audio 40000 RTP/AVP 97', 'm=video 0 RTP/AVP 31']);
  // Our re-offer cannot move (one address per call) but adds telephone-event: it differs, so +1.
  const reOffer = bob.createOffer();
  assert.equal(mLines(reOffer), ['m=audio 40000 RTP/AVP 97 101', 'm=video 0 RTP/AVP 31']);
  assert.is(BigInt(versionOf(reOffer)), BigInt(versionOf(answer)) + 1n);
  // Alice answers video with a port although we offered it at 0; only our audio stream matters to us.
  const media = bob.receiveAnswer(body('rfc4317-2.5-answer-2'));
  assert.equal([media.codec.name, media.codec.payloadType, media.remote.address, media.remote.port], ['iLBC', 97, ATL, 49170]);
});

test('C. 2.6 as Bob (iLBC): the PCMU stream refused, the iLBC + telephone-event stream accepted, as in the RFC', () => {
  const bob = endpoint({ codecs: [ILBC] });
  bob.receiveOffer(body('rfc4317-2.6-offer'));
  const answer = bob.createAnswer();
  assert.equal(mLines(answer), ['m=audio 0 RTP/AVP 0', 'm=audio 40000 RTP/AVP 97 101']);
  assert.equal([bob.media?.streamIndex, bob.media?.telephoneEvent, bob.media?.remote.port], [1, 101, 51372]);
});

test('C. 2.7 as Bob (iLBC): we answer with the offerer\'s 99; MPV added to video changes nothing for us: version kept', () => {
  const bob = endpoint({ codecs: [ILBC] });
  bob.receiveOffer(body('rfc4317-2.7-offer'));
  const first = bob.createAnswer();
  assert.equal(mLines(first), ['m=audio 40000 RTP/AVP 99', 'm=video 0 RTP/AVP 31']);
  assert.equal(bob.media?.codec, { name: 'iLBC', payloadType: 99, clockRate: 8000 });
  bob.receiveOffer(body('rfc4317-2.7-offer-2'));
  const second = bob.createAnswer();
  // The RFC's Bob accepts both video codecs (version +1); we refuse video both times, so the same SDP and version.
  assert.is(new TextDecoder().decode(second), new TextDecoder().decode(first));
  // Our next offer numbers iLBC 99, as the session did (RFC 3264 s8.3.2).
  assert.equal(mLines(bob.createOffer()), ['m=audio 40000 RTP/AVP 99 101', 'm=video 0 RTP/AVP 31']);
});

test('C. 3.1 as Bob (iLBC): we answer on hold (sendonly), resume with a re-offer (+1), Alice moves her port', () => {
  const bob = endpoint({ codecs: [ILBC] });
  bob.receiveOffer(body('rfc4317-3.1-offer'));
  const held = bob.createAnswer({ hold: true });
  assert.equal(mLines(held), ['m=audio 40000 RTP/AVP 97']);
  assert.is(directionOf(held, 0), 'sendonly');
  assert.equal([bob.media?.localHold, bob.media?.remoteHold], [true, false]);
  const resume = bob.createOffer({ hold: false });
  assert.is(directionOf(resume, 0), 'sendrecv');
  assert.is(BigInt(versionOf(resume)), BigInt(versionOf(held)) + 1n);
  const media = bob.receiveAnswer(body('rfc4317-3.1-answer-2'));
  assert.equal([media.remote.port, media.direction, media.localHold, media.remoteHold], [49178, 'sendrecv', false, false]);
});

test('C. 3.2 as Bob (iLBC): the tone stream refused; our hold re-offer is answered sendrecv (arguably illegal): accepted, we stay sendonly', () => {
  const bob = endpoint({ codecs: [ILBC] });
  bob.receiveOffer(body('rfc4317-3.2-offer'));
  const answer = bob.createAnswer();
  // The RFC's Bob takes the telephone-event stream recvonly; we have one RTP port and refuse it.
  assert.equal(mLines(answer), ['m=audio 40000 RTP/AVP 97', 'm=audio 0 RTP/AVP 98']);
  const hold = bob.createOffer({ hold: true });
  assert.equal(mLines(hold), ['m=audio 40000 RTP/AVP 97 101', 'm=audio 0 RTP/AVP 98']);
  assert.is(directionOf(hold, 0), 'sendonly');
  assert.is(BigInt(versionOf(hold)), BigInt(versionOf(answer)) + 1n);
  // Alice's answer says sendrecv to our sendonly (RFC 3264 s6.1 wants recvonly or inactive) and gives the
  // refused tone stream a port. We do not drop the call for it: we keep to what we offered, sendonly.
  const media = bob.receiveAnswer(body('rfc4317-3.2-answer-2'));
  assert.equal([media.direction, media.localHold, media.remoteHold, media.codec.name], ['sendonly', true, false, 'iLBC']);
});

test('C. 4.1 as Alice (PCMU, iLBC): Bob\'s answer read; his re-offer adding a tone stream: we keep one stream (+1)', () => {
  const alice = endpoint({ codecs: ['PCMU', ILBC] });
  const offer = alice.createOffer();
  assert.equal(mLines(offer), ['m=audio 40000 RTP/AVP 0 97 101']);
  const media = alice.receiveAnswer(body('rfc4317-4.1-answer'));
  assert.equal([media.codec.name, media.remote.port], ['iLBC', 49170]);
  alice.receiveOffer(body('rfc4317-4.1-offer-2'));
  const answer = alice.createAnswer();
  // The RFC's Alice accepts the tone stream sendonly; we refuse it with port 0 (RFC 3264 s6: any stream MAY be rejected).
  assert.equal(mLines(answer), ['m=audio 40000 RTP/AVP 97', 'm=audio 0 RTP/AVP 98']);
  assert.is(BigInt(versionOf(answer)), BigInt(versionOf(offer)) + 1n);
  assert.equal([alice.media?.streamIndex, alice.media?.remote.address], [0, BIL]);
});

test('C. 4.2 as Bob: video added by a re-offer is refused with port 0, the m= line kept (+1)', () => {
  const bob = endpoint();
  bob.receiveOffer(body('rfc4317-4.2-offer'));
  const first = bob.createAnswer();
  assert.equal(mLines(first), ['m=audio 40000 RTP/AVP 0']);
  bob.receiveOffer(body('rfc4317-4.2-offer-2'));
  const second = bob.createAnswer();
  assert.equal(mLines(second), ['m=audio 40000 RTP/AVP 0', 'm=video 0 RTP/AVP 31']);
  assert.is(BigInt(versionOf(second)), BigInt(versionOf(first)) + 1n);
});

test('C. 4.3 as Bob (iLBC): our re-offer keeps the video line at port 0; Alice mirrors it', () => {
  const bob = endpoint({ codecs: [ILBC] });
  bob.receiveOffer(body('rfc4317-4.3-offer'));
  bob.createAnswer();
  assert.equal(mLines(bob.createOffer()), ['m=audio 40000 RTP/AVP 97 101', 'm=video 0 RTP/AVP 31']);
  const media = bob.receiveAnswer(body('rfc4317-4.3-answer-2'));
  assert.equal([media.remote.address, media.remote.port], [ATL, 49170]);
});

test('C. 5.1 as Bob (iLBC): no m= lines answered with none, then audio added (+1)', () => {
  const bob = endpoint({ codecs: [ILBC] });
  bob.receiveOffer(body('rfc4317-5.1-offer'));
  const first = bob.createAnswer();
  assert.equal(mLines(first), []);
  assert.is(bob.media, undefined);
  bob.receiveOffer(body('rfc4317-5.1-offer-2'));
  const second = bob.createAnswer();
  assert.equal(mLines(second), ['m=audio 40000 RTP/AVP 97']);
  assert.is(BigInt(versionOf(second)), BigInt(versionOf(first)) + 1n);
});

test('C. 5.2 as Bob (iLBC): c=0.0.0.0 answered recvonly, the real address sendrecv (+1)', () => {
  const bob = endpoint({ codecs: [ILBC] });
  bob.receiveOffer(body('rfc4317-5.2-offer'));
  const first = bob.createAnswer();
  // The RFC's Bob answers sendrecv both times and keeps his version. We cannot send to 0.0.0.0, so we say
  // recvonly (s6.1 allows any direction to a sendrecv offer); the second answer then differs: +1.
  assert.is(directionOf(first, 0), 'recvonly');
  assert.equal([bob.media?.remoteHold, bob.media?.remote.address], [true, '0.0.0.0']);
  bob.receiveOffer(body('rfc4317-5.2-offer-2'));
  const second = bob.createAnswer();
  assert.is(directionOf(second, 0), 'sendrecv');
  assert.is(BigInt(versionOf(second)), BigInt(versionOf(first)) + 1n);
  assert.equal([bob.media?.remoteHold, bob.media?.remote.address, bob.media?.remote.port], [false, ATL, 49170]);
});

test('C. 5.3 as Bob (iLBC): we never black-hole ourselves; our re-offer is answered with Alice\'s first SDP', () => {
  const bob = endpoint({ codecs: [ILBC] });
  bob.receiveOffer(body('rfc4317-5.3-offer'));
  const answer = parsed(bob.createAnswer());
  // The RFC's Bob answers c=0.0.0.0 with a random port; we answer with our real address.
  assert.equal(answer.connection?.address, '192.0.2.10');
  const reOffer = bob.createOffer();
  assert.equal(mLines(reOffer), ['m=audio 40000 RTP/AVP 97 101']);
  const media = bob.receiveAnswer(body('rfc4317-5.3-answer-2'));
  assert.equal([media.remote.address, media.remote.port, media.direction], [ATL, 49170, 'sendrecv']);
});

test('C. 10.1 as Bob: audio accepted, both video streams refused with their own format', () => {
  const bob = endpoint();
  bob.receiveOffer(body('rfc3264-10.1-offer'));
  // The RFC's Bob refuses H.261 and takes MPV; we are audio-only.
  assert.equal(mLines(bob.createAnswer()), ['m=audio 40000 RTP/AVP 0', 'm=video 0 RTP/AVP 31', 'm=video 0 RTP/AVP 32']);
  // Bob's second round adds a stream; our re-offers never add one, so B reads that round instead.
});

test('C. 10.2 as Bob (PCMU, G.723): inactive until locked down, then G.723 sendrecv (+1), exactly as the RFC', () => {
  const bob = endpoint({ codecs: ['PCMU', G723] });
  bob.receiveOffer(body('rfc3264-10.2-offer'));
  const first = bob.createAnswer();
  assert.equal(mLines(first), ['m=audio 40000 RTP/AVP 0 4']);
  assert.is(directionOf(first, 0), 'inactive');
  bob.receiveOffer(body('rfc3264-10.2-offer-2'));
  const second = bob.createAnswer();
  assert.equal(mLines(second), ['m=audio 40000 RTP/AVP 4']);
  assert.is(directionOf(second, 0), 'sendrecv');
  assert.is(BigInt(versionOf(second)), BigInt(versionOf(first)) + 1n);
  assert.equal(bob.media?.codec, { name: 'G723', payloadType: 4, clockRate: 8000 });
});

test('the fixture is untouched by the tests (each description parses as printed)', () => {
  for (const v of VECTORS) assert.ok(parseSdp(v.sdp).origin.sessionId.length > 0, v.id);
});

test.run();
