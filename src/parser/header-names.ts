/**
 * Known header names, their compact forms (RFC 3261 s7.3.3 and later RFCs)
 * and a matcher that identifies a name in the header text without making a
 * string. Unknown names get HeaderId.Other and are compared case-insensitively.
 */
export const HeaderId = {
  Other: 0,
  Via: 1,
  From: 2,
  To: 3,
  CallId: 4,
  CSeq: 5,
  Contact: 6,
  MaxForwards: 7,
  ContentLength: 8,
  ContentType: 9,
  Route: 10,
  RecordRoute: 11,
  Expires: 12,
  MinExpires: 13,
  Require: 14,
  ProxyRequire: 15,
  Supported: 16,
  Unsupported: 17,
  Allow: 18,
  Accept: 19,
  WwwAuthenticate: 20,
  ProxyAuthenticate: 21,
  Authorization: 22,
  ProxyAuthorization: 23,
  RetryAfter: 24,
  Warning: 25,
  Date: 26,
  Subject: 27,
  ContentEncoding: 28,
  Event: 29,
  AllowEvents: 30,
  ReferTo: 31,
  ReferredBy: 32,
  SessionExpires: 33,
  UserAgent: 34,
  Server: 35,
  AcceptEncoding: 36,
  AcceptLanguage: 37,
  Timestamp: 38,
} as const;
/** A known header's number (index into CANONICAL_NAMES); 0 for any other name. */
export type HeaderId = (typeof HeaderId)[keyof typeof HeaderId];

/** Canonical (lower-case) name of each known id, index = id. */
export const CANONICAL_NAMES: readonly string[] = [
  '',
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'contact',
  'max-forwards',
  'content-length',
  'content-type',
  'route',
  'record-route',
  'expires',
  'min-expires',
  'require',
  'proxy-require',
  'supported',
  'unsupported',
  'allow',
  'accept',
  'www-authenticate',
  'proxy-authenticate',
  'authorization',
  'proxy-authorization',
  'retry-after',
  'warning',
  'date',
  'subject',
  'content-encoding',
  'event',
  'allow-events',
  'refer-to',
  'referred-by',
  'session-expires',
  'user-agent',
  'server',
  'accept-encoding',
  'accept-language',
  'timestamp',
];

/** How each known header is written when we emit it. */
export const PRETTY_NAMES: readonly string[] = [
  '',
  'Via',
  'From',
  'To',
  'Call-ID',
  'CSeq',
  'Contact',
  'Max-Forwards',
  'Content-Length',
  'Content-Type',
  'Route',
  'Record-Route',
  'Expires',
  'Min-Expires',
  'Require',
  'Proxy-Require',
  'Supported',
  'Unsupported',
  'Allow',
  'Accept',
  'WWW-Authenticate',
  'Proxy-Authenticate',
  'Authorization',
  'Proxy-Authorization',
  'Retry-After',
  'Warning',
  'Date',
  'Subject',
  'Content-Encoding',
  'Event',
  'Allow-Events',
  'Refer-To',
  'Referred-By',
  'Session-Expires',
  'User-Agent',
  'Server',
  'Accept-Encoding',
  'Accept-Language',
  'Timestamp',
];

/** Compact forms (one letter) -> canonical full name. */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  u: 'allow-events',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
  y: 'identity',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  n: 'identity-info',
};

const idByName = new Map<string, HeaderId>();
CANONICAL_NAMES.forEach((name, id) => {
  if (id !== HeaderId.Other) idByName.set(name, id as HeaderId);
});

/** Candidates bucketed by (first letter, length) so a match compares few names. */
const BUCKET_LENGTHS = 32;
const bucketNames: Array<Uint8Array[] | undefined> = new Array(32 * BUCKET_LENGTHS).fill(undefined);
const bucketIds: Array<HeaderId[] | undefined> = new Array(32 * BUCKET_LENGTHS).fill(undefined);
for (const [name, id] of idByName) {
  const key = (name.charCodeAt(0) & 31) * BUCKET_LENGTHS + name.length;
  (bucketNames[key] ??= []).push(new Uint8Array([...name].map((ch) => ch.charCodeAt(0))));
  (bucketIds[key] ??= []).push(id);
}
const compactIds = new Int8Array(128);
for (const [letter, full] of Object.entries(COMPACT_FORMS)) {
  compactIds[letter.charCodeAt(0)] = idByName.get(full) ?? HeaderId.Other;
}

/** Identifies the header name b[start, end) (already trimmed, token chars). */
export function headerIdAt(b: Uint8Array, start: number, end: number): HeaderId {
  const length = end - start;
  const first = b[start]! | 0x20;
  if (length === 1) return first < 128 ? (compactIds[first]! as HeaderId) : HeaderId.Other;
  if (length >= BUCKET_LENGTHS || first < 0x61 || first > 0x7a) return HeaderId.Other;
  const key = (first & 31) * BUCKET_LENGTHS + length;
  const names = bucketNames[key];
  if (names === undefined) return HeaderId.Other;
  outer: for (let n = 0; n < names.length; n++) {
    const name = names[n]!;
    // Token chars only: | 0x20 lower-cases letters and leaves '-' and digits alone.
    for (let i = 1; i < length; i++) {
      if ((b[start + i]! | 0x20) !== name[i]) continue outer;
    }
    return bucketIds[key]![n]!;
  }
  return HeaderId.Other;
}

/**
 * Whether a header name as a caller wrote it (any case, perhaps the compact
 * form) is `canonical` (lower case, long form). The length test comes first:
 * most names differ in length and need no lower-cased copy.
 */
export function isHeaderName(name: string, canonical: string): boolean {
  if (name.length === 1) return COMPACT_FORMS[name.toLowerCase()] === canonical;
  return name.length === canonical.length && (name === canonical || name.toLowerCase() === canonical);
}

/** Canonical lower-case name for any header name (compact forms expanded). */
export function canonicalName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.length === 1 ? (COMPACT_FORMS[lower] ?? lower) : lower;
}

/**
 * Names callers pass (mostly literals: 'Via', 'From', 'content-encoding')
 * mapped to their id once; bounded, since a name may also come from a peer.
 */
const idMemo = new Map<string, HeaderId>();
const ID_MEMO_MAX = 512;

export function headerIdOf(name: string): HeaderId {
  const known = idMemo.get(name);
  if (known !== undefined) return known;
  const id = idByName.get(canonicalName(name)) ?? HeaderId.Other;
  if (idMemo.size < ID_MEMO_MAX) idMemo.set(name, id);
  return id;
}
