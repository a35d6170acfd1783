/**
 * The audit log over HTTP: query (your tenant's events; admins any), verify
 * and export (admin: the whole chain is one log across tenants).
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { AuditPage, AuditQuery, AuditVerifyView, WardenError, type AuditEventView } from '@warden/protocol';
import type { AuditEvent, AuditLog } from '@warden/core';
import { principalOf } from '../auth/authenticate.js';

export function auditEventView(e: AuditEvent): AuditEventView {
  return {
    seq: e.seq,
    ts: e.ts,
    action: e.action,
    actor: e.actor ?? null,
    tenant: e.tenant ?? null,
    sandboxId: e.sandboxId ?? null,
    inputDigest: e.inputDigest ?? null,
    preview: e.preview ?? null,
    decision: e.decision ?? null,
    ruleIds: [...(e.ruleIds ?? [])],
    risk: e.risk ?? null,
    outcome: e.outcome ?? null,
    durationMs: e.durationMs ?? null,
    details: e.details ?? {},
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

export function auditRoutes(app: FastifyInstance, audit: AuditLog): void {
  const tags = ['audit'];
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/v1/audit',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'Audit events of your tenant (admins: any tenant), oldest first; page with afterSeq', querystring: AuditQuery, response: { 200: AuditPage } } },
    async (req) => {
      const p = principalOf(req);
      const admin = p.scopes.includes('admin');
      if (!admin && req.query.tenant !== undefined && req.query.tenant !== p.tenant) {
        throw new WardenError('E_FORBIDDEN', 'Only admin keys can read another tenant’s audit events. Drop the tenant filter to read your own.', { details: { scope: 'admin' } });
      }
      const tenant = admin ? req.query.tenant : p.tenant;
      const q = req.query;
      return {
        events: audit
          .query({
            ...(tenant === undefined ? {} : { tenant }),
            ...(q.sandboxId ? { sandboxId: q.sandboxId } : {}),
            ...(q.action ? { action: q.action } : {}),
            ...(q.actor ? { actor: q.actor } : {}),
            ...(q.decision ? { decision: q.decision } : {}),
            ...(q.since ? { since: q.since } : {}),
            ...(q.until ? { until: q.until } : {}),
            ...(q.afterSeq !== undefined ? { afterSeq: q.afterSeq } : {}),
            limit: q.limit ?? 100,
            order: q.order ?? 'asc',
          })
          .map(auditEventView),
      };
    },
  );
  app.get(
    '/v1/audit/verify',
    { config: { scope: 'admin' }, schema: { tags, summary: 'Recompute the whole chain and every checkpoint; names the first bad event', response: { 200: AuditVerifyView } } },
    async () => {
      const t0 = performance.now();
      const r = audit.verify();
      return {
        ok: r.ok,
        events: r.events,
        checkpoints: r.checkpoints,
        lastSeq: r.lastSeq,
        firstBad: r.firstBad ? { seq: r.firstBad.seq, reason: r.firstBad.reason, message: r.firstBad.message } : null,
        publicKey: audit.publicKey,
        durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
      };
    },
  );
  app.get(
    '/v1/audit/export',
    {
      config: { scope: 'admin' },
      schema: { tags, summary: 'The whole log as JSON Lines (events, then checkpoints); check it offline with `warden audit verify --file`', response: { 200: { description: 'JSON Lines', content: { 'application/x-ndjson': { schema: {} } } } } },
    },
    async (_req, reply) => {
      // export() is synchronous: collect, then send. Memory is proportional to the log; an
      // operator exporting a very large log reads the file with `warden audit export --data-dir`.
      const lines: string[] = [];
      audit.export((line) => lines.push(line.endsWith('\n') ? line : `${line}\n`));
      return reply.type('application/x-ndjson').send(lines.join(''));
    },
  );
}
