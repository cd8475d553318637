/**
 * The lab cast of the QuickStart and of `sip-endpoint sites`: a lab SIP site
 * per connection of the bundled config (registrar with digest auth for 1001
 * and 1002, password "secret", and a proxy to what is registered there) and
 * the answering party, DN 1002, registered at each site and answering every
 * call after a moment of ringing.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabSite } from '../lab/lab-site.ts';
import { Phone } from '../sdk/index.ts';

export const BUNDLED_CONFIG = join(dirname(fileURLToPath(import.meta.url)), '../../examples/quickstart/SipEndpoint.config');
export const LAB_PASSWORD = 'secret';
const USERS = { '1001': LAB_PASSWORD, '1002': LAB_PASSWORD };

/**
 * A lab site on host:port. `say` set: a taken port moves the site to a free
 * one and says so (the QuickStart follows it); without it the error stands
 * (a config names that port).
 */
export async function startLabSite(name: string, host: string, port: number, say?: (text: string) => void): Promise<LabSite> {
  const options = { name, host, users: USERS, minExpires: 2 };
  try {
    return await LabSite.start({ ...options, port });
  } catch (error) {
    if (say === undefined) throw error;
    say(`${name}: ${host}:${port} is taken (${(error as Error).message}); using a free port`);
    return LabSite.start({ ...options, port: 0 });
  }
}

/** The lab answering party: DN 1002 on every site given, answering every call after a moment of ringing. */
export async function answeringParty(sites: Array<{ host: string; port: number; transport: 'udp' | 'tcp' | 'tls' }>): Promise<Phone> {
  const party = await Phone.create({
    connections: sites.map((site) => ({
      user: '1002',
      server: { host: site.host, port: site.port },
      transport: site.transport,
      password: LAB_PASSWORD,
      sendKeepAlive: true,
      keepAliveIntervalSeconds: 1,
      minimumRetrySeconds: 1,
      maximumRetrySeconds: 2,
    })),
  });
  party.sessions.on('sessionStatusChanged', (event) => {
    if (event.direction === 'inbound' && event.status === 'ringing') {
      setTimeout(() => void party.calls.answer(event.sessionId).catch(() => {}), 200);
    }
  });
  return party;
}
