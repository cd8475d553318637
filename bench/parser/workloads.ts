/**
 * The parser workloads: the RFC 3665 conformance fixtures read as raw bytes,
 * each with the reference values that every parser must read from it.
 *
 * The reference values come from a deliberately small extractor below, kept
 * independent of every parser under test (ours included): unfold, split the
 * header lines, take the first value of each header of interest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Expected } from './fields.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fixturesDir = join(repoRoot, 'test', 'fixtures', 'conformance', 'rfc3665');
export const inviteFile = 'basic-call-3.1/F01-INVITE.sip';

export interface Message {
  /** Path under the fixtures folder, with `/` separators. */
  readonly file: string;
  /** The file's bytes, as a Node socket hands them over (a Buffer is a Uint8Array). */
  readonly bytes: Buffer;
  readonly expected: Expected;
}

function sipFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sipFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.sip')) found.push(path);
  }
  return found;
}

/** Every `.sip` file under the RFC 3665 fixtures folder, sorted by path. */
export function loadMix(): Message[] {
  return sipFiles(fixturesDir)
    .map((path) => relative(fixturesDir, path).split(sep).join('/'))
    .sort()
    .map(loadMessage);
}

export function loadMessage(file: string): Message {
  const bytes = readFileSync(join(fixturesDir, file));
  return { file, bytes, expected: reference(bytes) };
}

const compact: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', l: 'content-length' };

const paramOf = (value: string, name: string): string =>
  new RegExp(`;\\s*${name}\\s*=\\s*([^;,\\s>]+)`, 'i').exec(value)?.[1] ?? '';

/** The tag of a From/To value: a parameter after the name-addr's `>` (or of the whole addr-spec). */
const tagOf = (value: string): string => paramOf(value.includes('>') ? value.slice(value.lastIndexOf('>')) : value, 'tag');

/** Reference values of one message (see the file comment). */
export function reference(bytes: Uint8Array): Expected {
  const text = new TextDecoder('latin1').decode(bytes);
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) throw new Error('no end of header section');
  const lines = text.slice(0, headEnd).replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  const startLine = lines[0] ?? '';
  const first = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = compact[raw] ?? raw;
    if (!first.has(name)) first.set(name, line.slice(colon + 1).trim());
  }
  const get = (name: string): string => first.get(name) ?? '';

  const response = /^SIP\/2\.0 (\d{3}) /.exec(startLine);
  const [method, uriRaw] = response ? [undefined, undefined] : startLine.split(' ');
  const uri = uriRaw === undefined ? null : /^[a-z]+:(?:([^@]*)@)?(\[[^\]]*\]|[^:;?]+)/i.exec(uriRaw);
  const cseq = /^(\d+)\s+(\S+)/.exec(get('cseq'));
  const bodyStart = headEnd + 4;
  // Without Content-Length (allowed over UDP) the body is the rest of the datagram.
  const contentLength = first.has('content-length')
    ? Number.parseInt(get('content-length'), 10)
    : text.length - bodyStart;
  return {
    method,
    status: response ? Number(response[1]) : 0,
    uriRaw,
    uriHost: uri?.[2],
    uriUser: uri?.[1],
    branch: paramOf(get('via').split(',')[0] ?? '', 'branch'),
    fromTag: tagOf(get('from')),
    toTag: tagOf(get('to')),
    callId: get('call-id'),
    cseqSeq: cseq ? Number(cseq[1]) : Number.NaN,
    cseqMethod: cseq?.[2] ?? '',
    contentLength,
    body: text.slice(bodyStart, Math.min(text.length, bodyStart + contentLength)),
  };
}
