/**
 * Approvals: actions the guard held for a person. Anyone in the tenant with
 * read access can see them (an agent polls its own); deciding needs
 * approvals:decide, and the key that asked can never decide.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ApprovalParams, ApprovalView, ApprovalsQuery, ApproveBody, DenyBody } from '@warden/protocol';
import type { Approval, Engine } from '@warden/core';
import { actorOf, principalOf } from '../auth/authenticate.js';
import type { Principal } from '../store/keys.js';

export function approvalView(a: Approval): ApprovalView {
  return {
    id: a.id,
    sandboxId: a.sandboxId,
    tenant: a.tenant ?? null,
    requestedBy: a.requestedBy,
    kind: a.kind,
    language: a.language,
    digest: a.digest,
    action: a.preview,
    risk: a.risk,
    findings: a.findings.map((f) => ({ ...f, evidence: [...f.evidence] })),
    state: a.state,
    scope: a.scope ?? null,
    createdAt: a.createdAt,
    expiresAt: a.expiresAt,
    decidedBy: a.decidedBy ?? null,
    decidedAt: a.decidedAt ?? null,
    reason: a.reason ?? null,
  };
}

/** Admins see every tenant's approvals; everyone else their own tenant's. */
function tenantScope(p: Principal): string | undefined {
  return p.scopes.includes('admin') ? undefined : p.tenant;
}

export function approvalRoutes(app: FastifyInstance, engine: Engine): void {
  const tags = ['approvals'];
  app.get<{ Querystring: Static<typeof ApprovalsQuery> }>(
    '/v1/approvals',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'Approvals of your tenant, newest first (pending ones until they are decided or expire)', querystring: ApprovalsQuery, response: { 200: Type.Object({ approvals: Type.Array(ApprovalView) }) } } },
    async (req) => {
      const tenant = tenantScope(principalOf(req));
      return { approvals: engine.approvals.list({ ...(tenant === undefined ? {} : { tenant }), ...req.query }).map(approvalView) };
    },
  );
  app.get<{ Params: Static<typeof ApprovalParams> }>(
    '/v1/approvals/:aid',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'One approval', params: ApprovalParams, response: { 200: ApprovalView } } },
    async (req) => approvalView(engine.approvals.get(req.params.aid, tenantScope(principalOf(req)))),
  );
  app.post<{ Params: Static<typeof ApprovalParams>; Body: Static<typeof ApproveBody> }>(
    '/v1/approvals/:aid/approve',
    { config: { scope: 'approvals:decide' }, schema: { tags, summary: 'Approve once, or for the rest of the sandbox’s life (scope: session)', params: ApprovalParams, body: ApproveBody, response: { 200: ApprovalView } } },
    async (req) => {
      const p = principalOf(req);
      const tenant = tenantScope(p);
      return approvalView(
        engine.approvals.decide(req.params.aid, { approve: true, scope: req.body.scope ?? 'once', by: actorOf(p), ...(req.body.reason ? { reason: req.body.reason } : {}), ...(tenant === undefined ? {} : { tenant }) }),
      );
    },
  );
  app.post<{ Params: Static<typeof ApprovalParams>; Body: Static<typeof DenyBody> }>(
    '/v1/approvals/:aid/deny',
    { config: { scope: 'approvals:decide' }, schema: { tags, summary: 'Deny: the waiting action fails with E_GUARD_DENIED', params: ApprovalParams, body: DenyBody, response: { 200: ApprovalView } } },
    async (req) => {
      const p = principalOf(req);
      const tenant = tenantScope(p);
      return approvalView(engine.approvals.decide(req.params.aid, { approve: false, by: actorOf(p), ...(req.body.reason ? { reason: req.body.reason } : {}), ...(tenant === undefined ? {} : { tenant }) }));
    },
  );
}
