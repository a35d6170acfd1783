/** Relative codebase paths ("a/b/c", root ""): parents and ancestors without string scans over lists. */

/** "a/b/c" → "a/b"; top-level names and "" → "". */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** "a/b/c" → ["a", "a/b", "a/b/c"]. */
export function ancestorsAndSelf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  out.push(path);
  return out;
}

/** True when `path` or one of its ancestors is in `set`: O(depth), not O(set). */
export function isWithin(path: string, set: ReadonlySet<string>): boolean {
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) if (set.has(path.slice(0, i))) return true;
  return set.has(path);
}
