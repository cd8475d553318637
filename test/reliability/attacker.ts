/**
 * Runs one attack (attacks.ts) in a process of its own, so that the
 * attacker's work never delays the legitimate client's measurements in the
 * test process. On `stop` it closes its sockets, sends the lifetime of each
 * (ms, open -> closed or -> stop) and exits.
 *
 *   node --import tsx test/reliability/attacker.ts KIND PORT CONNECTIONS
 */
import { startAttack, type AttackKind } from './attacks.ts';

const [kind, port, connections] = process.argv.slice(2);
const attack = startAttack(kind as AttackKind, Number(port), Number(connections));
process.send?.({ type: 'started' });
process.on('message', (message: { type?: string }) => {
  if (message.type !== 'stop') return;
  const stoppedAt = performance.now();
  attack.stop();
  const lifetimes = attack.sockets.map((s) => Math.round((s.closedAt < 0 ? stoppedAt : s.closedAt) - s.openedAt));
  process.send?.({ type: 'lifetimes', lifetimes }, () => process.exit(0));
});
