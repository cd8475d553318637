/** Ours: `parseMessage(bytes)` from src/parser (the DESIGN.md contract). */
import { readFileSync } from 'node:fs';
import { parseMessage } from '../../../src/parser/index.ts';
import type { Adapter, Fields } from '../fields.ts';

const manifest = new URL('../../../package.json', import.meta.url);

export const adapter: Adapter = {
  name: 'ours',
  version: `${(JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version} (src)`,
  api: "parseMessage(bytes) from 'src/parser/index.ts'",
  read(bytes: Uint8Array, out: Fields): boolean {
    const m = parseMessage(bytes);
    out.method = m.method ?? undefined;
    out.status = m.status ?? 0;
    const uri = m.uri;
    out.uriRaw = undefined;
    out.uriHost = uri?.host ?? undefined;
    out.uriUser = uri?.user ?? undefined;
    out.branch = m.topVia?.branch ?? undefined; // the eagerly parsed top Via (DESIGN.md)
    out.fromTag = m.from?.tag ?? undefined;
    out.toTag = m.to?.tag ?? undefined;
    out.callId = m.callId;
    const cseq = m.cseq;
    out.cseqSeq = cseq?.seq ?? 0;
    out.cseqMethod = cseq?.method;
    out.contentLength = m.contentLength;
    out.body = m.body;
    return true;
  },
};
