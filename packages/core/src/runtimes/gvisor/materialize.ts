/** Writes a rootfs plan (rootfs.ts) to disk: root-owned, nothing writable by others. */
import { chmod, copyFile, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import type { RootfsEntry } from './rootfs.js';

/** Builds the tree beside `dir` and renames it into place, so a half-built root is never served. */
export async function writeRootfs(dir: string, entries: readonly RootfsEntry[]): Promise<void> {
  const tmp = `${dir}.building`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { mode: 0o755 });
  try {
    for (const e of entries) {
      const path = `${tmp}${e.path}`;
      switch (e.kind) {
        case 'dir':
          await mkdir(path, { recursive: true, mode: 0o755 });
          break;
        case 'symlink':
          await symlink(e.target, path);
          break;
        case 'file':
          await writeFile(path, e.content, { mode: e.mode });
          await chmod(path, e.mode);
          break;
        case 'copy':
          await copyFile(e.source, path);
          await chmod(path, e.mode);
          break;
      }
    }
    // The umask may have taken bits from directories made with mkdir.
    for (const e of entries) if (e.kind === 'dir') await chmod(`${tmp}${e.path}`, 0o755);
    await chmod(tmp, 0o755);
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
