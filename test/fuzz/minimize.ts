/**
 * Input minimizer for a reported case: removes lines, then ever smaller byte
 * ranges, keeping each removal after which the same problem still shows.
 * Bounded by a budget of attempts; what it returns still reproduces.
 */
export function minimize(input: Uint8Array, reproduces: (bytes: Uint8Array) => boolean, budget = 4000): Uint8Array {
  let best = input;
  let attempts = 0;
  const tryCandidate = (candidate: Uint8Array): boolean => {
    if (attempts >= budget) return false;
    attempts++;
    if (!reproduces(candidate)) return false;
    best = candidate;
    return true;
  };
  // Whole lines first: big steps that keep the message shape.
  for (let k = lineStarts(best).length - 1; k >= 0; k--) {
    const starts = lineStarts(best);
    if (k >= starts.length) continue;
    const end = k + 1 < starts.length ? starts[k + 1]! : best.length;
    tryCandidate(without(best, starts[k]!, end));
  }
  for (let chunk = highestPowerOfTwo(best.length); chunk >= 1; chunk >>= 1) {
    for (let at = 0; at < best.length; ) {
      if (!tryCandidate(without(best, at, Math.min(at + chunk, best.length)))) at += chunk;
      if (attempts >= budget) return best;
    }
  }
  return best;
}

function without(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(bytes.length - (end - start));
  out.set(bytes.subarray(0, start), 0);
  out.set(bytes.subarray(end), start);
  return out;
}

function lineStarts(bytes: Uint8Array): number[] {
  const starts = [0];
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 10) starts.push(i + 1);
  return starts;
}

function highestPowerOfTwo(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}
