/**
 * A small, strict, zero-dependency XML reader for configuration files.
 *
 * It reads the subset of XML 1.0 that configuration files use: an optional
 * XML declaration, elements, attributes (either quote style), text, CDATA,
 * comments and processing instructions (skipped), the five predefined
 * entities and numeric character references.
 *
 * Not supported, on purpose: any DOCTYPE. Without a DTD there are no custom
 * entities, so there is no external-entity (XXE) fetch and no entity
 * expansion bomb ("billion laughs"); a document that declares one is refused
 * before anything in it is read.
 *
 * One forward pass over the string with an explicit element stack (no
 * recursion, no regular expressions), and hard limits on length, depth and
 * element count. Every error is an `XmlError` with a stable `code` and the
 * 1-based line and column where the problem was seen.
 */

import { SipEndpointError } from '../../errors/sip-endpoint-error.ts';
export interface XmlLocation {
  /** 1-based line; CRLF, CR and LF each end a line. */
  readonly line: number;
  /** 1-based column, counted in code points. */
  readonly column: number;
}

export interface XmlElement {
  name: string;
  /** Attribute values with entities decoded and XML whitespace normalisation applied. */
  attributes: Map<string, string>;
  /** Where each attribute's name starts (attributes can span lines). */
  attributeLocations: Map<string, XmlLocation>;
  children: XmlElement[];
  /** The element's own character data (text and CDATA, not its children's), untrimmed. */
  text: string;
  /** Position of the `<` that opens the element. */
  line: number;
  column: number;
}

export interface XmlLimits {
  /** Longest accepted document, in UTF-16 code units (default 1 MiB). */
  maxLength?: number;
  /** Deepest accepted element nesting; the root is depth 1 (default 64). */
  maxDepth?: number;
  /** Most elements accepted in one document (default 10,000). */
  maxElements?: number;
}

export const XML_DEFAULT_LIMITS = {
  maxLength: 1024 * 1024,
  maxDepth: 64,
  maxElements: 10_000,
} as const;

export type XmlErrorCode =
  /** Not well-formed: bad tag, attribute, name, stray text, ... */
  | 'syntax'
  /** A `<!DOCTYPE` (refused whatever it contains). */
  | 'doctype'
  /** An unknown entity, or a bad / out-of-range character reference. */
  | 'entity'
  /** A character that XML 1.0 does not allow anywhere (NUL, lone surrogate, ...). */
  | 'character'
  /** An end tag that does not close the open element, or an element never closed. */
  | 'nesting'
  /** Over one of the `XmlLimits`. */
  | 'limit';

export class XmlError extends SipEndpointError {
  override readonly name = 'XmlError';
  declare readonly code: XmlErrorCode;
  readonly reason: string;
  readonly line: number;
  readonly column: number;
  /** Offset (UTF-16 code units) into the input. */
  readonly offset: number;

  constructor(code: XmlErrorCode, reason: string, where: XmlLocation & { offset: number }) {
    super(code, `line ${where.line}, column ${where.column}: ${reason}`);
    this.reason = reason;
    this.line = where.line;
    this.column = where.column;
    this.offset = where.offset;
  }
}

// Character classes, built once, indexed by ASCII code.
const NAME_START = 1;
const NAME_CHAR = 2;
const SPACE = 4;
const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_' || ch === ':') {
    ASCII[c] = NAME_START | NAME_CHAR;
  } else if ((ch >= '0' && ch <= '9') || ch === '-' || ch === '.') {
    ASCII[c] = NAME_CHAR;
  }
}
for (const c of [0x20, 0x09, 0x0a, 0x0d]) ASCII[c] = SPACE;

/** Non-ASCII characters are accepted in names (XML allows most of them). */
function isNameStart(c: number): boolean {
  return c >= 0x80 ? true : (ASCII[c]! & NAME_START) !== 0;
}
function isNameChar(c: number): boolean {
  return c >= 0x80 ? true : (ASCII[c]! & NAME_CHAR) !== 0;
}
function isSpace(c: number): boolean {
  return c < 0x80 && (ASCII[c]! & SPACE) !== 0;
}

const PREDEFINED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['apos', "'"],
  ['quot', '"'],
]);

/** XML 1.0 `Char`: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
function isXmlCodePoint(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/**
 * Turns offsets into line/column. Offsets asked for are almost always
 * increasing (element starts in document order), so it walks forward from
 * the last answer; a backwards question (only on errors) restarts from 0.
 */
class Locator {
  private offset = 0;
  private line = 1;
  private column = 1;

  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  at(target: number): XmlLocation & { offset: number } {
    if (target < this.offset) {
      this.offset = 0;
      this.line = 1;
      this.column = 1;
    }
    const s = this.text;
    const end = Math.min(target, s.length);
    for (let i = this.offset; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x0a) {
        this.line++;
        this.column = 1;
      } else if (c === 0x0d) {
        if (s.charCodeAt(i + 1) !== 0x0a) {
          this.line++;
          this.column = 1;
        }
      } else if (c < 0xdc00 || c > 0xdfff) {
        // A low surrogate completes a pair already counted.
        this.column++;
      }
    }
    this.offset = Math.max(end, this.offset);
    return { line: this.line, column: this.column, offset: target };
  }
}

interface OpenElement {
  element: XmlElement;
  text: string[];
}

class Reader {
  private pos = 0;
  private readonly locator: Locator;
  private readonly stack: OpenElement[] = [];
  private root: XmlElement | undefined;
  private elementCount = 0;

  private readonly s: string;
  private readonly maxDepth: number;
  private readonly maxElements: number;

  constructor(
    s: string,
    maxDepth: number,
    maxElements: number,
  ) {
    this.s = s;
    this.maxDepth = maxDepth;
    this.maxElements = maxElements;
    this.locator = new Locator(s);
  }

  fail(code: XmlErrorCode, reason: string, offset = this.pos): never {
    throw new XmlError(code, reason, this.locator.at(offset));
  }

  read(): XmlElement {
    const s = this.s;
    this.checkCharacters();
    if (s.charCodeAt(0) === 0xfeff) this.pos = 1;
    if (s.startsWith('<?xml', this.pos) && this.isDeclarationEnd(this.pos + 5)) {
      this.skipProcessingInstruction(true);
    }
    while (this.pos < s.length) {
      if (s.charCodeAt(this.pos) === 0x3c /* < */) {
        this.readMarkup();
      } else {
        this.readText();
      }
    }
    const open = this.stack[this.stack.length - 1];
    if (open !== undefined) {
      const el = open.element;
      throw new XmlError('nesting', `element <${el.name}> is never closed`, {
        line: el.line,
        column: el.column,
        offset: this.pos,
      });
    }
    if (this.root === undefined) this.fail('syntax', 'the document has no root element');
    return this.root;
  }

  /** Refuses characters that XML 1.0 allows nowhere (before anything is interpreted). */
  private checkCharacters(): void {
    const s = this.s;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c < 0xd800) continue;
      if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
      if (c >= 0xd800 && c <= 0xdbff) {
        const next = s.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++;
          continue;
        }
      } else if (c >= 0xe000 && c <= 0xfffd) {
        continue;
      }
      this.fail('character', `character U+${c.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, i);
    }
  }

  private isDeclarationEnd(i: number): boolean {
    const c = this.s.charCodeAt(i);
    return isSpace(c) || c === 0x3f; /* ? */
  }

  private readMarkup(): void {
    const s = this.s;
    const next = s.charCodeAt(this.pos + 1);
    if (next === 0x21 /* ! */) {
      if (s.startsWith('<!--', this.pos)) return this.skipComment();
      if (s.startsWith('<![CDATA[', this.pos)) return this.readCdata();
      if (s.slice(this.pos + 2, this.pos + 9).toUpperCase() === 'DOCTYPE') {
        this.fail('doctype', 'DOCTYPE declarations are not accepted (no DTDs, no custom entities)');
      }
      this.fail('syntax', 'unexpected "<!" (only comments and CDATA sections start with "<!")');
    }
    if (next === 0x3f /* ? */) return this.skipProcessingInstruction(false);
    if (next === 0x2f /* / */) return this.readEndTag();
    this.readStartTag();
  }

  private skipComment(): void {
    const start = this.pos;
    const end = this.s.indexOf('--', start + 4);
    if (end < 0) this.fail('syntax', 'comment is never closed (missing "-->")', start);
    if (this.s.charCodeAt(end + 2) !== 0x3e /* > */) {
      this.fail('syntax', '"--" is not allowed inside a comment', end);
    }
    this.pos = end + 3;
  }

  private readCdata(): void {
    const start = this.pos;
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) this.fail('syntax', 'CDATA section outside the root element', start);
    const end = this.s.indexOf(']]>', start + 9);
    if (end < 0) this.fail('syntax', 'CDATA section is never closed (missing "]]>")', start);
    top.text.push(normaliseNewlines(this.s.slice(start + 9, end)));
    this.pos = end + 3;
  }

  private skipProcessingInstruction(isDeclaration: boolean): void {
    const start = this.pos;
    this.pos += 2;
    const target = this.readName('processing instruction target');
    if (!isDeclaration && target.toLowerCase() === 'xml') {
      this.fail('syntax', 'the XML declaration is only allowed at the very start of the document', start);
    }
    const end = this.s.indexOf('?>', this.pos);
    if (end < 0) this.fail('syntax', `<?${target} is never closed (missing "?>")`, start);
    if (end > this.pos && !isSpace(this.s.charCodeAt(this.pos))) {
      this.fail('syntax', `expected whitespace after "<?${target}"`);
    }
    this.pos = end + 2;
  }

  private readName(what: string): string {
    const s = this.s;
    const start = this.pos;
    if (start >= s.length) this.fail('syntax', `unexpected end of document, expected ${what}`);
    if (!isNameStart(s.charCodeAt(start))) {
      this.fail('syntax', `expected ${what}, found ${describe(s, start)}`);
    }
    let i = start + 1;
    while (i < s.length && isNameChar(s.charCodeAt(i))) i++;
    this.pos = i;
    return s.slice(start, i);
  }

  /** Skips whitespace; tells whether there was any. */
  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.s.length && isSpace(this.s.charCodeAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  private readStartTag(): void {
    const s = this.s;
    const start = this.pos;
    this.pos++;
    const name = this.readName('an element name');
    if (this.stack.length === 0 && this.root !== undefined) {
      this.fail('syntax', `second root element <${name}> (a document has exactly one)`, start);
    }
    if (++this.elementCount > this.maxElements) {
      this.fail('limit', `more than ${this.maxElements} elements`, start);
    }
    if (this.stack.length + 1 > this.maxDepth) {
      this.fail('limit', `elements nested deeper than ${this.maxDepth} levels`, start);
    }
    const where = this.locator.at(start);
    const element: XmlElement = {
      name,
      attributes: new Map(),
      attributeLocations: new Map(),
      children: [],
      text: '',
      line: where.line,
      column: where.column,
    };
    for (;;) {
      const hadSpace = this.skipSpace();
      if (this.pos >= s.length) this.fail('syntax', `unexpected end of document inside <${name}>`, start);
      const c = s.charCodeAt(this.pos);
      if (c === 0x3e /* > */) {
        this.pos++;
        this.open(element, false);
        return;
      }
      if (c === 0x2f /* / */) {
        if (s.charCodeAt(this.pos + 1) !== 0x3e) this.fail('syntax', `expected "/>" to end <${name}>`);
        this.pos += 2;
        this.open(element, true);
        return;
      }
      if (!hadSpace) this.fail('syntax', `expected whitespace, ">" or "/>" in <${name}>, found ${describe(s, this.pos)}`);
      this.readAttribute(element);
    }
  }

  private readAttribute(element: XmlElement): void {
    const s = this.s;
    const nameAt = this.pos;
    const name = this.readName(`an attribute name or ">" in <${element.name}>`);
    if (element.attributes.has(name)) this.fail('syntax', `duplicate attribute "${name}" in <${element.name}>`, nameAt);
    this.skipSpace();
    if (s.charCodeAt(this.pos) !== 0x3d /* = */) this.fail('syntax', `expected "=" after attribute "${name}"`);
    this.pos++;
    this.skipSpace();
    const quote = s.charCodeAt(this.pos);
    if (quote !== 0x22 && quote !== 0x27) this.fail('syntax', `value of attribute "${name}" must be quoted`);
    this.pos++;
    const parts: string[] = [];
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= s.length) this.fail('syntax', `value of attribute "${name}" is never closed`, nameAt);
      const c = s.charCodeAt(this.pos);
      if (c === quote) break;
      if (c === 0x3c /* < */) this.fail('syntax', `"<" is not allowed in the value of attribute "${name}"`);
      if (c === 0x26 /* & */) {
        parts.push(s.slice(runStart, this.pos));
        parts.push(this.readReference());
        runStart = this.pos;
      } else if (c === 0x09 || c === 0x0a || c === 0x0d) {
        // XML 1.0 s3.3.3: a literal tab or line end becomes one space (CRLF is one line end).
        parts.push(s.slice(runStart, this.pos), ' ');
        this.pos += c === 0x0d && s.charCodeAt(this.pos + 1) === 0x0a ? 2 : 1;
        runStart = this.pos;
      } else {
        this.pos++;
      }
    }
    parts.push(s.slice(runStart, this.pos));
    this.pos++;
    element.attributes.set(name, parts.join(''));
    const at = this.locator.at(nameAt);
    element.attributeLocations.set(name, { line: at.line, column: at.column });
  }

  private open(element: XmlElement, selfClosing: boolean): void {
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) this.root = element;
    else parent.element.children.push(element);
    if (!selfClosing) this.stack.push({ element, text: [] });
  }

  private readEndTag(): void {
    const start = this.pos;
    this.pos += 2;
    const name = this.readName('an element name after "</"');
    this.skipSpace();
    if (this.s.charCodeAt(this.pos) !== 0x3e /* > */) this.fail('syntax', `expected ">" to end </${name}>`);
    this.pos++;
    const top = this.stack.pop();
    if (top === undefined) this.fail('nesting', `end tag </${name}> without a matching start tag`, start);
    if (top.element.name !== name) {
      this.fail(
        'nesting',
        `end tag </${name}> does not match <${top.element.name}> opened at line ${top.element.line}`,
        start,
      );
    }
    top.element.text = top.text.join('');
  }

  private readText(): void {
    const s = this.s;
    const start = this.pos;
    let end = s.indexOf('<', start);
    if (end < 0) end = s.length;
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      for (let i = start; i < end; i++) {
        if (!isSpace(s.charCodeAt(i))) {
          const where = this.root === undefined ? 'before the root element' : 'after the root element';
          this.fail('syntax', `text is not allowed ${where}`, i);
        }
      }
      this.pos = end;
      return;
    }
    const parts: string[] = [];
    let runStart = start;
    while (this.pos < end) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x26 /* & */) {
        // Line ends are normalised in the literal text only: "&#13;" stays a CR.
        parts.push(normaliseNewlines(s.slice(runStart, this.pos)));
        parts.push(this.readReference());
        runStart = this.pos;
      } else if (c === 0x3e /* > */ && this.pos >= start + 2 && s.startsWith(']]>', this.pos - 2)) {
        this.fail('syntax', '"]]>" is not allowed in text', this.pos - 2);
      } else {
        this.pos++;
      }
    }
    parts.push(normaliseNewlines(s.slice(runStart, end)));
    top.text.push(parts.join(''));
    this.pos = end;
  }

  /** Reads `&name;`, `&#N;` or `&#xH;` at `pos`; returns the replacement text. */
  private readReference(): string {
    const s = this.s;
    const start = this.pos;
    let i = start + 1;
    if (s.charCodeAt(i) === 0x23 /* # */) {
      i++;
      const hex = s.charCodeAt(i) === 0x78; /* x */
      if (hex) i++;
      const digitsStart = i;
      let value = 0;
      for (;;) {
        const c = s.charCodeAt(i);
        const digit = hexDigit(c);
        if (digit < 0 || (!hex && digit > 9)) break;
        // Past 0x10FFFF the value is already invalid; stop growing it.
        if (value <= 0x10ffff) value = value * (hex ? 16 : 10) + digit;
        i++;
      }
      if (i === digitsStart || s.charCodeAt(i) !== 0x3b /* ; */) {
        this.fail('entity', `malformed character reference (expected "&#N;" or "&#xH;")`, start);
      }
      if (!isXmlCodePoint(value)) {
        this.fail('entity', `character reference ${s.slice(start, i + 1)} is not a valid XML character`, start);
      }
      this.pos = i + 1;
      return String.fromCodePoint(value);
    }
    this.pos = i;
    if (i >= s.length || !isNameStart(s.charCodeAt(i))) {
      this.fail('entity', '"&" must start an entity or character reference (write "&amp;")', start);
    }
    const name = this.readName('an entity name');
    if (s.charCodeAt(this.pos) !== 0x3b /* ; */) this.fail('entity', `entity reference &${name} is missing its ";"`, start);
    const value = PREDEFINED_ENTITIES.get(name);
    if (value === undefined) {
      this.fail('entity', `undefined entity &${name}; (only &lt; &gt; &amp; &apos; &quot; are known)`, start);
    }
    this.pos++;
    return value;
  }
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** XML 1.0 s2.11: CRLF and a lone CR both become LF. */
function normaliseNewlines(text: string): string {
  return text.includes('\r') ? text.replaceAll('\r\n', '\n').replaceAll('\r', '\n') : text;
}

function describe(s: string, i: number): string {
  if (i >= s.length) return 'end of document';
  const cp = s.codePointAt(i)!;
  return cp > 0x20 && cp < 0x7f ? `"${String.fromCodePoint(cp)}"` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Parses a whole XML document and returns its root element.
 * Throws `XmlError` (with `code`, `line`, `column`) on anything that is not
 * well-formed, on any DOCTYPE, and when a limit is exceeded.
 */
export function parseXml(text: string, options: XmlLimits = {}): XmlElement {
  const maxLength = options.maxLength ?? XML_DEFAULT_LIMITS.maxLength;
  const maxDepth = options.maxDepth ?? XML_DEFAULT_LIMITS.maxDepth;
  const maxElements = options.maxElements ?? XML_DEFAULT_LIMITS.maxElements;
  if (text.length > maxLength) {
    throw new XmlError('limit', `document is ${text.length} characters long, over the limit of ${maxLength}`, {
      line: 1,
      column: 1,
      offset: 0,
    });
  }
  return new Reader(text, maxDepth, maxElements).read();
}
