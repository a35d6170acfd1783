/**
 * Builds view trees on disk, once per (codebase version, policy), and shares
 * them between sandboxes. Readable files are hard links to the store's blobs
 * (zero copies); a view is built in a temporary directory and renamed into
 * place, so a half-built view is never used.
 */
import { mkdirSync } from 'node:fs';
import { access, chmod, copyFile, link, lstat, mkdir, open, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { WardenError } from '@warden/protocol';
import { newId } from '../../host/ids.js';
import { forEachLimit } from '../store/concurrency.js';
import type { Manifest, Policy } from '../types.js';
import { planView, type ViewNode, type ViewPlan } from './plan.js';

export interface BuiltView {
  /** Directory to use as the overlay's lower layer. */
  readonly dir: string;
  readonly rootMode: number;
  readonly plan: ViewPlan;
}

const PARALLEL = 64;

export class ViewBuilder {
  readonly #root: string;
  readonly #blobPath: (sha256: string) => string;
  readonly #building = new Map<string, Promise<BuiltView>>();
  /** Builds in progress: a variant they just made may not be linked yet. */
  #inProgress = 0;

  /** `root` must be on the same filesystem as the blobs (views hard-link them). */
  constructor(root: string, blobPath: (sha256: string) => string) {
    this.#root = root;
    this.#blobPath = blobPath;
    mkdirSync(`${root}/variants`, { recursive: true, mode: 0o700 });
  }

  /** The view of `manifest` under `policy`, built now or taken from the cache. */
  get(manifest: Manifest, policy: Policy): Promise<BuiltView> {
    const key = `${manifest.codebase}@${manifest.version}~${policy.id.slice(0, 24)}`;
    let p = this.#building.get(key);
    if (!p) {
      p = this.#build(key, manifest, policy);
      this.#building.set(key, p);
      p.catch(() => this.#building.delete(key));
    }
    return p;
  }

  async #build(key: string, manifest: Manifest, policy: Policy): Promise<BuiltView> {
    this.#inProgress++;
    try {
      return await this.#buildNow(key, manifest, policy);
    } finally {
      this.#inProgress--;
    }
  }

  async #buildNow(key: string, manifest: Manifest, policy: Policy): Promise<BuiltView> {
    const plan = planView(manifest, policy);
    const dir = `${this.#root}/${key}`;
    if (await access(`${dir}/.complete`).then(() => true, () => false)) {
      return { dir: `${dir}/tree`, rootMode: plan.rootMode, plan };
    }
    const tmp = `${this.#root}/.build-${newId('v')}`;
    try {
      await mkdir(`${tmp}/tree`, { recursive: true, mode: 0o700 });
      await this.#materialize(`${tmp}/tree`, plan);
      await chmod(`${tmp}/tree`, plan.rootMode);
      await writeFile(`${tmp}/.complete`, JSON.stringify({ codebase: manifest.codebase, version: manifest.version, policy: policy.id, nodes: plan.nodes.length }));
      await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
        // Another process built the same view first: use theirs.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        await rm(tmp, { recursive: true, force: true });
      });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw new WardenError('E_SANDBOX_START_FAILED', `Could not build the view of ${manifest.codebase} v${manifest.version}: ${(err as Error).message}`, { cause: err });
    }
    return { dir: `${dir}/tree`, rootMode: plan.rootMode, plan };
  }

  /**
   * Removes every view of a deleted codebase, then the mode variants no view
   * links any more, so the disk space of the codebase is given back.
   */
  async removeCodebase(name: string): Promise<void> {
    for (const key of [...this.#building.keys()]) if (key.startsWith(`${name}@`)) this.#building.delete(key);
    for (const entry of await readdir(this.#root)) {
      if (entry.startsWith(`${name}@`)) await rm(`${this.#root}/${entry}`, { recursive: true, force: true });
    }
    if (this.#inProgress > 0) return; // swept by the next delete
    for (const v of await readdir(`${this.#root}/variants`)) {
      const path = `${this.#root}/variants/${v}`;
      if ((await lstat(path)).nlink === 1) await rm(path, { force: true });
    }
  }

  async #materialize(tree: string, plan: ViewPlan): Promise<void> {
    // Directories first, in order (parents before children), then the rest in parallel batches.
    for (const n of plan.nodes) if (n.kind === 'dir') await mkdir(`${tree}/${n.path}`, { mode: 0o700 });
    await forEachLimit(
      plan.nodes.filter((n) => n.kind !== 'dir'),
      PARALLEL,
      (n) => this.#place(tree, n),
    );
    // Modes last: 0555 directories would not matter to root, but the intent is clearer.
    for (const n of plan.nodes) if (n.kind === 'dir') await chmod(`${tree}/${n.path}`, n.mode);
  }

  async #place(tree: string, n: ViewNode): Promise<void> {
    const dest = `${tree}/${n.path}`;
    switch (n.kind) {
      case 'dir':
        return;
      case 'symlink':
        await symlink(n.target, dest);
        return;
      case 'placeholder': {
        // Same name and size, no content: a sparse file nobody but root can open.
        const fh = await open(dest, 'wx', 0o000);
        await fh.truncate(n.size);
        await fh.close();
        return;
      }
      case 'file': {
        const source = await this.#variant(n.sha256, n.mode);
        try {
          await link(source, dest);
        } catch (err) {
          // Too many links to one inode (e.g. thousands of identical files): copy.
          if ((err as NodeJS.ErrnoException).code !== 'EMLINK') throw err;
          await copyFile(source, dest);
          await chmod(dest, n.mode);
        }
      }
    }
  }

  /** The blob with the given permission bits: the store's own (0444) or a copy made once. */
  async #variant(sha256: string, mode: number): Promise<string> {
    const blob = this.#blobPath(sha256);
    if (mode === 0o444) return blob;
    const path = `${this.#root}/variants/${sha256}.${mode.toString(8)}`;
    if (await access(path).then(() => true, () => false)) return path;
    const tmp = `${path}.${newId('t')}`;
    await copyFile(blob, tmp);
    await chmod(tmp, mode);
    await rename(tmp, path);
    return path;
  }
}
