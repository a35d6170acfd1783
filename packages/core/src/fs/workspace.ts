/**
 * A sandbox's codebase workspace while it runs: the version it started from,
 * the levels its policy gave each path, and its copy-on-write delta, with the
 * operations on that delta (diff, export, commit, snapshot).
 */
import { WardenError, type PolicyInput } from '@warden/protocol';
import type { DeltaPaths } from '../runtimes/driver.js';
import { planCommit } from './delta/commit.js';
import { computeDiff, type Diff } from './delta/diff.js';
import { exportPatch, exportTar } from './delta/export.js';
import type { SnapshotMeta, SnapshotStore } from './delta/snapshot.js';
import type { Level, Manifest, ManifestEntry } from './types.js';

/** What the workspace needs from the codebase store. */
export interface CodebaseBlobs {
  blobPath(sha256: string): string;
  addVersion(name: string, entries: ManifestEntry[], blobsFrom: Map<string, string>): Promise<Manifest>;
}

export interface CodebaseWorkspaceInit {
  readonly sandboxId: string;
  readonly base: Manifest;
  readonly levels: ReadonlyMap<string, Level>;
  readonly policy: PolicyInput | undefined;
  readonly preset: string | undefined;
  /** Snapshot layers under the live delta, topmost first (ids). */
  readonly snapshotLayers: readonly string[];
  readonly store: CodebaseBlobs;
  readonly snapshots: SnapshotStore;
}

/** Runs a function with every process of the sandbox stopped. */
export type Freezer = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * Every operation reads sandbox-controlled paths as root on the host, so each
 * one runs with the sandbox frozen (nothing can be swapped while it reads)
 * and only touches paths whose every directory was checked to be a real
 * directory (a symlink planted in the tree is never followed).
 */
export class CodebaseWorkspace {
  readonly #i: CodebaseWorkspaceInit;
  #paths: DeltaPaths | undefined;
  #freeze: Freezer | undefined;

  constructor(init: CodebaseWorkspaceInit) {
    this.#i = init;
  }

  get codebase(): { name: string; version: number } {
    return { name: this.#i.base.codebase, version: this.#i.base.version };
  }

  attach(paths: DeltaPaths, freeze: Freezer): void {
    this.#paths = paths;
    this.#freeze = freeze;
  }

  #live(): DeltaPaths {
    if (!this.#paths) throw new WardenError('E_SANDBOX_CLOSED', `Sandbox ${this.#i.sandboxId} is not running; its changes are gone with it.`);
    return this.#paths;
  }

  #frozen<T>(fn: () => Promise<T>): Promise<T> {
    this.#live();
    return (this.#freeze as Freezer)(fn);
  }

  diff(): Promise<Diff> {
    return this.#frozen(() => this.#diff());
  }

  #diff(): Promise<Diff> {
    const p = this.#live();
    return computeDiff({
      merged: p.merged,
      uppers: [...p.uppers, ...this.#i.snapshotLayers.map((id) => ({ prefix: '', path: this.#i.snapshots.layerDir(id) }))],
      base: this.#i.base,
      levels: this.#i.levels,
    });
  }

  exportTar(outFile: string): Promise<Diff> {
    return this.#frozen(async () => {
      const diff = await this.#diff();
      await exportTar(this.#live().merged, diff, outFile);
      return diff;
    });
  }

  exportPatch(): Promise<string> {
    return this.#frozen(async () => {
      const diff = await this.#diff();
      return exportPatch(this.#live().merged, diff, this.#i.base, this.#i.levels, (sha) => this.#i.store.blobPath(sha));
    });
  }

  commit(): Promise<Manifest> {
    return this.#frozen(async () => {
      const diff = await this.#diff();
      const plan = await planCommit({ merged: this.#live().merged, base: this.#i.base, levels: this.#i.levels, diff });
      return this.#i.store.addVersion(this.#i.base.codebase, plan.entries, plan.blobsFrom);
    });
  }

  snapshot(): Promise<SnapshotMeta> {
    // cp -a copies symlinks as symlinks and the layer root is Warden's own path.
    return this.#frozen(() => this.#i.snapshots.create(this.#live().uppers, {
      codebase: this.#i.base.codebase,
      version: this.#i.base.version,
      policy: this.#i.policy,
      preset: this.#i.preset,
      parents: this.#i.snapshotLayers,
      sandboxId: this.#i.sandboxId,
    }));
  }

  detach(): void {
    this.#paths = undefined;
    this.#freeze = undefined;
  }
}
