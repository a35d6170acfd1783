export { ErrorBody, SandboxIdParams, PageQuery, Base64 } from './common.js';
export { CreateSandboxBody, SandboxView, SandboxState, ListSandboxesQuery, SandboxPage, ExtendTimeoutBody, DiffView } from './sandboxes.js';
export { RunCommandBody, CommandParams, CommandView, CommandEvent, EventsQuery, StdinBody, SignalBody, ResizeBody, Pty } from './commands.js';
export { CreateSessionBody, SessionParams, SessionRunBody, SessionView } from './sessions.js';
export { PathQuery, ListQuery, WatchQuery, MkdirBody, MoveBody, FileEntry, FileList, ExistsView, WatchEvent } from './files.js';
export { Scope, SCOPES, CreateKeyBody, KeyView, CreatedKey, KeyParams, WhoAmI } from './keys.js';
export { ScanLevel, VerdictView, ScanPolicy, TenantParams, ScanQuery, RecordedScan, ScansQuery, ChangesVerdicts } from './scan.js';
export { GuardLanguage, Decision, Risk, GuardFindingView, GuardCheckBody, GuardCheckView, GuardPolicyBody, GuardPolicyView, ApprovalState, ApprovalView, ApprovalParams, ApprovalsQuery, ApproveBody, DenyBody, AuditEventView, AuditQuery, AuditPage, AuditVerifyView } from './guard.js';
