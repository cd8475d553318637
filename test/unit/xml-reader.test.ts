// The XML reader of the config loader (src/sdk/config/xml-reader.ts).
// Covers: declaration, comments, PIs, CDATA, entities and character
// references, attributes, nesting errors, DOCTYPE / XXE / billion-laughs
// refusal, limits, and line/column of elements and errors.
// Not covered here: what the elements mean (endpoint-config.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseXml, XmlError, type XmlErrorCode } from '../../src/sdk/config/xml-reader.ts';

function fails(text: string, code: XmlErrorCode, line?: number, column?: number, options = {}): XmlError {
  try {
    parseXml(text, options);
  } catch (error) {
    if (!(error instanceof XmlError)) throw error;
    assert.is(error.code, code, `code for ${JSON.stringify(text)}: ${error.message}`);
    if (line !== undefined) assert.is(error.line, line, `line: ${error.message}`);
    if (column !== undefined) assert.is(error.column, column, `column: ${error.message}`);
    assert.ok(error.message.startsWith(`line ${error.line}, column ${error.column}: `));
    return error;
  }
  assert.unreachable(`expected an XmlError for ${JSON.stringify(text)}`);
  throw new Error('unreachable');
}

test('elements, attributes, text and positions', () => {
  const root = parseXml('<a x="1">\n  <b y=\'two\'>hi</b>\n  <c/>\n</a>');
  assert.is(root.name, 'a');
  assert.is(root.attributes.get('x'), '1');
  assert.equal(root.children.map((c) => c.name), ['b', 'c']);
  const b = root.children[0]!;
  assert.is(b.attributes.get('y'), 'two');
  assert.is(b.text, 'hi');
  assert.is(b.line, 2);
  assert.is(b.column, 3);
  assert.equal(b.attributeLocations.get('y'), { line: 2, column: 6 });
  assert.is(root.children[1]!.line, 3);
  assert.is(root.text, '\n  \n  \n');
  assert.equal(root.children[1]!.children, []);
});

test('XML declaration, BOM, comments and processing instructions are skipped', () => {
  const root = parseXml(
    '\uFEFF<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- before -->\n<?app data?>\n' +
      '<r><!-- inside --><?pi?>t<!---->u</r>\n<!-- after -->\n<?after x?>\n',
  );
  assert.is(root.name, 'r');
  assert.is(root.text, 'tu');
  assert.is(root.line, 4);
  assert.is(parseXml('<?xml version="1.0"?><r/>').name, 'r');
});

test('whitespace around = and in tags; both quote styles; quotes inside quotes', () => {
  const root = parseXml('<r a = "x\'y"\n   b\t=\t\'x"y\'   ></r  >');
  assert.is(root.attributes.get('a'), "x'y");
  assert.is(root.attributes.get('b'), 'x"y');
  assert.equal(root.attributeLocations.get('b'), { line: 2, column: 4 });
});

test('predefined entities and character references in text and attributes', () => {
  const root = parseXml('<r v="&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#X43;">&lt;tag&gt; &amp; &#x1F600; &#233;</r>'.replace('&#X43;', '&#x43;'));
  assert.is(root.attributes.get('v'), '<>&\'"ABC');
  assert.is(root.text, '<tag> & \u{1F600} \u00E9');
});

test('CDATA is kept verbatim', () => {
  const root = parseXml('<r>a<![CDATA[<not> &a tag; ]] ]>]]>b</r>');
  assert.is(root.text, 'a<not> &a tag; ]] ]>b');
});

test('line ends: CRLF and CR normalised in text, whitespace normalised in attributes', () => {
  const root = parseXml('<r a="1\r\n2\t3\n4">x\r\ny\rz&#13;</r>');
  assert.is(root.attributes.get('a'), '1 2 3 4');
  assert.is(root.text, 'x\ny\nz\r');
  const crlf = parseXml('<r>\r\n\r\n<c/></r>');
  assert.is(crlf.children[0]!.line, 3);
  const cr = parseXml('<r>\r\r<c/></r>');
  assert.is(cr.children[0]!.line, 3);
  // A character reference keeps a line feed in an attribute.
  assert.is(parseXml('<r a="x&#10;y"/>').attributes.get('a'), 'x\ny');
});

test('names with namespaces, digits, dots, dashes and non-ASCII', () => {
  const root = parseXml('<ns:r-1.x _a="1" xmlns:ns="urn:x"><été/></ns:r-1.x>');
  assert.is(root.name, 'ns:r-1.x');
  assert.is(root.children[0]!.name, 'été');
  assert.is(root.attributes.get('_a'), '1');
});

test('column counts code points, not UTF-16 units', () => {
  const root = parseXml('<r>\u{1F600}<c/></r>');
  assert.is(root.children[0]!.column, 5);
});

test('DOCTYPE is refused, whatever it holds', () => {
  const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>`;
  const error = fails(billionLaughs, 'doctype', 2, 1);
  assert.match(error.message, /DOCTYPE/);
  const xxe = '<?xml version="1.0"?>\n<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n<foo>&xxe;</foo>';
  fails(xxe, 'doctype', 2);
  fails('<!DOCTYPE r SYSTEM "http://example.com/r.dtd"><r/>', 'doctype', 1, 1);
  fails('<!doctype r><r/>', 'doctype');
  fails('<r/><!DOCTYPE r>', 'doctype');
  fails('<r><!DOCTYPE r></r>', 'doctype');
});

test('entity references without a DTD: only the five predefined ones', () => {
  const error = fails('<r>\n  &xxe;</r>', 'entity', 2, 3);
  assert.match(error.message, /undefined entity &xxe;/);
  fails('<r a="&xxe;"/>', 'entity', 1, 7);
  fails('<r>a & b</r>', 'entity');
  fails('<r>&amp</r>', 'entity');
  fails('<r>&</r>', 'entity');
  fails('<r a="&"/>', 'entity');
});

test('character references must be valid XML characters', () => {
  for (const ref of ['&#0;', '&#x0;', '&#1;', '&#xD800;', '&#xDFFF;', '&#xFFFE;', '&#xFFFF;', '&#x110000;', '&#99999999999999999999;', '&#;', '&#x;', '&#xG;', '&#12a;', '&#65', '&#-1;']) {
    fails(`<r>${ref}</r>`, 'entity', 1, 4);
  }
  assert.is(parseXml('<r>&#x10FFFF;&#9;&#xE000;</r>').text, '\u{10FFFF}\t\uE000');
});

test('characters XML forbids are refused before anything else', () => {
  fails('<r>a\u0000b</r>', 'character', 1, 5);
  fails('<r>\n\u0001</r>', 'character', 2, 1);
  fails('<r>\uD800</r>', 'character');
  fails('<r>\uDC00x</r>', 'character');
  fails('<r>\uFFFE</r>', 'character');
  fails('<r>\uD800', 'character');
});

test('nesting errors: mismatched, unclosed, stray end tag', () => {
  let error = fails('<a>\n <b>\n</a>', 'nesting', 3, 1);
  assert.match(error.message, /<\/a> does not match <b> opened at line 2/);
  error = fails('<a>\n  <b></b>', 'nesting', 1, 1);
  assert.match(error.message, /<a> is never closed/);
  fails('<a></a></b>', 'nesting', 1, 8);
  fails('<a><b></B></a>', 'nesting');
});

test('document-level errors', () => {
  fails('', 'syntax');
  fails('   \n ', 'syntax');
  fails('<!-- only a comment -->', 'syntax');
  fails('<a/><b/>', 'syntax', 1, 5);
  fails('text<a/>', 'syntax', 1, 1);
  fails('<a/>\n x', 'syntax', 2, 2);
  fails(' <?xml version="1.0"?><a/>', 'syntax');
  fails('<a><?xml version="1.0"?></a>', 'syntax');
  fails('<?xml version="1.0"', 'syntax');
  fails('<?pi"data"?><a/>', 'syntax');
  assert.is(parseXml('<?pidata?><a/>').name, 'a');
  fails('<a><![CDATA[x</a>', 'syntax');
  fails('<![CDATA[x]]><a/>', 'syntax', 1, 1);
  fails('<a><!-- x </a>', 'syntax');
  fails('<a><!-- a -- b --></a>', 'syntax');
  fails('<a><!-x --></a>', 'syntax');
  fails('<a>]]></a>', 'syntax', 1, 4);
  assert.is(parseXml('<a>]]</a>').text, ']]');
});

test('tag and attribute errors', () => {
  fails('<', 'syntax');
  fails('<a', 'syntax');
  fails('< a/>', 'syntax');
  fails('<1a/>', 'syntax');
  fails('<a b/>', 'syntax');
  fails('<a b=1/>', 'syntax');
  fails('<a b="1"c="2"/>', 'syntax');
  fails('<a b="1" b=\'2\'/>', 'syntax', 1, 10);
  fails('<a b="1 />', 'syntax');
  fails('<a b="<"/>', 'syntax');
  fails('<a / >', 'syntax');
  fails('<a></a', 'syntax');
  fails('<a></a b>', 'syntax');
  fails('<a></>', 'syntax');
  fails('<a>x</a x>', 'syntax');
  fails('<a =""/>', 'syntax');
});

test('limits: length, depth, element count', () => {
  fails('<a/>    ', 'limit', 1, 1, { maxLength: 5 });
  assert.is(parseXml('<a/>', { maxLength: 4 }).name, 'a');
  const deep = (n: number): string => '<e>'.repeat(n) + '</e>'.repeat(n);
  assert.is(parseXml(deep(64)).name, 'e');
  fails(deep(65), 'limit', 1, 193);
  fails(deep(4), 'limit', 1, 10, { maxDepth: 3 });
  const many = (n: number): string => `<r>${'<c/>'.repeat(n - 1)}</r>`;
  assert.is(parseXml(many(10_000)).children.length, 9_999);
  fails(many(10_001), 'limit');
  fails(many(4), 'limit', 1, 12, { maxElements: 3 });
  fails(`<r>${' '.repeat(1024 * 1024)}</r>`, 'limit');
});

test('deep nesting is refused without recursion even with a huge limit', () => {
  const n = 200_000;
  const root = parseXml('<e>'.repeat(n) + '</e>'.repeat(n), { maxDepth: n, maxElements: n, maxLength: 8 * n });
  assert.is(root.name, 'e');
});

test('a large input (30 elements of 200 attributes full of entities) reads completely', () => {
  const attrs = Array.from({ length: 200 }, (_, i) => `a${i}="${'&amp;x'.repeat(20)}"`).join(' ');
  const text = `<r>${`<c ${attrs}/>`.repeat(30)}</r>`;
  const root = parseXml(text, { maxLength: 2 ** 22 });
  assert.is(root.children.length, 30);
  assert.is(root.children[29]!.attributes.size, 200);
  assert.is(root.children[0]!.attributes.get('a199'), '&x'.repeat(20));
  // That it reads in linear time is measured by `npm run bench -- complexity`.
});

test('XmlError carries code, reason, offset and position', () => {
  const error = fails('<a>\n\n   &bad;</a>', 'entity', 3, 4);
  assert.is(error.name, 'XmlError');
  assert.is(error.offset, 8);
  assert.ok(error.reason.includes('&bad;'));
  assert.ok(error instanceof Error);
});

test.run();
