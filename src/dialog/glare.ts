/**
 * The wait before retrying a re-INVITE that got 491 (RFC 3261 s14.1): "If
 * the UAC is the owner of the Call-ID of the dialog ID (meaning it generated
 * the value), T has a randomly chosen value between 2.1 and 4 seconds in
 * units of 10 ms. If the UAC is not the owner of the Call-ID of the dialog
 * ID, T has a randomly chosen value of between 0 and 2 seconds in units of
 * 10 ms."
 */

/** Milliseconds to wait, a multiple of 10; `random` uniform in [0, 1). */
export function glareWaitMs(ownsCallId: boolean, random: () => number): number {
  const [low, high] = ownsCallId ? [2100, 4000] : [0, 2000];
  const steps = (high - low) / 10;
  return low + 10 * Math.min(steps, Math.floor(random() * (steps + 1)));
}

/**
 * RFC 3261 s14.2: a UAS that gets a second INVITE before answering the first
 * "MUST return a 500 ... and MUST include a Retry-After header field with a
 * randomly chosen value of between 0 and 10 seconds."
 */
export function retryAfterSeconds(random: () => number): number {
  return Math.min(10, Math.floor(random() * 11));
}
