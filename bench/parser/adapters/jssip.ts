/** Anchor: npm `jssip`, `Parser.parseMessage(string, ua)`: PEG grammar for the start line and key headers. */
import { parseMessage } from 'jssip/lib/Parser.js';
import { asBuffer, packageVersion } from '../anchor.ts';
import type { Adapter, Fields } from '../fields.ts';

// parseMessage only stores the UA on an IncomingRequest (for replies); no UA method runs while parsing.
const ua = {};

export const adapter: Adapter = {
  name: 'jssip',
  version: packageVersion('jssip'),
  api: "parseMessage(buffer.toString(), ua) from 'jssip/lib/Parser.js' (not re-exported by the package)",
  read(bytes: Uint8Array, out: Fields): boolean {
    const m = parseMessage(asBuffer(bytes).toString('utf8'), ua);
    if (m === undefined) return false;
    const response = typeof m.status_code === 'number';
    // For a response JsSIP sets `method` from CSeq; read it from CSeq for both kinds below.
    out.method = response ? undefined : m.method;
    out.status = m.status_code ?? 0;
    out.uriRaw = undefined;
    out.uriHost = m.ruri?.host;
    out.uriUser = m.ruri?.user;
    out.branch = m.via_branch;
    out.fromTag = m.from_tag;
    out.toTag = m.to_tag;
    out.callId = m.call_id;
    out.cseqSeq = m.cseq;
    // Already parsed while reading the message: parseHeader returns the cached value.
    out.cseqMethod = m.parseHeader('cseq')?.method;
    out.contentLength = Number(m.getHeader('content-length') ?? 0);
    out.body = m.body;
    return true;
  },
};
