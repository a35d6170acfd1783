/**
 * Paths as E2B code writes them: envd resolves relative paths and `~` against
 * the user's home (E2B's /home/user). Warden's home is /workspace, where
 * Warden resolves relative paths too. Pure.
 */
import { posix } from 'node:path';
import { HOME } from './wire.js';

/** `~`, `~/x` and relative paths against the home; absolute paths as they are. Empty means the home. */
export function sandboxPath(p: string | undefined | null): string {
  if (p === undefined || p === null || p === '' || p === '~') return HOME;
  if (p.startsWith('~/')) return posix.join(HOME, p.slice(2));
  return p.startsWith('/') ? p : posix.join(HOME, p);
}
