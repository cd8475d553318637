/**
 * `npm run sites:kamailio`: the README's "A session against two Kamailio
 * sites", set up. Two Kamailio sites as the interop suite runs them (the
 * stock-routed test/interop/kamailio/kamailio.cfg, INVITE authentication
 * on) on 127.0.0.1:5070 and 127.0.0.2:5080, users 1001-1003 with password
 * "secret", and DN 1002 registered at both and answering every call (the
 * QuickStart's answering party). Needs Debian's kamailio. Runs until Ctrl-C,
 * then stops the sites by their PIDs.
 */
import { answeringParty } from '../src/cli/lab-cast.ts';
import { kamailioMissing, startSite, stopAllSites } from '../test/interop/harness/kamailio.ts';

const missing = kamailioMissing();
if (missing !== undefined) {
  process.stderr.write(`sites:kamailio: ${missing}\n`);
  process.exit(1);
}
const addresses: Array<[string, number, 'udp' | 'tcp']> = [['127.0.0.1', 5070, 'udp'], ['127.0.0.2', 5080, 'tcp']];
try {
  for (const [index, [address, port]] of addresses.entries()) {
    const site = await startSite({ name: `site${index}`, address, udpPort: port, tcpPort: port, callAuth: true });
    // The TLS port, CA and PID: what a TLS connection and a site outage need. Kamailio's
    // workers (children of that PID) answer SIP: freezing the main process alone changes nothing.
    process.stdout.write(`site ${index}: Kamailio on ${address}:${port} (UDP and TCP), TLS on ${address}:${site.ports.tls} (CA ${site.caCertPath}), PID ${site.pid}\n`);
    process.stdout.write(`  freeze: kill -STOP ${site.pid}; pkill -STOP -P ${site.pid}   thaw: pkill -CONT -P ${site.pid}; kill -CONT ${site.pid}\n`);
  }
} catch (error) {
  process.stderr.write(`sites:kamailio: ${(error as Error).message}\n`);
  await stopAllSites();
  process.exit(1);
}
const party = await answeringParty(addresses.map(([host, port, transport]) => ({ host, port, transport })));
const registered = await party.start();
process.stdout.write(`answering party 1002: ${registered.map((c) => `${c.server} ${c.status}`).join(', ')}\nready; Ctrl-C stops\n`);
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await party.close();
await stopAllSites();
