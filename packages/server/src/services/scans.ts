/**
 * Threat scanning at the API's edges. With a tenant's policy at `report` or
 * `block`, uploads and downloads are spooled to a private host file, scanned,
 * recorded, and (when blocked) refused before a byte reaches the sandbox or
 * the client. `off` streams straight through.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createScanner, newId, scanLevelAtLeast, type AuditSink, type Logger, type Sandbox, type Scanner, type Verdict } from '@warden/core';
import { WardenError, type RecordedScan, type ScanPolicy, type VerdictView } from '@warden/protocol';
import type { ScanStore } from '../store/scans.js';


/** The wire form: findings capped, worst first. */
export function verdictView(v: Verdict): VerdictView {
  const findings = [...v.findings].sort((a, b) => b.certainty - a.certainty).slice(0, 50);
  return {
    level: v.level,
    score: v.score,
    confidence: v.confidence,
    explanation: v.explanation,
    findings: findings.map((f) => ({
      detector: f.detector,
      ruleId: f.ruleId,
      severity: f.severity,
      certainty: f.certainty,
      message: f.message,
      evidence: f.evidence.map((e) => ({ offset: e.offset, length: e.length, ...(e.excerpt !== undefined ? { excerpt: e.excerpt } : {}) })),
      ...(f.member !== undefined ? { member: f.member } : {}),
    })),
    detectors: v.detectors.map((d) => ({ name: d.name, ran: d.ran, durationMs: d.durationMs, ...(d.error !== undefined ? { error: d.error } : {}) })),
    bytes: v.bytes,
    sha256: v.sha256,
    contentType: v.contentType,
  };
}

export interface Gated {
  /** What to send on: the spooled copy, or the original stream when scanning is off. */
  readonly source: AsyncIterable<Uint8Array>;
  readonly scan: RecordedScan | undefined;
  /** Removes the spool file. Idempotent. */
  cleanup(): Promise<void>;
}

const RISK_OF_LEVEL = { clean: 'none', suspicious: 'medium', malicious: 'high', critical: 'critical' } as const;

export class ScanService {
  readonly scanner: Scanner;
  readonly #store: ScanStore;
  readonly #spoolDir: string;
  readonly #log: Logger;
  readonly #audit: AuditSink | undefined;

  constructor(store: ScanStore, spoolDir: string, log: Logger, options: { scanner?: Scanner; audit?: AuditSink } = {}) {
    this.#store = store;
    this.#spoolDir = spoolDir;
    this.#log = log;
    this.scanner = options.scanner ?? createScanner();
    this.#audit = options.audit;
  }

  policy(tenant: string): ScanPolicy {
    return this.#store.policy(tenant);
  }

  setPolicy(tenant: string, p: ScanPolicy): ScanPolicy {
    return this.#store.setPolicy(tenant, p);
  }

  list(tenant: string, q: { sandboxId?: string; limit: number }): RecordedScan[] {
    return this.#store.list(tenant, q);
  }

  /** Scans content sent for that purpose (never blocks: the caller asked for a verdict). */
  async direct(tenant: string, data: AsyncIterable<Uint8Array>, name: string): Promise<Verdict> {
    const v = await this.scanner.scanStream(data, { name });
    this.#note(tenant, null, 'direct', name, v, false);
    return v;
  }

  /** Verdicts for a sandbox's changed files, recorded. */
  async changes(tenant: string, sbx: Sandbox): Promise<Array<{ path: string; verdict: Verdict }>> {
    const out = await sbx.scanChanges({ scanner: this.scanner });
    for (const { path, verdict } of out) this.#note(tenant, sbx.id, 'changes', path, verdict, false);
    return out;
  }

  /** Applies the tenant's policy to bytes crossing into or out of a sandbox. */
  async gate(tenant: string, sandboxId: string, direction: 'upload' | 'download', path: string, data: AsyncIterable<Uint8Array>): Promise<Gated> {
    const policy = this.#store.policy(tenant);
    if (policy.mode === 'off') return { source: data, scan: undefined, cleanup: () => Promise.resolve() };
    await mkdir(this.#spoolDir, { recursive: true, mode: 0o700 });
    const spool = join(this.#spoolDir, newId(direction === 'upload' ? 'up' : 'down'));
    const cleanup = (): Promise<void> => rm(spool, { force: true });
    try {
      await pipeline(data, createWriteStream(spool, { mode: 0o600, flags: 'wx' }));
      const verdict = await this.scanner.scanFile(spool);
      const blocked = policy.mode === 'block' && scanLevelAtLeast(verdict.level, policy.blockAt);
      const scan = this.#note(tenant, sandboxId, direction, path, verdict, blocked);
      if (blocked) {
        throw new WardenError(
          'E_SCAN_BLOCKED',
          `Refused to ${direction} ${path}: the scanner rated it ${verdict.level} (score ${verdict.score.toFixed(2)}) and this tenant blocks at ${policy.blockAt}. ${verdict.explanation}`,
          { details: { blockAt: policy.blockAt, files: [{ path, level: verdict.level, score: verdict.score, sha256: verdict.sha256, explanation: verdict.explanation }] } },
        );
      }
      return { source: createReadStream(spool), scan, cleanup };
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  #note(tenant: string, sandboxId: string | null, direction: RecordedScan['direction'], path: string, verdict: Verdict, blocked: boolean): RecordedScan {
    const r = this.#store.record({ tenant, sandboxId, direction, path, verdict, blocked });
    // A blocked transfer is a decision: on record before the refusal goes out.
    this.#audit?.append(
      {
        action: 'scan.verdict',
        tenant,
        ...(sandboxId ? { sandboxId } : {}),
        inputDigest: verdict.sha256,
        preview: path,
        risk: RISK_OF_LEVEL[verdict.level],
        ...(blocked ? { decision: 'deny' as const } : {}),
        ruleIds: [...new Set(verdict.findings.map((f) => f.ruleId))].slice(0, 32),
        outcome: blocked ? 'blocked' : verdict.level,
        details: { direction, level: verdict.level, score: verdict.score, confidence: verdict.confidence, scanId: r.id },
      },
      { durable: blocked },
    );
    if (verdict.level !== 'clean') this.#log.warn('scan verdict', { tenant, sandboxId, direction, path, level: verdict.level, score: verdict.score, blocked, sha256: verdict.sha256 });
    return r;
  }
}
