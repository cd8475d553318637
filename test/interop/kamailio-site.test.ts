/**
 * The Kamailio site harness itself (test/interop/harness/kamailio.ts), with
 * hand-written SIP so that nothing of our stack but the parser and the digest
 * arithmetic is involved.
 *
 * Two real sites: "a" on 127.0.0.1 (MD5) and "b" on 127.0.0.2 (SHA-256).
 * Covers: REGISTER without credentials -> 401 with a Digest challenge (realm =
 * site address, qop=auth, the site's algorithm) over UDP (also to the bare
 * address), TCP and TLS (certificate verified against the site's generated
 * CA); REGISTER with computeDigest() credentials -> 200 over UDP and TLS, and
 * `kamcmd ul.dump` (ulDump(); also ulLookup()/ulStats()) shows exactly one
 * binding for that AOR, also after a refresh; a wrong password is challenged
 * again without stale and stores nothing; INVITE/ACK/BYE proxied with
 * Record-Route to a contact registered over UDP and to one registered over a
 * TCP flow (nothing listens on its Contact), 404 for an unknown user; stop ->
 * UDP, TCP and TLS no longer answer, start -> they answer again with no
 * bindings (usrloc in memory); kill -> main and worker PIDs all gone, restart
 * -> answers; every site stopped by PID in after() even when a test fails.
 * Kamailio missing -> every test fails with the install hint (never a skip).
 */
import { createSocket } from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAuthHeader, parseMessage, type SipMessage } from '../../src/parser/index.ts';
import { computeDigest, type DigestAlgorithm } from '../../src/registrar-client/digest/index.ts';
import {
  DEFAULT_PASSWORD,
  kamailioMissing,
  startSite,
  stopAllSites,
  tcpAccepts,
  udpAnswers,
  type KamailioSite,
} from './harness/kamailio.ts';

type Transport = 'UDP' | 'TCP' | 'TLS';

interface Sites {
  a: KamailioSite;
  b: KamailioSite;
}

const test = suite('kamailio-site');
let sites: Sites | undefined;
let startError: Error | undefined;

/** The running sites, or the reason they are not running (so each test fails with it). */
function need(): Sites {
  if (sites === undefined) throw startError ?? new Error('the Kamailio sites were not started');
  return sites;
}

test.before(async () => {
  const missing = kamailioMissing();
  if (missing !== undefined) {
    startError = new Error(`Kamailio interop tests cannot run: ${missing}`);
    return;
  }
  try {
    const [a, b] = await Promise.all([
      startSite({ name: 'a', address: '127.0.0.1', algorithm: 'MD5' }),
      startSite({ name: 'b', address: '127.0.0.2', algorithm: 'SHA-256' }),
    ]);
    sites = { a, b };
  } catch (error) {
    startError = error instanceof Error ? error : new Error(String(error));
  }
});

test.after(async () => {
  await stopAllSites();
});

// ----- raw SIP over the three transports -----

let sequence = 0;
const unique = (): string => `${process.pid}-${Date.now().toString(36)}-${++sequence}`;

interface RegisterParams {
  site: KamailioSite;
  transport: Transport;
  user: string;
  localPort: number;
  callId: string;
  cseq: number;
  expires?: number;
  authorization?: string;
  /** Request-URI; default sip:ADDRESS:PORT of the transport. */
  uri?: string;
}

function requestUri(site: KamailioSite, transport: Transport): string {
  const port = transport === 'UDP' ? site.ports.udp : transport === 'TCP' ? site.ports.tcp : site.ports.tls;
  return `sip:${site.address}:${port}`;
}

function registerText(p: RegisterParams): string {
  const param = p.transport === 'UDP' ? '' : `;transport=${p.transport.toLowerCase()}`;
  return (
    `REGISTER ${p.uri ?? requestUri(p.site, p.transport)} SIP/2.0\r\n` +
    `Via: SIP/2.0/${p.transport} 127.0.0.1:${p.localPort};rport;branch=z9hG4bK-${unique()}\r\n` +
    'Max-Forwards: 70\r\n' +
    `From: <sip:${p.user}@${p.site.address}>;tag=t${unique()}\r\n` +
    `To: <sip:${p.user}@${p.site.address}>\r\n` +
    `Call-ID: ${p.callId}\r\n` +
    `CSeq: ${p.cseq} REGISTER\r\n` +
    `Contact: <sip:${p.user}@127.0.0.1:${p.localPort}${param}>\r\n` +
    `Expires: ${p.expires ?? 300}\r\n` +
    (p.authorization === undefined ? '' : `Authorization: ${p.authorization}\r\n`) +
    'User-Agent: sip-endpoint kamailio-site test\r\n' +
    'Content-Length: 0\r\n\r\n'
  );
}

/** One client socket or connection to a site: send text, take the next SIP message that came in. */
interface Channel {
  transport: Transport;
  localPort: number;
  send(text: string): void;
  next(timeoutMs?: number): Promise<SipMessage>;
  exchange(text: string, timeoutMs?: number): Promise<SipMessage>;
  close(): void;
}

/** Messages in arrival order, handed to whoever waits for the next one. */
class Inbox {
  private readonly queue: SipMessage[] = [];
  private readonly waiting: ((message: SipMessage) => void)[] = [];
  constructor(private readonly label: string) {}

  push(bytes: Uint8Array): void {
    const message = parseMessage(bytes);
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter(message);
    else this.queue.push(message);
  }

  next(timeoutMs = 3000): Promise<SipMessage> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (message: SipMessage): void => {
        clearTimeout(timer);
        resolve(message);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new Error(`nothing from ${this.label} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(waiter);
    });
  }
}

async function udpChannel(site: KamailioSite): Promise<Channel> {
  const socket = createSocket('udp4');
  await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
  const inbox = new Inbox(`site ${site.name} over UDP`);
  socket.on('message', (data) => inbox.push(new Uint8Array(data)));
  const send = (text: string): void => socket.send(text, site.ports.udp, site.address);
  return {
    transport: 'UDP',
    localPort: socket.address().port,
    send,
    next: (timeoutMs) => inbox.next(timeoutMs),
    exchange: (text, timeoutMs) => {
      send(text);
      return inbox.next(timeoutMs);
    },
    close: () => socket.close(),
  };
}

async function streamChannel(site: KamailioSite, transport: 'TCP' | 'TLS'): Promise<Channel> {
  const socket: Socket = await new Promise((resolve, reject) => {
    if (transport === 'TCP') {
      const s = tcpConnect({ host: site.address, port: site.ports.tcp, localAddress: '127.0.0.1' });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    } else {
      const s = tlsConnect({
        host: site.address,
        port: site.ports.tls,
        ca: readFileSync(site.caCertPath),
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
      });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    }
  });
  const inbox = new Inbox(`site ${site.name} over ${transport}`);
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    // cut messages by header end + Content-Length; skip CRLF keep-alives
    for (;;) {
      while (buffer.subarray(0, 2).toString('latin1') === '\r\n') buffer = buffer.subarray(2);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end + 2).toString('latin1');
      const length = Number(/\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      inbox.push(new Uint8Array(buffer.subarray(0, end + 4 + length)));
      buffer = buffer.subarray(end + 4 + length);
    }
  });
  socket.on('error', () => undefined);
  const send = (text: string): void => void socket.write(text);
  return {
    transport,
    localPort: socket.localPort!,
    send,
    next: (timeoutMs) => inbox.next(timeoutMs),
    exchange: (text, timeoutMs) => {
      send(text);
      return inbox.next(timeoutMs);
    },
    close: () => socket.destroy(),
  };
}

function channel(site: KamailioSite, transport: Transport): Promise<Channel> {
  return transport === 'UDP' ? udpChannel(site) : streamChannel(site, transport);
}

/** Checks a 401 and returns its challenge params. */
function challengeOf(response: SipMessage, site: KamailioSite): Map<string, string> {
  assert.is(response.status, 401, `site ${site.name}: expected 401, got ${response.status}`);
  const raw = response.header('WWW-Authenticate');
  assert.ok(raw !== undefined, '401 without WWW-Authenticate');
  const challenge = parseAuthHeader(raw, 'WWW-Authenticate');
  assert.is(challenge.scheme.toLowerCase(), 'digest');
  assert.is(challenge.params.get('realm'), site.address);
  assert.ok((challenge.params.get('nonce') ?? '') !== '', 'challenge without nonce');
  assert.is(challenge.params.get('qop'), 'auth');
  assert.is(challenge.params.get('algorithm'), site.algorithm, `site ${site.name} offers ${site.algorithm}`);
  assert.is(response.header('Server'), `kamailio-site-${site.name}`);
  return challenge.params;
}

function authorization(site: KamailioSite, transport: Transport, user: string, password: string, challenge: Map<string, string>): string {
  const algorithm = challenge.get('algorithm') as DigestAlgorithm;
  const uri = requestUri(site, transport);
  const cnonce = `c${unique()}`;
  const digest = computeDigest({
    algorithm,
    username: user,
    realm: challenge.get('realm')!,
    password,
    method: 'REGISTER',
    uri,
    nonce: challenge.get('nonce')!,
    cnonce,
    nc: 1,
    qop: 'auth',
  });
  return (
    `Digest username="${user}", realm="${challenge.get('realm')}", nonce="${challenge.get('nonce')}", ` +
    `uri="${uri}", response="${digest.response}", algorithm=${algorithm}, cnonce="${cnonce}", qop=auth, nc=${digest.nc}`
  );
}

/** REGISTER, 401, REGISTER with credentials on an open channel: returns the final response. */
async function registerOn(ch: Channel, site: KamailioSite, user: string, password = DEFAULT_PASSWORD, expires = 300): Promise<SipMessage> {
  const callId = `reg-${unique()}`;
  const base = { site, transport: ch.transport, user, localPort: ch.localPort, callId, expires };
  const challenge = challengeOf(await ch.exchange(registerText({ ...base, cseq: 1 })), site);
  return ch.exchange(registerText({ ...base, cseq: 2, authorization: authorization(site, ch.transport, user, password, challenge) }));
}

/** The same on a channel of its own, closed afterwards. */
async function registerWithDigest(site: KamailioSite, transport: Transport, user: string, password = DEFAULT_PASSWORD): Promise<SipMessage> {
  const ch = await channel(site, transport);
  try {
    return await registerOn(ch, site, user, password);
  } finally {
    ch.close();
  }
}

/** A response to `request` echoing Via, Record-Route, From, To (+ tag), Call-ID and CSeq. */
function replyTo(request: SipMessage, status: number, reason: string, toTag: string, contact?: string): string {
  const to = request.header('To')!;
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...request.headerFields('Via').map((value) => `Via: ${value}`),
    ...request.headerFields('Record-Route').map((value) => `Record-Route: ${value}`),
    `From: ${request.header('From')}`,
    `To: ${request.to?.tag ? to : `${to};tag=${toTag}`}`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.header('CSeq')}`,
    ...(contact === undefined ? [] : [`Contact: ${contact}`]),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Skips provisional responses (and anything but responses). */
async function finalResponse(ch: Channel): Promise<SipMessage> {
  for (;;) {
    const message = await ch.next();
    if (message.status !== undefined && message.status !== null && message.status >= 200) return message;
  }
}

/** Next request of `method` on the channel (skipping anything else). */
async function nextRequest(ch: Channel, method: string): Promise<SipMessage> {
  for (;;) {
    const message = await ch.next();
    if (message.method === method) return message;
  }
}

/**
 * caller (UDP) -> site -> callee (registered as `user` on `callee`): INVITE,
 * 200, ACK and BYE, checking Record-Route and that in-dialog requests follow it.
 */
async function callThrough(site: KamailioSite, caller: Channel, callee: Channel, user: string): Promise<void> {
  const callId = `call-${unique()}`;
  const fromTag = `f${unique()}`;
  const from = `<sip:1003@${site.address}>;tag=${fromTag}`;
  const via = (): string => `Via: SIP/2.0/UDP 127.0.0.1:${caller.localPort};rport;branch=z9hG4bK-${unique()}`;
  caller.send(
    [
      `INVITE sip:${user}@${site.address}:${site.ports.udp} SIP/2.0`,
      via(),
      'Max-Forwards: 70',
      `From: ${from}`,
      `To: <sip:${user}@${site.address}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:1003@127.0.0.1:${caller.localPort}>`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  const invite = await nextRequest(callee, 'INVITE');
  assert.is(invite.callId, callId);
  assert.match(invite.uri?.toString() ?? '', `${user}@127.0.0.1:${callee.localPort}`);
  const recordRoutes = invite.headerValues('Record-Route');
  assert.ok(recordRoutes.length >= 1 && recordRoutes.every((rr) => rr.includes(site.address)), `Record-Route: ${recordRoutes.join(', ')}`);
  const param = callee.transport === 'UDP' ? '' : `;transport=${callee.transport.toLowerCase()}`;
  callee.send(replyTo(invite, 200, 'OK', `t${unique()}`, `<sip:${user}@127.0.0.1:${callee.localPort}${param}>`));

  const ok = await finalResponse(caller);
  assert.is(ok.status, 200);
  assert.is(ok.cseq?.method, 'INVITE');
  const toHeader = ok.header('To')!;
  assert.ok(ok.to?.tag, '200 without To tag');
  const routes = ok.headerValues('Record-Route').reverse();
  assert.ok(routes.length >= 1, '200 without Record-Route');
  const target = /<([^>]+)>/.exec(ok.header('Contact') ?? '')?.[1];
  assert.ok(target !== undefined, '200 without Contact');
  const inDialog = (method: string, cseq: number): string =>
    [
      `${method} ${target} SIP/2.0`,
      via(),
      'Max-Forwards: 70',
      ...routes.map((route) => `Route: ${route}`),
      `From: ${from}`,
      `To: ${toHeader}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  caller.send(inDialog('ACK', 1));
  const ack = await nextRequest(callee, 'ACK');
  assert.is(ack.callId, callId);
  caller.send(inDialog('BYE', 2));
  const bye = await nextRequest(callee, 'BYE');
  assert.is(bye.callId, callId);
  callee.send(replyTo(bye, 200, 'OK', 'unused'));
  const byeOk = await finalResponse(caller);
  assert.is(byeOk.status, 200);
  assert.is(byeOk.cseq?.method, 'BYE');
}

async function bindingsOf(site: KamailioSite, user: string) {
  return (await site.ulDump()).filter((binding) => binding.aor === user);
}

// ----- tests -----

test('both sites run on their own loopback address, each with its own PID and ports', () => {
  const { a, b } = need();
  assert.ok(a.running && b.running);
  assert.is(a.address, '127.0.0.1');
  assert.is(b.address, '127.0.0.2');
  assert.ok(a.pid > 0 && b.pid > 0 && a.pid !== b.pid);
  for (const site of [a, b]) {
    assert.is(site.ports.udp, site.ports.tcp, 'UDP and TCP share a port number');
    assert.is.not(site.ports.tls, site.ports.tcp);
    assert.ok(site.users.get('u09999') === DEFAULT_PASSWORD && site.users.get('1003') === DEFAULT_PASSWORD);
  }
});

test('UDP REGISTER without credentials -> 401 Digest (MD5 on a, SHA-256 on b)', async () => {
  const { a, b } = need();
  for (const site of [a, b]) {
    const ch = await udpChannel(site);
    try {
      const response = await ch.exchange(registerText({ site, transport: 'UDP', user: '1001', localPort: ch.localPort, callId: `c-${unique()}`, cseq: 1 }));
      challengeOf(response, site);
      assert.is(response.via[0]?.rport, ch.localPort, 'rport filled in');
      assert.is(response.via[0]?.received, '127.0.0.1');
      // The site checks its Request-URI as shipped (`uri == myself`: host and
      // port): the bare address names port 5060, which is not this site.
      const bare = await ch.exchange(registerText({ site, transport: 'UDP', user: '1001', localPort: ch.localPort, callId: `c-${unique()}`, cseq: 1, uri: `sip:${site.address}` }));
      assert.is(bare.status, 403, `a Request-URI without the site's port: ${bare.status} ${bare.reasonPhrase}`);
    } finally {
      ch.close();
    }
  }
  assert.is((await bindingsOf(a, '1001')).length, 0, 'no binding without credentials');
});

test('UDP REGISTER with digest -> 200; ul.dump has exactly one binding for the AOR, also after a refresh', async () => {
  const { a, b } = need();
  for (const site of [a, b]) {
    const ch = await udpChannel(site);
    try {
      const callId = `reg-${unique()}`;
      const base = { site, transport: 'UDP' as const, user: '1001', localPort: ch.localPort, callId, expires: 120 };
      let cseq = 1;
      for (let round = 0; round < 2; round++) {
        const challenge = challengeOf(await ch.exchange(registerText({ ...base, cseq: cseq++ })), site);
        const ok = await ch.exchange(registerText({ ...base, cseq: cseq++, authorization: authorization(site, 'UDP', '1001', DEFAULT_PASSWORD, challenge) }));
        assert.is(ok.status, 200, `site ${site.name} (${site.algorithm}) round ${round}: ${ok.status}`);
        assert.match(ok.header('Contact') ?? '', `127.0.0.1:${ch.localPort}`);
        const bindings = await bindingsOf(site, '1001');
        assert.is(bindings.length, 1, `site ${site.name}: ${JSON.stringify(bindings)}`);
        assert.is(bindings[0]!.contact, `sip:1001@127.0.0.1:${ch.localPort}`);
        assert.is(bindings[0]!.callId, callId);
        assert.is(bindings[0]!.cseq, cseq - 1);
        assert.ok(bindings[0]!.expires > 100 && bindings[0]!.expires <= 120, `expires ${bindings[0]!.expires}`);
        assert.is(bindings[0]!.socket, `udp:${site.address}:${site.ports.udp}`);
        const lookedUp = await site.ulLookup('1001');
        assert.equal(lookedUp.map((b) => b.contact), [bindings[0]!.contact]);
      }
      assert.equal(await site.ulLookup('u09999'), []);
      const stats = await site.ulStats();
      assert.ok(stats.contacts >= 1 && stats.users >= 1, JSON.stringify(stats));
    } finally {
      ch.close();
    }
  }
});

// Kamailio 5.6 nonces are made from the time (no nonce_count/one_time_nonce
// here): a re-challenge in the same second repeats the nonce, a later one does
// not. Either way there is no stale=true, which is what says "wrong password".
test('a wrong password is challenged again (401 without stale) and stores nothing', async () => {
  const { b } = need();
  const ch = await udpChannel(b);
  try {
    const base = { site: b, transport: 'UDP' as const, user: 'u00042', localPort: ch.localPort, callId: `bad-${unique()}` };
    const first = challengeOf(await ch.exchange(registerText({ ...base, cseq: 1 })), b);
    const again = await ch.exchange(registerText({ ...base, cseq: 2, authorization: authorization(b, 'UDP', 'u00042', 'wrong', first) }));
    const second = challengeOf(again, b);
    assert.is(second.get('stale'), undefined);
    assert.is((await bindingsOf(b, 'u00042')).length, 0);
  } finally {
    ch.close();
  }
});

test('TCP and TLS REGISTER without credentials -> 401 (TLS verified with the generated CA)', async () => {
  const { a, b } = need();
  for (const site of [a, b]) {
    for (const transport of ['TCP', 'TLS'] as const) {
      const ch = await channel(site, transport);
      try {
        const response = await ch.exchange(registerText({ site, transport, user: '1002', localPort: ch.localPort, callId: `c-${unique()}`, cseq: 1 }));
        challengeOf(response, site);
      } finally {
        ch.close();
      }
    }
  }
});

test('TLS REGISTER with digest -> 200; the binding names the connection (received, or a Contact on its port)', async () => {
  const { b } = need();
  const ok = await registerWithDigest(b, 'TLS', '1003');
  assert.is(ok.status, 200);
  const bindings = await bindingsOf(b, '1003');
  assert.is(bindings.length, 1, JSON.stringify(bindings));
  assert.is(bindings[0]!.socket, `tls:${b.address}:${b.ports.tls}`);
  // Stock NAT detection (nat_uac_test 19): a Via that names the connection's
  // own port is not NATed, and Kamailio reuses the connection to that port.
  const reachedAt = bindings[0]!.received ?? bindings[0]!.contact;
  assert.match(reachedAt, /^sip:(1003@)?127\.0\.0\.1:\d+;transport=tls$/);
});

test('calls are proxied to the registered contact with Record-Route (UDP callee on a, TCP flow callee on b)', async () => {
  const { a, b } = need();
  for (const [site, transport] of [[a, 'UDP'], [b, 'TCP']] as const) {
    const callee = await channel(site, transport);
    const caller = await udpChannel(site);
    try {
      assert.is((await registerOn(callee, site, '1002')).status, 200);
      await callThrough(site, caller, callee, '1002');
    } finally {
      callee.close();
      caller.close();
    }
  }
  const unknown = await udpChannel(a);
  try {
    const missing = await unknown.exchange(
      [
        `OPTIONS sip:nobody@${a.address}:${a.ports.udp} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${unknown.localPort};rport;branch=z9hG4bK-${unique()}`,
        'Max-Forwards: 70',
        `From: <sip:1003@${a.address}>;tag=x${unique()}`,
        `To: <sip:nobody@${a.address}>`,
        `Call-ID: o-${unique()}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    assert.is(missing.status, 404);
  } finally {
    unknown.close();
  }
});

test('stop -> the ports no longer answer; start -> they answer again, with no bindings', async () => {
  const { a } = need();
  const oldPid = a.pid;
  assert.ok((await bindingsOf(a, '1001')).length === 1, 'binding from the earlier test');
  await a.stop();
  assert.not.ok(a.running);
  assert.not.ok(pidAlive(oldPid), 'main PID gone');
  assert.not.ok(await udpAnswers(a.address, a.ports.udp, 500), 'UDP still answers');
  assert.not.ok(await tcpAccepts(a.address, a.ports.tcp, 500), 'TCP still accepts');
  assert.not.ok(await tcpAccepts(a.address, a.ports.tls, 500), 'TLS still accepts');
  await a.start();
  assert.ok(a.running);
  assert.is.not(a.pid, oldPid);
  assert.ok(await udpAnswers(a.address, a.ports.udp, 1000));
  assert.is((await a.ulDump()).length, 0, 'usrloc is memory only');
  assert.is((await registerWithDigest(a, 'UDP', '1001')).status, 200);
});

test('kill -> main and worker PIDs all gone, nothing answers; restart -> answers', async () => {
  const { b } = need();
  const pids = [b.pid, ...workerPids(b.pid)];
  assert.ok(pids.length > 3, `workers recorded: ${pids.join(' ')}`);
  await b.kill();
  for (const pid of pids) assert.not.ok(pidAlive(pid), `pid ${pid} survived kill()`);
  assert.not.ok(await udpAnswers(b.address, b.ports.udp, 500));
  await b.restart();
  assert.ok(await udpAnswers(b.address, b.ports.udp, 1000));
  assert.is((await registerWithDigest(b, 'TCP', '1002')).status, 200);
  assert.is((await bindingsOf(b, '1002')).length, 1);
});

test('stopAllSites stops every site by PID', async () => {
  const { a, b } = need();
  const pids = [a.pid, ...workerPids(a.pid), b.pid, ...workerPids(b.pid)];
  await stopAllSites();
  assert.not.ok(a.running || b.running);
  for (const pid of pids) assert.not.ok(pidAlive(pid), `pid ${pid} still running`);
  assert.not.ok(await udpAnswers(b.address, b.ports.udp, 300));
});

// ----- /proc helpers -----

function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

function workerPids(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSyncSafe('/proc')) {
    if (/^\d+$/.test(entry) && procStat(Number(entry))?.ppid === parent) out.push(Number(entry));
  }
  return out;
}

function readdirSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

test.run();
