/** The guard's decisions, approvals that wait for a person, and the audit log. */
import { Type, type Static } from '@sinclair/typebox';

export const GuardLanguage = Type.Union([Type.Literal('bash'), Type.Literal('python'), Type.Literal('javascript'), Type.Literal('typescript')]);
export const Decision = Type.Union([Type.Literal('allow'), Type.Literal('ask'), Type.Literal('deny')]);
export const Risk = Type.Union([Type.Literal('none'), Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')]);

const PolicyYaml = Type.String({ minLength: 1, maxLength: 262_144, description: 'A guard policy in YAML (docs/guard.md). It can only add restrictions to the layers above it.' });

export const GuardFindingView = Type.Object({
  ruleId: Type.String(),
  category: Type.String(),
  risk: Risk,
  decision: Decision,
  message: Type.String(),
  evidence: Type.Array(Type.Object({ start: Type.Integer(), end: Type.Integer() }), { description: 'Offsets into the normalised text.' }),
  layer: Type.String(),
});
export type GuardFindingView = Static<typeof GuardFindingView>;

export const GuardCheckBody = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 1_048_576 }),
    language: Type.Optional(Type.Union([GuardLanguage], { default: 'bash' })),
    policy: Type.Optional(PolicyYaml),
  },
  { additionalProperties: false },
);
export type GuardCheckBody = Static<typeof GuardCheckBody>;

export const GuardCheckView = Type.Object({
  decision: Decision,
  risk: Risk,
  mode: Type.Union([Type.Literal('off'), Type.Literal('audit-only'), Type.Literal('enforce')]),
  language: GuardLanguage,
  digest: Type.String(),
  text: Type.String({ description: 'The normalised text that was analysed; evidence offsets point into it.' }),
  findings: Type.Array(GuardFindingView),
  durationMs: Type.Number(),
});
export type GuardCheckView = Static<typeof GuardCheckView>;

export const GuardPolicyBody = Type.Object({ policy: PolicyYaml }, { additionalProperties: false });
export const GuardPolicyView = Type.Object({ tenant: Type.String(), policy: Type.Union([Type.String(), Type.Null()]), updatedAt: Type.Union([Type.String(), Type.Null()]) });
export type GuardPolicyView = Static<typeof GuardPolicyView>;

export const ApprovalState = Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('denied'), Type.Literal('expired'), Type.Literal('used')]);
export const ApprovalView = Type.Object({
  id: Type.String(),
  sandboxId: Type.String(),
  tenant: Type.Union([Type.String(), Type.Null()]),
  requestedBy: Type.String(),
  kind: Type.Union([Type.Literal('command'), Type.Literal('session'), Type.Literal('code')]),
  language: GuardLanguage,
  digest: Type.String(),
  action: Type.String({ description: 'The normalised action the approval admits, secrets masked as in the audit log (the digest binds the exact text).' }),
  risk: Risk,
  findings: Type.Array(GuardFindingView),
  state: ApprovalState,
  scope: Type.Union([Type.Literal('once'), Type.Literal('session'), Type.Null()]),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
});
export type ApprovalView = Static<typeof ApprovalView>;

export const ApprovalParams = Type.Object({ aid: Type.String({ pattern: '^apr_[a-z2-7]{12}$', expects: 'an approval id like apr_abcdefghijkl' }) }, { additionalProperties: false });
export const ApprovalsQuery = Type.Object(
  { state: Type.Optional(ApprovalState), sandboxId: Type.Optional(Type.String({ pattern: '^sbx_[a-z2-7]{12}$' })) },
  { additionalProperties: false },
);
export const ApproveBody = Type.Object(
  {
    scope: Type.Optional(Type.Union([Type.Literal('once'), Type.Literal('session')], { default: 'once', description: 'once: one run of the action. session: the same action in that sandbox from now on.' })),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export const DenyBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false });

export const AuditEventView = Type.Object({
  seq: Type.Integer(),
  ts: Type.String(),
  action: Type.String(),
  actor: Type.Union([Type.String(), Type.Null()]),
  tenant: Type.Union([Type.String(), Type.Null()]),
  sandboxId: Type.Union([Type.String(), Type.Null()]),
  inputDigest: Type.Union([Type.String(), Type.Null()]),
  preview: Type.Union([Type.String(), Type.Null()]),
  decision: Type.Union([Decision, Type.Null()]),
  ruleIds: Type.Array(Type.String()),
  risk: Type.Union([Risk, Type.Null()]),
  outcome: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Union([Type.Number(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String(),
  hash: Type.String(),
});
export type AuditEventView = Static<typeof AuditEventView>;

export const AuditQuery = Type.Object(
  {
    sandboxId: Type.Optional(Type.String({ pattern: '^sbx_[a-z2-7]{12}$' })),
    tenant: Type.Optional(Type.String({ description: 'Admin keys only: another tenant (default: all tenants for admin, your own otherwise).' })),
    action: Type.Optional(Type.String({ maxLength: 100, description: 'Exact action or a prefix ending in .* (command.*).' })),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
    decision: Type.Optional(Decision),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;
export const AuditPage = Type.Object({ events: Type.Array(AuditEventView) });

export const AuditVerifyView = Type.Object({
  ok: Type.Boolean(),
  events: Type.Integer(),
  checkpoints: Type.Integer(),
  lastSeq: Type.Integer(),
  firstBad: Type.Union([Type.Object({ seq: Type.Integer(), reason: Type.String(), message: Type.String() }), Type.Null()]),
  publicKey: Type.String(),
  durationMs: Type.Number(),
});
export type AuditVerifyView = Static<typeof AuditVerifyView>;
