/**
 * `sip-endpoint sites`: the QuickStart's lab, left running, so the phone
 * shell and the SDK examples have servers to talk to without Kamailio: a lab
 * site for every <Connectivity> of a SipEndpoint.config (the bundled
 * QuickStart one by default) and the answering party DN 1002 registered at
 * each. Runs until SIGINT or SIGTERM, then stops everything and exits 0.
 */
import { loadEndpointConfig } from '../sdk/config/index.ts';
import { ConfigError, type Phone } from '../sdk/index.ts';
import type { LabSite } from '../lab/lab-site.ts';
import { parseCommandArgs } from './args.ts';
import { answeringParty, BUNDLED_CONFIG, LAB_PASSWORD, startLabSite } from './lab-cast.ts';

export const SITES_HELP = `usage: sip-endpoint sites [--config FILE]

Starts a lab SIP site (registrar with digest auth, proxy to what is
registered there) on the server address of every <Connectivity> of FILE
(default the bundled examples/quickstart/SipEndpoint.config: 127.0.0.1:5070
over UDP and 127.0.0.2:5080 over TCP), and the answering party DN 1002,
registered at each site and answering every call. Users 1001 and 1002,
password "${LAB_PASSWORD}". Lab sites listen on UDP and TCP and only on the
addresses given (use loopback). Runs until interrupted (Ctrl-C), then stops
everything and exits 0; exits 1 when a site cannot start (its port taken).
Then, in another terminal:
  sip-endpoint phone --config FILE
`;

export async function runLabSites(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('sites', args, { config: { type: 'string' } }, false);
  const path = values.config ?? BUNDLED_CONFIG;
  let config;
  try {
    config = loadEndpointConfig(path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const say = (text: string): void => void process.stdout.write(`${text}\n`);
  const sites: LabSite[] = [];
  let party: Phone | undefined;
  const stopAll = async (): Promise<void> => {
    await party?.close();
    for (const site of sites) await site.close();
  };
  try {
    for (const [index, connection] of config.connections.entries()) {
      const { host, port } = connection.server;
      sites.push(await startLabSite(`site ${index}`, host, port));
      say(`site ${index}: lab registrar + proxy on ${host}:${port} (UDP and TCP)`);
    }
    party = await answeringParty(config.connections.map((c) => ({ host: c.server.host, port: c.server.port, transport: c.transport })));
    const registered = await party.start();
    say(`answering party 1002: ${registered.map((c) => `${c.server} ${c.status}`).join(', ')}`);
    const missing = registered.filter((c) => c.status !== 'registered');
    if (missing.length > 0) throw new Error(`1002 could not register at ${missing.map((c) => `${c.server} over ${c.transport} (${c.lastCode ?? ''} ${c.lastReason ?? ''})`).join(', ')}: lab sites take UDP and TCP`);
    say(`ready: users 1001 and 1002, password "${LAB_PASSWORD}"; sip-endpoint phone --config ${path} in another terminal; Ctrl-C stops`);
  } catch (error) {
    process.stderr.write(`sites: ${(error as Error).message}\n`);
    await stopAll();
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('stopping');
  await stopAll();
  return 0;
}
