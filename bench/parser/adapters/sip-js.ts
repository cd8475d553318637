/** Anchor: npm `sip.js` (onsip), core `Parser.parseMessage(string, logger)`: PEG grammar for key headers. */
import { LoggerFactory } from 'sip.js/lib/core/log/logger-factory.js';
import { Parser } from 'sip.js/lib/core/messages/parser.js';
import { asBuffer, packageVersion } from '../anchor.ts';
import type { Adapter, Fields } from '../fields.ts';

const factory = new LoggerFactory();
// The built-in logger would print every rejected message to the console (stdout).
factory.builtinEnabled = false;
const logger = factory.getLogger('bench');

export const adapter: Adapter = {
  name: 'sip.js',
  version: packageVersion('sip.js'),
  api: "Parser.parseMessage(buffer.toString(), logger) from 'sip.js/lib/core/messages/parser.js'",
  read(bytes: Uint8Array, out: Fields): boolean {
    const m = Parser.parseMessage(asBuffer(bytes).toString('utf8'), logger);
    if (m === undefined) return false;
    const response = typeof m.statusCode === 'number';
    // For a response SIP.js sets `method` from CSeq; read it from CSeq for both kinds below.
    out.method = response ? undefined : m.method;
    out.status = m.statusCode ?? 0;
    out.uriRaw = undefined;
    out.uriHost = m.ruri?.host;
    out.uriUser = m.ruri?.user;
    out.branch = m.viaBranch;
    out.fromTag = m.fromTag;
    out.toTag = m.toTag;
    out.callId = m.callId;
    out.cseqSeq = m.cseq;
    // Already parsed while reading the message: parseHeader returns the cached value.
    out.cseqMethod = m.parseHeader('cseq')?.method;
    out.contentLength = Number(m.getHeader('content-length') ?? 0);
    out.body = m.body;
    return true;
  },
};
