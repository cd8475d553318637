/**
 * Seeded chaos over the SDK's calls (sdk-calls-fakes.ts CallRig: the phone's
 * real stack on fakes, two sites, the far party 1002 behind both): the
 * application dials, answers, rejects, holds, retrieves, hangs up and sends
 * DTMF at random and now and then disables and enables a connection; the
 * far party answers each call its own way (at once, after ringing, never,
 * busy), calls the phone, hangs up, holds and resumes; sites go silent,
 * refuse and come back.
 *
 * Covers, for every run: no error but the SDK's typed ones (a call in the
 * wrong state, a refused hold, no line); every session's events form one
 * chain (first previousStatus null, no status twice in a row, nothing after
 * `disconnected`) and carry a connection id the phone has; and once
 * everything is hung up, the phone closes with nothing left (sessions,
 * dialogs, INVITEs, transactions, registrations, RTP ports, timers).
 *
 * Does not cover: which status each answer gives (the sdk-calls-control,
 * -failover and -lines tests), real sockets (interop). `CHAOS_SEED=N` runs
 * one seed, `CHAOS_RUNS=N` seeds 1..N (40 by default).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SipEndpointError } from '../../src/errors/sip-endpoint-error.ts';
import type { IncomingInvite } from '../../src/dialog/index.ts';
import { CallRig, type FarParty } from './sdk-calls-fakes.ts';
import { seededRandom } from './registrar-fakes.ts';

const RUNS = Number(process.env['CHAOS_RUNS'] ?? 40);
const STEPS = 60;

type Pick = <T>(items: readonly T[]) => T;

/** How the far party takes one incoming call. */
function farPolicy(random: () => number, pick: Pick): (invite: IncomingInvite, far: FarParty) => void {
  return (invite, far) => {
    const how = pick(['ring-answer', 'answer', 'busy', 'ring-forever', 'ring-busy']);
    const later = Math.floor(random() * 3000);
    if (how !== 'answer' && how !== 'busy') far.ring(invite);
    if (how === 'ring-answer') far.clock.setTimer(later, () => far.accept(invite));
    if (how === 'answer') far.accept(invite);
    if (how === 'busy') invite.reject(486);
    if (how === 'ring-busy') far.clock.setTimer(later, () => invite.state === 'proceeding' && invite.reject(486));
  };
}

async function chaosRun(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const pick: Pick = (items) => items[Math.floor(random() * items.length)]!;
  const rig = new CallRig();
  await rig.start();
  rig.far.policy = farPolicy(random, pick);
  const unexpected: unknown[] = [];
  const watch = (promise: Promise<unknown>): void =>
    void promise.then(undefined, (error: unknown) => {
      if (!(error instanceof SipEndpointError)) unexpected.push(error);
    });
  const { calls, sessions, connections } = rig.phone;
  const where = (step: number | string): string => `seed ${seed}, step ${step}`;
  for (let step = 0; step < STEPS; step++) {
    try {
      const live = sessions.sessions.filter((s) => s.status !== 'disconnected');
      const any = live.length > 0 ? pick(live) : undefined;
      const move = pick(['dial', 'dial', 'answer', 'reject', 'hold', 'retrieve', 'hangup', 'dtmf', 'far-call', 'far-bye', 'far-hold', 'site', 'connection', 'nothing']);
      if (move === 'dial') watch(calls.dial(pick([0, 1]), '1002'));
      if (move === 'answer' && any !== undefined) watch(calls.answer(any.id));
      if (move === 'reject' && any !== undefined) watch(calls.reject(any.id, pick([486, 603])));
      if (move === 'hold' && any !== undefined) watch(calls.hold(any.id));
      if (move === 'retrieve' && any !== undefined) watch(calls.retrieve(any.id));
      if (move === 'hangup' && any !== undefined) watch(calls.hangup(any.id));
      if (move === 'dtmf' && any !== undefined) watch(calls.sendDtmf(any.id, '1#'));
      if (move === 'far-call') rig.far.call(pick(rig.sites));
      const farLive = rig.far.sessions.filter((s) => s.state === 'confirmed');
      if (move === 'far-bye' && farLive.length > 0) watch(pick(farLive).bye());
      if (move === 'far-hold' && farLive.length > 0) watch(pick(farLive).reinvite(random() < 0.5));
      if (move === 'site') pick(rig.sites).state = pick(['up', 'up', 'silent', 'refusing'] as const);
      if (move === 'connection') {
        const id = pick([0, 1]);
        watch(random() < 0.5 ? connections.disableConnection(id) : connections.enableConnection(id));
      }
    } catch (error) {
      if (!(error instanceof SipEndpointError)) assert.unreachable(`${where(step)}: ${error instanceof Error ? error.stack : String(error)}`);
    }
    await rig.advance(Math.floor(random() * random() * 20_000));
  }
  // The end: sites back, the far party refuses new calls, everyone hangs up.
  for (const site of rig.sites) site.state = 'up';
  rig.far.policy = (invite) => invite.reject(486);
  for (const session of sessions.sessions) if (session.status !== 'disconnected') watch(calls.hangup(session.id));
  for (const session of rig.far.sessions) if (session.state === 'confirmed') watch(session.bye());
  for (const call of rig.far.ua.invites) if (call.state === 'proceeding') call.reject(486);
  await rig.advance(300_000);
  assert.equal(unexpected, [], `${where('end')}: errors that are not the SDK's typed ones`);
  rig.assertChains();
  const ids = new Set(connections.ids());
  for (const { event } of rig.sessionEvents) assert.ok(ids.has(event.connectionId), `${where('end')}: event on connection ${event.connectionId}`);
  assert.equal(
    sessions.sessions.filter((s) => s.status !== 'disconnected').map((s) => `${s.id} ${s.status}`),
    [],
    `${where('end')}: every call ended`,
  );
  await rig.close();
  rig.assertIdle();
}

const only = Number(process.env['CHAOS_SEED'] ?? NaN);
const seeds = Number.isInteger(only) ? [only] : Array.from({ length: RUNS }, (_, i) => i + 1);

test(`SDK calls under chaos, ${seeds.length} seeded runs: typed errors only, session chains, every call ended, nothing left`, async () => {
  for (const seed of seeds) await chaosRun(seed);
});

test.run();
