/** Warning (RFC 3261 s20.43): warn-code SP warn-agent SP warn-text, comma-separated. */
import { SipParseError } from '../errors.ts';
import { scanQuoted, splitList, unquote } from '../scan.ts';
import { srcOf, str, type Src } from '../src.ts';

export interface Warning {
  code: number;
  agent: string;
  text: string;
}

const HEADER = 'warning';

export function parseWarningListAt(src: Src, start: number, end: number, maxValues: number): Warning[] {
  const bounds = splitList(src, start, end, HEADER, maxValues);
  const list: Warning[] = [];
  for (let k = 0; k < bounds.length; k += 2) {
    const value = str(src, bounds[k]!, bounds[k + 1]!);
    const firstSpace = value.indexOf(' ');
    const secondSpace = value.indexOf(' ', firstSpace + 1);
    if (firstSpace !== 3 || secondSpace < 0 || !/^[0-9]{3}$/.test(value.slice(0, 3))) {
      throw new SipParseError('warn-code must be three digits followed by SP', { header: HEADER });
    }
    const text = value.slice(secondSpace + 1);
    const quoted = srcOf(text);
    if (text.charCodeAt(0) !== 34 || scanQuoted(quoted, 0, quoted.b.length, HEADER) !== quoted.b.length) {
      throw new SipParseError('warn-text must be one quoted string', { header: HEADER });
    }
    list.push({ code: Number(value.slice(0, 3)), agent: value.slice(firstSpace + 1, secondSpace), text: unquote(text) });
  }
  return list;
}

export function parseWarningList(value: string, maxValues = 128): Warning[] {
  const src = srcOf(value);
  return parseWarningListAt(src, 0, src.b.length, maxValues);
}
