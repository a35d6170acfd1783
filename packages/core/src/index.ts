export { createEngine, type Engine, type CreateContext } from './engine.js';
export type { EngineOptions, EngineConfig } from './config.js';
export type { PoolOptions } from './pool/config.js';
export type { PoolStats, PoolStat } from './pool/pool.js';
export type { PoolProfile } from './pool/profile.js';
export { Sandbox, type SandboxInfo, type SandboxState, type ScanGate, type SpawnOptions, type ExecOptions } from './sandbox.js';
export type { PathVerdict } from './scan/changes.js';
export { atLeast as scanLevelAtLeast, LEVELS as SCAN_LEVELS } from './scan/verdict.js';
export { SandboxProcess, type ProcessOptions } from './process/process.js';
export type { Session, SessionInfo } from './session/session.js';
export type { SessionManager } from './session/manager.js';
export type { SessionOptions, SessionRunOptions } from './session/options.js';
export type { CodeContext, CodeContextInfo } from './code/context.js';
export type { CodeContexts } from './code/manager.js';
export type { CodeContextOptions, RunCodeOptions } from './code/options.js';
export type { Logger } from './logger.js';
export type { ProbeCheck } from './runtimes/driver.js';
export { doctor, type DoctorOptions, type DoctorReport } from './doctor.js';
export { recoverDataDir, type RecoveryOptions, type RecoveryReport, type RecoveredEngine, type SkippedEngine } from './recovery/recover.js';
export type { Level, Manifest, ManifestEntry } from './fs/types.js';
export type { Diff, Change } from './fs/delta/diff.js';
export type { SnapshotMeta } from './fs/delta/snapshot.js';
export type { SandboxFiles } from './files/files.js';
export type { FileEntry, FileType, FileOpOptions, ListOptions, MoveOptions, WriteData, WatchEvent, WatchEventType, WatchOptions, WatchHandle } from './files/types.js';
export { newId } from './host/ids.js';
export { createScanner, type Scanner, type ScannerOptions, type ScanOptions, type StreamInfo } from './scan/scanner.js';
export { defaultDetectors, type DefaultDetectorOptions } from './scan/detectors.js';
export type { SizeOptions } from './scan/size.js';
export type { EntropyOptions } from './scan/entropy.js';
export type {
  Verdict,
  Finding,
  Evidence,
  Severity,
  Level as ScanLevel,
  DetectorReport,
  Detector,
  DetectorRun,
  ScanContext,
  FinishInfo,
  MemberInfo,
} from './scan/types.js';
export type { Approvals, Approval, ApprovalState, ApprovalScope, ApprovalDecision, ApprovalFilter, ActionKind } from './guard/approvals.js';
export type { GateOptions } from './guard/gate.js';
export type { AuditSink } from './audit/sink.js';
export {
  createGuard,
  DEFAULT_POLICY_YAML,
  type Guard,
  type GuardOptions,
  type CheckInput,
  type CheckOptions,
  type Policy,
  type PolicyInput,
  type PolicySource,
  type Analyzer,
  type Analysis,
  type GuardResult,
  type GuardFinding,
  type GuardLanguage,
  type GuardMode,
  type Decision,
  type Risk,
  type Category,
  type Span,
} from './guard/index.js';
export {
  openAuditLog,
  verifyExport,
  type AuditLog,
  type AuditLogOptions,
  type AuditEvent,
  type AuditEventInput,
  type AuditQuery as AuditFilter,
  type Checkpoint,
  type VerifyReport,
  type VerifyProblem,
} from './audit/index.js';
export { Statements as SqlStatements } from './audit/db.js';
export { loadSecretsKey, type SecretsKey } from './secrets/crypto.js';
export type { SecretGrant, SecretValues } from './secrets/use.js';
export type { SandboxNetworkControl } from './sandbox.js';
