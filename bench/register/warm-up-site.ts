/**
 * The register bench's warm-up site, in a process of its own:
 * `node --import tsx bench/register/warm-up-site.ts COUNT`. A lab site on
 * 127.0.0.1 (a free port) with users w0..wCOUNT-1, password "secret"; prints
 * the port on stdout and closes when stdin ends.
 *
 * Why a process of its own: in the measured process, the lab site's own
 * work (server transactions keep their last response for Timer J, 32 s)
 * left tens of MB of promoted garbage, which V8 then collected inside the
 * timed phase.
 */
import { LabSite } from '../../src/lab/lab-site.ts';

const count = Number(process.argv[2] ?? '0');
if (!Number.isInteger(count) || count < 1) throw new Error('usage: warm-up-site.ts COUNT');
const users: Record<string, string> = {};
for (let i = 0; i < count; i++) users[`w${i}`] = 'secret';
const site = await LabSite.start({ name: 'warm-up', host: '127.0.0.1', port: 0, users });
process.stdout.write(`${site.port}\n`);
process.stdin.resume();
process.stdin.on('end', () => void site.close().then(() => process.exit(0)));
