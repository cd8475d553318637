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
 *   "out 200 INVITE" (methods, status codes and CSeq methods only).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { delay } from './process.ts';
import type { KamailioSite } from './kamailio.ts';
import { SCENARIO_DIR, startSipp, type Sipp } from './sipp.ts';

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

/** SIPp's error file so far, without its notes that an INVITE ran the out-of-call scenario (that is how calls-uas-* work). */
export function sippErrors(sipp: Sipp): string {
  let text: string;
  try {
    text = readFileSync(join(sipp.workDir, 'errors.log'), 'latin1');
  } catch {
    return '';
  }
  return text
    .replace(/^The following events occurred:\s*/, '')
    .split('\n')
    .filter((line) => line.trim() !== '' && !/Received out-of-call \w+ message, using the out-of-call scenario/.test(line))
    .join('\n');
}

/** "in INVITE", "out 180", ... in the order SIPp logged them (retransmissions included). */
export function sippLadder(sipp: Sipp): string[] {
  return sipp.messages().map((m) => {
    const status = /^SIP\/2\.0 (\d{3})/.exec(m.startLine)?.[1];
    const cseq = /\r?\nCSeq:\s*\d+\s+(\w+)/i.exec(m.text)?.[1] ?? '';
    return `${m.direction} ${status === undefined ? m.startLine.split(' ')[0] : `${status} ${cseq}`}`;
  });
}
