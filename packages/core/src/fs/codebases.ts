/**
 * The engine's codebase side: the store, the shared views, snapshots, and
 * which codebases running sandboxes use (so a used codebase is not deleted).
 */
import { WardenError, type Limits, type PolicyInput } from '@warden/protocol';
import type { WorkspaceMount } from '../runtimes/driver.js';
import { SnapshotStore, type SnapshotMeta } from './delta/snapshot.js';
import { compilePolicy } from './policy/index.js';
import { openCodebaseStore, type CodebaseStore } from './store/index.js';
import { parentOf } from './paths.js';
import type { Manifest } from './types.js';
import { ViewBuilder, type BuiltView } from './view/build.js';
import { CodebaseWorkspace } from './workspace.js';

const MiB = 1024 * 1024;
const MANIFEST_CACHE = 16;

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

/** Paths the launcher can pass in mount options (no separators of their own). */
const PLAIN = /^[^,:\\\n]*$/;
/** Beyond this many writable subtrees, one overlay of everything is simpler. */
const MAX_SUBTREES = 8;

/**
 * How to mount a view. Overlayfs costs a few µs on every open, so only what
 * can change goes through it: nothing writable → a read-only bind; writable
 * only inside some directories → a read-only bind plus an overlay on each
 * of them; otherwise (writable root, a writable file in a read-only
 * directory, snapshot layers) → one overlay of everything.
 */
export function workspaceLayout(
  view: BuiltView,
  snapshotLayers: readonly string[],
): { base?: string; overlays: Array<{ prefix: string; lowers: string[]; rootMode: number }> } {
  const whole = { overlays: [{ prefix: '', lowers: [...snapshotLayers, view.dir], rootMode: view.rootMode }] };
  if (snapshotLayers.length > 0 || (view.rootMode & 0o222) !== 0) return whole;
  const dirModes = new Map<string, number>();
  for (const n of view.plan.nodes) if (n.kind === 'dir') dirModes.set(n.path, n.mode);
  const writableDir = (p: string): boolean => ((dirModes.get(p) ?? 0) & 0o222) !== 0;
  const roots = new Set<string>();
  for (const [path, level] of view.plan.levels) {
    if (level !== 'write' || path === '') continue;
    // The top of the chain of writable directories holding this entry.
    let top = dirModes.has(path) && writableDir(path) ? path : parentOf(path);
    if (!writableDir(top)) return whole; // a writable file in a read-only directory
    while (parentOf(top) !== '' && writableDir(parentOf(top))) top = parentOf(top);
    roots.add(top);
  }
  if (roots.size > MAX_SUBTREES || [...roots].some((r) => !PLAIN.test(r))) return whole;
  return {
    base: view.dir,
    overlays: [...roots].sort().map((r) => ({ prefix: r, lowers: [`${view.dir}/${r}`], rootMode: dirModes.get(r) ?? 0o555 })),
  };
}

export class Codebases {
  readonly store: CodebaseStore;
  readonly snapshots: SnapshotStore;
  readonly #views: ViewBuilder;
  readonly #inUse = new Map<string, number>();
  /** Parsed manifests by "name@version" (versions never change), most recently used last. */
  readonly #manifests = new Map<string, Manifest>();
  /** A view's mount layout depends on the view alone: worked out once, not on every create. */
  readonly #layouts = new WeakMap<BuiltView, ReturnType<typeof workspaceLayout>>();

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
  async delete(name: string): Promise<void> {
    await this.store.delete(name, { inUse: (n: string) => this.usersOf(n) });
    await this.#views.removeCodebase(name);
    for (const key of this.#manifests.keys()) if (key.startsWith(`${name}@`)) this.#manifests.delete(key);
  }

  /**
   * A version's manifest, parsed once: a 100k-file manifest costs ~80 ms to
   * read and parse, which would otherwise be paid on every sandbox create.
   */
  async #manifest(name: string, version: number | undefined): Promise<Manifest> {
    const resolved = version ?? (await this.store.versions(name)).at(-1);
    const key = `${name}@${resolved}`;
    const hit = this.#manifests.get(key);
    if (hit) {
      this.#manifests.delete(key);
      this.#manifests.set(key, hit);
      return hit;
    }
    const m = await this.store.show(name, resolved);
    this.#manifests.set(`${name}@${m.version}`, m);
    while (this.#manifests.size > MANIFEST_CACHE) this.#manifests.delete(this.#manifests.keys().next().value as string);
    return m;
  }

  #layoutOf(view: BuiltView): ReturnType<typeof workspaceLayout> {
    let l = this.#layouts.get(view);
    if (!l) this.#layouts.set(view, (l = workspaceLayout(view, [])));
    return l;
  }

  async prepare(req: CodebaseRequest): Promise<LayeredWorkspace> {
    let snapshot: SnapshotMeta | undefined;
    let manifest: Manifest;
    let policyInput = req.policy;
    let preset = req.preset;
    if (req.snapshot !== undefined) {
      snapshot = await this.snapshots.get(req.snapshot);
      manifest = await this.#manifest(snapshot.codebase, snapshot.version);
      policyInput = snapshot.policy as PolicyInput | undefined;
      preset = snapshot.preset;
    } else if (req.codebase) {
      manifest = await this.#manifest(req.codebase.name, req.codebase.version);
    } else {
      throw new WardenError('E_INTERNAL', 'prepare() needs a codebase or a snapshot');
    }
    const policy = compilePolicy(policyInput, preset);
    const view = await this.#views.get(manifest, policy);
    const layers = snapshot ? [snapshot.id, ...snapshot.parents] : [];
    const name = manifest.codebase;
    this.#inUse.set(name, this.usersOf(name) + 1);
    let released = false;
    const mount: WorkspaceMount = {
      kind: 'codebase',
      ...(layers.length > 0 ? workspaceLayout(view, layers.map((id) => this.snapshots.layerDir(id))) : this.#layoutOf(view)),
      sizeBytes: req.limits.diskMb * MiB,
      inodes: req.limits.diskInodes,
    };
    return {
      mount,
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
