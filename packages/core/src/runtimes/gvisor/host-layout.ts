/** Reads what the sandbox root is made of on this host (see rootfs.ts). */
import { lstat, readlink } from 'node:fs/promises';
import { ETC_PASSTHROUGH } from '../bwrap/argv.js';
import { hostRoot } from '../bwrap/host-root.js';
import type { EtcEntry, HostLayout } from './rootfs.js';

async function etcEntry(path: string): Promise<EtcEntry | undefined> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return undefined;
  if (st.isSymbolicLink()) return { path, kind: 'symlink', target: await readlink(path) };
  if (st.isDirectory()) return { path, kind: 'dir' };
  if (st.isFile()) return { path, kind: 'file' };
  return undefined;
}

export async function hostLayout(): Promise<HostLayout> {
  const etc: EtcEntry[] = [];
  for (const path of ETC_PASSTHROUGH) {
    const e = await etcEntry(path);
    if (e) etc.push(e);
  }
  return { root: await hostRoot(), etc };
}
