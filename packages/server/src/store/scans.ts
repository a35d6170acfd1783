/** Scan policies per tenant and the verdicts recorded for each tenant. */
import type { RecordedScan, ScanPolicy } from '@warden/protocol';
import { newId, type Verdict } from '@warden/core';
import { Statements, type Db } from './db.js';

interface VerdictRow {
  id: string;
  sandbox_id: string | null;
  direction: RecordedScan['direction'];
  path: string;
  level: RecordedScan['level'];
  score: number;
  confidence: number;
  sha256: string;
  explanation: string;
  blocked: number;
  at: number;
}

export class ScanStore {
  readonly #sql: Statements;
  readonly #default: ScanPolicy;

  constructor(db: Db, defaultPolicy: ScanPolicy) {
    this.#sql = new Statements(db);
    this.#default = defaultPolicy;
  }

  policy(tenant: string): ScanPolicy {
    const r = this.#sql.get('SELECT scan_mode, scan_block_at FROM tenant_policies WHERE tenant = ?').get(tenant) as { scan_mode: ScanPolicy['mode']; scan_block_at: ScanPolicy['blockAt'] } | undefined;
    return r ? { mode: r.scan_mode, blockAt: r.scan_block_at } : this.#default;
  }

  setPolicy(tenant: string, p: ScanPolicy): ScanPolicy {
    this.#sql
      .get(
        `INSERT INTO tenant_policies (tenant, scan_mode, scan_block_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant) DO UPDATE SET scan_mode = excluded.scan_mode, scan_block_at = excluded.scan_block_at, updated_at = excluded.updated_at`,
      )
      .run(tenant, p.mode, p.blockAt, Date.now());
    return this.policy(tenant);
  }

  record(r: { tenant: string; sandboxId: string | null; direction: RecordedScan['direction']; path: string; verdict: Verdict; blocked: boolean }): RecordedScan {
    const row: VerdictRow = {
      id: newId('scan'),
      sandbox_id: r.sandboxId,
      direction: r.direction,
      path: r.path,
      level: r.verdict.level,
      score: r.verdict.score,
      confidence: r.verdict.confidence,
      sha256: r.verdict.sha256,
      explanation: r.verdict.explanation,
      blocked: r.blocked ? 1 : 0,
      at: Date.now(),
    };
    this.#sql
      .get(
        `INSERT INTO scan_verdicts (id, tenant, sandbox_id, direction, path, level, score, confidence, sha256, explanation, findings, blocked, at)
         VALUES (@id, @tenant, @sandbox_id, @direction, @path, @level, @score, @confidence, @sha256, @explanation, @findings, @blocked, @at)`,
      )
      .run({ ...row, tenant: r.tenant, findings: JSON.stringify(r.verdict.findings.slice(0, 50)) });
    return view(row);
  }

  list(tenant: string, q: { sandboxId?: string; limit: number }): RecordedScan[] {
    const rows = (
      q.sandboxId === undefined
        ? this.#sql.get('SELECT * FROM scan_verdicts WHERE tenant = ? ORDER BY at DESC, id LIMIT ?').all(tenant, q.limit)
        : this.#sql.get('SELECT * FROM scan_verdicts WHERE tenant = ? AND sandbox_id = ? ORDER BY at DESC, id LIMIT ?').all(tenant, q.sandboxId, q.limit)
    ) as VerdictRow[];
    return rows.map(view);
  }
}

function view(r: VerdictRow): RecordedScan {
  return {
    id: r.id,
    sandboxId: r.sandbox_id,
    direction: r.direction,
    path: r.path,
    level: r.level,
    score: r.score,
    confidence: r.confidence,
    sha256: r.sha256,
    explanation: r.explanation,
    blocked: r.blocked === 1,
    at: new Date(r.at).toISOString(),
  };
}
