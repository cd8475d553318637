/**
 * Views into a shared chunk that may be kept for only the rest of this turn
 * (see ServerTransactionBase.keepProvisional): each holder registered here is
 * asked, once the turn's synchronous work is done (a microtask), to copy what
 * it still keeps. Most holders drop the view in the same turn, so most
 * copies are never made; none outlives the turn as a view.
 */

export interface TurnViewHolder {
  /** Replaces a view still kept by a copy that owns its memory. */
  ownKeptView(): void;
}

let pending: TurnViewHolder[] = [];

/** Asks `holder` to own its view at the end of this turn. */
export function ownAtEndOfTurn(holder: TurnViewHolder): void {
  pending.push(holder);
  // A promise job, not queueMicrotask: the core runs where only the language's own globals exist.
  if (pending.length === 1) void Promise.resolve().then(ownPending);
}

function ownPending(): void {
  const holders = pending;
  pending = [];
  for (const holder of holders) holder.ownKeptView();
}
