/**
 * The linter CLI contract of DESIGN.md, run as users run it:
 * `npm run --silent cli -- lint --json FILE...` (here: tsx src/cli/main.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const corpus = 'test/fixtures/conformance/rfc4475';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('lint --json prints one JSON line per file with the contract fields', () => {
  const files = ['valid/esc01.dat', 'invalid/badvers.dat', 'semantic/bext01.dat', 'valid/unreason.dat', 'invalid/baddate.dat'];
  const run = cli(['lint', '--json', ...files.map((file) => `${corpus}/${file}`)]);
  // Exit 1: badvers and baddate are rejected (issue 13: lint tells scripts, as sipsak does).
  assert.is(run.status, 1, run.stderr);
  const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.is(lines.length, files.length);
  const [esc01, badvers, bext01, unreason, baddate] = lines;
  assert.equal(
    {
      verdict: esc01.verdict,
      kind: esc01.kind,
      method: esc01.method,
      requestUri: esc01.requestUri,
      callId: esc01.callId,
      cseq: esc01.cseq,
      via: esc01.via,
      contentLength: esc01.contentLength,
      bodyLength: esc01.bodyLength,
      uasAnswer: esc01.uasAnswer,
    },
    {
      verdict: 'accept',
      kind: 'request',
      method: 'INVITE',
      requestUri: { scheme: 'sip', user: 'sips%3Auser%40example.com', host: 'example.net', port: null },
      callId: 'esc01.239409asdfakjkn23onasd0-3234',
      cseq: { seq: 234234, method: 'INVITE' },
      via: [{ transport: 'UDP', host: 'host5.example.net', port: null, branch: 'z9hG4bKkdjuw', received: null, rport: null }],
      contentLength: 150,
      bodyLength: 150,
      uasAnswer: null,
    },
  );
  assert.is(badvers.verdict, 'reject');
  assert.is(badvers.status, 505);
  assert.is(badvers.uasAnswer, 505);
  assert.is(bext01.uasAnswer, 420);
  assert.is(unreason.kind, 'response');
  assert.is(unreason.statusCode, 200);
  assert.is(unreason.uasAnswer, null);
  // Date is parsed lazily; the linter's verdict covers it.
  assert.is(baddate.verdict, 'reject');
  assert.match(baddate.reason, /date/i);
  // The message parsed; only a header check failed: the fields read are still reported.
  assert.is(typeof baddate.callId, 'string');
  assert.is(baddate.cseq?.method, baddate.method);
  assert.ok(baddate.via.length >= 1, 'its Via');
  assert.is(typeof baddate.contentLength, 'number');
  // Unparsable: every contract field is there, null (or an empty Via list) where it could not be read.
  assert.equal([badvers.callId, badvers.cseq, badvers.via, badvers.contentLength, badvers.bodyLength], [null, null, [], null, null]);
});

test('lint --json: a message that does not parse still reports what could be read: the faulty header left null, the start line, the others', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sip-endpoint-lint-'));
  try {
    const badCSeq = join(dir, 'bad-cseq.sip');
    writeFileSync(badCSeq, invite({}).replace('CSeq: 1 INVITE', 'CSeq: abc INVITE'));
    const shortBody = join(dir, 'short-body.sip');
    writeFileSync(shortBody, invite({ sdp: `${SDP_HEAD}m=audio 4000 RTP/AVP 0\r\n` }).replace(/Content-Length: \d+/, 'Content-Length: 500'));
    const run = cli(['lint', '--json', badCSeq, shortBody, `${corpus}/invalid/badinv01.dat`]);
    assert.is(run.status, 1, run.stderr);
    const [cseq, body, badinv01] = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal([cseq.verdict, cseq.status, cseq.reason], ['reject', 400, 'cseq: number expected']);
    assert.equal([cseq.method, cseq.requestUri?.user, cseq.callId, cseq.cseq, cseq.via.map((v: { branch: string }) => v.branch), cseq.contentLength], ['INVITE', 'bob', 'lint-1@192.0.2.5', null, ['z9hG4bK-lint-1'], 0]);
    // Content-Length larger than the body: the value as written, the body as present.
    assert.equal([body.verdict, body.contentLength, body.bodyLength > 0 && body.bodyLength < 500, body.cseq], ['reject', 500, true, { seq: 1, method: 'INVITE' }]);
    // RFC 4475 badinv01: its Via cannot be read, the rest can.
    assert.equal([badinv01.verdict, badinv01.via, badinv01.method, typeof badinv01.callId, badinv01.cseq?.method], ['reject', [], 'INVITE', 'string', 'INVITE']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const SDP_HEAD = 'v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n';

/** A new INVITE (no To tag) with `contact` and `from` lines as given, and `sdp` as its body. */
function invite(options: { contact?: string; fromTag?: string; sdp?: string }): string {
  const body = options.sdp ?? '';
  return [
    'INVITE sip:bob@192.0.2.9 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.5:5060;branch=z9hG4bK-lint-1',
    'Max-Forwards: 70',
    `From: <sip:alice@192.0.2.5>${options.fromTag === undefined ? ';tag=a1' : options.fromTag}`,
    'To: <sip:bob@192.0.2.9>',
    'Call-ID: lint-1@192.0.2.5',
    'CSeq: 1 INVITE',
    ...(options.contact === undefined ? ['Contact: <sip:alice@192.0.2.5>'] : options.contact === '' ? [] : [`Contact: ${options.contact}`]),
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
}

test('lint --json: uasAnswer includes the dialog layer\'s own answers (a new INVITE refused for its Contact, From tag or offer; OPTIONS, BYE, CANCEL, a dialog it lacks)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lint-'));
  try {
    const cases: Array<[name: string, text: string, answer: number | null]> = [
      ['good', invite({ sdp: `${SDP_HEAD}m=audio 4000 RTP/AVP 0\r\n` }), null],
      ['no-contact', invite({ contact: '' }), 400],
      ['two-contacts', invite({ contact: '<sip:a@192.0.2.5>, <sip:b@192.0.2.5>' }), 400],
      ['no-from-tag', invite({ fromTag: '' }), 400],
      ['no-common-codec', invite({ sdp: `${SDP_HEAD}m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n` }), 488],
      ['garbage-sdp', invite({ sdp: 'this is not SDP\r\n' }), 400],
      ['options', invite({}).replace(/INVITE/g, 'OPTIONS'), 200],
      ['bye-outside-a-dialog', invite({}).replace(/INVITE/g, 'BYE'), 481],
      ['in-a-dialog-we-lack', invite({}).replace('To: <sip:bob@192.0.2.9>', 'To: <sip:bob@192.0.2.9>;tag=b9'), 481],
      ['cancel-of-nothing', invite({}).replace(/INVITE/g, 'CANCEL'), 481],
      ['ack', invite({}).replace(/INVITE/g, 'ACK'), null],
    ];
    const files = cases.map(([name, text]) => {
      const file = join(dir, `${name}.sip`);
      writeFileSync(file, text);
      return file;
    });
    const run = cli(['lint', '--json', ...files]);
    assert.is(run.status, 0, `all parse: ${run.stdout}${run.stderr}`);
    const answers = run.stdout.trim().split('\n').map((line) => JSON.parse(line).uasAnswer);
    assert.equal(answers, cases.map(([, , answer]) => answer));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lint without --json prints a readable line per file', () => {
  const run = cli(['lint', `${corpus}/invalid/badvers.dat`, `${corpus}/semantic/invut.dat`]);
  assert.is(run.status, 1, 'one rejected message');
  assert.match(run.stdout, /^REJECT .*badvers\.dat: 505 /m);
  assert.match(run.stdout, /^ACCEPT .*invut\.dat: INVITE .*UAS answers 415/m);
});

test('lint reports unreadable files and usage errors with a non-zero exit', () => {
  assert.is(cli(['lint', '--json', `${corpus}/nope.dat`]).status, 1);
  assert.is(cli(['lint']).status, 2);
  assert.is(cli(['frobnicate']).status, 2);
});

test('the conformance table agrees with RFC 4475 on all 49 messages', () => {
  const run = cli(['conformance']);
  assert.is(run.status, 0, run.stdout.slice(-2000));
  assert.match(run.stdout, /49\/49 verdicts as RFC 4475 describes/);
});

test.run();
