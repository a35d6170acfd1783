/**
 * Each tenant's secrets, encrypted at rest (core's SecretsKey: AES-256-GCM,
 * the tenant and name bound in as associated data). Values go in and come out
 * only through the engine; nothing here returns one to an API caller.
 */
import type { SecretGrant, SecretsKey } from '@warden/core';
import { WardenError, type SecretView } from '@warden/protocol';
import { Statements, type Db } from './db.js';

interface Row {
  name: string;
  key_id: string;
  nonce: Buffer;
  data: Buffer;
  inject_only: number;
  domains: string;
  created_at: number;
  updated_at: number;
}

const aad = (tenant: string, name: string): string => `warden-secret:v1:${tenant}:${name}`;

function view(r: Row): SecretView {
  return { name: r.name, injectOnly: r.inject_only === 1, domains: JSON.parse(r.domains) as string[], createdAt: new Date(r.created_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString() };
}

export class SecretStore {
  readonly #sql: Statements;
  readonly #key: SecretsKey | undefined;

  /** Without a key every call throws E_SECRETS_UNAVAILABLE: values are never stored in the clear. */
  constructor(db: Db, key: SecretsKey | undefined) {
    this.#sql = new Statements(db);
    this.#key = key;
  }

  #k(): SecretsKey {
    if (!this.#key) throw new WardenError('E_SECRETS_UNAVAILABLE', 'This server has no secrets key, so it cannot store or use secrets. Start it with a key file (--secrets-key FILE or WARDEN_SECRETS_KEY).');
    return this.#key;
  }

  put(tenant: string, name: string, value: string, rules: { injectOnly: boolean; domains: readonly string[] }): SecretView {
    const sealed = this.#k().seal(value, aad(tenant, name));
    const now = Date.now();
    this.#sql
      .get(
        `INSERT INTO secrets (tenant, name, key_id, nonce, data, inject_only, domains, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, name) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce, data = excluded.data,
           inject_only = excluded.inject_only, domains = excluded.domains, updated_at = excluded.updated_at`,
      )
      .run(tenant, name, this.#k().id, sealed.nonce, sealed.data, rules.injectOnly ? 1 : 0, JSON.stringify(rules.domains), now, now);
    return this.info(tenant, name) as SecretView;
  }

  info(tenant: string, name: string): SecretView | undefined {
    const r = this.#sql.get('SELECT * FROM secrets WHERE tenant = ? AND name = ?').get(tenant, name) as Row | undefined;
    return r ? view(r) : undefined;
  }

  list(tenant: string): SecretView[] {
    return (this.#sql.get('SELECT * FROM secrets WHERE tenant = ? ORDER BY name').all(tenant) as Row[]).map(view);
  }

  /** Deletes; false when there was none. */
  delete(tenant: string, name: string): boolean {
    return this.#sql.get('DELETE FROM secrets WHERE tenant = ? AND name = ?').run(tenant, name).changes > 0;
  }

  /** The decrypted grants (value and rules) of the named secrets that exist; missing names are left out. */
  grants(tenant: string, names: Iterable<string>): Record<string, SecretGrant> {
    const out: Record<string, SecretGrant> = {};
    for (const name of new Set(names)) {
      const r = this.#sql.get('SELECT * FROM secrets WHERE tenant = ? AND name = ?').get(tenant, name) as Row | undefined;
      if (!r) continue;
      const key = this.#k();
      if (r.key_id !== key.id) {
        throw new WardenError('E_SECRETS_UNAVAILABLE', `The secret ${JSON.stringify(name)} was stored under another secrets key (id ${r.key_id}; this server has ${key.id}). Restore that key, or store the secret again.`, {
          details: { name, keyId: r.key_id },
        });
      }
      out[name] = { value: key.open({ nonce: r.nonce, data: r.data }, aad(tenant, name)), injectOnly: r.inject_only === 1, domains: JSON.parse(r.domains) as string[] };
    }
    return out;
  }
}
