/**
 * SIPp for the call tests (test/interop/calls-*.test.ts), on top of the
 * SIPp harness (sipp.ts, unchanged):
 *
 * - registeredSipp(): SIPp registered as `user` at two Kamailio sites
 *   (calls-uas-register.xml, digest via [authentication]); each INVITE a
 *   site forwards runs the out-of-call scenario given (calls-uas-*.xml).
 *   Resolves once both sites list the binding (kamcmd ul.lookup).
 * - forgetBindings(): removes a user's bindings at the sites after a test.
 * - callingSipp(): SIPp calling `callee` through one site with 407 digest
 *   (calls-uac-*.xml), From = `caller` at that site.
 * - sippErrors(): what SIPp wrote to its error file so far (check_it
 *   misses, unexpected messages, timeouts), read while it still runs.
 * - sippLadder(): the messages SIPp logged, in order, as "in INVITE" /
 *   "out 200 INVITE" (methods, status codes and CSeq methods only), without
 *   retransmissions.
 * - assertCallerSucceeded(): a calling SIPp's exit checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { delay } from './process.ts';
import type { KamailioSite } from './kamailio.ts';
import * as assert from 'uvu/assert';
import { SCENARIO_DIR, startSipp, type Sipp, type SippResult } from './sipp.ts';

export const SIPP_PASSWORD = 'secret';

export async function registeredSipp(options: {
  readonly a: KamailioSite;
  readonly b: KamailioSite;
  readonly user: string;
  /** The out-of-call scenario: how SIPp answers calls. */
  readonly answer: 'calls-uas-answer.xml' | 'calls-uas-bye.xml' | 'calls-uas-ring.xml';
}): Promise<Sipp> {
  const { a, b, user } = options;
  const sipp = await startSipp({
    scenario: 'calls-uas-register.xml',
    transport: 'udp',
    remote: { host: a.address, port: a.ports.udp },
    traceMessages: true,
    extraArgs: [
      '-oocsf', join(SCENARIO_DIR, options.answer),
      '-s', user, '-au', user, '-ap', SIPP_PASSWORD,
      '-set', 'b_host', b.uriHost, '-set', 'b_port', String(b.ports.udp),
    ],
  });
  const deadline = performance.now() + 10_000;
  for (;;) {
    const contact = `@${sipp.host}:${sipp.port}`;
    const [atA, atB] = await Promise.all([a.ulLookup(user), b.ulLookup(user)]);
    if (atA.some((x) => x.contact.includes(contact)) && atB.some((x) => x.contact.includes(contact))) return sipp;
    if (sipp.peer.child.exitCode !== null) throw new Error(`SIPp (registering ${user}) exited:\n${sipp.peer.output().slice(-2000)}\n${sippErrors(sipp)}`);
    if (performance.now() > deadline) throw new Error(`SIPp did not register ${user} at both sites:\n${sippErrors(sipp)}\n${sipp.peer.output().slice(-2000)}`);
    await delay(50);
  }
}

/**
 * Removes `user`'s bindings at the sites (kamcmd ul.rm): a stopped SIPp's
 * binding would stay, and the next call would be forked to its dead port
 * too. Throws when a binding is left.
 */
export async function forgetBindings(sites: readonly KamailioSite[], user: string): Promise<void> {
  for (const site of sites) {
    if (!site.running) continue;
    try {
      await site.kamcmd('ul.rm', 'location', `s:${user}`);
    } catch (error) {
      if (!/not found/i.test(String(error))) throw error;
    }
    const left = await site.ulLookup(user);
    if (left.length > 0) throw new Error(`site ${site.name} still has ${left.length} binding(s) of ${user}`);
  }
}

export function callingSipp(options: {
  readonly site: KamailioSite;
  readonly caller: string;
  readonly callee: string;
  readonly scenario: 'calls-uac-hold.xml' | 'calls-uac-answered.xml';
  readonly timeoutSec?: number;
}): Promise<Sipp> {
  const { site } = options;
  return startSipp({
    scenario: options.scenario,
    transport: 'udp',
    remote: { host: site.address, port: site.ports.udp },
    traceMessages: true,
    timeoutSec: options.timeoutSec ?? 30,
    extraArgs: ['-s', options.callee, '-au', options.caller, '-ap', SIPP_PASSWORD, '-set', 'caller', options.caller],
  });
}

/**
 * SIPp's error file so far, without two kinds of notes that are no
 * failures: an INVITE running the out-of-call scenario (that is how
 * calls-uas-* work), and the overload warning of SIPp's watchdog (SIPp got
 * no CPU for 500 ms on a busy machine).
 */
export function sippErrors(sipp: Sipp): string {
  let text: string;
  try {
    text = readFileSync(join(sipp.workDir, 'errors.log'), 'latin1');
  } catch {
    return '';
  }
  return withoutNotes(text);
}

function withoutNotes(text: string): string {
  return text
    .replace(/^The following events occurred:\s*/, '')
    .split('\n')
    .filter((line) => line.trim() !== '' && !/Received out-of-call \w+ message, using the out-of-call scenario|Overload warning: the (minor|major) watchdog timer/.test(line))
    .join('\n');
}

/** A calling SIPp (calls-uac-*.xml) ended well: exit 0, one successful call, none failed, nothing unexpected, no error but watchdog notes. */
export function assertCallerSucceeded(result: SippResult): void {
  const detail = `\n${result.errors}\n${result.output.slice(-2500)}`;
  assert.is(result.status, 0, `SIPp exit status${detail}`);
  assert.is(result.successful, 1, `SIPp successful calls${detail}`);
  assert.is(result.failed, 0, `SIPp failed calls${detail}`);
  assert.is(result.lines.reduce((n, line) => n + line.unexpected, 0), 0, `unexpected messages at SIPp${detail}`);
  assert.is(withoutNotes(result.errors), '', 'SIPp error log');
}

/** SIPp's ladder and error file, for failure messages. */
export function describeSipp(sipp: Sipp): string {
  return `SIPp ${sipp.peer.name} (pid ${sipp.pid}, port ${sipp.port}): ${sippLadder(sipp).join(', ')}\nits errors: ${sippErrors(sipp) || 'none'}`;
}

/**
 * "in INVITE", "out 180 INVITE", ... in the order SIPp logged them, each
 * message once: a retransmission (same direction, start line, Call-ID, CSeq
 * and top Via branch as one before) is left out.
 */
export function sippLadder(sipp: Sipp): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const m of sipp.messages()) {
    const status = /^SIP\/2\.0 (\d{3})/.exec(m.startLine)?.[1];
    const cseq = /\r?\nCSeq:\s*(\d+)\s+(\w+)/i.exec(m.text);
    const callId = /\r?\nCall-ID:\s*(\S+)/i.exec(m.text)?.[1] ?? '';
    const branch = /\r?\nVia:[^\r\n]*;branch=([^;,\s]+)/i.exec(m.text)?.[1] ?? '';
    const key = `${m.direction} ${m.startLine} ${callId} ${cseq?.[1]} ${cseq?.[2]} ${branch}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(`${m.direction} ${status === undefined ? m.startLine.split(' ')[0] : `${status} ${cseq?.[2] ?? ''}`}`);
  }
  return lines;
}
