/**
 * Helpers of the tests that run the command line (not a test file itself):
 * a SipEndpoint.config for lab sites, and a port free for a lab site.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Writes dir/SipEndpoint.config: user 1001, password "secret", one <Connectivity> per [host, port, protocol]. */
export function writeConfig(dir: string, servers: Array<[string, number, string]>): string {
  const path = join(dir, 'SipEndpoint.config');
  const basic = servers.map(([host, port, protocol]) => `<Connectivity user="1001" server="${host}:${port}" protocol="${protocol}"/>`).join('');
  const proxies = servers.map((_, i) => `<section name="proxy${i}"><setting name="password" value="secret"/></section>`).join('');
  writeFileSync(path, `<Cfg><Container name="Basic">${basic}</Container><Container name="Genesys"><domain name="proxies">${proxies}</domain></Container></Cfg>`);
  return path;
}

/** A port free on `host` now for UDP and TCP alike (a lab site takes both). */
export async function freePort(host: string): Promise<number> {
  for (;;) {
    const socket = createSocket('udp4');
    socket.bind(0, host);
    await once(socket, 'listening');
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    const server = createServer();
    const tcpFree = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, host, () => resolve(true));
    });
    if (tcpFree) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    }
  }
}
