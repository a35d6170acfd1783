/**
 * The tamper-evident audit log: a SHA-256 hash chain of events in SQLite with
 * Ed25519-signed RFC 6962 Merkle checkpoints. docs/audit.md has the formats
 * and what verification proves.
 */
export { openAuditLog } from './log.js';
export { verifyExport } from './export.js';
export { canonicalJson } from './canonical.js';
export { maskValues, redactPreview, redactSecrets, type PreviewOptions } from './redact.js';
export { VERIFY_FAILURES } from './types.js';
export type {
  AuditEvent,
  AuditEventInput,
  AuditLog,
  AuditLogOptions,
  AuditQuery,
  Checkpoint,
  ExportOptions,
  VerifyFailure,
  VerifyOptions,
  VerifyProblem,
  VerifyProgress,
  VerifyReport,
} from './types.js';
