/**
 * Header injection: every value that reaches a header from outside is
 * checked where it enters, and a CR, LF or NUL is refused with a typed error
 * naming the field (issue 14 item 3).
 *
 * Covers: quote() and checkHeaderValue(); registration settings
 * (displayName, authUsername) and the manager's userAgent; connections
 * given in code (ConnectionSettingsError); SipEndpoint.config display_name,
 * auth_username, domain and the Connectivity user written with &#13;&#10;
 * (ConfigError with file, line and setting); the dial destination; the
 * DialogLayer's userAgent; a digest challenge whose nonce holds a NUL (not
 * answered, so never echoed). Also the config loader's other limits: two
 * identical Connectivity elements refused with both lines, /dev/zero as a
 * config file refused after a bounded read.
 * Not covered: DTMF digits (a whitelist, dialog tests).
 */
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkHeaderValue, HeaderValueError, parseMessage, quote } from '../../src/parser/index.ts';
import { chooseChallenge, RegistrationManager, resolveSettings } from '../../src/registrar-client/index.ts';
import { ConfigError, configFromXml, loadEndpointConfig, MAX_CONFIG_BYTES } from '../../src/sdk/config/index.ts';
import { completeSettings, ConnectionSettingsError } from '../../src/sdk/connection-settings.ts';
import { parseDestination } from '../../src/sdk/destination.ts';
import { CallError } from '../../src/sdk/call-errors.ts';
import { DialogLayer } from '../../src/dialog/index.ts';
import { FakeClock, TransactionLayer } from '../../src/transaction/index.ts';

const BAD = ['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\0b'];
const SITE = { user: '1001', server: { host: '192.0.2.1', port: 5060 }, transport: 'udp' as const };

function throwsField(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, HeaderValueError);
    assert.is((error as HeaderValueError).field, field);
    assert.match((error as Error).message, field);
    return;
  }
  assert.unreachable(`expected HeaderValueError for ${field}`);
}

test('quote() and checkHeaderValue() refuse CR, LF and NUL, naming the field; quote still escapes quotes', () => {
  for (const value of BAD) {
    throwsField(() => quote(value), 'quoted value');
    throwsField(() => checkHeaderValue(value, 'displayName'), 'displayName');
  }
  assert.is(quote('Alice "A" \\'), '"Alice \\"A\\" \\\\"');
  assert.is(checkHeaderValue('Alice', 'x'), 'Alice');
  assert.match(String(((): unknown => { try { checkHeaderValue('ab\r\n', 'f'); } catch (e) { return e; } })()), /contains CR \(at 2\)/);
});

test('registration settings and userAgent: displayName, authUsername and User-Agent are checked where they enter', () => {
  for (const value of BAD) {
    throwsField(() => resolveSettings({ ...SITE, displayName: value }), 'displayName');
    throwsField(() => resolveSettings({ ...SITE, authUsername: value }), 'authUsername');
    const clock = new FakeClock();
    const layer = new TransactionLayer({ transport: fakeTransport(), clock, user: { onRequest() {} } });
    throwsField(() => new RegistrationManager({ transactionLayer: layer, clock, localEndpoint: (t) => ({ transport: t, host: '127.0.0.1', port: 5060 }), userAgent: value }), 'userAgent');
    throwsField(() => new DialogLayer({ transactions: layer, clock, userAgent: value }), 'userAgent');
  }
  assert.is(resolveSettings({ ...SITE, displayName: 'Alice "A"' }).displayName, 'Alice "A"');
});

test('a connection given in code: ConnectionSettingsError naming the field', () => {
  for (const field of ['displayName', 'authUsername'] as const) {
    try {
      completeSettings({ user: '1001', server: '192.0.2.1:5060', [field]: 'x\r\nContact: <sip:evil@198.51.100.1>' });
      assert.unreachable('accepted');
    } catch (error) {
      assert.instance(error, ConnectionSettingsError);
      assert.match((error as Error).message, field);
    }
  }
});

function config(basic: string, proxy0 = ''): string {
  return `<Cfg>\n<Container name="Basic">\n${basic}\n</Container>\n<Container name="Genesys"><domain name="proxies">\n<section name="proxy0">\n${proxy0}\n</section></domain></Container>\n</Cfg>\n`;
}

function configError(text: string): ConfigError {
  try {
    configFromXml(text, 'test.config');
  } catch (error) {
    assert.instance(error, ConfigError);
    return error as ConfigError;
  }
  assert.unreachable('accepted');
  throw new Error('unreachable');
}

test('SipEndpoint.config: &#13;&#10; in display_name, auth_username, domain or the Connectivity user -> ConfigError with file, line, setting', () => {
  const connectivity = '<Connectivity user="1001" server="192.0.2.1:5060"/>';
  for (const name of ['display_name', 'auth_username', 'domain']) {
    for (const ref of ['&#13;&#10;', '&#10;', '&#13;']) {
      const error = configError(config(connectivity, `<setting name="${name}" value="Al${ref}X-Injected: 1"/>`));
      assert.is(error.code, 'invalid');
      assert.is(error.setting, name);
      assert.is(error.line, 7);
      assert.match(error.message, /^test\.config:7: .*CR, LF or NUL/);
    }
  }
  const error = configError(config('<Connectivity user="10&#10;01" server="192.0.2.1:5060"/>'));
  assert.equal([error.code, error.setting, error.line], ['invalid', 'user', 3]);
  // A display name with quotes is fine.
  assert.is(configFromXml(config(connectivity, '<setting name="display_name" value="Al &quot;A&quot;"/>'), 't').connections[0]!.displayName, 'Al "A"');
});

test('SipEndpoint.config: two identical Connectivity elements (same user, server, transport) refused with both lines', () => {
  const error = configError(
    config('<Connectivity user="1001" server="192.0.2.1:5060"/>\n<Connectivity user="1002" server="192.0.2.1:5060"/>\n<Connectivity user="1001" server="192.0.2.1:5060" protocol="UDP"/>'),
  );
  assert.equal([error.code, error.line, error.setting], ['duplicate', 5, 'Connectivity']);
  assert.match(error.message, /line 3/);
  // Same user and server over another transport, or another port: two connections.
  assert.is(configFromXml(config('<Connectivity user="1001" server="192.0.2.1:5060"/>\n<Connectivity user="1001" server="192.0.2.1:5060" protocol="tcp"/>\n<Connectivity user="1001" server="192.0.2.1:5070"/>'), 't').connections.length, 3);
});

test('config loader: /dev/zero is refused after a bounded read', () => {
  if (!existsSync('/dev/zero')) return;
  const before = process.memoryUsage().rss;
  try {
    loadEndpointConfig('/dev/zero', {});
    assert.unreachable('accepted');
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.is((error as ConfigError).code, 'io');
    assert.match((error as Error).message, `more than ${MAX_CONFIG_BYTES} bytes`);
  }
  assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'read at most the limit');
});

test('dial destination: CR, LF, NUL -> CallError invalid-argument', () => {
  for (const value of ['1002\r\nX: y', '1002\n', 'sip:1002@192.0.2.1\0']) {
    try {
      parseDestination(value, '192.0.2.1');
      assert.unreachable('accepted');
    } catch (error) {
      assert.instance(error, CallError);
      assert.is((error as CallError).code, 'invalid-argument');
      assert.match((error as Error).message, /destination contains CR, LF or NUL/);
    }
  }
});

test('a digest challenge whose nonce holds a NUL (quoted-pair) is not answered, so it is never echoed', () => {
  const challenge = (nonce: string): ReturnType<typeof parseMessage> =>
    parseMessage(new TextEncoder().encode(
      'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\n' +
        `Call-ID: c\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm="lab", nonce="${nonce}"\r\nContent-Length: 0\r\n\r\n`,
    ));
  assert.ok(chooseChallenge(challenge('abc')));
  assert.is(chooseChallenge(challenge('ab\\\0c')), undefined);
});

function fakeTransport() {
  return {
    onReceive: undefined,
    send() {},
    isReliable: (t: string) => t !== 'udp',
    localEndpoint: (t: 'udp' | 'tcp' | 'tls') => ({ transport: t, host: '127.0.0.1', port: 5060 }),
  };
}

test.run();
