/** API keys: only a SHA-256 of each key is stored; the secret is shown once. */
import { createHash, randomBytes } from 'node:crypto';
import type { KeyView, Scope } from '@warden/protocol';
import { newId } from '@warden/core';
import { Statements, type Db } from './db.js';

interface KeyRow {
  id: string;
  name: string;
  tenant: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface Principal {
  readonly keyId: string;
  readonly tenant: string;
  readonly scopes: readonly Scope[];
}

const KEY_PREFIX = 'wdn_';
/** 32 random bytes: a key cannot be guessed, so a plain SHA-256 is a safe way to store it. */
export function generateKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}
const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function view(r: KeyRow): KeyView {
  return {
    id: r.id,
    name: r.name,
    tenant: r.tenant,
    scopes: JSON.parse(r.scopes) as Scope[],
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: iso(r.expires_at),
    revokedAt: iso(r.revoked_at),
    lastUsedAt: iso(r.last_used_at),
  };
}

export class KeyStore {
  readonly #sql: Statements;
  /** last_used_at is written at most once a minute per key, not on every request. */
  readonly #touched = new Map<string, number>();

  constructor(db: Db) {
    this.#sql = new Statements(db);
  }

  count(): number {
    return (this.#sql.get('SELECT count(*) AS n FROM api_keys').get() as { n: number }).n;
  }

  /** Stores `key` (or a new random one) and returns the secret with its record. */
  create(opts: { name: string; tenant: string; scopes: readonly Scope[]; ttlMs?: number; key?: string }): { key: string; info: KeyView } {
    const key = opts.key ?? generateKey();
    const now = Date.now();
    const row: KeyRow = {
      id: newId('key'),
      name: opts.name,
      tenant: opts.tenant,
      scopes: JSON.stringify([...new Set(opts.scopes)]),
      created_at: now,
      expires_at: opts.ttlMs === undefined ? null : now + opts.ttlMs,
      revoked_at: null,
      last_used_at: null,
    };
    this.#sql
      .get('INSERT INTO api_keys (id, name, tenant, scopes, hash, created_at, expires_at) VALUES (@id, @name, @tenant, @scopes, @hash, @created_at, @expires_at)')
      .run({ ...row, hash: hashKey(key) });
    return { key, info: view(row) };
  }

  /** The principal for a presented key, or undefined when it is unknown, revoked or expired. */
  authenticate(key: string): Principal | undefined {
    const r = this.#sql.get('SELECT * FROM api_keys WHERE hash = ?').get(hashKey(key)) as KeyRow | undefined;
    const now = Date.now();
    if (!r || r.revoked_at !== null || (r.expires_at !== null && r.expires_at <= now)) return undefined;
    if ((this.#touched.get(r.id) ?? 0) < now - 60_000) {
      this.#touched.set(r.id, now);
      this.#sql.get('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(now, r.id);
    }
    return { keyId: r.id, tenant: r.tenant, scopes: JSON.parse(r.scopes) as Scope[] };
  }

  /** Keys of one tenant, or of every tenant when `tenant` is undefined. */
  list(tenant?: string): KeyView[] {
    const rows = (
      tenant === undefined
        ? this.#sql.get('SELECT * FROM api_keys ORDER BY created_at, id').all()
        : this.#sql.get('SELECT * FROM api_keys WHERE tenant = ? ORDER BY created_at, id').all(tenant)
    ) as KeyRow[];
    return rows.map(view);
  }

  get(id: string): KeyView | undefined {
    const r = this.#sql.get('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined;
    return r && view(r);
  }

  /** Marks the key revoked (kept for the record). Returns false when there is no such key. */
  revoke(id: string): boolean {
    return this.#sql.get('UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?').run(Date.now(), id).changes > 0;
  }
}
