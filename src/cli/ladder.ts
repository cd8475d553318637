/**
 * `flow SID` in the phone shell: a ladder diagram of one call's messages
 * (like sngrep's call flow): our address on the left, each peer a column,
 * one line per message with its time from the first, an arrow and the
 * request line or status.
 */
import { parseMessage } from '../parser/index.ts';
import type { SipMessageTrace } from '../sdk/index.ts';

const WIDTH = 40;

export function ladder(traces: readonly SipMessageTrace[]): string {
  if (traces.length === 0) return 'no messages';
  const start = traces[0]!.time;
  const us = traces[0]!.direction === 'out' ? traces[0]!.source : traces[0]!.destination;
  const peers = [...new Set(traces.map((t) => addressOf(t.direction === 'out' ? t.destination : t.source)))];
  const lines = [`${'time'.padStart(8)}  ${`us ${addressOf(us)}`.padEnd(WIDTH + 2)}${peers.join(' / ')}`];
  for (const trace of traces) {
    let what: string;
    try {
      const message = parseMessage(trace.bytes);
      what = message.kind === 'request' ? `${message.method} ${message.uri?.toString() ?? ''}` : `${message.status} ${message.reasonPhrase ?? ''} (${message.cseq?.method ?? ''})`;
    } catch {
      what = '(unparsable)';
    }
    const peer = addressOf(trace.direction === 'out' ? trace.destination : trace.source);
    const label = ` ${what} `.slice(0, WIDTH - 4);
    const arrow = trace.direction === 'out' ? `${label.padEnd(WIDTH - 2, '-')}->` : `<-${label.padEnd(WIDTH - 2, '-')}`;
    const seconds = ((trace.time - start) / 1000).toFixed(3).padStart(8);
    lines.push(`${seconds}  |${arrow}| ${peer} ${trace.transport.toUpperCase()}`);
  }
  return lines.join('\n');
}

function addressOf(endpoint: { host: string; port: number }): string {
  return `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}
