// SipEndpoint.config: src/sdk/config/endpoint-config.ts and load-config.ts.
// Covers: the DESIGN.md example (two sites), every default and every
// documented setting, server forms (IPv6 included), env: passwords, unknown
// settings kept and reported once, every kind of bad value with the file,
// line and setting it is reported at, file loading (BOM, bad UTF-8, missing
// file, size), and a deterministic mutation fuzz in which only XmlError /
// ConfigError may escape.
// Not covered: how the SDK uses the settings (registration, transports).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  configFromXml,
  ConfigError,
  CONNECTION_DEFAULTS,
  loadEndpointConfig,
  MAX_SECONDS,
  parseServer,
  XmlError,
  type ConfigErrorCode,
  type ConnectionSettings,
} from '../../src/sdk/config/index.ts';
import { firstInvalidUtf8 } from '../../src/sdk/config/load-config.ts';

const FIXTURES = new URL('../fixtures/config/', import.meta.url);
const fixturePath = (name: string): string => new URL(name, FIXTURES).pathname;
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

/** 1-based line of the first line containing `marker`. */
function lineOf(text: string, marker: string): number {
  const index = text.indexOf(marker);
  if (index < 0) throw new Error(`marker ${marker} not in text`);
  return text.slice(0, index).split('\n').length;
}

function configFails(
  text: string,
  code: ConfigErrorCode,
  line: number | undefined,
  setting: string | undefined,
  env: Record<string, string | undefined> = {},
  file = 'test.config',
): ConfigError {
  try {
    configFromXml(text, file, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.is(error.code, code, error.message);
    assert.is(error.file, file);
    assert.is(error.line, line, error.message);
    assert.is(error.setting, setting, error.message);
    assert.ok(error.message.startsWith(line === undefined ? `${file}: ` : `${file}:${line}: `), error.message);
    if (setting !== undefined) assert.ok(error.message.includes(setting), error.message);
    return error;
  }
  assert.unreachable(`expected a ConfigError (${code})`);
  throw new Error('unreachable');
}

/** A document with the given Connectivity lines and proxy sections. */
function doc(connectivity: string[], sections: Record<string, string[]> = {}): string {
  const lines = ['<Cfg>', '  <Container name="Basic">'];
  for (const c of connectivity) lines.push(`    ${c}`);
  lines.push('  </Container>', '  <Container name="Genesys">', '    <domain name="proxies">');
  for (const [name, settings] of Object.entries(sections)) {
    lines.push(`      <section name="${name}">`);
    for (const s of settings) lines.push(`        ${s}`);
    lines.push('      </section>');
  }
  lines.push('    </domain>', '  </Container>', '</Cfg>');
  return lines.join('\n');
}
const one = (settings: string[]): string => doc(['<Connectivity user="1001" server="10.0.0.1"/>'], { proxy0: settings });
const setting = (name: string, value: string): string => `<setting name="${name}" value="${value}"/>`;

function defaultsFor(user: string, host: string, port: number, transport: ConnectionSettings['transport']): ConnectionSettings {
  return {
    user,
    server: { host, port },
    transport,
    domain: host,
    authUsername: user,
    reregisterInSeconds: 3600,
    minimumRetrySeconds: 20,
    maximumRetrySeconds: 1800,
    sendKeepAlive: false,
    keepAliveIntervalSeconds: 30,
    dialFailoverTimeoutMs: 2000,
    useRport: true,
    extra: {},
  };
}

test('the DESIGN.md example: two connections, 60 s and 120 s, every other default', () => {
  const config = configFromXml(fixture('two-sites.config'), 'two-sites.config');
  assert.equal(config.warnings, []);
  assert.equal(config.connections, [
    // The server's written port is part of the default domain (issue 10: Kamailio's `uri == myself`).
    { ...defaultsFor('1001', '127.0.0.1', 5070, 'udp'), domain: '127.0.0.1:5070', reregisterInSeconds: 60, password: 'secret' },
    { ...defaultsFor('1001', '127.0.0.2', 5080, 'tcp'), domain: '127.0.0.2:5080', reregisterInSeconds: 120, password: 'secret' },
  ]);
});

test('loadEndpointConfig reads the fixture from disk', () => {
  const path = fixturePath('two-sites.config');
  const config = loadEndpointConfig(path);
  assert.is(config.connections.length, 2);
  assert.is(config.connections[1]!.reregisterInSeconds, 120);
});

test('documented defaults', () => {
  assert.equal(CONNECTION_DEFAULTS, {
    transport: 'udp',
    port: 5060,
    tlsPort: 5061,
    reregisterInSeconds: 3600,
    minimumRetrySeconds: 20,
    maximumRetrySeconds: 1800,
    sendKeepAlive: false,
    keepAliveIntervalSeconds: 30,
    dialFailoverTimeoutMs: 2000,
    useRport: true,
  });
  const config = configFromXml(
    doc([
      '<Connectivity user="a" server="h1"/>',
      '<Connectivity user="b" server="h2" protocol="tls"/>',
      '<Connectivity user="c" server="[::1]" transport="TCP"/>',
    ]),
    'd.config',
  );
  assert.equal(config.connections, [
    defaultsFor('a', 'h1', 5060, 'udp'),
    defaultsFor('b', 'h2', 5061, 'tls'),
    { ...defaultsFor('c', '::1', 5060, 'tcp'), domain: '[::1]' },
  ]);
});

test('every documented setting, IPv6 server, env: password, unknown settings', () => {
  const config = configFromXml(fixture('full.config'), 'full.config', { ALICE_PASSWORD: 'from-env' });
  const [alice, bob] = config.connections;
  assert.equal(alice, {
    user: 'alice',
    server: { host: '2001:db8::1', port: 5071 },
    transport: 'tls',
    displayName: 'Alice & Co',
    domain: 'example.com',
    password: 'from-env',
    authUsername: 'alice-auth',
    reregisterInSeconds: 300,
    minimumRetrySeconds: 5,
    maximumRetrySeconds: 600,
    sendKeepAlive: true,
    keepAliveIntervalSeconds: 15,
    dialFailoverTimeoutMs: 1500,
    useRport: false,
    extra: { codec_priority: 'pcmu' },
  });
  assert.equal(bob, { ...defaultsFor('bob', 'registrar.example.com', 5060, 'tcp'), extra: { codec_priority: 'pcma' } });
  const text = fixture('full.config');
  // The unknown setting appears twice but is reported once, at its first line.
  const unknown = config.warnings.filter((w) => w.includes('codec_priority'));
  assert.equal(unknown, [
    `full.config:${lineOf(text, 'codec_priority')}: unknown setting "codec_priority" in section "proxy0" kept in extra (reported once)`,
  ]);
  assert.ok(config.warnings.some((w) => w.startsWith(`full.config:${lineOf(text, '"policy"')}: domain "policy"`)));
  assert.is(config.warnings.length, 2);
});

test('case-insensitive names and values; booleans; whitespace around numbers', () => {
  const text = `<root>
  <CONTAINER NAME="basic">
    <connectivity User="u" SERVER=" host.example:7000 " Protocol="Udp"/>
  </CONTAINER>
  <container name="GENESYS">
    <Domain name="Proxies">
      <Section name="PROXY0">
        <Setting Name="Use_Rport" Value="FALSE"/>
        <setting name="send_sip_keep_alive_messages" value="true"/>
        <setting name="reregister_in_seconds" value=" 90 "/>
      </Section>
    </Domain>
  </container>
</root>`;
  const [c] = configFromXml(text, 'x').connections;
  assert.is(c!.useRport, false);
  assert.is(c!.sendKeepAlive, true);
  assert.is(c!.reregisterInSeconds, 90);
  assert.equal(c!.server, { host: 'host.example', port: 7000 });
});

test('proxy sections may be split over several domains and containers, in any order', () => {
  const text = `<x>
  <Container name="Genesys"><domain name="proxies"><section name="proxy1">${setting('use_rport', '0')}</section></domain></Container>
  <Container name="Basic">
    <Connectivity user="a" server="h1"/>
    <Connectivity user="b" server="h2"/>
  </Container>
  <Container name="Genesys"><domain name="proxies"><section name="proxy0">${setting('reregister_in_seconds', '30')}</section></domain></Container>
</x>`;
  const config = configFromXml(text, 'x');
  assert.is(config.connections[0]!.reregisterInSeconds, 30);
  assert.is(config.connections[1]!.useRport, false);
});

test('a Connectivity without proxy section and a file without Genesys container use defaults', () => {
  const text = '<c><Container name="Basic"><Connectivity user="u" server="h"/></Container></c>';
  assert.equal(configFromXml(text, 'x').connections, [defaultsFor('u', 'h', 5060, 'udp')]);
});

test('server forms', () => {
  assert.equal(parseServer('example.com'), { host: 'example.com', uriHost: 'example.com', port: undefined });
  assert.equal(parseServer('10.1.2.3:5070'), { host: '10.1.2.3', uriHost: '10.1.2.3', port: 5070 });
  assert.equal(parseServer('[2001:db8::5]:5062'), { host: '2001:db8::5', uriHost: '[2001:db8::5]', port: 5062 });
  assert.equal(parseServer('[::ffff:10.0.0.1]'), { host: '::ffff:10.0.0.1', uriHost: '[::ffff:10.0.0.1]', port: undefined });
  assert.equal(parseServer('h:65535'), { host: 'h', uriHost: 'h', port: 65535 });
  for (const bad of ['', '  ', '::1', '2001:db8::1:5060', '[::1', '[::1]5060', '[::1]:', '[zz]', '[]:5060', '[10.0.0.1]', 'h:0', 'h:65536',
    'h:-1', 'h:', 'h:port', 'h:50.6', 'h h', 'sip:h', 'h/x', ':5060', 'h:+5060', 'h:0x10']) {
    assert.type(parseServer(bad), 'string', bad);
  }
  // A SIP URI is refused with the host:port it holds, not taken for an IPv6 address.
  assert.is(parseServer('sip:127.0.0.1:5999'), 'is host:port, without a URI scheme: write "127.0.0.1:5999" (the transport is the protocol attribute)');
  assert.is(parseServer('SIPS:pbx.example.com'), 'is host:port, without a URI scheme: write "pbx.example.com" (the transport is the protocol attribute)');
  // ...but "sip:5060" is the host "sip" on port 5060.
  assert.equal(parseServer('sip:5060'), { host: 'sip', uriHost: 'sip', port: 5060 });
});

test('IPv6 server in a file: bare host for sockets, bracketed default domain with the written port', () => {
  const config = configFromXml(doc(['<Connectivity user="u" server="[fe80::1]:5080" protocol="tls"/>']), 'v6.config');
  assert.equal(config.connections[0]!.server, { host: 'fe80::1', port: 5080 });
  assert.is(config.connections[0]!.domain, '[fe80::1]:5080');
  const text = doc(['<Connectivity user="u" server="fe80::1"/>']);
  const error = configFails(text, 'invalid', 3, 'server');
  assert.match(error.message, /brackets/);
});

test('env: password', () => {
  const text = one([setting('password', 'env:SIP_PW')]);
  assert.is(configFromXml(text, 'x', { SIP_PW: 's3cret' }).connections[0]!.password, 's3cret');
  assert.is(configFromXml(text, 'x', { SIP_PW: '' }).connections[0]!.password, '');
  const error = configFails(text, 'missing', lineOf(text, 'env:SIP_PW'), 'password', { OTHER: 'x' });
  assert.match(error.message, /SIP_PW is not set/);
  configFails(text, 'missing', 8, 'password');
  configFails(one([setting('password', 'env:constructor')]), 'missing', 8, 'password');
  configFails(one([setting('password', 'env:')]), 'invalid', 8, 'password');
  // A plain password is kept exactly (no trimming).
  assert.is(configFromXml(one([setting('password', ' p w ')]), 'x').connections[0]!.password, ' p w ');
});

test('unknown settings are kept in extra, including awkward names', () => {
  const text = one([setting('__proto__', 'x'), setting('Custom_Thing', 'y')]);
  const config = configFromXml(text, 'x');
  const extra = config.connections[0]!.extra;
  assert.is(Object.getPrototypeOf(extra), Object.prototype);
  assert.equal(Object.keys(extra), ['__proto__', 'Custom_Thing']);
  assert.is(extra['Custom_Thing'], 'y');
  assert.is(config.warnings.length, 2);
});

test('other unknown things are reported once each and ignored', () => {
  const text = `<c>
  <Other/>
  <Other/>
  <Container name="Extras"/>
  <Container name="Basic">
    <Connectivity user="u" server="h" colour="blue"/>
    <Connectivity user="v" server="h" colour="red"/>
    <Note/>
  </Container>
  <Container name="Genesys">
    <stuff/>
    <domain name="proxies">
      <section name="defaults"/>
      <section name="defaults"/>
      <item/>
      <section name="proxy1"><comment/>${setting('use_rport', '1')}</section>
    </domain>
  </Container>
</c>`;
  const config = configFromXml(text, 'w.config');
  assert.is(config.connections.length, 2);
  assert.equal(config.warnings.map((w) => w.slice(0, w.indexOf(': '))), [
    'w.config:2',
    'w.config:4',
    'w.config:6',
    'w.config:8',
    'w.config:11',
    'w.config:13',
    'w.config:15',
    'w.config:16',
  ]);
  assert.ok(config.warnings.every((w) => w.endsWith('(reported once)')));
});

test('bad numbers name the file, line and setting', () => {
  const names = [
    'reregister_in_seconds',
    'minimum_time_before_reregistration_in_seconds',
    'maximum_time_before_reregistration_in_seconds',
  ];
  for (const name of names) {
    for (const value of ['abc', '-5', '0', '', ' ', '1.5', '1e3', '0x10', '+10', `${MAX_SECONDS + 1}`, '9'.repeat(30), '６０']) {
      const text = one([setting('display_name', 'x'), setting(name, value)]);
      const error = configFails(text, 'invalid', 9, name, {}, 'SipEndpoint.config');
      assert.ok(error.message.startsWith(`SipEndpoint.config:9: setting "${name}" of proxy0: `), error.message);
    }
  }
  assert.is(configFromXml(one([setting('reregister_in_seconds', `${MAX_SECONDS}`)]), 'x').connections[0]!.reregisterInSeconds, MAX_SECONDS);
});

test('minimum above maximum', () => {
  const both = one([
    setting('maximum_time_before_reregistration_in_seconds', '30'),
    setting('minimum_time_before_reregistration_in_seconds', '60'),
  ]);
  configFails(both, 'invalid', 8, 'maximum_time_before_reregistration_in_seconds');
  configFails(one([setting('minimum_time_before_reregistration_in_seconds', '1801')]), 'invalid', 8, 'minimum_time_before_reregistration_in_seconds');
  configFails(one([setting('maximum_time_before_reregistration_in_seconds', '19')]), 'invalid', 8, 'maximum_time_before_reregistration_in_seconds');
  const equal = configFromXml(one([setting('minimum_time_before_reregistration_in_seconds', '1800')]), 'x');
  assert.is(equal.connections[0]!.minimumRetrySeconds, 1800);
});

test('bad booleans and empty names', () => {
  for (const name of ['use_rport', 'send_sip_keep_alive_messages']) {
    for (const value of ['2', 'yes', '', 'on']) configFails(one([setting(name, value)]), 'invalid', 8, name);
  }
  configFails(one([setting('domain', ' ')]), 'invalid', 8, 'domain');
  configFails(one([setting('auth_username', '')]), 'invalid', 8, 'auth_username');
  // display_name may be anything, even empty.
  assert.is(configFromXml(one([setting('display_name', '')]), 'x').connections[0]!.displayName, '');
});

test('bad Connectivity attributes', () => {
  const c = (attrs: string): string => doc(['<Connectivity user="ok" server="h"/>', `<Connectivity ${attrs}/>`]);
  configFails(c('user="u" server="h:70000"'), 'invalid', 4, 'server');
  configFails(c('user="u" server="h:0"'), 'invalid', 4, 'server');
  configFails(c('user="u" server=""'), 'invalid', 4, 'server');
  configFails(c('user="u"'), 'missing', 4, 'server');
  configFails(c('server="h"'), 'missing', 4, 'user');
  configFails(c('user=" " server="h"'), 'invalid', 4, 'user');
  configFails(c('user="u" server="h" protocol="sctp"'), 'invalid', 4, 'protocol');
  configFails(c('user="u" server="h" transport="ws"'), 'invalid', 4, 'transport');
  configFails(c('user="u" server="h" protocol="udp" transport="tcp"'), 'invalid', 4, 'transport');
  configFails(c('user="u" server="h" User="v"'), 'duplicate', 4, 'user');
  // Same value twice is fine.
  assert.is(configFromXml(c('user="u" server="h" protocol="tcp" transport="TCP"'), 'x').connections[1]!.transport, 'tcp');
  // An attribute on its own line is reported at that line.
  const multi = doc(['<Connectivity user="u"', '              server="h:99999"/>']);
  configFails(multi, 'invalid', 4, 'server');
});

test('names one edit (or one separator) away from the ones the file format knows are refused, not ignored with what they hold', () => {
  // A misspelt protocol attribute would register over UDP, unencrypted, instead of TLS.
  const attr = configFails(doc(['<Connectivity user="u" server="h" protocl="tls"/>']), 'invalid', 3, 'protocl');
  assert.ok(attr.message.includes('did you mean "protocol"?'), attr.message);
  configFails(doc(['<Connectivity user="u" sever="h" server="h"/>']), 'invalid', 3, 'sever');
  configFails(doc(['<Connectivity user="u" server="h" trasnport="tcp"/>']), 'invalid', 3, 'trasnport');
  // Each of these would drop every setting of the connection, password included.
  const sections = (container: string, domain: string, section: string): string =>
    `<Cfg>\n<Container name="Basic"><Connectivity user="u" server="h"/></Container>\n<Container name="${container}">\n<domain name="${domain}">\n<section name="${section}">${setting('password', 'p')}</section></domain></Container></Cfg>`;
  assert.is(configFromXml(sections('Genesys', 'proxies', 'proxy0'), 'x').connections[0]!.password, 'p');
  for (const [container, domain, section, line, subject, meant] of [
    ['Genesis', 'proxies', 'proxy0', 3, 'name', 'Genesys'],
    ['basik', 'proxies', 'proxy0', 3, 'name', 'Basic'],
    ['Genesys', 'proxy', 'proxy0', 4, 'name', 'proxies'],
    ['Genesys', 'proxie', 'proxy0', 4, 'name', 'proxies'],
    ['Genesys', 'proxies', 'proxy_0', 5, 'proxy_0', 'proxy0'],
    ['Genesys', 'proxies', 'Proxy-12', 5, 'Proxy-12', 'proxy12'],
    ['Genesys', 'proxies', 'proxy 1', 5, 'proxy 1', 'proxy1'],
  ] as const) {
    const error = configFails(sections(container, domain, section), 'invalid', line, subject);
    assert.ok(error.message.includes(`did you mean "${meant}"?`), error.message);
  }
  // Names farther away are still other things, reported once and ignored.
  const far = configFromXml(sections('Extras', 'others', 'defaults'), 'x');
  assert.is(far.connections[0]!.password, undefined);
  assert.is(far.warnings.length, 1);
});

test('structural errors', () => {
  configFails('<Cfg>\n  <Container name="Genesys"/>\n</Cfg>', 'missing', 1, 'Container');
  configFails('<Cfg>\n  <Container name="Basic">\n  </Container>\n</Cfg>', 'missing', 2, 'Connectivity');
  configFails('<Cfg>\n  <Container name="Basic"><Other/></Container>\n</Cfg>', 'missing', 2, 'Connectivity');
  configFails('<Cfg>\n  <Container>\n  </Container>\n</Cfg>', 'missing', 2, 'name');
  configFails(
    '<Cfg>\n<Container name="Basic"><Connectivity user="u" server="h"/></Container>\n<Container name="basic"/>\n</Cfg>',
    'duplicate',
    3,
    'Container',
  );
  const text = doc(['<Connectivity user="u" server="h"/>'], { proxy0: [], proxy1: [setting('use_rport', '0')] });
  const error = configFails(text, 'unknown-connection', lineOf(text, '"proxy1"'), 'proxy1');
  assert.match(error.message, /connection 1, but only connection 0 is defined/);
  const two = doc(['<Connectivity user="u" server="h"/>', '<Connectivity user="v" server="h"/>'], { proxy7: [] });
  assert.match(configFails(two, 'unknown-connection', 8, 'proxy7').message, /only connections 0-1 are defined/);
  configFails(doc(['<Connectivity user="u" server="h"/>'], { proxy00: [] }), 'invalid', 7, 'proxy00');
  configFails(doc(['<Connectivity user="u" server="h"/>'], { ['proxy' + '9'.repeat(20)]: [] }), 'invalid', 7, 'proxy' + '9'.repeat(20));
  configFails(doc(['<Connectivity user="u" server="h"/>'], { proxy0: ['<setting value="1"/>'] }), 'missing', 8, 'name');
  configFails(doc(['<Connectivity user="u" server="h"/>'], { proxy0: ['<setting name=" " value="1"/>'] }), 'invalid', 8, 'name');
  configFails(doc(['<Connectivity user="u" server="h"/>'], { proxy0: ['<setting name="use_rport"/>'] }), 'missing', 8, 'use_rport');
  configFails('<c><Container name="Basic"><Connectivity user="u" server="h"/></Container>\n<Container name="Genesys"><domain/></Container></c>', 'missing', 2, 'name');
  configFails('<c><Container name="Basic"><Connectivity user="u" server="h"/></Container>\n<Container name="Genesys"><domain name="proxies">\n<section/></domain></Container></c>', 'missing', 3, 'name');
});

test('a setting given twice for one connection', () => {
  const text = one([setting('reregister_in_seconds', '60'), setting('password', 'x'), setting('REREGISTER_in_seconds', '60')]);
  const error = configFails(text, 'duplicate', 10, 'REREGISTER_in_seconds');
  assert.match(error.message, /first at line 8/);
  const split = doc(['<Connectivity user="u" server="h"/>'], { proxy0: [setting('use_rport', '1')], PROXY0: [setting('use_rport', '0')] });
  configFails(split, 'duplicate', 11, 'use_rport');
});

test('XML errors become ConfigErrors with the file, line and the XmlError as cause', () => {
  const error = configFails('<Cfg>\n  <Container name="Basic">\n</Cfg>', 'xml', 3, undefined, {}, 'broken.config');
  assert.ok(error.cause instanceof XmlError);
  assert.is(error.column, 1);
  assert.match(error.message, /^broken\.config:3: not well-formed XML: /);
  configFails('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<x/>', 'xml', 2, undefined);
  configFails('', 'xml', 1, undefined);
});

test('loading: BOM, invalid UTF-8, missing file, too large', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-config-'));
  try {
    const bom = join(dir, 'bom.config');
    writeFileSync(bom, '\uFEFF' + fixture('two-sites.config'));
    assert.is(loadEndpointConfig(bom, {}).connections.length, 2);

    const envFile = join(dir, 'env.config');
    writeFileSync(envFile, one([setting('password', 'env:SIP_TEST_PW')]));
    assert.is(loadEndpointConfig(envFile, { SIP_TEST_PW: 'pw' }).connections[0]!.password, 'pw');

    const latin1 = join(dir, 'latin1.config');
    writeFileSync(latin1, Buffer.concat([Buffer.from('<c>\n<d>\n'), Buffer.from([0xe9]), Buffer.from('</d></c>')]));
    let error = catchConfigError(() => loadEndpointConfig(latin1, {}));
    assert.is(error.code, 'io');
    assert.is(error.line, 3);
    assert.match(error.message, /latin1\.config:3: not valid UTF-8/);

    error = catchConfigError(() => loadEndpointConfig(join(dir, 'missing.config'), {}));
    assert.is(error.code, 'io');
    assert.is(error.line, undefined);
    assert.ok(error.message.startsWith(join(dir, 'missing.config') + ': cannot read the file'));

    const big = join(dir, 'big.config');
    writeFileSync(big, `<c>${' '.repeat(1024 * 1024)}</c>`);
    error = catchConfigError(() => loadEndpointConfig(big, {}));
    assert.is(error.code, 'io');
    assert.match(error.message, /over the limit/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('firstInvalidUtf8', () => {
  const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
  assert.is(firstInvalidUtf8(new TextEncoder().encode('aé€\u{1F600}')), 10);
  assert.is(firstInvalidUtf8(bytes(0x61, 0x80)), 1);
  assert.is(firstInvalidUtf8(bytes(0xc0, 0x80)), 0);
  assert.is(firstInvalidUtf8(bytes(0x61, 0xe0, 0x80, 0x80)), 1);
  assert.is(firstInvalidUtf8(bytes(0xed, 0xa0, 0x80)), 0);
  assert.is(firstInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80)), 0);
  assert.is(firstInvalidUtf8(bytes(0xe2, 0x82)), 0);
  assert.is(firstInvalidUtf8(bytes(0xe2, 0x41, 0x41)), 0);
  assert.is(firstInvalidUtf8(bytes(0xff)), 0);
});

function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.unreachable('expected a ConfigError');
  throw new Error('unreachable');
}

/** Small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SNIPPETS = [
  '<', '>', '/', '"', "'", '=', '&', ';', '!', '?', '[', ']', '-', '#', 'x', ':', ' ', '\n', '\r', '\t', '\u0000',
  '\uD800', '\u{1F600}', 'é', '0', '9', '-1', '99999999', '<!--', '-->', '<![CDATA[', ']]>', '<!DOCTYPE x>', '&#0;',
  '&#x10FFFF;', '&amp;', '&lt;', '&foo;', '<?pi?>', '<?xml?>', '</Container>', '<Connectivity user="u" server="h"/>',
  '<section name="proxy3">', '<setting name="use_rport" value="x"/>', 'env:', 'env:NOPE', 'proxy', '[::1]', ':5060',
  'tls', 'Basic', 'Genesys', 'proxies',
];

function mutate(text: string, random: () => number): string {
  const at = (): number => Math.floor(random() * (text.length + 1));
  const steps = 1 + Math.floor(random() * 3);
  for (let k = 0; k < steps; k++) {
    const i = at();
    switch (Math.floor(random() * 5)) {
      case 0: // delete a short run
        text = text.slice(0, i) + text.slice(i + 1 + Math.floor(random() * 8));
        break;
      case 1: // insert a snippet
        text = text.slice(0, i) + SNIPPETS[Math.floor(random() * SNIPPETS.length)] + text.slice(i);
        break;
      case 2: // replace one character
        text = text.slice(0, i) + String.fromCharCode(Math.floor(random() * 128)) + text.slice(i + 1);
        break;
      case 3: { // duplicate a slice elsewhere
        const j = at();
        const slice = text.slice(Math.min(i, j), Math.max(i, j)).slice(0, 200);
        const k2 = at();
        text = text.slice(0, k2) + slice + text.slice(k2);
        break;
      }
      default: // truncate
        text = text.slice(0, i);
    }
  }
  return text;
}

test('fuzz: mutated config files only ever raise XmlError / ConfigError', () => {
  const random = prng(0x5eed);
  const seeds = [fixture('two-sites.config'), fixture('full.config')];
  let accepted = 0;
  for (let n = 0; n < 4000; n++) {
    const text = mutate(seeds[n % seeds.length]!, random);
    try {
      const config = configFromXml(text, 'fuzz.config', { ALICE_PASSWORD: 'pw' });
      accepted++;
      assert.ok(config.connections.length > 0);
      for (const c of config.connections) {
        assert.ok(c.server.port >= 1 && c.server.port <= 65535);
        assert.ok(c.minimumRetrySeconds <= c.maximumRetrySeconds);
        assert.ok(c.reregisterInSeconds >= 1 && c.reregisterInSeconds <= MAX_SECONDS);
        assert.ok(['udp', 'tcp', 'tls'].includes(c.transport));
      }
    } catch (error) {
      if (error instanceof ConfigError) {
        assert.ok(error.message.startsWith('fuzz.config'), error.message);
        continue;
      }
      throw new Error(`mutation ${n} escaped with ${String(error)}:\n${text}`);
    }
  }
  // The mutations are not all fatal: some still read (keeps the fuzz honest).
  assert.ok(accepted > 100, `accepted ${accepted}`);
});

test.run();
