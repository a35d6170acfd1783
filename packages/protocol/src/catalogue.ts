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
    description: 'The engine is at its sandbox limit; close a sandbox or raise maxSandboxes.',
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
  E_INTERNAL: {
    status: 500,
    expose: false,
    description: 'An internal error occurred; the server log has the details under the request id.',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.freeze(Object.keys(ERROR_CATALOGUE) as ErrorCode[]);
