/**
 * Verdicts for what a sandbox changed in its codebase, and the check that
 * refuses to let dangerous changes leave (export, commit) above a level.
 */
import { WardenError } from '@warden/protocol';
import type { Diff } from '../fs/delta/diff.js';
import type { Scanner } from './scanner.js';
import type { Level, Verdict } from './types.js';
import { atLeast } from './verdict.js';

export interface PathVerdict {
  /** Path relative to /workspace, as the diff names it. */
  readonly path: string;
  readonly verdict: Verdict;
}

/** How to read a changed file (inside the sandbox, as its user). */
export type ReadFile = (path: string) => AsyncIterable<Uint8Array>;

/** Scans every added or modified regular file of a diff, two at a time. */
export async function scanDiff(diff: Diff, read: ReadFile, scanner: Scanner, signal?: AbortSignal): Promise<PathVerdict[]> {
  const paths = [...diff.added, ...diff.modified].filter((c) => c.type === 'file').map((c) => c.path);
  const out: PathVerdict[] = new Array<PathVerdict>(paths.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < paths.length; i = next++) {
      const path = paths[i] ?? '';
      out[i] = { path, verdict: await scanner.scanStream(read(`/workspace/${path}`), { name: path }, signal ? { signal } : undefined) };
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** Throws E_SCAN_BLOCKED naming the worst files when any verdict is at `blockAt` or above. */
export function enforce(verdicts: readonly PathVerdict[], blockAt: Level, what: string): void {
  const blocked = verdicts.filter((v) => atLeast(v.verdict.level, blockAt));
  if (blocked.length === 0) return;
  blocked.sort((a, b) => b.verdict.score - a.verdict.score);
  const top = blocked.slice(0, 3).map((b) => `${b.path} (${b.verdict.level}: ${b.verdict.explanation})`);
  throw new WardenError(
    'E_SCAN_BLOCKED',
    `Refused to ${what}: ${blocked.length} file${blocked.length === 1 ? '' : 's'} scanned ${blockAt} or worse — ${top.join('; ')}. Remove or fix ${blocked.length === 1 ? 'it' : 'them'}, or raise the block level if this is a false positive.`,
    { details: { blockAt, files: blocked.slice(0, 20).map((b) => ({ path: b.path, level: b.verdict.level, score: b.verdict.score, sha256: b.verdict.sha256, explanation: b.verdict.explanation })) } },
  );
}
