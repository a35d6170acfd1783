/**
 * Snapshots: a frozen copy of a sandbox's writable layer, stacked over the
 * view it came from. New sandboxes start from it with the snapshot as an
 * extra read-only overlay layer; whiteouts and opaque markers come along
 * (cp -a as root keeps device nodes and trusted.* xattrs).
 */
import { execFile } from 'node:child_process';
import { chmod, lchown, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { WardenError } from '@warden/protocol';
import { newId } from '../../host/ids.js';

const run = promisify(execFile);

export interface SnapshotMeta {
  readonly id: string;
  readonly codebase: string;
  readonly version: number;
  /** The policy the sandbox ran with (input form), reused by sandboxes started from the snapshot. */
  readonly policy: unknown;
  readonly preset: string | undefined;
  /** Parent snapshot ids, topmost first (a snapshot of a sandbox started from a snapshot). */
  readonly parents: readonly string[];
  readonly createdAt: string;
  readonly sandboxId: string;
}

/**
 * What the snapshotted sandbox created belongs to its uid, which no other
 * sandbox has: hand it to root with write-level modes, as the view does for
 * writable files, so sandboxes started from the snapshot can change it.
 * Root-owned entries (copied-up files, whiteouts) are left as they are.
 */
async function adoptLayer(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const p = `${dir}/${name}`;
    const st = await lstat(p);
    if (st.isDirectory()) await adoptLayer(p);
    if (st.uid === 0) continue;
    await lchown(p, 0, 0);
    if (st.isDirectory()) await chmod(p, 0o777);
    else if (st.isFile()) await chmod(p, (st.mode & 0o111) !== 0 ? 0o777 : 0o666);
  }
}

export class SnapshotStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  layerDir(id: string): string {
    return `${this.#root}/${id}/upper`;
  }

  /** Freezes `uppers` (each at the workspace path it covers) into one layer. */
  async create(uppers: ReadonlyArray<{ readonly prefix: string; readonly path: string }>, meta: Omit<SnapshotMeta, 'id' | 'createdAt'>): Promise<SnapshotMeta> {
    const id = newId('snap');
    const full: SnapshotMeta = { ...meta, id, createdAt: new Date().toISOString() };
    const tmp = `${this.#root}/.tmp-${id}`;
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    try {
      const layer = `${tmp}/upper`;
      const whole = uppers.find((u) => u.prefix === '');
      if (whole) await run('cp', ['-a', '--', whole.path, layer]);
      else await mkdir(layer, { mode: 0o555 });
      for (const u of uppers.filter((x) => x.prefix !== '')) {
        // Directories above a writable subtree: read-only, like the view's.
        const parts = u.prefix.split('/');
        for (let i = 1; i < parts.length; i++) await mkdir(`${layer}/${parts.slice(0, i).join('/')}`, { mode: 0o555 }).catch(() => undefined);
        await run('cp', ['-a', '--', u.path, `${layer}/${u.prefix}`]);
      }
      await adoptLayer(layer);
      await writeFile(`${tmp}/meta.json`, JSON.stringify(full, null, 2));
      await rename(tmp, `${this.#root}/${id}`);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw new WardenError('E_INTERNAL', `Could not snapshot sandbox ${meta.sandboxId}: ${(err as Error).message}`, { cause: err });
    }
    return full;
  }

  async get(id: string): Promise<SnapshotMeta> {
    if (!/^snap_[a-z2-7]{12}$/.test(id)) throw new WardenError('E_SNAPSHOT_NOT_FOUND', `No snapshot ${JSON.stringify(id)}: snapshot ids look like snap_abcdefghijkl.`);
    const text = await readFile(`${this.#root}/${id}/meta.json`, 'utf8').catch(() => undefined);
    if (text === undefined) throw new WardenError('E_SNAPSHOT_NOT_FOUND', `No snapshot ${id} in this data directory. Take one with sandbox.snapshot().`);
    return JSON.parse(text) as SnapshotMeta;
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await rm(`${this.#root}/${id}`, { recursive: true, force: true });
  }
}
