/** Threat scanning over HTTP: verdicts, the per-tenant policy, recorded verdicts. */
import { Type, type Static } from '@sinclair/typebox';

export const ScanLevel = Type.Union([Type.Literal('clean'), Type.Literal('suspicious'), Type.Literal('malicious'), Type.Literal('critical')]);
export type ScanLevel = Static<typeof ScanLevel>;

const FindingView = Type.Object({
  detector: Type.String(),
  ruleId: Type.String(),
  severity: Type.String(),
  certainty: Type.Number(),
  message: Type.String(),
  evidence: Type.Array(Type.Object({ offset: Type.Integer(), length: Type.Integer(), excerpt: Type.Optional(Type.String()) })),
  member: Type.Optional(Type.String()),
});

export const VerdictView = Type.Object(
  {
    level: ScanLevel,
    score: Type.Number(),
    confidence: Type.Number(),
    explanation: Type.String(),
    findings: Type.Array(FindingView, { description: 'The first 50 findings, worst first.' }),
    detectors: Type.Array(Type.Object({ name: Type.String(), ran: Type.Boolean(), durationMs: Type.Number(), error: Type.Optional(Type.String()) })),
    bytes: Type.Integer(),
    sha256: Type.String(),
    contentType: Type.String(),
  },
  { $id: 'Verdict' },
);
export type VerdictView = Static<typeof VerdictView>;

export const ScanPolicy = Type.Object(
  {
    mode: Type.Union([Type.Literal('off'), Type.Literal('report'), Type.Literal('block')], {
      description: 'off: no scanning of uploads and downloads; report: scan and record; block: also refuse (E_SCAN_BLOCKED) at blockAt or worse.',
    }),
    blockAt: Type.Union([Type.Literal('suspicious'), Type.Literal('malicious'), Type.Literal('critical')], { default: 'malicious' }),
  },
  { additionalProperties: false },
);
export type ScanPolicy = Static<typeof ScanPolicy>;
export const TenantParams = Type.Object({ tenant: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', expects: 'a tenant name' }) }, { additionalProperties: false });

export const ScanQuery = Type.Object({ name: Type.Optional(Type.String({ maxLength: 4096, description: 'File name, for extension checks.' })) }, { additionalProperties: false });

export const RecordedScan = Type.Object({
  id: Type.String(),
  sandboxId: Type.Union([Type.String(), Type.Null()]),
  direction: Type.Union([Type.Literal('upload'), Type.Literal('download'), Type.Literal('changes'), Type.Literal('direct')]),
  path: Type.String(),
  level: ScanLevel,
  score: Type.Number(),
  confidence: Type.Number(),
  sha256: Type.String(),
  explanation: Type.String(),
  blocked: Type.Boolean(),
  at: Type.String(),
});
export type RecordedScan = Static<typeof RecordedScan>;
export const ScansQuery = Type.Object(
  { sandboxId: Type.Optional(Type.String({ pattern: '^sbx_[a-z2-7]{12}$' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
  { additionalProperties: false },
);
export const ChangesVerdicts = Type.Object({ files: Type.Array(Type.Object({ path: Type.String(), verdict: VerdictView })) });
export type ChangesVerdicts = Static<typeof ChangesVerdicts>;
