/**
 * Test TLS material made with the openssl CLI: a throw-away CA and a server
 * certificate signed by it, for the loopback peers (Kamailio's tls module)
 * and for our TLS client to verify against. ECDSA P-256 keys: fast to make.
 * Nothing here is secret; everything lives in the directory given.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  /** PEM of the CA that signed `certPath` (give it to the TLS client as `ca`). */
  caCertPath: string;
  caKeyPath: string;
  /** PEM server certificate (also usable as a client certificate). */
  certPath: string;
  keyPath: string;
}

export interface CertificateOptions {
  /** Subject CN of the server certificate; default the first IP or DNS name. */
  commonName?: string;
  /** subjectAltName IP entries, e.g. ['127.0.0.2']. */
  ips?: readonly string[];
  /** subjectAltName DNS entries, e.g. ['localhost']. */
  dnsNames?: readonly string[];
  /** Validity in days (default 7). */
  days?: number;
}

function openssl(args: readonly string[], cwd: string): void {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (run.error !== undefined) {
    throw new Error(`openssl could not be run (is it installed?): ${run.error.message}`);
  }
  if (run.status !== 0) {
    throw new Error(`openssl ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  }
}

/** Makes a CA and a server certificate for the given names into `dir` (created if needed). */
export function makeTestCertificates(dir: string, options: CertificateOptions = {}): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const ips = options.ips ?? [];
  const dnsNames = options.dnsNames ?? [];
  const commonName = options.commonName ?? ips[0] ?? dnsNames[0] ?? 'localhost';
  const days = String(options.days ?? 7);
  const out: TestCertificates = {
    caCertPath: join(dir, 'ca.pem'),
    caKeyPath: join(dir, 'ca.key'),
    certPath: join(dir, 'cert.pem'),
    keyPath: join(dir, 'key.pem'),
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    [
      'req', '-x509', ...ec, '-days', days, '-sha256',
      '-subj', `/CN=sip-endpoint test CA ${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', out.caKeyPath, '-out', out.caCertPath,
    ],
    dir,
  );
  const san = [...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((name) => `DNS:${name}`)];
  const extFile = join(dir, 'server-ext.cnf');
  writeFileSync(
    extFile,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      ...(san.length > 0 ? [`subjectAltName=${san.join(',')}`] : []),
      '',
    ].join('\n'),
  );
  const csr = join(dir, 'server.csr');
  openssl(['req', '-new', ...ec, '-subj', `/CN=${commonName}`, '-keyout', out.keyPath, '-out', csr], dir);
  openssl(
    [
      'x509', '-req', '-in', csr, '-CA', out.caCertPath, '-CAkey', out.caKeyPath,
      '-set_serial', `0x${Date.now().toString(16)}`, '-days', days, '-sha256',
      '-extfile', extFile, '-out', out.certPath,
    ],
    dir,
  );
  return out;
}
