/**
 * A misspelt setting (`pasword`) would otherwise be kept as an unknown one
 * and silently do nothing: a name one edit away from a known setting (one
 * character inserted, deleted, replaced, or two neighbours swapped) is
 * refused with the name it probably meant.
 */

/** The known name `name` is one edit away from, if any (exact matches excluded). */
export function oneEditAway(name: string, known: Iterable<string>): string | undefined {
  for (const candidate of known) if (candidate !== name && withinOneEdit(name, candidate)) return candidate;
  return undefined;
}

function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    // One replacement, or one swap of neighbours.
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  // One insertion or deletion.
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}
