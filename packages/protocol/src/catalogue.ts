/**
 * Every error code Warden can produce, with its HTTP status, whether its
 * message and details may cross the wire, and what it means. A test checks
 * that each code is documented in docs/errors.md.
 */
export interface CatalogueEntry {
  readonly status: number;
  /** false: the server replaces message/details with `description`. */
  readonly expose: boolean;
  readonly description: string;
}

export const ERROR_CATALOGUE = {
  E_INVALID_SPEC: {
    status: 400,
    expose: true,
    description: 'A sandbox spec or engine config is invalid; the message names the field, what it expects and what it got.',
  },
  E_USAGE: {
    status: 400,
    expose: true,
    description: 'A `warden` command was called with words or flags it does not take; the message shows the usage.',
  },
  E_INVALID_ARGUMENT: {
    status: 400,
    expose: true,
    description: 'An argument to a call (argv, options) is invalid; the message names it and the expected shape.',
  },
  E_RUNTIME_UNAVAILABLE: {
    status: 503,
    expose: true,
    description: 'The runtime or a kernel feature it needs is missing on this host; run `warden doctor` for the fix.',
  },
  E_RUNTIME_UNSUPPORTED: {
    status: 501,
    expose: true,
    description: 'The chosen runtime cannot do what was asked (the message names the capability); pick a runtime that can, or drop the option.',
  },
  E_LIMIT_UNSUPPORTED: {
    status: 501,
    expose: true,
    description: 'A resource limit was asked for that this host cannot enforce (for example a missing cgroup controller).',
  },
  E_SANDBOX_START_FAILED: {
    status: 500,
    expose: true,
    description: 'The sandbox could not be started; the message carries the runtime’s own explanation.',
  },
  E_SANDBOX_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No sandbox with this id exists (or it belongs to someone else).',
  },
  E_SANDBOX_CLOSED: {
    status: 409,
    expose: true,
    description: 'The sandbox has been killed, has expired or its agent has exited; create a new one.',
  },
  E_ENGINE_CLOSED: {
    status: 503,
    expose: true,
    description: 'The engine is shutting down or closed; no new sandboxes or commands are accepted.',
  },
  E_CAPACITY: {
    status: 429,
    expose: true,
    description: 'The engine is at its sandbox limit, or a sandbox at its limit of code contexts or pending approvals; close what you no longer need.',
  },
  E_EXEC_FAILED: {
    status: 422,
    expose: true,
    description: 'The command could not be started inside the sandbox (for example: not found, not executable, bad cwd).',
  },
  E_AGENT_PROTOCOL: {
    status: 502,
    expose: true,
    description: 'The in-sandbox agent sent something the host could not understand; the sandbox was stopped.',
  },
  E_CODEBASE_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No codebase with this name, or no such version of it, exists; the message lists what does.',
  },
  E_CODEBASE_IN_USE: {
    status: 409,
    expose: true,
    description: 'The codebase is used by running sandboxes and cannot be deleted; kill them first.',
  },
  E_CODEBASE_INVALID: {
    status: 400,
    expose: true,
    description: 'The source given for a codebase version (directory, tarball or entry list) is missing, unsafe or malformed.',
  },
  E_COMMIT_CONFLICT: {
    status: 409,
    expose: true,
    description: 'A sandbox’s changes cannot become a codebase version as they are (for example they land on entries hidden from it); export them instead.',
  },
  E_NO_CODEBASE: {
    status: 409,
    expose: true,
    description: 'The operation needs a sandbox started from a codebase (diff, export, commit, snapshot); create the sandbox with codebase set.',
  },
  E_SNAPSHOT_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No snapshot with this id exists; list snapshots to see what is there.',
  },
  E_FILE_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'A file operation named a path that does not exist in the sandbox, or that the sandbox’s policy hides from it.',
  },
  E_FILE_EXISTS: {
    status: 409,
    expose: true,
    description: 'A file operation would replace an existing entry (or a non-empty directory) and was not asked to.',
  },
  E_PERMISSION_DENIED: {
    status: 403,
    expose: true,
    description: 'The sandbox’s own user may not do this to the path (read-only or view-level entries, read-only system directories).',
  },
  E_NOT_A_DIRECTORY: {
    status: 400,
    expose: true,
    description: 'A file operation needs a directory, or a path component is a file rather than a directory.',
  },
  E_IS_A_DIRECTORY: {
    status: 400,
    expose: true,
    description: 'A file operation that needs a file (read, write) was given a directory.',
  },
  E_NO_SPACE: {
    status: 507,
    expose: true,
    description: 'The sandbox filesystem holding the path is out of space or inodes, or a watch hit the kernel’s watch limit.',
  },
  E_FILE_TOO_LARGE: {
    status: 413,
    expose: true,
    description: 'A write went past the largest file the sandbox may write (limits.fileSizeMb).',
  },
  E_FILE_OPERATION_FAILED: {
    status: 422,
    expose: true,
    description: 'A file operation failed inside the sandbox for another reason; the message and details.errno say which.',
  },
  E_FILE_TIMEOUT: {
    status: 504,
    expose: true,
    description: 'A file operation did not finish within its timeoutMs and was stopped.',
  },
  E_INVALID_REQUEST: {
    status: 400,
    expose: true,
    description: 'An HTTP request is malformed: bad JSON, a wrong type, an unknown field or a bad id; the message names the field and the expected shape.',
  },
  E_UNAUTHENTICATED: {
    status: 401,
    expose: true,
    description: 'The request has no API key, or the key is unknown, revoked or expired.',
  },
  E_FORBIDDEN: {
    status: 403,
    expose: true,
    description: "The API key is valid but lacks the scope this call needs (the message names it), or an MCP request came from a web page of another origin.",
  },
  E_ROUTE_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No API route has this method and path; see GET /openapi.json.',
  },
  E_KEY_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No API key with this id exists in your tenant.',
  },
  E_COMMAND_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No command with this id exists in this sandbox (finished commands are kept for a while, then forgotten).',
  },
  E_BODY_TOO_LARGE: {
    status: 413,
    expose: true,
    description: 'The request body is larger than the server accepts; upload large files with PUT /v1/sandboxes/{id}/files.',
  },
  E_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    expose: true,
    description: 'The request body has a content type this route does not take (JSON routes take application/json).',
  },
  E_UNSUPPORTED: {
    status: 501,
    expose: true,
    description: 'The request asks for a feature this server does not implement, such as an E2B option Warden has no equivalent for; the message names it and what to use instead.',
  },
  E_TEMPLATE_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No E2B template with this name exists on this server; the message lists the templates it has.',
  },
  E_CONNECTION: {
    status: 503,
    expose: true,
    description: 'The SDK or CLI could not reach the Warden server (connection refused, DNS, TLS); check WARDEN_URL and that the server runs.',
  },
  E_SCAN_BLOCKED: {
    status: 422,
    expose: true,
    description: 'The threat scanner rated a file at or above the block level of the policy; details name the files, levels and why.',
  },
  E_SHUTTING_DOWN: {
    status: 503,
    expose: true,
    description: 'The server is shutting down and takes no new work; retry against the restarted server.',
  },
  E_SESSION_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No open shell session with this id exists in the sandbox (it never did, was closed, or its shell ended); list the sandbox’s sessions.',
  },
  E_SESSION_CLOSED: {
    status: 409,
    expose: true,
    description: 'The shell session was closed or its shell exited, so it runs no more commands; create a new session.',
  },
  E_CONTEXT_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No code context with this id exists in the sandbox (it never did, or it was deleted); list the sandbox’s code contexts.',
  },
  E_CONTEXT_CLOSED: {
    status: 409,
    expose: true,
    description: 'The code context was deleted, so it runs no more cells; create a new context or run without one.',
  },
  E_POLICY_INVALID: {
    status: 400,
    expose: true,
    description: 'A guard policy (YAML) is invalid or one of its rules fails its own examples; the message names the rule, the field and the fix.',
  },
  E_GUARD_DENIED: {
    status: 403,
    expose: true,
    description: 'The guard refused the command or code before it ran; details give the decision, risk, rule ids and reasons.',
  },
  E_APPROVAL_PENDING: {
    status: 428,
    expose: true,
    description: 'The action needs a human approval first; details carry the approval id, risk and reasons. Retry with the approval id once it is approved.',
  },
  E_APPROVAL_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'No approval with this id exists for this tenant (it never did, or it was forgotten after deciding); list the approvals.',
  },
  E_APPROVAL_MISMATCH: {
    status: 409,
    expose: true,
    description: 'The approval id was given for a different action, sandbox or language than the one it approved; approvals bind to the exact action.',
  },
  E_APPROVAL_DECIDED: {
    status: 409,
    expose: true,
    description: 'The approval was already decided, used or expired, so it cannot be decided or used again; ask for a new one by retrying the action.',
  },
  E_APPROVAL_FORBIDDEN: {
    status: 403,
    expose: true,
    description: 'This key may not decide this approval: it is the key that asked for the action, or it lacks the approvals:decide scope or the tenant.',
  },
  E_AUDIT_UNAVAILABLE: {
    status: 503,
    expose: true,
    description: 'The audit log could not record an event that must be durable before the action runs, so the action did not run; check the data dir disk.',
  },
  E_SECRET_NOT_FOUND: {
    status: 404,
    expose: true,
    description: 'A sandbox or header injection names a secret the tenant has not stored; store it first (PUT /v1/secrets/NAME).',
  },
  E_SECRET_FORBIDDEN: {
    status: 403,
    expose: true,
    description: "A secret's own rules forbid this use: an inject-only secret asked for as an environment variable or file, or injected for a domain it is not bound to.",
  },
  E_SECRETS_UNAVAILABLE: {
    status: 503,
    expose: true,
    description: 'The secrets store cannot be used: its key is missing or is not the key the secrets were encrypted with.',
  },
  E_INTERNAL: {
    status: 500,
    expose: false,
    description: 'An internal error occurred; the server log has the details under the request id.',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.freeze(Object.keys(ERROR_CATALOGUE) as ErrorCode[]);
