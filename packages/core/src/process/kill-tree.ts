/** The teardown of a long-lived process a sandbox keeps for its user (a session's shell, a code context's interpreter). */
import type { SandboxProcess } from './process.js';

/** How long killTree() waits by default for the agent to report the process gone. */
export const KILL_TREE_WAIT_MS = 5_000;

/**
 * SIGKILLs `proc` and everything it started, then waits until `ended`
 * settles, at most `waitMs`: a dead agent never reports the exit, and
 * teardown must not hang on it.
 */
export async function killTree(proc: SandboxProcess, ended: Promise<unknown>, waitMs = KILL_TREE_WAIT_MS): Promise<void> {
  proc.kill('SIGKILL', 'tree');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}
