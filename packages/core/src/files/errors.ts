/**
 * Pure: what the file helper reported on failure (one JSON line on stderr:
 * errno name, message, the path concerned) → a WardenError whose code callers
 * branch on and whose message names the sandbox path and what to do.
 */
import { WardenError, type ErrorCode } from '@warden/protocol';

export type FileOp = 'read' | 'write' | 'list' | 'stat' | 'mkdir' | 'move' | 'remove' | 'exists' | 'watch';

export interface HelperFailure {
  readonly errno: string;
  readonly message: string;
  /** The entry the error is about: the path asked for, a parent, or an entry inside a tree. */
  readonly path?: string;
  readonly dest?: string;
}

/** The failure report in the helper's stderr, if it wrote one (untrusted: checked field by field). */
export function parseFailure(stderr: string): HelperFailure | undefined {
  const line = stderr.trimEnd().split('\n').at(-1) ?? '';
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.errno !== 'string' || !/^E[A-Z0-9]{1,20}$/.test(o.errno) || typeof o.message !== 'string') return undefined;
  const optional = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
  const path = optional(o.path);
  const dest = optional(o.dest);
  return { errno: o.errno, message: o.message.slice(0, 500), ...(path === undefined ? {} : { path }), ...(dest === undefined ? {} : { dest }) };
}

const VERBS: Readonly<Record<FileOp, string>> = {
  read: 'read',
  write: 'write',
  list: 'list',
  stat: 'stat',
  mkdir: 'create directory',
  move: 'move',
  remove: 'remove',
  exists: 'check',
  watch: 'watch',
};

const q = (p: string): string => JSON.stringify(p);

export interface FailureContext {
  readonly sandboxId: string;
  readonly op: FileOp;
  /** The path the call named (normalised). */
  readonly path: string;
  readonly dest?: string;
}

export function fileError(ctx: FailureContext, f: HelperFailure): WardenError {
  const what = `Could not ${VERBS[ctx.op]} ${q(ctx.path)}${ctx.dest === undefined ? '' : ` to ${q(ctx.dest)}`} in sandbox ${ctx.sandboxId}`;
  const at = f.path ?? ctx.path;
  const [code, why] = explain(ctx.op, f, at === ctx.path ? 'it' : q(at));
  return new WardenError(code, `${what}: ${why}`, {
    details: {
      sandboxId: ctx.sandboxId,
      op: ctx.op,
      path: ctx.path,
      ...(ctx.dest === undefined ? {} : { dest: ctx.dest }),
      ...(at === ctx.path ? {} : { entry: at }),
      errno: f.errno,
    },
  });
}

/** `at`: how to name the entry concerned ("it" when it is the path asked for). */
function explain(op: FileOp, f: HelperFailure, at: string): [ErrorCode, string] {
  switch (f.errno) {
    case 'ENOENT':
      if (op === 'watch' && f.message.includes('the watch ended')) return ['E_FILE_NOT_FOUND', `${f.message}. Watch the path again once it exists.`];
      return ['E_FILE_NOT_FOUND', `${at} does not exist (or the sandbox's policy hides it). Check the path (relative paths start at /workspace)${op === 'move' ? ' and that the destination directory exists' : ''}.`];
    case 'EEXIST':
      return op === 'mkdir'
        ? ['E_FILE_EXISTS', `${at} exists and is not a directory. Remove it first or choose another name.`]
        : ['E_FILE_EXISTS', `${at} already exists. Pass { overwrite: true } to replace it, or remove it first.`];
    case 'ENOTEMPTY':
      return ['E_FILE_EXISTS', `${at} is a directory that is not empty, and only an empty one can be replaced. Remove it first.`];
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return [
        'E_PERMISSION_DENIED',
        `the sandbox's user may not do this to ${at} (${f.message}). It is read-only for the sandbox: a read or view level path of its codebase policy, the read-only system, or its permissions forbid it. Write only where the sandbox may write, such as /workspace paths at write level or /tmp.`,
      ];
    case 'ENOTDIR':
      return ['E_NOT_A_DIRECTORY', `${at}, or a directory on the way to it, is not a directory. Check the path with stat().`];
    case 'EISDIR':
      return ['E_IS_A_DIRECTORY', `${at} is a directory. Name a file inside it; list() shows its entries and remove() deletes it.`];
    case 'ENOSPC':
    case 'EDQUOT':
      return op === 'watch'
        ? ['E_NO_SPACE', `${f.message}. Watch a smaller tree, or fewer trees at once.`]
        : ['E_NO_SPACE', `the sandbox filesystem holding ${at} is full (${f.message}). Remove files the sandbox no longer needs, or create it with larger limits (diskMb, diskInodes, tmpMb).`];
    case 'EFBIG':
      return ['E_FILE_TOO_LARGE', `${at} would be larger than the largest file the sandbox may write. Write less, or create the sandbox with a larger limits.fileSizeMb.`];
    case 'EINVAL':
    case 'ENAMETOOLONG':
      return ['E_INVALID_ARGUMENT', at === 'it' ? `${f.message}.` : `${f.message}: ${at}.`];
    case 'EXDEV':
      return ['E_FILE_OPERATION_FAILED', `the source and destination are on different filesystems, which rename cannot cross. Write the file at its destination and remove the original instead.`];
    default:
      return ['E_FILE_OPERATION_FAILED', `${f.errno} (${f.message})${at === 'it' ? '' : ` at ${at}`}.`];
  }
}
