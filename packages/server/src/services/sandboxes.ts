/**
 * Sandboxes as tenants see them: the engine runs them, the store records who
 * owns them and how they ended. Every lookup is by (tenant, id): another
 * tenant's sandbox is "not found", never "forbidden".
 */
import { WardenError, type CreateSandboxBody, type ListSandboxesQuery, type SandboxPage, type SandboxView } from '@warden/protocol';
import type { Engine, Logger, Sandbox } from '@warden/core';
import type { GuardService } from './guard.js';
import type { SandboxStore } from '../store/sandboxes.js';

const notFound = (id: string): WardenError =>
  new WardenError('E_SANDBOX_NOT_FOUND', `No sandbox ${id} in your tenant. List yours with GET /v1/sandboxes (or \`warden sandboxes list\`).`, { details: { sandboxId: id } });

function encodeCursor(v: SandboxView): string {
  return Buffer.from(JSON.stringify([Date.parse(v.createdAt), v.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through to the error below
  }
  throw new WardenError('E_INVALID_REQUEST', 'cursor is not one this server issued. Pass the nextCursor of the previous page, or omit it for the first page.');
}

/** `k1=v1&k2=v2`, URL-encoded as a whole or not. */
function parseMetadataFilter(q: string | undefined): Array<[string, string]> {
  if (q === undefined || q === '') return [];
  return [...new URLSearchParams(q)].map(([k, v]) => [k, v]);
}

export class SandboxService {
  readonly #engine: Engine;
  readonly #store: SandboxStore;
  readonly #log: Logger;
  readonly #ending = new Set<Promise<unknown>>();
  readonly #endedListeners: Array<(id: string) => void> = [];

  readonly #guard: GuardService;

  constructor(engine: Engine, store: SandboxStore, guard: GuardService, log: Logger) {
    this.#engine = engine;
    this.#guard = guard;
    this.#store = store;
    this.#log = log;
  }


  async create(tenant: string, body: CreateSandboxBody, actor: string): Promise<SandboxView> {
    const { guardPolicy, ...spec } = body;
    // Refuse a bad sandbox policy before anything starts; after that, layers are looked up per check.
    const sandboxLayer = guardPolicy === undefined ? [] : this.#guard.layers(tenant, guardPolicy).slice(-1);
    const sbx = await this.#engine.create(spec, { tenant, actor, policies: () => [...this.#guard.layers(tenant), ...sandboxLayer] });
    let record: SandboxView;
    try {
      record = this.#store.insert({
        id: sbx.id,
        tenant,
        engineId: this.#engine.id,
        runtime: sbx.spec.runtime,
        limits: sbx.spec.limits,
        codebase: sbx.info().codebase ?? null,
        metadata: sbx.spec.metadata,
        createdAt: sbx.createdAt.getTime(),
        expiresAt: sbx.expiresAt.getTime(),
      });
    } catch (err) {
      await sbx.kill(); // no record, no sandbox: nothing half-made survives
      throw err;
    }
    const ended = sbx.ended.then((reason) => {
      try {
        this.#store.markClosed(sbx.id, reason === 'ttl expired' ? 'expired' : reason);
      } catch (err) {
        // Never an unhandled rejection; the reaper or the next start's closeOrphans records it instead.
        this.#log.error('could not record that a sandbox ended', { sandboxId: sbx.id, error: String(err) });
      }
      this.#log.info('sandbox ended', { sandboxId: sbx.id, tenant, reason });
      for (const fn of this.#endedListeners) fn(sbx.id);
    });
    this.#ending.add(ended);
    void ended.finally(() => this.#ending.delete(ended));
    return record;
  }

  /** Calls `fn` with the id of each sandbox once it has ended. */
  onEnded(fn: (id: string) => void): void {
    this.#endedListeners.push(fn);
  }

  /** The record, running or not. */
  get(tenant: string, id: string): SandboxView {
    const v = this.#store.get(id, tenant);
    if (!v) throw notFound(id);
    return v;
  }

  /** The live sandbox; E_SANDBOX_CLOSED when it has ended. */
  live(tenant: string, id: string): Sandbox {
    const v = this.get(tenant, id);
    const sbx = this.#running(id);
    if (!sbx || v.state === 'closed' || sbx.state === 'closed') {
      throw new WardenError('E_SANDBOX_CLOSED', `Sandbox ${id} has ended (${v.closedReason ?? sbx?.info().closedReason ?? 'killed'}). Create a new sandbox.`, {
        details: { sandboxId: id },
      });
    }
    return sbx;
  }

  list(tenant: string, q: ListSandboxesQuery): SandboxPage {
    const limit = q.limit ?? 100;
    const rows = this.#store.list({
      tenant,
      state: q.state ?? 'running',
      metadata: parseMetadataFilter(q.metadata),
      limit: limit + 1,
      ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}),
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { sandboxes: page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  setTtl(tenant: string, id: string, ttlMs: number): SandboxView {
    const sbx = this.live(tenant, id);
    sbx.setTtl(ttlMs);
    this.#store.setExpiry(id, sbx.expiresAt.getTime());
    return this.get(tenant, id);
  }

  /** Kills the sandbox and waits until it is torn down. Killing an ended sandbox is a no-op. */
  async kill(tenant: string, id: string): Promise<SandboxView> {
    this.get(tenant, id);
    const sbx = this.#running(id);
    if (sbx) {
      await sbx.kill();
      await sbx.ended;
    }
    this.#store.markClosed(id, 'killed');
    return this.get(tenant, id);
  }

  /** The engine's sandbox with this id, if it still has one. */
  #running(id: string): Sandbox | undefined {
    try {
      return this.#engine.get(id);
    } catch {
      return undefined;
    }
  }

  /** Store records are updated as sandboxes end; wait for the pending updates (shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#ending]);
  }
}
