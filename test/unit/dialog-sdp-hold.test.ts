/**
 * Directions and hold in offer/answer (RFC 3264 s5.1, s6.1, s8.4): putting
 * the peer on hold and resuming, being held (a=sendonly, a=inactive, the
 * RFC 2543 c=IN IP4 0.0.0.0), both at once, session-level directions, and
 * the answer table for every offered direction with and without our hold.
 * Expected directions are the RFC's, written out, not computed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MediaDirection } from '../../src/parser/sdp/index.ts';
import { endpoint, established, parsed, peerAudio, peerSdp, sections, versionOf } from './dialog-sdp-fakes.ts';

const directionLine = (body: Uint8Array): string | undefined =>
  sections(body)[0]!.split('\r\n').find((line) => /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line));

const peerWith = (direction: string | undefined, connection?: string) =>
  peerSdp(peerAudio(direction === undefined ? [] : [`a=${direction}`]), connection === undefined ? {} : { connection });

test('hold: our re-offer says a=sendonly; the peer answers recvonly; resume says a=sendrecv', () => {
  const oa = established();
  const hold = oa.createOffer({ hold: true });
  assert.is(directionLine(hold), 'a=sendonly');
  assert.is(versionOf(hold), '2');
  const held = oa.receiveAnswer(peerWith('recvonly'));
  assert.is(held.direction, 'sendonly');
  assert.is(held.localHold, true);
  assert.is(held.remoteHold, false);
  assert.is(oa.localHold, true);
  // A session refresh while holding keeps the hold (hold not given) and the SDP: same version.
  const refresh = oa.createOffer();
  assert.is(directionLine(refresh), 'a=sendonly');
  assert.is(versionOf(refresh), '2');
  oa.receiveAnswer(peerWith('recvonly'));
  const resume = oa.createOffer({ hold: false });
  assert.is(directionLine(resume), 'a=sendrecv');
  assert.is(versionOf(resume), '3');
  const resumed = oa.receiveAnswer(peerWith(undefined));
  assert.is(resumed.direction, 'sendrecv');
  assert.is(resumed.localHold, false);
  assert.is(oa.localHold, false);
});

test('an answer of inactive to our hold is also legal (RFC 3264 s6.1: recvonly or inactive)', () => {
  const oa = established();
  oa.createOffer({ hold: true });
  const media = oa.receiveAnswer(peerWith('inactive'));
  assert.is(media.direction, 'inactive');
  assert.is(media.remoteHold, true);
  assert.is(media.localHold, true);
});

test('being held: a re-offer with a=sendonly is answered a=recvonly, resume with sendrecv', () => {
  const oa = established();
  oa.receiveOffer(peerWith('sendonly'));
  const answer = oa.createAnswer();
  assert.is(directionLine(answer), 'a=recvonly');
  assert.equal(
    { direction: oa.media?.direction, remoteHold: oa.media?.remoteHold, localHold: oa.media?.localHold },
    { direction: 'recvonly', remoteHold: true, localHold: false },
  );
  oa.receiveOffer(peerWith('sendrecv'));
  assert.is(directionLine(oa.createAnswer()), 'a=sendrecv');
  assert.is(oa.media?.remoteHold, false);
});

test('holding a peer that holds us: a=inactive (RFC 3264 s8.4: we were recvonly)', () => {
  const oa = established();
  oa.receiveOffer(peerWith('sendonly'));
  oa.createAnswer();
  const hold = oa.createOffer({ hold: true });
  assert.is(directionLine(hold), 'a=inactive');
  const media = oa.receiveAnswer(peerWith('inactive'));
  assert.equal([media.direction, media.localHold, media.remoteHold], ['inactive', true, true]);
  // The peer resumes while we still hold: we answer sendonly.
  oa.receiveOffer(peerWith(undefined));
  assert.is(directionLine(oa.createAnswer()), 'a=sendonly');
  assert.equal([oa.media?.direction, oa.media?.localHold, oa.media?.remoteHold], ['sendonly', true, false]);
  // We resume: sendrecv.
  const resume = oa.createOffer({ hold: false });
  assert.is(directionLine(resume), 'a=sendrecv');
});

test('the peer still holding when we resume: our sendrecv is answered sendonly, we only receive', () => {
  const oa = established();
  oa.receiveOffer(peerWith('sendonly'));
  oa.createAnswer({ hold: true });
  assert.is(oa.media?.direction, 'inactive');
  assert.is(directionLine(oa.createOffer({ hold: false })), 'a=sendrecv');
  const media = oa.receiveAnswer(peerWith('sendonly'));
  assert.equal([media.direction, media.localHold, media.remoteHold], ['recvonly', false, true]);
});

test('the RFC 2543 hold, c=IN IP4 0.0.0.0, counts as the peer holding us; c=IN IP6 :: does not', () => {
  const oa = established();
  oa.receiveOffer(peerWith(undefined, 'IN IP4 0.0.0.0'));
  const answer = oa.createAnswer();
  assert.is(directionLine(answer), 'a=recvonly');
  assert.equal(oa.media?.remote, { address: '0.0.0.0', port: 50000 });
  assert.is(oa.media?.remoteHold, true);
  assert.is(oa.media?.direction, 'recvonly');
  // Holding now gives inactive, as for a=sendonly.
  assert.is(directionLine(oa.createOffer({ hold: true })), 'a=inactive');
  oa.rollback();

  const v6 = established();
  v6.receiveOffer(peerWith(undefined, 'IN IP6 ::'));
  assert.is(directionLine(v6.createAnswer()), 'a=sendrecv');
  assert.is(v6.media?.remoteHold, false);
});

test('an answer with c=IN IP4 0.0.0.0 (RFC 4317 5.3 black hole) means we do not send', () => {
  const oa = endpoint();
  oa.createOffer();
  const media = oa.receiveAnswer(peerWith(undefined, 'IN IP4 0.0.0.0'));
  assert.equal([media.direction, media.remoteHold, media.localHold], ['recvonly', true, false]);
  assert.is(media.remote.address, '0.0.0.0');
});

test('the answer to every offered direction, with and without our hold (RFC 3264 s6.1)', () => {
  // offered -> [our answer, our answer while we hold]
  const table: Array<[string | undefined, MediaDirection, MediaDirection]> = [
    [undefined, 'sendrecv', 'sendonly'],
    ['sendrecv', 'sendrecv', 'sendonly'],
    ['sendonly', 'recvonly', 'inactive'],
    ['recvonly', 'sendonly', 'sendonly'],
    ['inactive', 'inactive', 'inactive'],
  ];
  for (const [offered, plain, holding] of table) {
    for (const [hold, expected] of [[false, plain], [true, holding]] as const) {
      const oa = endpoint();
      oa.receiveOffer(peerWith(offered));
      const answer = oa.createAnswer({ hold });
      assert.is(directionLine(answer), `a=${expected}`, `${offered ?? 'no attribute'} hold=${hold}`);
      assert.is(oa.media?.direction, expected);
      assert.is(oa.media?.localHold, hold);
      assert.is(oa.localHold, hold);
    }
  }
});

test('a session-level direction applies to the stream; a media-level one overrides it (RFC 8866 s6.7)', () => {
  const session = endpoint();
  session.receiveOffer(peerSdp(['a=sendonly', ...peerAudio()]));
  assert.is(directionLine(session.createAnswer()), 'a=recvonly');

  const overridden = endpoint();
  overridden.receiveOffer(peerSdp(['a=inactive', ...peerAudio(['a=sendrecv'])]));
  assert.is(directionLine(overridden.createAnswer()), 'a=sendrecv');
});

test('our SDP writes one direction attribute at media level and none at session level', () => {
  const oa = endpoint();
  const offer = parsed(oa.createOffer({ hold: true }));
  assert.equal(offer.attributes, []);
  assert.equal(
    offer.mediaDescriptions[0]!.attributes.filter((a) => ['sendrecv', 'sendonly', 'recvonly', 'inactive'].includes(a.name)),
    [{ name: 'sendonly', value: undefined }],
  );
  // A hold offer before any answer (the peer is assumed to receive, so sendonly) reads back as our hold.
  assert.is(oa.previewAnswer(peerWith('recvonly')).localHold, true);
});

test.run();
