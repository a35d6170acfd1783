/**
 * Sandboxes as tenants see them: the engine runs them, the store records who
 * owns them and how they ended. Every lookup is by (tenant, id): another
 * tenant's sandbox is "not found", never "forbidden".
 */
import { WardenError, type CreateSandboxBody, type ListSandboxesQuery, type NetworkView, type SandboxPage, type SandboxView, type UpdateNetworkBody } from '@warden/protocol';
import type { Engine, Logger, Sandbox } from '@warden/core';
import type { GuardService } from './guard.js';
import type { SecretService } from './secrets.js';
import type { SandboxStore } from '../store/sandboxes.js';

const notFound = (id: string): WardenError =>
  new WardenError('E_SANDBOX_NOT_FOUND', `No sandbox ${id} in your tenant. List yours with GET /v1/sandboxes (or \`warden sandboxes list\`).`, { details: { sandboxId: id } });

/** The cursor of the page that continues after `v` (for callers that cut a page short themselves). */
export function cursorAfter(v: SandboxView, order: 'asc' | 'desc'): string {
  return Buffer.from(JSON.stringify(order === 'asc' ? [Date.parse(v.createdAt), v.id] : [Date.parse(v.createdAt), v.id, order])).toString('base64url');
}

/** A cursor continues the listing it came from: one made for the other order is refused rather than misread. */
function decodeCursor(cursor: string, order: 'asc' | 'desc'): { createdAt: number; id: string } {
  try {
    const [createdAt, id, made = 'asc'] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown, unknown];
    if (typeof createdAt === 'number' && typeof id === 'string' && made === order) return { createdAt, id };
  } catch {
    // fall through to the error below
  }
  throw new WardenError('E_INVALID_REQUEST', 'cursor is not one this server issued for this listing. Pass the nextCursor (E2B: nextToken) of the previous page of the same listing, or omit it for the first page.');
}

/** `k1=v1&k2=v2`, URL-encoded as a whole or not. */
function parseMetadataFilter(q: string | undefined): Array<[string, string]> {
  if (q === undefined || q === '') return [];
  return [...new URLSearchParams(q)].map(([k, v]) => [k, v]);
}

/** What `SandboxService.page` lists. */
export interface PageOptions {
  readonly state: 'running' | 'closed' | 'all';
  /** key = value pairs that must all match. */
  readonly metadata: ReadonlyArray<readonly [string, string]>;
  readonly limit: number;
  /** The nextCursor of the previous page of the same listing. */
  readonly cursor?: string;
  /** By creation: 'asc' oldest first (default), 'desc' newest first. */
  readonly order?: 'asc' | 'desc';
  /** Only sandboxes created at or after this time (epoch ms). */
  readonly createdFrom?: number;
}

export class SandboxService {
  readonly #engine: Engine;
  readonly #store: SandboxStore;
  readonly #log: Logger;
  readonly #ending = new Set<Promise<unknown>>();
  readonly #endedListeners: Array<(id: string) => void> = [];

  readonly #guard: GuardService;
  readonly #secrets: SecretService | undefined;

  constructor(engine: Engine, store: SandboxStore, guard: GuardService, log: Logger, secrets?: SecretService) {
    this.#engine = engine;
    this.#guard = guard;
    this.#secrets = secrets;
    this.#store = store;
    this.#log = log;
  }


  async create(tenant: string, body: CreateSandboxBody, actor: string): Promise<SandboxView> {
    const { guardPolicy, ...spec } = body;
    // Refuse a bad sandbox policy before anything starts; after that, layers are looked up per check.
    const sandboxLayer = guardPolicy === undefined ? [] : this.#guard.layers(tenant, guardPolicy).slice(-1);
    // Values of the secrets the spec names, with their rules (which the engine enforces); never part of the record.
    const secrets = this.#secrets?.grantsFor(tenant, spec) ?? {};
    const sbx = await this.#engine.create(spec, { tenant, actor, policies: () => [...this.#guard.layers(tenant), ...sandboxLayer], secrets });
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
    return this.page(tenant, { state: q.state ?? 'running', metadata: parseMetadataFilter(q.metadata), limit: q.limit ?? 100, ...(q.cursor ? { cursor: q.cursor } : {}) });
  }

  /** One page of the tenant's sandboxes; `nextCursor` continues it (null on the last page). */
  page(tenant: string, o: PageOptions): SandboxPage {
    const order = o.order ?? 'asc';
    const rows = this.#store.list({
      tenant,
      state: o.state,
      metadata: o.metadata,
      limit: o.limit + 1,
      order,
      ...(o.cursor ? { after: decodeCursor(o.cursor, order) } : {}),
      ...(o.createdFrom !== undefined ? { createdFrom: o.createdFrom } : {}),
    });
    const page = rows.slice(0, o.limit);
    const last = page.at(-1);
    return { sandboxes: page, nextCursor: rows.length > o.limit && last ? cursorAfter(last, order) : null };
  }

  setTtl(tenant: string, id: string, ttlMs: number): SandboxView {
    const sbx = this.live(tenant, id);
    sbx.setTtl(ttlMs);
    this.#store.setExpiry(id, sbx.expiresAt.getTime());
    return this.get(tenant, id);
  }

  /** A running sandbox's egress policy. */
  network(tenant: string, id: string): NetworkView {
    return { sandboxId: id, ...this.live(tenant, id).network.policy };
  }

  /** Replaces a running sandbox's egress policy (connections it no longer allows are cut). */
  async setNetwork(tenant: string, id: string, body: UpdateNetworkBody, actor: string): Promise<NetworkView> {
    const sbx = this.live(tenant, id);
    const policy = await sbx.network.update(body, { secrets: this.#secrets?.grantsFor(tenant, { network: body }) ?? {}, actor });
    return { sandboxId: id, ...policy };
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
