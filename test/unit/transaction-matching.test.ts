/**
 * Transaction matching (src/transaction/matching.ts) and the dispatch the
 * TransactionLayer does with it, on a fake transport and a FakeClock.
 *
 * Covers: s17.1.3 client matching (branch + CSeq method; a CANCEL shares the
 * INVITE's branch but is its own transaction), stray responses to the hook;
 * s17.2.3 server matching with the magic cookie (branch, sent-by, method, ACK
 * matching INVITE); the RFC 2543 fallback without the cookie (Request-URI,
 * From tag, Call-ID, CSeq, top Via, and the To tag of the request, or of our
 * response for an ACK); CANCEL matching its INVITE server transaction (s9.2)
 * on both rule sets; ACK for 2xx to the TU; requests that cannot be matched
 * dropped; the client-side CANCEL built by cancelParts(); no live
 * transaction or timer at the end of each test.
 * Not covered: the state machines' rows (the four transaction-*-invite
 * test files), URI equality beyond identical text (retransmissions are
 * byte-identical).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMessage, parseMessage, type MessageParts } from '../../src/parser/index.ts';
import {
  cancelParts,
  hasMagicCookie,
  responseParts,
  serverKey,
  transactionMethod,
  ServerInviteTransaction,
  ServerNonInviteTransaction,
} from '../../src/transaction/index.ts';
import { ClientRecorder, PEER_UDP, assertClean, harness, peerAck, peerRequest, reply, requestParts } from './transaction-fakes.ts';

const parse = (parts: MessageParts) => parseMessage(formatMessage(parts));

test('hasMagicCookie: z9hG4bK followed by something', () => {
  assert.ok(hasMagicCookie('z9hG4bK776asdhds'));
  assert.not.ok(hasMagicCookie('z9hG4bK'));
  assert.not.ok(hasMagicCookie('776asdhds'));
  assert.not.ok(hasMagicCookie('Z9HG4BK776'));
  assert.not.ok(hasMagicCookie(null));
  assert.not.ok(hasMagicCookie(undefined));
});

test('keys: responses without a branch or CSeq match no client transaction (strays); ACK belongs to INVITE', () => {
  const h = harness();
  const noBranch = parseMessage(new TextEncoder().encode('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n'));
  const noCseq = parseMessage(new TextEncoder().encode('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n'));
  h.transport.deliver(noBranch, PEER_UDP);
  h.transport.deliver(noCseq, PEER_UDP);
  assert.equal(h.tu.strays, [noBranch, noCseq]);
  const ack = parse(peerRequest('ACK'));
  const invite = parse(peerRequest('INVITE'));
  assert.is(transactionMethod(ack), 'INVITE');
  assert.is(serverKey(ack)!.key, serverKey(invite)!.key);
  assert.is.not(serverKey(parse(peerRequest('CANCEL')))!.key, serverKey(invite)!.key);
  assert.is(serverKey(parse(peerRequest('CANCEL')), 'INVITE')!.key, serverKey(invite)!.key);
  // Sent-by counts; host case does not.
  assert.is.not(serverKey(parse(peerRequest('INVITE', { sentBy: '198.51.100.7:5071' })))!.key, serverKey(invite)!.key);
  assert.is(serverKey(parse(peerRequest('INVITE', { sentBy: 'PC.Example.COM' })))!.key, serverKey(parse(peerRequest('INVITE', { sentBy: 'pc.example.com' })))!.key);
  // RFC 2543 keys need the dialog-ish fields; a request without Via has no key.
  const noVia = parseMessage(new TextEncoder().encode('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n'));
  assert.is(serverKey(noVia), undefined);
  const noCallId = parseMessage(new TextEncoder().encode('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n'));
  assert.is(serverKey(noCallId), undefined);
  assert.ok(serverKey(parse(peerRequest('INVITE', { branch: null })))!.rfc2543);
});

test('client: responses match by branch and CSeq method; CANCEL (cancelParts) is its own transaction on the INVITE branch', () => {
  const h = harness();
  const inviteUser = new ClientRecorder(h.clock);
  const invite = h.layer.sendRequest(requestParts('INVITE', [['Route', '<sip:edge.example.com;lr>']]), PEER_UDP, inviteUser);
  h.transport.deliver(reply(invite.request, 180), PEER_UDP);
  const cancelUser = new ClientRecorder(h.clock);
  const parts = cancelParts(invite.request);
  const cancel = h.layer.sendRequest(parts, PEER_UDP, cancelUser);
  const m = cancel.request;
  assert.is(m.method, 'CANCEL');
  assert.is(m.uri!.toString(), invite.request.uri!.toString());
  assert.is(m.topVia!.branch, invite.request.topVia!.branch);
  assert.is(m.count('Via'), 1);
  assert.equal(m.cseq, { seq: invite.request.cseq!.seq, method: 'CANCEL' });
  for (const name of ['From', 'To', 'Call-ID', 'Route']) assert.is(m.header(name), invite.request.header(name), name);
  assert.equal(h.layer.stats().clientInvite + h.layer.stats().clientNonInvite, 2);
  // 200 for the CANCEL goes to the CANCEL transaction only.
  h.transport.deliver(reply(cancel.request, 200), PEER_UDP);
  assert.equal(cancelUser.finals.map((f) => f.status), [200]);
  assert.is(inviteUser.finals.length, 0);
  // 487 for the INVITE goes to the INVITE transaction only.
  h.transport.deliver(reply(invite.request, 487), PEER_UDP);
  assert.equal(inviteUser.finals.map((f) => f.status), [487]);
  assert.is(cancelUser.finals.length, 1);
  h.clock.advance(32_000);
  assertClean(h);
});

test('client: a response for an unknown branch or another method goes to onStrayResponse', () => {
  const h = harness();
  const user = new ClientRecorder(h.clock);
  const tx = h.layer.sendRequest(requestParts('OPTIONS'), PEER_UDP, user);
  const other = new TextDecoder().decode(reply(tx.request, 200)).replace(tx.request.topVia!.branch!, 'z9hG4bKunknown');
  h.transport.deliver(new TextEncoder().encode(other), PEER_UDP);
  const wrongMethod = new TextDecoder().decode(reply(tx.request, 200)).replace(/CSeq: (\d+) OPTIONS/, 'CSeq: $1 INFO');
  h.transport.deliver(new TextEncoder().encode(wrongMethod), PEER_UDP);
  assert.is(h.tu.strays.length, 2);
  assert.is(user.finals.length, 0);
  h.transport.deliver(reply(tx.request, 200), PEER_UDP);
  assert.is(user.finals.length, 1);
  h.clock.advance(5000);
  assertClean(h);
});

test('server, magic cookie: same branch + sent-by + method is a retransmission; another sent-by or method is a new transaction', () => {
  const h = harness();
  h.transport.deliver(peerRequest('OPTIONS'), PEER_UDP);
  h.transport.deliver(peerRequest('OPTIONS'), PEER_UDP);
  assert.is(h.tu.requests.length, 1);
  h.transport.deliver(peerRequest('OPTIONS', { sentBy: '203.0.113.1:5060' }), PEER_UDP);
  h.transport.deliver(peerRequest('INFO'), PEER_UDP);
  assert.is(h.tu.requests.length, 3);
  assert.is(h.layer.stats().serverNonInvite, 3);
  for (const incoming of h.tu.requests) incoming.transaction.respond(responseParts(incoming.request, 200, { toTag: 't' }));
  h.clock.advance(32_000);
  assertClean(h);
});

test('server: an ACK with the INVITE branch confirms a non-2xx; an ACK matching nothing (ACK for 2xx) goes to the TU', () => {
  const h = harness();
  const invite = peerRequest('INVITE');
  h.transport.deliver(invite, PEER_UDP);
  const ist = h.tu.requests[0]!.transaction as ServerInviteTransaction;
  ist.respond(responseParts(ist.request, 486, { toTag: 'busy' }));
  h.transport.deliver(peerAck(invite, 'busy'), PEER_UDP);
  assert.is(ist.state, 'confirmed');
  assert.is(h.tu.acks.length, 0);
  const ack2xx = peerAck(peerRequest('INVITE', { branch: 'z9hG4bKother', cseq: 2 }), 'x');
  h.transport.deliver(ack2xx, PEER_UDP);
  assert.is(h.tu.acks.length, 1);
  assert.is(h.tu.requests.length, 1, 'an ACK never creates a transaction');
  h.clock.advance(5000);
  assertClean(h);
});

test('server: CANCEL creates its own transaction and is handed to the TU with the INVITE transaction it cancels', () => {
  const h = harness();
  h.transport.deliver(peerRequest('INVITE'), PEER_UDP);
  const ist = h.tu.requests[0]!.transaction as ServerInviteTransaction;
  h.transport.deliver(peerRequest('CANCEL'), PEER_UDP);
  const cancel = h.tu.requests[1]!;
  assert.instance(cancel.transaction, ServerNonInviteTransaction);
  assert.is(cancel.cancelled, ist);
  assert.is(h.layer.findCancelled(cancel.request), ist);
  // The TU's usual answer: 200 to the CANCEL, 487 to the INVITE.
  cancel.transaction.respond(responseParts(cancel.request, 200, { toTag: 'c' }));
  ist.respond(responseParts(ist.request, 487, { toTag: 'c' }));
  // A CANCEL retransmission gets the 200 again, not a new TU call.
  h.transport.deliver(peerRequest('CANCEL'), PEER_UDP);
  assert.is(h.tu.requests.length, 2);
  assert.equal(h.transport.sent.map((s) => `${s.message.status} ${s.message.cseq!.method}`), ['200 CANCEL', '487 INVITE', '200 CANCEL']);
  // A CANCEL for an unknown branch, or from another sent-by, cancels nothing.
  h.transport.deliver(peerRequest('CANCEL', { branch: 'z9hG4bKnope' }), PEER_UDP);
  h.transport.deliver(peerRequest('CANCEL', { sentBy: '203.0.113.9' }), PEER_UDP);
  assert.is(h.tu.requests[2]!.cancelled, undefined);
  assert.is(h.tu.requests[3]!.cancelled, undefined);
  for (const incoming of h.tu.requests.slice(2)) incoming.transaction.respond(responseParts(incoming.request, 481, { toTag: 'n' }));
  h.transport.deliver(peerAck(peerRequest('INVITE'), 'c'), PEER_UDP);
  h.clock.advance(32_000);
  assertClean(h);
});

test('server, RFC 2543 (no magic cookie): retransmissions match on Request-URI, From tag, Call-ID, CSeq, top Via and To tag', () => {
  const h = harness();
  const invite = peerRequest('INVITE', { branch: null });
  h.transport.deliver(invite, PEER_UDP);
  h.transport.deliver(invite, PEER_UDP);
  assert.is(h.tu.requests.length, 1, 'identical INVITE is a retransmission');
  const ist = h.tu.requests[0]!.transaction as ServerInviteTransaction;
  h.clock.advance(300);
  h.transport.deliver(invite, PEER_UDP);
  assert.equal(h.transport.sent.map((s) => s.message.status), [100, 100], 'answered with the 100 Trying');
  // Any difference makes it another request.
  h.transport.deliver(peerRequest('INVITE', { branch: null, cseq: 2 }), PEER_UDP);
  h.transport.deliver(peerRequest('INVITE', { branch: null, callId: 'other@x' }), PEER_UDP);
  h.transport.deliver(peerRequest('INVITE', { branch: null, uri: 'sip:carol@192.0.2.10' }), PEER_UDP);
  h.transport.deliver(peerRequest('INVITE', { branch: null, sentBy: '198.51.100.8:5070' }), PEER_UDP);
  h.transport.deliver(peerRequest('INVITE', { branch: null, toTag: 'in-dialog' }), PEER_UDP);
  assert.is(h.tu.requests.length, 6);
  assert.is(h.layer.stats().serverInvite, 6);
  // An ACK matches by the To tag of the response we sent; a wrong tag matches nothing.
  ist.respond(responseParts(ist.request, 404, { toTag: 'nf' }));
  h.transport.deliver(peerAck(invite, 'wrong'), PEER_UDP);
  assert.is(ist.state, 'completed');
  assert.is(h.tu.acks.length, 1, 'unmatched ACK to the TU');
  h.transport.deliver(peerAck(invite, 'nf'), PEER_UDP);
  assert.is(ist.state, 'confirmed');
  for (const incoming of h.tu.requests.slice(1)) {
    const tx = incoming.transaction as ServerInviteTransaction;
    tx.respond(responseParts(tx.request, 486, { toTag: 'b' }));
  }
  h.clock.advance(40_000);
  assertClean(h);
});

test('server, RFC 2543: CANCEL finds its INVITE; non-INVITE retransmissions need the same To tag', () => {
  const h = harness();
  const invite = peerRequest('INVITE', { branch: null });
  h.transport.deliver(invite, PEER_UDP);
  const ist = h.tu.requests[0]!.transaction;
  h.transport.deliver(peerRequest('CANCEL', { branch: null }), PEER_UDP);
  assert.is(h.tu.requests[1]!.cancelled, ist);
  h.transport.deliver(peerRequest('CANCEL', { branch: null, toTag: 'x' }), PEER_UDP);
  assert.is(h.tu.requests[2]!.cancelled, undefined, 'To tag differs from the INVITE');
  h.transport.deliver(peerRequest('BYE', { branch: null, toTag: 'd1' }), PEER_UDP);
  h.transport.deliver(peerRequest('BYE', { branch: null, toTag: 'd1' }), PEER_UDP);
  h.transport.deliver(peerRequest('BYE', { branch: null, toTag: 'd2' }), PEER_UDP);
  assert.is(h.tu.requests.length, 5);
  for (const incoming of h.tu.requests) incoming.transaction.respond(responseParts(incoming.request, 487, { toTag: 'z' }));
  h.transport.deliver(peerAck(invite, 'z'), PEER_UDP);
  h.clock.advance(32_000);
  assertClean(h);
});

test('requests without Via or CSeq, or without From/To/Call-ID, are dropped; a response without Via or CSeq is a stray', () => {
  const h = harness();
  const bytes = (text: string) => new TextEncoder().encode(text);
  h.transport.deliver(bytes('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n'), PEER_UDP);
  h.transport.deliver(bytes('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n'), PEER_UDP);
  h.transport.deliver(bytes('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n'), PEER_UDP);
  h.transport.deliver(bytes('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 OPTIONS\r\nCall-ID: x\r\nTo: <sip:a@b>\r\n\r\n'), PEER_UDP);
  assert.is(h.tu.requests.length, 0);
  h.transport.deliver(bytes('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n\r\n'), PEER_UDP);
  assert.is(h.tu.strays.length, 1);
  assertClean(h);
});

test.run();
