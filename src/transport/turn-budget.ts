/**
 * The messages all stream connections together handle in one turn of the
 * event loop. Each connection handles at most a few per turn (stream.ts);
 * this bounds their sum, so that a turn stays short however many peers
 * pipeline at once and a new client's request is answered within a few
 * short turns. A connection that has to wait joins a queue, served in
 * order once per turn: a connection that has just been served goes to the
 * back, so none starves. Connections not served yet since they read (a new
 * client's one request) wait in a queue of their own, served first: behind
 * a hundred pipelining peers a newcomer otherwise waited a whole round of
 * them. One budget per process: every connection shares the one event loop.
 */

/**
 * About 2 ms of OPTIONS handling on the 2-core machine it was measured on.
 * Short turns matter twice: Node (libuv 1.46) accepts one connection per
 * turn of the event loop, so the turn time is also how long each queued
 * connection, a legitimate one behind a flood included, waits to be accepted.
 */
export const MESSAGES_PER_LOOP_TURN = 32;
/** The budget of a turn that follows an accept: connections are arriving, so turns stay very short. */
export const MESSAGES_WHILE_ACCEPTING = 4;

let left = MESSAGES_PER_LOOP_TURN;
let armed = false;
let accepted = false;
/** Served first: connections waiting with what they have just read. */
const first: Array<() => void> = [];
/** Connections waiting with the rest of a backlog they have had turns for. */
const waiting: Array<() => void> = [];

/** Takes one message from this turn's budget; false when it is spent (then waitTurn()). */
export function takeTurnBudget(): boolean {
  arm();
  if (left <= 0) return false;
  left--;
  return true;
}

/** A connection was accepted this turn: more may wait in the accept queue, one per turn. */
export function noteAccept(): void {
  accepted = true;
}

/** Calls `resume` on a later turn, after the connections already waiting (in the first queue when `fresh`). */
export function waitTurn(fresh: boolean, resume: () => void): void {
  (fresh ? first : waiting).push(resume);
  arm();
}

function arm(): void {
  if (armed) return;
  armed = true;
  setImmediate(nextTurn);
}

function nextTurn(): void {
  armed = false;
  left = accepted ? MESSAGES_WHILE_ACCEPTING : MESSAGES_PER_LOOP_TURN;
  accepted = false;
  // Only those waiting now: one that waits again goes to the back, for a later turn.
  for (const queue of [first, waiting]) {
    let turn = queue.length;
    while (turn-- > 0 && left > 0) queue.shift()!();
  }
  if (first.length > 0 || waiting.length > 0) arm();
}
