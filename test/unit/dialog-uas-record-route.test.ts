/**
 * The Record-Route of an INVITE we answer (RFC 3261 s12.1.1): copied, every
 * value in order, into our 180/183 and our 2xx, so that the caller's route
 * set holds the proxies that record-routed; and none added when the INVITE
 * had none. Found against Kamailio (test/interop/dialog-sipp-kamailio): a
 * 2xx without the site's Record-Route left the caller's ACK without a Route,
 * and the site dropped it (loose_route() fails, no transaction matches).
 *
 * Does not cover: the route set our own dialog keeps (dialog-state.test.ts),
 * the rest of the responses (dialog-uas-invite.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { callIn, uaRig } from './dialog-fakes.ts';

const CONTACT = '<sip:ua@192.0.2.10:5060>';

test('180, 183 and 200 copy every Record-Route value of the INVITE, in order, fields as received', () => {
  const rig = uaRig();
  const routes: Array<[string, string]> = [
    ['Record-Route', '<sip:p1.example.com;lr;nat=yes>'],
    ['Record-Route', '<sip:p2.example.com;lr>, <sip:198.51.100.3:5070;transport=tcp;lr>'],
  ];
  const { incoming, request } = callIn(rig, { headers: routes });
  assert.ok(incoming);
  incoming!.ring({ contact: CONTACT });
  incoming!.ring({ status: 183, contact: CONTACT, earlyMedia: true });
  const session = incoming!.accept({ contact: CONTACT });
  const sent = rig.ua.transport;
  for (const what of ['180 INVITE', '183 INVITE', '200 INVITE']) {
    assert.equal(sent.last(what).headerFields('Record-Route'), request.headerFields('Record-Route'), what);
  }
  // Our own route set from the same INVITE, in order (s12.1.1).
  assert.equal(session.dialog.routeSet, ['<sip:p1.example.com;lr;nat=yes>', '<sip:p2.example.com;lr>', '<sip:198.51.100.3:5070;transport=tcp;lr>']);
});

test('no Record-Route in the INVITE: none in the responses', () => {
  const rig = uaRig();
  const { incoming } = callIn(rig);
  incoming!.ring({ contact: CONTACT });
  incoming!.accept({ contact: CONTACT });
  assert.equal(rig.ua.transport.last('180 INVITE').headerFields('Record-Route'), []);
  assert.equal(rig.ua.transport.last('200 INVITE').headerFields('Record-Route'), []);
});

test('a rejection carries no Record-Route (it makes no dialog)', () => {
  const rig = uaRig();
  const { incoming } = callIn(rig, { headers: [['Record-Route', '<sip:p1.example.com;lr>']] });
  incoming!.reject(486);
  assert.equal(rig.ua.transport.last('486 INVITE').headerFields('Record-Route'), []);
});

test.run();
