/**
 * Unmounts whatever is still mounted at or below a dead engine's state dir
 * in this mount namespace. Sandboxes mount their overlays and tmpfs in the
 * launcher's private namespace, which dies with them, so normally there is
 * nothing; but a mount left here would make removing the state dir delete
 * files through it, so it is checked, not assumed.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { WardenError } from '@warden/protocol';
import { parseMountinfo } from '../limits/layout.js';

const run = promisify(execFile);
const UMOUNT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
const MAX_PASSES = 8;


/** Mount points at or below `dir`, last mounted first (the order to unmount them in; stacked mounts repeat). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const root = dir.replace(/\/+$/, '');
  return parseMountinfo(mountinfo)
    .map((m) => m.point)
    .filter((p) => p === root || p.startsWith(`${root}/`))
    .reverse();
}

async function umount(point: string, lazy: boolean): Promise<boolean> {
  // --no-canonicalize: the kernel gets the path as listed, not re-resolved by umount(8).
  const argv = ['--no-canonicalize', ...(lazy ? ['--lazy'] : []), '--', point];
  return run('umount', argv, { env: UMOUNT_ENV, timeout: 10_000 }).then(
    () => true,
    () => false,
  );
}

/**
 * Unmounts everything at or below `dir` (a canonical path), returning the
 * mount points unmounted. A plain unmount first; a lazy one (detached now,
 * freed once unused) only for a mount still busy. Throws E_INTERNAL if
 * something is still mounted there afterwards.
 */
export async function unmountUnder(dir: string): Promise<string[]> {
  const done: string[] = [];
  for (let pass = 0; ; pass++) {
    const left = mountsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir);
    if (left.length === 0) return done;
    if (pass === MAX_PASSES) {
      throw new WardenError('E_INTERNAL', `Could not unmount ${left.join(', ')}; umount --lazy failed too. Unmount them by hand, then run recovery again.`);
    }
    for (const point of left) {
      if ((await umount(point, false)) || (await umount(point, true))) done.push(point);
    }
  }
}
