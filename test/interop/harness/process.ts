/**
 * Starting and stopping the real peers (SIPp, Kamailio) for interop tests.
 * Every process is started by us, remembered by PID, and stopped by that PID
 * (SIGTERM, then SIGKILL after a grace period), also when a test fails or the
 * test process exits. Peers only ever bind loopback addresses.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface PeerProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<PeerProcess>();

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Spawns a peer; `ready` (optional) waits until its output matches. */
export async function startPeer(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd?: string; ready?: RegExp; readyTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<PeerProcess> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString('latin1')));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString('latin1')));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.on('error', (error) => resolve(`spawn error: ${error.message}`));
  });
  if (child.pid === undefined) {
    throw new Error(`${name}: could not start ${command}: ${await exited}`);
  }
  const peer: PeerProcess = {
    name,
    pid: child.pid,
    child,
    output: () => log,
    exited,
    stop: async (graceMs = 2000) => {
      running.delete(peer);
      if (child.exitCode !== null || child.signalCode !== null) return;
      killPid(child.pid!, 'SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const done = await Promise.race([exited.then(() => true), grace]);
      // The grace timer must not keep the test process alive once the peer is gone.
      clearTimeout(timer);
      if (!done) {
        killPid(child.pid!, 'SIGKILL');
        await exited;
      }
    },
  };
  running.add(peer);
  if (options.ready !== undefined) {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
    while (!options.ready.test(log)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        running.delete(peer);
        throw new Error(`${name} exited before it was ready (${await exited}):\n${log.slice(-2000)}`);
      }
      if (Date.now() > deadline) {
        await peer.stop();
        throw new Error(`${name} not ready after ${options.readyTimeoutMs ?? 10_000} ms:\n${log.slice(-2000)}`);
      }
      await delay(20);
    }
  }
  return peer;
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Stops every peer still running (call in an after() hook). */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...running].map((peer) => peer.stop()));
}

// Last resort: a test process that exits (or crashes) takes its peers with it.
process.on('exit', () => {
  for (const peer of running) killPid(peer.pid, 'SIGKILL');
});

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
