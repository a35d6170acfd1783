/**
 * Pure: whether an archive member's name or link target leaves the directory
 * it is unpacked into. Both `/` and `\` count as separators (Windows
 * unpackers split on either).
 */

export type PathProblem = 'absolute' | 'traversal';

/** `absolute` for `/x`, `\x`, `C:x`, `\\host\x`; `traversal` when `..` climbs above the start. */
export function pathProblem(name: string): PathProblem | undefined {
  if (/^(?:[/\\]|[A-Za-z]:)/.test(name)) return 'absolute';
  return climbs(name.split(/[/\\]/), 0) ? 'traversal' : undefined;
}

/**
 * Whether a symbolic link at `linkPath` pointing at `target` resolves outside
 * the archive's root: an absolute target, or `..` climbing above the root from
 * the link's directory.
 */
export function linkEscapes(linkPath: string, target: string): boolean {
  if (target === '' || /^(?:[/\\]|[A-Za-z]:)/.test(target)) return target !== '';
  const dir = linkPath.split(/[/\\]/).filter((s) => s !== '' && s !== '.');
  dir.pop(); // the link itself
  return climbs([...dir, ...target.split(/[/\\]/)], 0);
}

function climbs(segments: readonly string[], start: number): boolean {
  let depth = start;
  for (const s of segments) {
    if (s === '..') {
      if (--depth < 0) return true;
    } else if (s !== '' && s !== '.') depth++;
  }
  return false;
}
