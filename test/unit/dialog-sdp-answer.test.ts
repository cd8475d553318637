/**
 * Answering offers and numbering codecs (RFC 3264 s6, s6.1, s8, s8.3.2):
 * codec intersection in the offerer's order with the offerer's numbers,
 * static types by number and dynamic ones by name, one audio stream taken and
 * the other m= lines refused with port 0, offers without m= lines, streams
 * disabled and re-added, re-offers that move the peer, t= copied, a=ptime,
 * codecs given in full, and payload type numbers kept for the session.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crlf, endpoint, established, expectError, parsed, peerAudio, peerSdp, sections, text, versionOf } from './dialog-sdp-fakes.ts';

const AUDIO_ATTRIBUTES = ['a=ptime:20', 'a=sendrecv'];

test('codec intersection in the offerer\'s order, with its numbers; the first is the one we send', () => {
  const oa = endpoint();
  oa.receiveOffer(peerSdp(peerAudio(['a=rtpmap:18 G729/8000', 'a=rtpmap:100 telephone-event/8000', 'a=fmtp:100 0-15'], '8 18 0 100')));
  assert.equal(sections(oa.createAnswer()), [
    crlf([
      'm=audio 40000 RTP/AVP 8 0 100',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:100 telephone-event/8000',
      'a=fmtp:100 0-16',
      ...AUDIO_ATTRIBUTES,
    ]).trimEnd(),
  ]);
  const media = oa.media!;
  assert.equal(media.codec, { name: 'PCMA', payloadType: 8, clockRate: 8000 });
  assert.equal(media.codecs.map((codec) => codec.name), ['PCMA', 'PCMU']);
  assert.is(media.telephoneEvent, 100);
  assert.equal(media.remote, { address: '198.51.100.7', port: 50000 });
});

test('static types match by number (no rtpmap needed), dynamic ones by name and rate, case-insensitive', () => {
  const oa = endpoint();
  oa.receiveOffer(peerSdp(peerAudio(['a=rtpmap:96 pcmu/8000', 'a=rtpmap:97 PCMA/16000', 'a=rtpmap:98 TELEPHONE-EVENT/8000'], '97 96 98')));
  const answer = text(oa.createAnswer());
  assert.ok(answer.includes('m=audio 40000 RTP/AVP 96 98\r\n'), answer);
  assert.ok(answer.includes('a=rtpmap:96 PCMU/8000\r\n'));
  assert.equal(oa.media?.codec, { name: 'PCMU', payloadType: 96, clockRate: 8000 });
  assert.is(oa.media?.telephoneEvent, 98);

  const bare = endpoint();
  bare.receiveOffer(peerSdp(peerAudio([], '0')));
  assert.equal(bare.media, undefined);
  bare.createAnswer();
  assert.equal(bare.media?.codec, { name: 'PCMU', payloadType: 0, clockRate: 8000 });
  assert.is(bare.media?.telephoneEvent, undefined, 'no telephone-event offered');
});

test('formats we cannot use are skipped: stereo, events at another rate, non-numbers, unknown numbers', () => {
  const oa = endpoint();
  oa.receiveOffer(
    peerSdp(peerAudio(['a=rtpmap:96 PCMU/8000/2', 'a=rtpmap:97 telephone-event/48000', 'a=rtpmap:101 telephone-event/8000'], '96 97 x 19 99 0 101')),
  );
  assert.ok(text(oa.createAnswer()).includes('m=audio 40000 RTP/AVP 0 101\r\n'));
  assert.is(oa.media?.telephoneEvent, 101);
});

test('one audio stream is taken, the first usable one; every other m= line is refused with port 0', () => {
  const oa = endpoint();
  oa.receiveOffer(
    peerSdp([
      'm=video 51372 RTP/AVP 31 32',
      'a=rtpmap:31 H261/90000',
      'm=audio 49000 RTP/AVP 18',
      'm=audio 49002 RTP/SAVP 0',
      'm=audio 49004 RTP/AVP 0',
      'm=audio 49006 RTP/AVP 8',
      'm=audio 0 RTP/AVP 0',
    ]),
  );
  const answer = oa.createAnswer();
  assert.equal(sections(answer), [
    'm=video 0 RTP/AVP 31',
    'm=audio 0 RTP/AVP 18',
    'm=audio 0 RTP/SAVP 0',
    crlf(['m=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ...AUDIO_ATTRIBUTES]).trimEnd(),
    'm=audio 0 RTP/AVP 8',
    'm=audio 0 RTP/AVP 0',
  ]);
  assert.is(oa.media?.streamIndex, 3);
  assert.is(oa.media?.remote.port, 49004);
});

test('a stream whose c= is not IN IP4/IP6 is not usable', () => {
  const oa = endpoint();
  expectError(() => oa.receiveOffer(peerSdp(peerAudio(['c=IN X25 12345']))), 'no-common-codec', 488);
});

test('a media-level c= overrides the session one for that stream (RFC 4317 2.8)', () => {
  const oa = endpoint();
  oa.receiveOffer(peerSdp(peerAudio(['c=IN IP4 203.0.113.5']), { connection: '' }));
  oa.createAnswer();
  assert.equal(oa.media?.remote, { address: '203.0.113.5', port: 50000 });
});

test('an offer without m= lines (3pcc, RFC 4317 5.1) is answered without m= lines; our next offer adds audio', () => {
  const oa = endpoint();
  oa.receiveOffer(peerSdp([]));
  const answer = oa.createAnswer();
  assert.equal(parsed(answer).mediaDescriptions, []);
  assert.is(oa.media, undefined);
  const offer = oa.createOffer();
  assert.equal(parsed(offer).mediaDescriptions.length, 1);
  assert.is(versionOf(offer), '2');
  assert.is(oa.receiveAnswer(peerSdp(peerAudio())).streamIndex, 0);
});

test('streams disabled by the peer stay as port-0 lines; our audio is added after them', () => {
  const oa = established();
  oa.receiveOffer(peerSdp(['m=audio 0 RTP/AVP 0', 'm=video 0 RTP/AVP 31']));
  assert.equal(sections(oa.createAnswer()), ['m=audio 0 RTP/AVP 0', 'm=video 0 RTP/AVP 31']);
  assert.is(oa.media, undefined, 'every stream disabled: no media');
  const offer = oa.createOffer();
  assert.equal(sections(offer).map((section) => section.split('\r\n')[0]), [
    'm=audio 0 RTP/AVP 0',
    'm=video 0 RTP/AVP 31',
    'm=audio 40000 RTP/AVP 0 8 101',
  ]);
  assert.is(oa.receiveAnswer(peerSdp(['m=audio 0 RTP/AVP 0', 'm=video 0 RTP/AVP 31', ...peerAudio()])).streamIndex, 2);
});

test('our re-offers keep the m= lines we refused, with port 0 and one format (RFC 3264 s8)', () => {
  const oa = endpoint();
  oa.receiveOffer(peerSdp([...peerAudio(), 'm=video 51372 RTP/AVP 31 32']));
  assert.equal(sections(oa.createAnswer())[1], 'm=video 0 RTP/AVP 31');
  const offer = oa.createOffer({ hold: true });
  assert.equal(sections(offer).map((section) => section.split('\r\n')[0]), ['m=audio 40000 RTP/AVP 0 8 101', 'm=video 0 RTP/AVP 31']);
  const media = oa.receiveAnswer(peerSdp([...peerAudio(['a=recvonly']), 'm=video 0 RTP/AVP 31']));
  assert.is(media.localHold, true);
});

test('a re-offer that moves the peer (new address, new port, other codec) updates the media', () => {
  const oa = established();
  oa.receiveOffer(peerSdp(peerAudio([], '8', 50100), { connection: 'IN IP4 198.51.100.99', version: 2808844565 }));
  oa.createAnswer();
  assert.equal(oa.media?.remote, { address: '198.51.100.99', port: 50100 });
  assert.is(oa.media?.codec.name, 'PCMA');
});

test('t= of the answer equals the offer\'s (RFC 3264 s6)', () => {
  const oa = endpoint();
  oa.receiveOffer(
    new TextEncoder().encode(
      crlf(['v=0', 'o=bob 1 1 IN IP4 198.51.100.7', 's=-', 'c=IN IP4 198.51.100.7', 't=3034423619 3042462419', 'm=audio 50000 RTP/AVP 0']),
    ),
  );
  assert.ok(text(oa.createAnswer()).includes('\r\nt=3034423619 3042462419\r\n'));
});

test('a=ptime of the peer sets the packet time; a missing or absurd one leaves 20 ms', () => {
  const ptime = (value: string | undefined) => {
    const oa = endpoint();
    oa.createOffer();
    return oa.receiveAnswer(peerSdp(peerAudio(value === undefined ? [] : [`a=ptime:${value}`]))).packetTime;
  };
  assert.is(ptime('30'), 30);
  assert.is(ptime('30.0'), 30);
  assert.is(ptime(undefined), 20);
  assert.is(ptime('abc'), 20);
  assert.is(ptime('0'), 20);
  assert.is(ptime('5000'), 20);
});

test('codecs given in full: static ones by number, dynamic ones by name; ours get the answer\'s numbers', () => {
  const g722 = { name: 'G722', payloadType: 9, clockRate: 8000 };
  const opus = { name: 'opus', payloadType: 111, clockRate: 48000 };
  const oa = endpoint({ codecs: [opus, g722, 'PCMU'] });
  const offer = text(oa.createOffer());
  assert.ok(offer.includes('m=audio 40000 RTP/AVP 111 9 0 101\r\na=rtpmap:111 opus/48000\r\na=rtpmap:9 G722/8000\r\n'), offer);
  // The answerer numbers opus 109: we send opus as 109 (RFC 3264 s6.1 allows it, RFC 4317 2.3 shows it).
  const media = oa.receiveAnswer(peerSdp(peerAudio(['a=rtpmap:109 OPUS/48000'], '109 9')));
  assert.equal(media.codecs, [
    { name: 'opus', payloadType: 109, clockRate: 48000 },
    { name: 'G722', payloadType: 9, clockRate: 8000 },
  ]);
});

test('a dynamic number keeps its codec for the session (RFC 3264 s8.3.2)', () => {
  // The peer uses 101 for iLBC: our telephone-event must not take 101 later.
  const oa = endpoint();
  oa.receiveOffer(peerSdp(peerAudio(['a=rtpmap:101 iLBC/8000', 'a=rtpmap:96 telephone-event/8000'], '101 0 96')));
  assert.ok(text(oa.createAnswer()).includes('m=audio 40000 RTP/AVP 0 96\r\n'));
  // telephone-event keeps 96, the number the session gave it.
  assert.ok(text(oa.createOffer()).includes('m=audio 40000 RTP/AVP 0 8 96\r\n'));
  oa.rollback();

  // When the session never numbered telephone-event and 101 is taken, the lowest free number.
  const taken = endpoint();
  taken.receiveOffer(peerSdp(peerAudio(['a=rtpmap:101 iLBC/8000', 'a=rtpmap:96 L16/8000'], '101 96 0')));
  taken.createAnswer();
  assert.ok(text(taken.createOffer()).includes('m=audio 40000 RTP/AVP 0 8 97\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:97 telephone-event/8000\r\na=fmtp:97 0-16\r\n'));

  // Two of our dynamic codecs asking for one number: the second gets the next free one.
  const clash = endpoint({ codecs: [{ name: 'opus', payloadType: 101, clockRate: 48000 }] });
  assert.ok(text(clash.createOffer()).includes('m=audio 40000 RTP/AVP 101 96\r\n'));
});

test('the answer\'s own number for telephone-event is what we send with; our offers keep ours', () => {
  const oa = endpoint();
  oa.createOffer();
  const media = oa.receiveAnswer(peerSdp(peerAudio(['a=rtpmap:96 telephone-event/8000'], '0 96')));
  assert.is(media.telephoneEvent, 96);
  assert.ok(text(oa.createOffer()).includes('m=audio 40000 RTP/AVP 0 8 101\r\n'));
});

test('every dynamic number taken by the peer: we keep our own number rather than fail', () => {
  const formats = Array.from({ length: 32 }, (_, i) => 96 + i);
  const oa = endpoint();
  oa.receiveOffer(peerSdp(peerAudio(formats.map((pt) => `a=rtpmap:${pt} X${pt}/8000`), `0 ${formats.join(' ')}`)));
  oa.createAnswer();
  assert.ok(text(oa.createOffer()).includes('m=audio 40000 RTP/AVP 0 8 101\r\n'));
});

test.run();
