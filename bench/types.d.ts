// The comparison parsers' entry points, typed as far as the adapters use them
// (bench/parser/adapters). Declared here rather than taken from the packages so
// that the project typechecks before `bench/node_modules` is installed (sip,
// drachtio-sip and jssip/lib/Parser.js ship no types; sip.js does, but lives
// in bench/node_modules only). Field names follow each package's source.

declare module 'sip' {
  interface SipParams { [name: string]: string | null | undefined }
  interface SipMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    headers: {
      via?: Array<{ host: string; port?: number; params: SipParams }>;
      from?: { uri: string; params: SipParams };
      to?: { uri: string; params: SipParams };
      'call-id'?: string;
      cseq?: { seq: number; method: string };
      'content-length'?: number;
      [name: string]: unknown;
    };
    content: string;
  }
  /** `sip.parse(buffer | string)`: undefined when the message is not understood. */
  export function parse(data: Buffer | string): SipMessage | undefined;
}

declare module 'drachtio-sip' {
  interface DrachtioParams { [name: string]: string | null | undefined }
  export class SipMessage {
    /** Throws 'failed to parse sip message'; a non-string argument is taken as an already parsed message. */
    constructor(raw: string);
    method?: string;
    uri?: string;
    status?: number;
    body: string;
    headers: Record<string, string>;
    get(name: string): string | undefined;
    getParsedHeader(name: 'via'): Array<{ host: string; params: DrachtioParams }>;
    getParsedHeader(name: 'from' | 'to'): { uri: string; params: DrachtioParams };
    getParsedHeader(name: 'cseq'): { seq: number; method: string };
  }
}

declare module 'jssip/lib/Parser.js' {
  interface JsSipUri {
    readonly scheme: string;
    readonly user: string | undefined;
    readonly host: string;
    readonly port: number | undefined;
  }
  interface JsSipIncomingMessage {
    method: string;
    ruri?: JsSipUri | null;
    status_code?: number | null;
    via_branch: string;
    from_tag: string;
    to_tag: string | undefined;
    call_id: string;
    cseq: number;
    body: string;
    getHeader(name: string): string | undefined;
    parseHeader(name: 'cseq'): { value: number; method: string } | undefined;
  }
  /** `ua` is only stored on incoming requests. Returns undefined on a parse error. */
  export function parseMessage(data: string, ua: object): JsSipIncomingMessage | undefined;
}

declare module 'sip.js/lib/core/log/logger-factory.js' {
  export interface Logger {
    warn(message: string): void;
    error(message: string): void;
  }
  export class LoggerFactory {
    builtinEnabled: boolean;
    getLogger(category: string): Logger;
  }
}

declare module 'sip.js/lib/core/messages/parser.js' {
  import type { Logger } from 'sip.js/lib/core/log/logger-factory.js';
  interface SipJsUri {
    readonly scheme: string;
    readonly user: string | undefined;
    readonly host: string;
    readonly port: number | undefined;
  }
  interface SipJsIncomingMessage {
    method: string;
    ruri?: SipJsUri;
    statusCode?: number;
    viaBranch: string;
    fromTag: string;
    toTag: string | undefined;
    callId: string;
    cseq: number;
    body: string;
    getHeader(name: string): string | undefined;
    parseHeader(name: 'cseq'): { value: number; method: string } | undefined;
  }
  export namespace Parser {
    /** Returns undefined (and logs) on a parse error. */
    function parseMessage(data: string, logger: Logger): SipJsIncomingMessage | undefined;
  }
}
