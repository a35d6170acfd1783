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

export class CodebaseWorkspace {
  readonly #i: CodebaseWorkspaceInit;
  #paths: DeltaPaths | undefined;

  constructor(init: CodebaseWorkspaceInit) {
    this.#i = init;
  }

  get codebase(): { name: string; version: number } {
    return { name: this.#i.base.codebase, version: this.#i.base.version };
  }

  attach(paths: DeltaPaths): void {
    this.#paths = paths;
  }

  #live(): DeltaPaths {
    if (!this.#paths) throw new WardenError('E_SANDBOX_CLOSED', `Sandbox ${this.#i.sandboxId} is not running; its changes are gone with it.`);
    return this.#paths;
  }

  diff(): Promise<Diff> {
    const p = this.#live();
    return computeDiff({
      merged: p.merged,
      uppers: [p.upper, ...this.#i.snapshotLayers.map((id) => this.#i.snapshots.layerDir(id))],
      base: this.#i.base,
      levels: this.#i.levels,
    });
  }

  async exportTar(outFile: string): Promise<Diff> {
    const diff = await this.diff();
    await exportTar(this.#live().merged, diff, outFile);
    return diff;
  }

  async exportPatch(): Promise<string> {
    const diff = await this.diff();
    return exportPatch(this.#live().merged, diff, this.#i.base, (sha) => this.#i.store.blobPath(sha));
  }

  async commit(): Promise<Manifest> {
    const diff = await this.diff();
    const plan = await planCommit({ merged: this.#live().merged, base: this.#i.base, levels: this.#i.levels, diff });
    return this.#i.store.addVersion(this.#i.base.codebase, plan.entries, plan.blobsFrom);
  }

  snapshot(): Promise<SnapshotMeta> {
    return this.#i.snapshots.create(this.#live().upper, {
      codebase: this.#i.base.codebase,
      version: this.#i.base.version,
      policy: this.#i.policy,
      preset: this.#i.preset,
      parents: this.#i.snapshotLayers,
      sandboxId: this.#i.sandboxId,
    });
  }

  detach(): void {
    this.#paths = undefined;
  }
}
