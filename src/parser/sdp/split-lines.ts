import { quote, sdpError } from './sdp-error.ts';

/**
 * Checks the line structure of the whole text before anything is read, so
 * that a broken line is reported whatever comes before it. Accepts CRLF or
 * bare LF line ends and a last line without any (common practice, cf.
 * RFC 5118 s4); blank lines are allowed only at the very end (bodies often
 * carry an extra CRLF). Returns where the content ends: the end of the last
 * non-blank line (0 when there is none). Nothing is allocated per line.
 */
export function checkLines(text: string, maxLines: number): number {
  let blankAt = -1;
  let contentEnd = 0;
  let start = 0;
  let count = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const next = newline === -1 ? text.length : newline + 1;
    const end = lineEnd(text, start, newline);
    if (++count > maxLines) throw sdpError(`SDP has more than ${maxLines} lines`, start, 413);
    if (end === start) {
      if (blankAt === -1) blankAt = start;
    } else {
      if (blankAt !== -1) throw sdpError('empty line inside SDP', blankAt);
      checkLine(text, start, end);
      contentEnd = end;
    }
    start = next;
  }
  return contentEnd;
}

/** The end of the line that starts at `start`, before its CRLF or LF; `newline` is text.indexOf('\n', start). */
export function lineEnd(text: string, start: number, newline: number): number {
  const end = newline === -1 ? text.length : newline;
  return end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
}

function checkLine(text: string, start: number, end: number): void {
  const cr = text.indexOf('\r', start);
  if (cr !== -1 && cr < end) throw sdpError('CR not followed by LF', cr);
  const letter = text.charCodeAt(start);
  const isLetter = (letter >= 65 && letter <= 90) || (letter >= 97 && letter <= 122);
  if (!isLetter || end - start < 2 || text.charCodeAt(start + 1) !== 61) {
    throw sdpError(`line not of the form <letter>=<value>: ${quote(text.slice(start, end))}`, start);
  }
}
