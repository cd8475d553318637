/**
 * The offer/answer machine of a session (src/dialog/offer-answer.ts): our
 * first offer as written, the answer read back, the moves of the state table
 * and the calls it refuses, rollback, the o= version rule of RFC 3264 s8, the
 * errors with their statuses (400, 488, 491, 500), IPv6, an INVITE without
 * SDP, the constructor's checks.
 * Not covered here: directions and hold (dialog-sdp-hold.test.ts), codec
 * choice and refused streams (dialog-sdp-answer.test.ts), the RFC 4317 and
 * RFC 3264 s10 examples (dialog-sdp-vectors.test.ts), SIP messages.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OfferAnswer } from '../../src/dialog/offer-answer.ts';
import { IllegalTransitionError } from '../../src/transaction/machine.ts';
import {
  HALF_SESSION_ID,
  LOCAL,
  bytes,
  crlf,
  endpoint,
  established,
  expectError,
  peerAudio,
  peerSdp,
  sections,
  text,
  versionOf,
} from './dialog-sdp-fakes.ts';

const PEER_PCMU = peerSdp(peerAudio(['a=rtpmap:101 telephone-event/8000']));

test('the first offer: PCMU, PCMA and telephone-event 0-16 at our address, ptime 20, sendrecv', () => {
  const oa = endpoint();
  assert.is(oa.state, 'stable');
  assert.is(oa.media, undefined);
  const offer = oa.createOffer();
  assert.is(
    text(offer),
    crlf([
      'v=0',
      `o=- ${HALF_SESSION_ID} 1 IN IP4 192.0.2.10`,
      's=-',
      'c=IN IP4 192.0.2.10',
      't=0 0',
      'm=audio 40000 RTP/AVP 0 8 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=ptime:20',
      'a=sendrecv',
    ]),
  );
  assert.is(oa.state, 'have-local-offer');
  assert.is(oa.sessionId, HALF_SESSION_ID);
});

test('the answer to our offer gives the codec, telephone-event, the peer address and the direction', () => {
  const oa = endpoint();
  oa.createOffer();
  const media = oa.receiveAnswer(PEER_PCMU);
  assert.is(oa.state, 'stable');
  assert.equal(media, {
    codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 },
    codecs: [{ name: 'PCMU', payloadType: 0, clockRate: 8000 }],
    telephoneEvent: 101,
    remote: { address: '198.51.100.7', port: 50000 },
    packetTime: 20,
    direction: 'sendrecv',
    remoteHold: false,
    localHold: false,
    streamIndex: 0,
  });
  assert.is(oa.media, media);
});

test('codecs, username and random are options; the default session id is decimal digits', () => {
  const oa = endpoint({ codecs: ['PCMA'], username: 'alice', random: () => 0 });
  const offer = text(oa.createOffer());
  assert.ok(offer.includes('o=alice 0 1 IN IP4 192.0.2.10\r\n'));
  assert.ok(offer.includes('m=audio 40000 RTP/AVP 8 101\r\n'));
  assert.not.ok(offer.includes('PCMU'));
  const a = new OfferAnswer({ local: LOCAL });
  const b = new OfferAnswer({ local: LOCAL });
  assert.match(a.sessionId, /^\d+$/);
  assert.ok(Number(a.sessionId) < 2 ** 53);
  assert.is.not(a.sessionId, b.sessionId);
});

test('IPv6: o= and c= say IN IP6 with the address without brackets; an IPv6 answer is read', () => {
  for (const address of ['2001:db8::10', '[2001:db8::10]']) {
    const oa = endpoint({ local: { address, port: 40002 } });
    const offer = text(oa.createOffer());
    assert.ok(offer.includes(`o=- ${HALF_SESSION_ID} 1 IN IP6 2001:db8::10\r\n`), offer);
    assert.ok(offer.includes('c=IN IP6 2001:db8::10\r\n'));
    assert.ok(offer.includes('m=audio 40002 RTP/AVP 0 8 101\r\n'));
    const media = oa.receiveAnswer(peerSdp(peerAudio(), { connection: 'IN IP6 2001:db8::20' }));
    assert.equal(media.remote, { address: '2001:db8::20', port: 50000 });
  }
});

test('an INVITE without SDP: our offer goes in the 2xx, the answer comes in the ACK', () => {
  const oa = endpoint();
  // Nothing to receive first: the 2xx carries createOffer's SDP...
  const offerIn2xx = oa.createOffer();
  assert.ok(text(offerIn2xx).includes('m=audio 40000 RTP/AVP 0 8 101'));
  // ... and the ACK the answer.
  const media = oa.receiveAnswer(peerSdp(peerAudio([], '8')));
  assert.is(media.codec.name, 'PCMA');
  assert.is(oa.state, 'stable');
});

test('an ACK without the answer: rollback leaves a session without media, ready for the next offer', () => {
  const oa = endpoint();
  oa.createOffer();
  oa.rollback();
  assert.is(oa.state, 'stable');
  assert.is(oa.media, undefined);
  // The same offer again keeps its version (RFC 3264 s8: an unchanged description keeps it).
  assert.is(versionOf(oa.createOffer()), '1');
});

test('the state table: every move from a state it does not start from throws IllegalTransitionError', () => {
  const illegal = (oa: OfferAnswer, call: () => unknown, state: string) => {
    assert.throws(call, (error: unknown) => error instanceof IllegalTransitionError);
    assert.is(oa.state, state);
  };
  const stable = endpoint();
  illegal(stable, () => stable.receiveAnswer(PEER_PCMU), 'stable');
  illegal(stable, () => stable.previewAnswer(PEER_PCMU), 'stable');
  illegal(stable, () => stable.createAnswer(), 'stable');
  illegal(stable, () => stable.rollback(), 'stable');

  const local = endpoint();
  local.createOffer();
  illegal(local, () => local.createOffer(), 'have-local-offer');
  illegal(local, () => local.createAnswer(), 'have-local-offer');

  const remote = endpoint();
  remote.receiveOffer(PEER_PCMU);
  illegal(remote, () => remote.createOffer(), 'have-remote-offer');
  illegal(remote, () => remote.receiveAnswer(PEER_PCMU), 'have-remote-offer');
  illegal(remote, () => remote.previewAnswer(PEER_PCMU), 'have-remote-offer');
});

test('an offer while ours is pending is glare (491); while we owe an answer, 500 (RFC 3261 s14.2)', () => {
  const local = established();
  local.createOffer({ hold: true });
  expectError(() => local.receiveOffer(PEER_PCMU), 'offer-pending', 491);
  assert.is(local.state, 'have-local-offer');
  const remote = endpoint();
  remote.receiveOffer(PEER_PCMU);
  expectError(() => remote.receiveOffer(PEER_PCMU), 'answer-pending', 500);
  assert.is(remote.state, 'have-remote-offer');
});

test('rollback of our re-offer (488, 491, timeout) keeps the media and the hold of before', () => {
  const oa = established();
  const before = oa.media;
  oa.createOffer({ hold: true });
  assert.is(oa.localHold, false, 'hold counts once the exchange completes');
  oa.rollback();
  assert.is(oa.state, 'stable');
  assert.is(oa.media, before);
  assert.is(oa.localHold, false);
});

test('rollback of their offer (we refused the re-INVITE) keeps the media of before', () => {
  const oa = established();
  const before = oa.media;
  oa.receiveOffer(peerSdp(peerAudio([], '8', 50010)));
  oa.rollback();
  assert.is(oa.state, 'stable');
  assert.is(oa.media, before);
  // The next offer is ours again, and unchanged: same version.
  assert.is(versionOf(oa.createOffer()), '1');
});

test('o= version: +1 for each SDP that differs from the last one we sent, unchanged for the same one', () => {
  const oa = established();
  // A refresh re-INVITE with the same description keeps version 1.
  const refresh = oa.createOffer();
  assert.is(versionOf(refresh), '1');
  oa.receiveAnswer(PEER_PCMU);
  const hold = oa.createOffer({ hold: true });
  assert.is(versionOf(hold), '2');
  oa.rollback();
  // Retrying the withdrawn hold offer (after a 491) sends the same SDP: version 2 again.
  assert.is(versionOf(oa.createOffer({ hold: true })), '2');
  oa.rollback();
  // Back to the sendrecv description: it differs from the last one sent (version 2), so 3;
  // version 1 is never reused even though the text is the same as then.
  const resumed = oa.createOffer({ hold: false });
  assert.is(versionOf(resumed), '3');
  assert.is(text(resumed).replace(' 3 IN IP4', ' 1 IN IP4'), text(refresh));
  oa.receiveAnswer(PEER_PCMU);
  // Our answers follow the same rule: the same offer twice gets the same answer and version.
  oa.receiveOffer(PEER_PCMU);
  const first = oa.createAnswer();
  assert.is(versionOf(first), '4', 'the answer lists PCMU only: it differs from our offer');
  oa.receiveOffer(PEER_PCMU);
  assert.is(text(oa.createAnswer()), text(first));
  oa.receiveOffer(peerSdp(peerAudio(['a=rtpmap:101 telephone-event/8000'], '0 101', 50020), { version: 2808844565 }));
  assert.is(versionOf(oa.createAnswer()), '4', 'the peer moved its port: our answer is the same');
  oa.receiveOffer(peerSdp(peerAudio([], '8')));
  assert.is(versionOf(oa.createAnswer()), '5');
});

test('a malformed offer gets 400 and changes nothing', () => {
  const oa = established();
  const before = oa.media;
  const error = expectError(() => oa.receiveOffer(bytes('this is not SDP')), 'malformed-sdp', 400);
  assert.ok(error.cause !== undefined, 'keeps the parser error as cause');
  expectError(() => oa.receiveOffer(peerSdp(peerAudio(), { connection: '' })), 'malformed-sdp', 400);
  assert.is(oa.state, 'stable');
  assert.is(oa.media, before);
});

test('an offer without a common codec gets 488 and changes nothing', () => {
  const oa = established();
  const before = oa.media;
  expectError(() => oa.receiveOffer(peerSdp(peerAudio(['a=rtpmap:18 G729/8000'], '18'))), 'no-common-codec', 488);
  expectError(() => oa.receiveOffer(peerSdp(['m=video 51372 RTP/AVP 31'])), 'no-common-codec', 488);
  assert.is(oa.state, 'stable');
  assert.is(oa.media, before);
});

test('an unusable answer: 400 or 488, and the exchange is over (stable) with the media of before', () => {
  const cases: Array<[Uint8Array, 'malformed-sdp' | 'answer-mismatch' | 'audio-refused' | 'no-common-codec', number]> = [
    [bytes('v=0\r\n'), 'malformed-sdp', 400],
    [peerSdp([...peerAudio(), 'm=video 0 RTP/AVP 31']), 'answer-mismatch', 400],
    [peerSdp(peerAudio([], '0', 0)), 'audio-refused', 488],
    [peerSdp(peerAudio(['a=rtpmap:18 G729/8000'], '18')), 'no-common-codec', 488],
    [peerSdp(peerAudio(), { connection: '' }), 'malformed-sdp', 400],
  ];
  for (const [answer, code, status] of cases) {
    const fresh = endpoint();
    fresh.createOffer();
    expectError(() => fresh.receiveAnswer(answer), code, status);
    assert.is(fresh.state, 'stable');
    assert.is(fresh.media, undefined);

    const call = established();
    const before = call.media;
    call.createOffer({ hold: true });
    expectError(() => call.receiveAnswer(answer), code, status);
    assert.is(call.state, 'stable');
    assert.is(call.media, before);
    assert.is(call.localHold, false);
  }
});

test('previewAnswer reads an early answer (183) and leaves the offer pending', () => {
  const oa = endpoint();
  oa.createOffer();
  const early = oa.previewAnswer(PEER_PCMU);
  assert.is(early.codec.name, 'PCMU');
  assert.is(oa.state, 'have-local-offer');
  assert.is(oa.media, undefined);
  expectError(() => oa.previewAnswer(bytes('junk')), 'malformed-sdp', 400);
  assert.equal(oa.receiveAnswer(PEER_PCMU), early);
});

test('the constructor refuses what cannot be written in SDP', () => {
  const bad: Array<() => unknown> = [
    () => new OfferAnswer({ local: { address: '192.0.2.10', port: 0 } }),
    () => new OfferAnswer({ local: { address: '192.0.2.10', port: 65536 } }),
    () => new OfferAnswer({ local: { address: '192.0.2.10', port: 4000.5 } }),
    () => new OfferAnswer({ local: { address: '', port: 4000 } }),
    () => new OfferAnswer({ local: { address: '192.0.2.10 x', port: 4000 } }),
    () => new OfferAnswer({ local: LOCAL, username: 'a b' }),
    () => new OfferAnswer({ local: LOCAL, username: '' }),
    () => new OfferAnswer({ local: LOCAL, codecs: [] }),
    () => new OfferAnswer({ local: LOCAL, codecs: [{ name: 'opus', payloadType: 128, clockRate: 48000 }] }),
    () => new OfferAnswer({ local: LOCAL, codecs: [{ name: 'op/us', payloadType: 111, clockRate: 48000 }] }),
    () => new OfferAnswer({ local: LOCAL, codecs: [{ name: 'opus', payloadType: 111, clockRate: 0 }] }),
    () => new OfferAnswer({ local: LOCAL, codecs: ['PCMU', { name: 'telephone-event', payloadType: 101, clockRate: 8000 }] }),
  ];
  for (const make of bad) assert.throws(make);
});

test.run();
