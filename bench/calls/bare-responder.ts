/**
 * The calls part's ceiling for Node: a UDP responder with no SIP stack.
 * It answers SIPp's caller as our callee does (INVITE -> 100, 180, 200 with
 * SDP; BYE -> 200; ACK absorbed), with Via, From, To, Call-ID and CSeq
 * copied as text from the request and nothing else: no parsing, no
 * transactions, no dialogs, no checks, no retransmissions. SIPp -> this
 * responder is what a Node process can do on this machine at all; the gap
 * between it and SIPp -> ours is our stack's own cost. Not for anything
 * but that measurement (it trusts every datagram it gets).
 */
import { createSocket } from 'node:dgram';

export interface BareResponder {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const SDP =
  'v=0\r\no=bare 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
  'm=audio 20000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n';

/** The whole "Name: value" line of the first header named `name` (as SIPp writes it), or ''. */
function line(text: string, name: string): string {
  const at = text.indexOf(`\r\n${name}:`);
  if (at < 0) return '';
  const end = text.indexOf('\r\n', at + 2);
  return text.slice(at + 2, end < 0 ? text.length : end);
}

export async function startBareResponder(host: string): Promise<BareResponder> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const port = socket.address().port;
  const contact = `Contact: <sip:bare@${host}:${port}>\r\n`;
  let tags = 0;
  socket.on('message', (message, source) => {
    const text = message.toString('latin1');
    const method = text.slice(0, text.indexOf(' '));
    if (method === 'ACK') return;
    const copied = `${line(text, 'Via')}\r\n${line(text, 'From')}\r\n`;
    const rest = `${line(text, 'Call-ID')}\r\n${line(text, 'CSeq')}\r\n`;
    const to = line(text, 'To');
    const send = (response: string): void => socket.send(Buffer.from(response, 'latin1'), source.port, source.address);
    if (method !== 'INVITE') {
      send(`SIP/2.0 200 OK\r\n${copied}${to}\r\n${rest}Content-Length: 0\r\n\r\n`);
      return;
    }
    const tagged = `${to};tag=bare${++tags}\r\n`;
    send(`SIP/2.0 100 Trying\r\n${copied}${to}\r\n${rest}Content-Length: 0\r\n\r\n`);
    send(`SIP/2.0 180 Ringing\r\n${copied}${tagged}${rest}${contact}Content-Length: 0\r\n\r\n`);
    send(`SIP/2.0 200 OK\r\n${copied}${tagged}${rest}${contact}Content-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`);
  });
  return {
    host,
    port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
