/**
 * The REGISTER parts and the reading of the 2xx (register-request.ts).
 *
 * Covers: identity (Request-URI, AOR, From/To with display name), Contact
 * per transport and for IPv6, outbound params, credentials and User-Agent
 * placement; which Contact of a 2xx is ours (RFC 5626 instance and reg-id,
 * URI comparison with default ports, host case, transport, user, non-SIP
 * URIs, wildcard); the granted expiry (our param, Expires header, what was
 * asked; malformed values); the status classes of outcomes.
 * Not covered: flows (registrar-registration.test.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage, parseNameAddr, type SipMessage } from '../../src/parser/index.ts';
import { TransportError } from '../../src/transport/types.ts';
import {
  classifyOutcome,
  contactUri,
  grantedExpires,
  isOurContact,
  outcomeReason,
  registerIdentity,
  registerParts,
  resolveSettings,
} from '../../src/registrar-client/index.ts';

const UUID = '2d9b2e4a-0a53-4e0c-9c59-6f1b2c3d4e5f';
const plain = resolveSettings({ user: '1001', server: { host: '198.51.100.1', port: 5060 }, transport: 'udp' });
const outbound = resolveSettings({ user: '1001', server: { host: '198.51.100.1', port: 5060 }, transport: 'tcp', instanceId: UUID });

function ok(headers: Array<[string, string]>, status = 200): SipMessage {
  return parseMessage(
    formatMessage({
      status,
      headers: [
        ['Via', 'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx'],
        ['From', '<sip:1001@198.51.100.1>;tag=a'],
        ['To', '<sip:1001@198.51.100.1>;tag=b'],
        ['Call-ID', 'c'],
        ['CSeq', '1 REGISTER'],
        ...headers,
      ],
    }),
  );
}

test('identity and parts: Request-URI without user, AOR, display name quoted, header order', () => {
  const settings = resolveSettings({ user: 'bob', server: { host: 'pbx.example', port: 5061 }, transport: 'tls', displayName: 'Bob "B"', domain: 'example.com' });
  const identity = registerIdentity(settings, 'cid', 'tag1');
  assert.equal(identity, {
    requestUri: 'sip:example.com',
    aor: 'sip:bob@example.com',
    from: '"Bob \\"B\\"" <sip:bob@example.com>;tag=tag1',
    to: '"Bob \\"B\\"" <sip:bob@example.com>',
    callId: 'cid',
  });
  const contact = contactUri(settings, { transport: 'tls', host: '2001:db8::7', port: 5061 });
  assert.is(contact, 'sip:bob@[2001:db8::7]:5061;transport=tls');
  const parts = registerParts({ identity, settings, cseq: 7, contactUri: contact, expires: 0, credentials: [['Authorization', 'Digest x=y']], userAgent: 'ua' });
  assert.is(parts.method, 'REGISTER');
  assert.is(parts.uri, 'sip:example.com');
  assert.equal(parts.headers.map(([n]) => n), ['Max-Forwards', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Expires', 'User-Agent', 'Authorization']);
  assert.equal(parts.headers[4], ['CSeq', '7 REGISTER']);
  assert.equal(parts.headers[6], ['Expires', '0']);
  const message = parseMessage(formatMessage({ ...parts, headers: [['Via', 'SIP/2.0/TLS h;branch=z9hG4bK1'], ...parts.headers] }));
  assert.is(message.from!.displayName, 'Bob "B"');
  assert.is(message.contact.length, 1);
});

test('isOurContact: RFC 5626 instance and reg-id decide when present', () => {
  const ours = 'sip:1001@192.0.2.10:5060;transport=tcp';
  const check = (value: string) => isOurContact(parseNameAddr(value, 'contact'), ours, outbound);
  assert.ok(check(`<sip:1001@203.0.113.9:40000>;+sip.instance="<urn:uuid:${UUID.toUpperCase()}>";reg-id=1`), 'NAT-rewritten URI, same instance');
  assert.ok(check(`<sip:1001@203.0.113.9:40000>;+sip.instance="<urn:uuid:${UUID}>"`), 'no reg-id echoed');
  assert.not.ok(check(`<sip:1001@192.0.2.10:5060;transport=tcp>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000000>";reg-id=1`), 'other instance');
  assert.not.ok(check(`<sip:1001@192.0.2.10:5060;transport=tcp>;+sip.instance="<urn:uuid:${UUID}>";reg-id=2`), 'other flow');
  assert.ok(check('<sip:1001@192.0.2.10:5060;transport=TCP>'), 'no instance echoed: URI comparison');
});

test('isOurContact: URI comparison with default ports, host case, transport, user', () => {
  const ours = contactUri(plain, { transport: 'udp', host: '192.0.2.10', port: 5060 });
  const check = (value: string) => isOurContact(parseNameAddr(value, 'contact'), ours, plain);
  assert.ok(check('<sip:1001@192.0.2.10:5060>'));
  assert.ok(check('<sip:1001@192.0.2.10>'), 'default port');
  assert.ok(check('<sip:1001@192.0.2.10;transport=udp;ob>;expires=60'));
  assert.not.ok(check('<sip:1001@192.0.2.10:5062>'));
  assert.not.ok(check('<sip:1001@192.0.2.10;transport=tcp>'));
  assert.not.ok(check('<sip:1002@192.0.2.10:5060>'));
  assert.not.ok(check('<sip:192.0.2.10:5060>'), 'no user');
  assert.not.ok(check('<tel:+15551234>'));
  assert.not.ok(check('<sips:1001@192.0.2.10:5060>'));
  assert.not.ok(isOurContact({ wildcard: true }, ours, plain));
  const v6 = contactUri(plain, { transport: 'tcp', host: '2001:DB8::7', port: 5060 });
  assert.ok(isOurContact(parseNameAddr('<sip:1001@[2001:db8::7]:5060;transport=tcp>', 'contact'), v6, plain), 'IPv6, host case');
  const named = 'sip:1001@PC.example:5060';
  assert.ok(isOurContact(parseNameAddr('<sip:1001@pc.example:5060>', 'contact'), named, plain), 'host names compare case-insensitively');
});

test('grantedExpires: our param, else Expires, else what was asked; malformed values skipped', () => {
  const ours = 'sip:1001@192.0.2.10:5060';
  const g = (headers: Array<[string, string]>) => grantedExpires(ok(headers), ours, plain, 92);
  assert.is(g([['Contact', '<sip:1001@203.0.113.5>;expires=3600, <sip:1001@192.0.2.10:5060>;expires=45'], ['Expires', '100']]), 45);
  assert.is(g([['Contact', '<sip:1001@192.0.2.10:5060>'], ['Expires', '100']]), 100, 'ours without param');
  assert.is(g([['Contact', '<sip:1001@192.0.2.10:5060>;expires=soon'], ['Expires', '100']]), 100, 'bad param');
  assert.is(g([['Contact', '<sip:1001@203.0.113.5>;expires=3600'], ['Expires', '100']]), 100, 'ours not listed');
  assert.is(g([]), 92, 'nothing: what we asked');
  assert.is(g([['Expires', 'never']]), 92, 'malformed Expires');
  assert.is(g([['Contact', '<sip:1001@192.0.2.10:5060>;expires="30"']]), 92, 'quoted expires is not a delta-seconds');
});

test('classifyOutcome / outcomeReason', () => {
  const response = (status: number) => ok([], status);
  assert.is(classifyOutcome({ cause: 'response', status: 200, response: response(200) }), 'success');
  assert.is(classifyOutcome({ cause: 'response', status: 202, response: response(202) }), 'success');
  assert.is(classifyOutcome({ cause: 'response', status: 401, response: response(401) }), 'challenge');
  assert.is(classifyOutcome({ cause: 'response', status: 407, response: response(407) }), 'challenge');
  assert.is(classifyOutcome({ cause: 'response', status: 423, response: response(423) }), 'interval');
  assert.is(classifyOutcome({ cause: 'response', status: 513, response: response(513) }), 'failed');
  assert.is(classifyOutcome({ cause: 'response', status: 699, response: response(699) }), 'failed');
  const timeout = { cause: 'timeout' as const, status: 408 as const, response: response(408) };
  assert.is(classifyOutcome(timeout), 'unavailable');
  assert.match(outcomeReason(timeout), /timeout/);
  const error = new TransportError('ETLS', { transport: 'tls', host: 'h', port: 5061 }, 'certificate rejected');
  const failed = { cause: 'transportError' as const, status: 503 as const, response: response(503), error };
  assert.is(classifyOutcome(failed), 'unavailable');
  assert.is(outcomeReason(failed), 'transport error ETLS: certificate rejected');
  assert.is(outcomeReason({ cause: 'response', status: 403, response: ok([], 403) }), 'Forbidden');
});

test.run();
