import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WardenError } from '@warden/protocol';

/**
 * Sandbox uids must be able to traverse every directory above `path` (bwrap
 * opens its bind-mount sources as the sandbox uid). Names the first directory
 * that blocks them.
 */
export async function assertTraversableByOthers(path: string, setting: string): Promise<void> {
  for (let dir = path; ; dir = dirname(dir)) {
    const st = await stat(dir);
    if ((st.mode & 0o001) === 0) {
      throw new WardenError(
        'E_INVALID_SPEC',
        `${setting} ${path} is inside ${dir}, which other users cannot enter (mode ${(st.mode & 0o777).toString(8)}), so sandboxes could not reach their files. Choose a ${setting} such as /var/lib/warden, or run chmod o+x ${dir}.`,
      );
    }
    if (dir === '/') return;
  }
}
