/**
 * The incoming connection cap (TCP and TLS, handshakes included) with
 * eviction: when it is full, a new connection takes the slot of the incoming
 * connection that has gone longest without delivering a complete message.
 * Connections that never delivered one go first (oldest accept first), then
 * those that did (oldest last message first). So a flood of idle or
 * trickling connections, even from a legitimate client's own address, cannot
 * keep that client out: it connects, sends, and is the newest.
 *
 * Outgoing connections have their own cap (connection-pool.ts) and never
 * appear here. An optional per-address cap refuses instead of evicting.
 */

import type { Endpoint } from './types.ts';

export interface IncomingSlot {
  /** The peer (its host is what the per-address cap counts). */
  readonly source: Endpoint;
  /** Closes the connection holding the slot (eviction); it then calls release(). */
  evict: () => void;
}

export type Admission = 'admitted' | 'address-limit';

export class IncomingSlots {
  /** Never delivered a complete message; Set order = accept order. */
  readonly #fresh = new Set<IncomingSlot>();
  /** Delivered at least one; Set order = last message, oldest first. */
  readonly #active = new Set<IncomingSlot>();
  readonly #perHost = new Map<string, number>();

  private readonly max: number;
  /** 0: no per-address cap. */
  private readonly maxPerAddress: number;
  private readonly onEvict: (slot: IncomingSlot) => void;

  constructor(
    max: number,
    maxPerAddress: number,
    onEvict: (slot: IncomingSlot) => void,
  ) {
    this.max = max;
    this.maxPerAddress = maxPerAddress;
    this.onEvict = onEvict;
  }

  get size(): number {
    return this.#fresh.size + this.#active.size;
  }

  /** Takes a slot for a new connection, evicting one when the cap is full. */
  admit(slot: IncomingSlot): Admission {
    const fromHost = this.#perHost.get(slot.source.host) ?? 0;
    if (this.maxPerAddress > 0 && fromHost >= this.maxPerAddress) return 'address-limit';
    // Evicting closes synchronously (destroy), which releases the slot; the
    // bound on the loop guards against an evict() that does not.
    for (let tries = 0; this.size >= this.max && tries < 4; tries++) {
      const victim = first(this.#fresh) ?? first(this.#active);
      if (victim === undefined) break;
      this.release(victim);
      this.onEvict(victim);
      victim.evict();
    }
    this.#fresh.add(slot);
    this.#perHost.set(slot.source.host, fromHost + 1);
    return 'admitted';
  }

  /** The connection delivered a complete message: it moves to the back of the line. */
  delivered(slot: IncomingSlot): void {
    if (this.#fresh.delete(slot)) {
      this.#active.add(slot);
    } else if (this.#active.delete(slot)) {
      this.#active.add(slot);
    }
  }

  /** Frees the slot (the connection closed); unknown slots are ignored. */
  release(slot: IncomingSlot): void {
    if (!this.#fresh.delete(slot) && !this.#active.delete(slot)) return;
    const left = (this.#perHost.get(slot.source.host) ?? 1) - 1;
    if (left <= 0) this.#perHost.delete(slot.source.host);
    else this.#perHost.set(slot.source.host, left);
  }
}

function first<T>(set: Set<T>): T | undefined {
  return set.values().next().value;
}
