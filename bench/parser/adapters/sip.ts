/** Anchor: npm `sip` (kirm/sip.js), `parse(buffer)`: regex-based, parses Via/From/To/CSeq eagerly. */
import { parse } from 'sip';
import { asBuffer, packageVersion } from '../anchor.ts';
import type { Adapter, Fields } from '../fields.ts';

export const adapter: Adapter = {
  name: 'sip',
  version: packageVersion('sip'),
  api: "parse(buffer) from 'sip' (decodes the buffer itself as latin1)",
  read(bytes: Uint8Array, out: Fields): boolean {
    const m = parse(asBuffer(bytes));
    if (m === undefined) return false;
    const h = m.headers;
    out.method = m.method;
    out.status = m.status ?? 0;
    // The Request-URI stays a string in this parser (parseUri is a separate call).
    out.uriRaw = m.uri;
    out.uriHost = undefined;
    out.uriUser = undefined;
    out.branch = h.via?.[0]?.params['branch'] ?? undefined;
    out.fromTag = h.from?.params['tag'] ?? undefined;
    out.toTag = h.to?.params['tag'] ?? undefined;
    out.callId = h['call-id'];
    out.cseqSeq = h.cseq?.seq ?? 0;
    out.cseqMethod = h.cseq?.method;
    out.contentLength = h['content-length'] ?? 0;
    out.body = m.content;
    return true;
  },
};
