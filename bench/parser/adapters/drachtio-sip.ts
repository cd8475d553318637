/** Anchor: npm `drachtio-sip`, `new SipMessage(string)`: headers kept raw, parsed on request. */
import { SipMessage } from 'drachtio-sip';
import { asBuffer, packageVersion } from '../anchor.ts';
import type { Adapter, Fields } from '../fields.ts';

export const adapter: Adapter = {
  name: 'drachtio-sip',
  version: packageVersion('drachtio-sip'),
  api: 'new SipMessage(buffer.toString()) + getParsedHeader(via/from/to/cseq)',
  read(bytes: Uint8Array, out: Fields): boolean {
    // The constructor takes a string only: given a Buffer it copies its fields as if already parsed.
    const m = new SipMessage(asBuffer(bytes).toString('utf8'));
    out.method = m.method;
    out.status = m.status ?? 0;
    out.uriRaw = m.uri;
    out.uriHost = undefined;
    out.uriUser = undefined;
    // getParsedHeader parses the raw value on every call: each is called once.
    out.branch = m.getParsedHeader('via')[0]?.params['branch'] ?? undefined;
    out.fromTag = m.getParsedHeader('from').params['tag'] ?? undefined;
    out.toTag = m.getParsedHeader('to').params['tag'] ?? undefined;
    out.callId = m.get('call-id');
    const cseq = m.getParsedHeader('cseq');
    out.cseqSeq = cseq.seq;
    out.cseqMethod = cseq.method;
    out.contentLength = Number(m.get('content-length') ?? 0);
    out.body = m.body;
    return true;
  },
};
