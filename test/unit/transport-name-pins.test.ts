/**
 * NamePins (src/transport/name-pins.ts): which address of a host name the
 * sends go to, and when a silent address is left (silent()).
 *
 * Covers: a request with no response at all moves the name to its next
 * address when its first send went to the current one; a request whose
 * first send went to an address already left (only its last
 * retransmissions reached the current one) moves nothing, so two requests
 * timing out on a dead address do not wrap the name back to it; an address
 * that sent us anything since the request left is not left; a sender that
 * never went to the name moves nothing.
 * Not covered: refusals (ECONNREFUSED via the wrapped callback) and real
 * sockets (test/integration/transport-host-names.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NamePins } from '../../src/transport/name-pins.ts';
import type { Endpoint } from '../../src/transport/types.ts';

const SITE: Endpoint = { transport: 'udp', host: 'site.test', port: 5060 };
const ANSWER = ['10.0.0.1', '10.0.0.2'];
const known = (): readonly string[] => ANSWER;

function pins(): NamePins {
  return new NamePins(new Set<4 | 6>([4]), 16);
}

/** A request's sends: wraps its callback for each send as the transport does, to the address pinned then. */
function request(p: NamePins): { onError: () => void; send: () => string } {
  const onError = (): void => undefined;
  return {
    onError,
    send: () => {
      const address = p.pin(SITE, ANSWER);
      p.wrap(SITE, onError, address, known);
      return address;
    },
  };
}

test('a request silent on the current address moves the name to the next one; a sender that never went there moves nothing', () => {
  const p = pins();
  const r = request(p);
  assert.is(r.send(), '10.0.0.1');
  p.silent(SITE, () => undefined, ANSWER);
  assert.is(p.pinned(SITE), '10.0.0.1', 'an unknown sender');
  p.silent(SITE, r.onError, ANSWER);
  assert.is(p.pinned(SITE), '10.0.0.2');
});

test('two requests started on a dead address, one moving the name: the other, whose last retransmission went to the new address, does not wrap it back', () => {
  const p = pins();
  const a = request(p);
  const b = request(p);
  a.send();
  b.send();
  p.silent(SITE, a.onError, ANSWER);
  assert.is(p.pinned(SITE), '10.0.0.2');
  assert.is(b.send(), '10.0.0.2', "b's last retransmission");
  p.silent(SITE, b.onError, ANSWER);
  assert.is(p.pinned(SITE), '10.0.0.2', 'b had 10.0.0.2 for its tail only');
});

test('an address that sent us something since the request left is alive: its silence on that one request moves nothing', () => {
  const p = pins();
  const r = request(p);
  r.send();
  p.heard('10.0.0.9'); // another host: no matter
  p.silent(SITE, r.onError, ANSWER);
  assert.is(p.pinned(SITE), '10.0.0.2', 'nothing heard from 10.0.0.1');
  const s = request(p);
  s.send();
  p.heard('10.0.0.2');
  p.silent(SITE, s.onError, ANSWER);
  assert.is(p.pinned(SITE), '10.0.0.2', 'heard from after the request left: kept');
});

test.run();
