/**
 * Ports for lab sites, below the system's ephemeral range. A site taken
 * down ("refusing") closes its sockets and must come back on the same
 * ports; a port picked by the system (port 0) comes from the ephemeral
 * range, which every client socket on the machine also draws from, so in
 * between another process could take it (seen as EADDRINUSE on restart
 * while test files ran side by side). Below that range only another lab
 * site picking the same random number could.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Lowest port a lab site picks (above the registered services most machines run). */
const LAB_PORT_FLOOR = 10_000;
/** Where Linux's ephemeral range starts by default, when /proc cannot say. */
const DEFAULT_EPHEMERAL_FLOOR = 32_768;

function ephemeralFloor(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 0 ? first : DEFAULT_EPHEMERAL_FLOOR;
  } catch {
    return DEFAULT_EPHEMERAL_FLOOR;
  }
}

/**
 * A random port in [10000, start of the ephemeral range), or 0 (the
 * system picks) when that range is too narrow to draw from.
 */
export function labPort(): number {
  const ceiling = Math.min(ephemeralFloor(), 65_536);
  if (ceiling - LAB_PORT_FLOOR < 1_000) return 0;
  return randomInt(LAB_PORT_FLOOR, ceiling);
}

