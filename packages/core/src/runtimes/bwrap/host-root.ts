import { lstat, readlink } from 'node:fs/promises';
import type { HostRootEntry } from './argv.js';

/** The host's top-level bin/lib entries, as real directories or (merged /usr) symlinks. */
export async function hostRoot(): Promise<HostRootEntry[]> {
  const out: HostRootEntry[] = [];
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const st = await lstat(`/${name}`).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink()) out.push({ name, symlinkTo: await readlink(`/${name}`) });
    else if (st.isDirectory()) out.push({ name });
  }
  return out;
}
