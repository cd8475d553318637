import { quote, sdpError } from './sdp-error.ts';

/** One `<type>=<value>` line: `offset` is where the line starts in the text. */
export interface SdpLine {
  type: string;
  value: string;
  offset: number;
}

/**
 * Cuts the text into typed lines in one pass. Accepts CRLF or bare LF line
 * ends and a last line without any (common practice, cf. RFC 5118 s4); blank
 * lines are allowed only at the very end (bodies often carry an extra CRLF).
 */
export function splitLines(text: string, maxLines: number): SdpLine[] {
  const lines: SdpLine[] = [];
  let blankAt = -1;
  let start = 0;
  let count = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const next = newline === -1 ? text.length : newline + 1;
    let end = newline === -1 ? text.length : newline;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    if (++count > maxLines) throw sdpError(`SDP has more than ${maxLines} lines`, start, 413);
    if (end === start) {
      if (blankAt === -1) blankAt = start;
    } else {
      if (blankAt !== -1) throw sdpError('empty line inside SDP', blankAt);
      lines.push(readLine(text, start, end));
    }
    start = next;
  }
  return lines;
}

function readLine(text: string, start: number, end: number): SdpLine {
  const cr = text.indexOf('\r', start);
  if (cr !== -1 && cr < end) throw sdpError('CR not followed by LF', cr);
  const letter = text.charCodeAt(start);
  const isLetter = (letter >= 65 && letter <= 90) || (letter >= 97 && letter <= 122);
  if (!isLetter || end - start < 2 || text.charCodeAt(start + 1) !== 61) {
    throw sdpError(`line not of the form <letter>=<value>: ${quote(text.slice(start, end))}`, start);
  }
  return { type: text[start]!, value: text.slice(start + 2, end), offset: start };
}
