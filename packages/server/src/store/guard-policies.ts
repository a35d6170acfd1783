/** Each tenant's guard policy layer (YAML as given; compiled by the guard service). */
import type { GuardPolicyView } from '@warden/protocol';
import { Statements, type Db } from './db.js';

export class GuardPolicyStore {
  readonly #sql: Statements;

  constructor(db: Db) {
    this.#sql = new Statements(db);
  }

  get(tenant: string): GuardPolicyView {
    const r = this.#sql.get('SELECT policy, updated_at FROM guard_policies WHERE tenant = ?').get(tenant) as { policy: string; updated_at: number } | undefined;
    return { tenant, policy: r?.policy ?? null, updatedAt: r ? new Date(r.updated_at).toISOString() : null };
  }

  set(tenant: string, policy: string): GuardPolicyView {
    this.#sql
      .get('INSERT INTO guard_policies (tenant, policy, updated_at) VALUES (?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at')
      .run(tenant, policy, Date.now());
    return this.get(tenant);
  }

  clear(tenant: string): GuardPolicyView {
    this.#sql.get('DELETE FROM guard_policies WHERE tenant = ?').run(tenant);
    return this.get(tenant);
  }
}
