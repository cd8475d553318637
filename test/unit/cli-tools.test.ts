/**
 * The small tools of the command line: the one-edit check that refuses
 * misspelt settings, the synthetic IP/UDP packets of --pcap (IPv4 header
 * checksum, IPv6 addresses), and the ladder of `flow`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { oneEditAway } from '../../src/sdk/config/near-miss.ts';
import { ipPacket } from '../../src/cli/pcap.ts';
import { ladder } from '../../src/cli/ladder.ts';
import { describeConnection } from '../../src/cli/phone-shell.ts';
import type { ConnectionInfo } from '../../src/sdk/index.ts';

test('oneEditAway: insertion, deletion, replacement, swap; not two edits, not the name itself', () => {
  const known = ['password', 'domain', 'use_rport'];
  assert.is(oneEditAway('pasword', known), 'password', 'a deleted letter');
  assert.is(oneEditAway('passsword', known), 'password', 'an added letter');
  assert.is(oneEditAway('passwprd', known), 'password', 'a replaced letter');
  assert.is(oneEditAway('passwrod', known), 'password', 'two neighbours swapped');
  assert.is(oneEditAway('domian', known), 'domain');
  assert.is(oneEditAway('pswd', known), undefined, 'four edits');
  assert.is(oneEditAway('password', known), undefined, 'the name itself is not a near miss');
  assert.is(oneEditAway('codec_priority', known), undefined);
});

test('ipPacket: an IPv4 header whose checksum verifies, the UDP ports and length, the payload', () => {
  const payload = new TextEncoder().encode('OPTIONS sip:x SIP/2.0\r\n\r\n');
  const packet = ipPacket('192.0.2.1', 5060, '198.51.100.2', 5070, payload);
  assert.is(packet.length, 20 + 8 + payload.length);
  assert.is(packet.readUInt16BE(2), packet.length, 'IPv4 total length');
  // RFC 1071: the one's complement sum over the header, checksum included, is 0xffff.
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += packet.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  assert.is(sum, 0xffff);
  assert.equal([...packet.subarray(12, 20)], [192, 0, 2, 1, 198, 51, 100, 2]);
  assert.equal([packet.readUInt16BE(20), packet.readUInt16BE(22), packet.readUInt16BE(24)], [5060, 5070, 8 + payload.length]);
  assert.is(packet.subarray(28).toString(), 'OPTIONS sip:x SIP/2.0\r\n\r\n');
});

test('ipPacket: IPv6 addresses written in full (:: expanded)', () => {
  const packet = ipPacket('::1', 5060, '2001:db8::7', 5070, new Uint8Array(3));
  assert.is(packet[0]! >> 4, 6);
  assert.is(packet.readUInt16BE(4), 8 + 3, 'payload length');
  assert.is(packet.subarray(8, 24).toString('hex'), '00000000000000000000000000000001');
  assert.is(packet.subarray(24, 40).toString('hex'), '20010db8000000000000000000000007');
});

test('ladder: one line per message, arrows by direction, times from the first', () => {
  const us = { transport: 'udp' as const, host: '127.0.0.1', port: 5060 };
  const them = { transport: 'udp' as const, host: '127.0.0.1', port: 5070 };
  const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
  const invite = enc('INVITE sip:1002@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');
  const ok = enc('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n');
  const text = ladder([
    { time: 1000, direction: 'out', transport: 'udp', source: us, destination: them, bytes: invite },
    { time: 1250, direction: 'in', transport: 'udp', source: them, destination: us, bytes: ok },
  ]);
  const lines = text.split('\n');
  assert.is(lines.length, 3);
  assert.match(lines[1]!, /^ +0\.000 +\| INVITE sip:1002@127\.0\.0\.1:5070 -*->\| 127\.0\.0\.1:5070 UDP$/);
  assert.match(lines[2]!, /^ +0\.250 +\|<- 200 OK \(INVITE\) -*\| 127\.0\.0\.1:5070 UDP$/);
  assert.is(ladder([]), 'no messages');
});

test('describeConnection: the period granted and the time left, not the period as the time left', () => {
  const info = { id: 0, user: '1001', server: '127.0.0.1:5070', transport: 'udp', status: 'registered', enabled: true, lastCode: 200, lastReason: 'OK', hasPassword: true } as const;
  const registered = { ...info, registrationExpires: 3600, registrationExpiresAt: Date.now() + 1200_000 } as unknown as ConnectionInfo;
  assert.match(describeConnection(registered), /UDP registered, granted 3600 s, runs out in 1200 s, last 200 OK$/);
  const down = { ...info, status: 'unavailable', registrationExpires: undefined, registrationExpiresAt: undefined, lastCode: 408, lastReason: 'Request Timeout' } as unknown as ConnectionInfo;
  assert.is(describeConnection(down), 'connection 0: 1001@127.0.0.1:5070 UDP unavailable, last 408 Request Timeout');
});

test.run();
