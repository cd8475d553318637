/**
 * The messages all stream connections together handle in one turn of the
 * event loop. Each connection handles at most a few per turn (stream.ts);
 * this bounds their sum, so that a turn stays short however many peers
 * pipeline at once and a new client's request is answered within a few
 * short turns. A connection that has to wait joins one queue, served in
 * order once per turn: a connection that has just been served goes to the
 * back, so none starves. One budget per process: every connection shares
 * the one event loop.
 */

/** About 5 ms of OPTIONS handling on the 2-core machine it was measured on. */
export const MESSAGES_PER_LOOP_TURN = 64;

let left = MESSAGES_PER_LOOP_TURN;
let armed = false;
const waiting: Array<() => void> = [];

/** Takes one message from this turn's budget; false when it is spent (then waitTurn()). */
export function takeTurnBudget(): boolean {
  arm();
  if (left <= 0) return false;
  left--;
  return true;
}

/** Calls `resume` on a later turn, after the connections already waiting. */
export function waitTurn(resume: () => void): void {
  waiting.push(resume);
  arm();
}

function arm(): void {
  if (armed) return;
  armed = true;
  setImmediate(nextTurn);
}

function nextTurn(): void {
  armed = false;
  left = MESSAGES_PER_LOOP_TURN;
  // Only those waiting now: one that waits again goes to the back, for a later turn.
  let turn = waiting.length;
  while (turn-- > 0 && left > 0) waiting.shift()!();
  if (waiting.length > 0) arm();
}
