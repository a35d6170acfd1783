/**
 * The engine's codebase side: the store, the shared views, snapshots, and
 * which codebases running sandboxes use (so a used codebase is not deleted).
 */
import { WardenError, type Limits, type PolicyInput } from '@warden/protocol';
import type { WorkspaceMount } from '../runtimes/driver.js';
import { SnapshotStore, type SnapshotMeta } from './delta/snapshot.js';
import { compilePolicy } from './policy/index.js';
import { openCodebaseStore, type CodebaseStore } from './store/index.js';
import type { Manifest } from './types.js';
import { ViewBuilder } from './view/build.js';
import { CodebaseWorkspace } from './workspace.js';

const MiB = 1024 * 1024;

export interface LayeredWorkspace {
  readonly mount: WorkspaceMount;
  readonly workspace: CodebaseWorkspace;
  /** Drops the in-use mark. Idempotent. */
  release(): void;
}

export interface CodebaseRequest {
  readonly sandboxId: string;
  readonly codebase?: { readonly name: string; readonly version?: number };
  readonly snapshot?: string;
  readonly policy?: PolicyInput;
  readonly preset?: string;
  readonly limits: Readonly<Limits>;
}

export class Codebases {
  readonly store: CodebaseStore;
  readonly snapshots: SnapshotStore;
  readonly #views: ViewBuilder;
  readonly #inUse = new Map<string, number>();

  private constructor(store: CodebaseStore, views: ViewBuilder, snapshots: SnapshotStore) {
    this.store = store;
    this.#views = views;
    this.snapshots = snapshots;
  }

  static async open(dataDir: string): Promise<Codebases> {
    const store = await openCodebaseStore(`${dataDir}/codebases`);
    return new Codebases(store, new ViewBuilder(`${dataDir}/views`, (sha) => store.blobPath(sha)), new SnapshotStore(`${dataDir}/snapshots`));
  }

  usersOf(name: string): number {
    return this.#inUse.get(name) ?? 0;
  }

  /** Deletes a codebase unless a running sandbox uses it. */
  delete(name: string): Promise<void> {
    return this.store.delete(name, { inUse: (n: string) => this.usersOf(n) });
  }

  async prepare(req: CodebaseRequest): Promise<LayeredWorkspace> {
    let snapshot: SnapshotMeta | undefined;
    let manifest: Manifest;
    let policyInput = req.policy;
    let preset = req.preset;
    if (req.snapshot !== undefined) {
      snapshot = await this.snapshots.get(req.snapshot);
      manifest = await this.store.show(snapshot.codebase, snapshot.version);
      policyInput = snapshot.policy as PolicyInput | undefined;
      preset = snapshot.preset;
    } else if (req.codebase) {
      manifest = await this.store.show(req.codebase.name, req.codebase.version);
    } else {
      throw new WardenError('E_INTERNAL', 'prepare() needs a codebase or a snapshot');
    }
    const policy = compilePolicy(policyInput, preset);
    const view = await this.#views.get(manifest, policy);
    const layers = snapshot ? [snapshot.id, ...snapshot.parents] : [];
    const name = manifest.codebase;
    this.#inUse.set(name, this.usersOf(name) + 1);
    let released = false;
    return {
      mount: {
        kind: 'layers',
        lowers: [...layers.map((id) => this.snapshots.layerDir(id)), view.dir],
        rootMode: view.rootMode,
        sizeBytes: req.limits.diskMb * MiB,
        inodes: req.limits.diskInodes,
      },
      workspace: new CodebaseWorkspace({
        sandboxId: req.sandboxId,
        base: manifest,
        levels: view.plan.levels,
        policy: policyInput,
        preset,
        snapshotLayers: layers,
        store: this.store,
        snapshots: this.snapshots,
      }),
      release: () => {
        if (released) return;
        released = true;
        this.#inUse.set(name, this.usersOf(name) - 1);
      },
    };
  }
}
