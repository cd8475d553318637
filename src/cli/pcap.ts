/**
 * `--pcap FILE`: the SIP messages of a run in a pcap file that Wireshark and
 * sngrep open. Link type RAW (101): each record is an IPv4 or IPv6 packet
 * with a synthetic UDP header carrying the SIP message (whatever transport
 * it really used: a capture of the signalling, not of the sockets). Records
 * are appended as they come; the file is complete at every write.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import type { SipMessageTrace } from '../sdk/index.ts';

const LINKTYPE_RAW = 101;
const SNAPLEN = 65535;

export class PcapWriter {
  readonly #fd: number;
  #closed = false;

  constructor(path: string) {
    this.#fd = openSync(path, 'w');
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0); // magic: microsecond timestamps
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeInt32LE(0, 8);
    header.writeUInt32LE(0, 12);
    header.writeUInt32LE(SNAPLEN, 16);
    header.writeUInt32LE(LINKTYPE_RAW, 20);
    writeSync(this.#fd, header);
  }

  write(trace: SipMessageTrace): void {
    if (this.#closed) return;
    const packet = ipPacket(trace.source.host, trace.source.port, trace.destination.host, trace.destination.port, trace.bytes);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(Math.floor(trace.time / 1000), 0);
    record.writeUInt32LE((trace.time % 1000) * 1000, 4);
    record.writeUInt32LE(packet.length, 8);
    record.writeUInt32LE(packet.length, 12);
    writeSync(this.#fd, Buffer.concat([record, packet]));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}

/** An IP packet (v4 when both addresses are v4, else v6) with a UDP header around `payload`. */
export function ipPacket(sourceHost: string, sourcePort: number, destinationHost: string, destinationPort: number, payload: Uint8Array): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sourcePort & 0xffff, 0);
  udp.writeUInt16BE(destinationPort & 0xffff, 2);
  udp.writeUInt16BE((8 + payload.length) & 0xffff, 4);
  udp.writeUInt16BE(0, 6); // no checksum (allowed over IPv4; Wireshark does not insist over IPv6)
  if (isIPv4(sourceHost) && isIPv4(destinationHost)) {
    const ip = Buffer.alloc(20);
    ip.writeUInt8(0x45, 0);
    ip.writeUInt16BE(20 + 8 + payload.length, 2);
    ip.writeUInt8(64, 8);
    ip.writeUInt8(17, 9);
    writeV4(ip, 12, sourceHost);
    writeV4(ip, 16, destinationHost);
    ip.writeUInt16BE(ipv4Checksum(ip), 10);
    return Buffer.concat([ip, udp, payload]);
  }
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(8 + payload.length, 4);
  ip.writeUInt8(17, 6);
  ip.writeUInt8(64, 7);
  writeV6(ip, 8, sourceHost);
  writeV6(ip, 24, destinationHost);
  return Buffer.concat([ip, udp, payload]);
}

function writeV4(buffer: Buffer, offset: number, host: string): void {
  host.split('.').forEach((octet, i) => buffer.writeUInt8(Number(octet) & 0xff, offset + i));
}

/** An IPv6 address (or an IPv4 one, mapped) into 16 bytes. */
function writeV6(buffer: Buffer, offset: number, host: string): void {
  const bare = host.replace(/^\[|\]$/g, '').split('%')[0]!;
  if (isIPv4(bare)) {
    buffer.writeUInt16BE(0xffff, offset + 10);
    writeV4(buffer, offset + 12, bare);
    return;
  }
  const [head, tail] = bare.includes('::') ? (bare.split('::') as [string, string]) : [bare, undefined];
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? front : [...front, ...Array(8 - front.length - back.length).fill('0'), ...back];
  groups.slice(0, 8).forEach((group, i) => buffer.writeUInt16BE(parseInt(group, 16) & 0xffff, offset + 2 * i));
}

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
