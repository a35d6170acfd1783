export { Sandbox, type SandboxOptions, type ListOptions } from './sandbox.js';
export { Commands, CommandHandle, type RunOptions, type CommandResult } from './commands.js';
export { Files, type FileEntry, type WatchEvent, type WatchHandle } from './files.js';
export { Sessions, Session, type SessionResult } from './sessions.js';
export { CodeContexts, type RunCodeOptions, type Execution, type CodeResult, type CodeError, type CodeContextView } from './code.js';
export { Pty, PtyHandle, type PtyOptions } from './pty.js';
export { WardenClient } from './client.js';
export type { ConnectionOptions } from './http.js';
export { WardenError, isWardenError, hasCode, type ErrorCode } from '@warden/protocol';
