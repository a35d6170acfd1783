/** The guard without running anything: check code, and the tenant's policy layer. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { GuardCheckBody, GuardCheckView, GuardPolicyBody, GuardPolicyView, TenantParams } from '@warden/protocol';
import { principalOf } from '../auth/authenticate.js';
import type { GuardService } from '../services/guard.js';

export function guardRoutes(app: FastifyInstance, guard: GuardService): void {
  const tags = ['guard'];
  app.post<{ Body: Static<typeof GuardCheckBody> }>(
    '/v1/guard/check',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'Analyse code under your tenant’s policy layers and say what the guard would decide; nothing runs', body: GuardCheckBody, response: { 200: GuardCheckView } } },
    async (req) => {
      const r = guard.check(principalOf(req).tenant, { code: req.body.code, language: req.body.language ?? 'bash', ...(req.body.policy !== undefined ? { policy: req.body.policy } : {}) });
      return { ...r, findings: r.findings.map((f) => ({ ...f, evidence: [...f.evidence] })) };
    },
  );
  app.get(
    '/v1/guard-policy',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: "Your tenant's guard policy layer (null: none, the server's applies alone)", response: { 200: GuardPolicyView } } },
    async (req) => guard.policy(principalOf(req).tenant),
  );
  app.put<{ Params: Static<typeof TenantParams>; Body: Static<typeof GuardPolicyBody> }>(
    '/v1/tenants/:tenant/guard-policy',
    { config: { scope: 'admin' }, schema: { tags, summary: "Set a tenant's guard policy layer (admin); it is validated and its examples run first", params: TenantParams, body: GuardPolicyBody, response: { 200: GuardPolicyView } } },
    async (req) => guard.setPolicy(req.params.tenant, req.body.policy),
  );
  app.delete<{ Params: Static<typeof TenantParams> }>(
    '/v1/tenants/:tenant/guard-policy',
    { config: { scope: 'admin' }, schema: { tags, summary: "Remove a tenant's guard policy layer (admin)", params: TenantParams, response: { 200: GuardPolicyView } } },
    async (req) => guard.clearPolicy(req.params.tenant),
  );
}
