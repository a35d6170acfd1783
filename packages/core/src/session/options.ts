/**
 * Options of sessions and of their commands: checked once at the edge and
 * turned into fully defaulted, frozen values.
 */
import type { ShellKind } from './shell.js';
import type { GateOptions } from '../guard/gate.js';
import { checkKeys, checkRunOptions, invalid, type RunDefaults } from '../options/check.js';

export type { RunDefaults };

export interface SessionOptions {
  /** Working directory the shell starts in (absolute, inside the sandbox). Default: /workspace. */
  readonly cwd?: string;
  /** Environment on top of the sandbox's. Default: none. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface SessionRunOptions extends GateOptions {
  /**
   * Wall-clock limit in ms, counted from when the command starts (after the
   * commands queued before it). On expiry every process the session started
   * is SIGKILLed (background jobs too); the shell and its state stay, unless
   * the command is a loop in the shell itself: then the shell is replaced
   * (`sessionRestarted`). Default: the sandbox's limits.timeoutMs.
   */
  readonly timeoutMs?: number;
  /** Cap on stdout+stderr bytes; passing it ends the command like a timeout. Default: limits.maxOutputBytes. */
  readonly maxOutputBytes?: number;
  /** Aborting ends the command like a timeout (reason `aborted`); a queued command is dropped without running. */
  readonly signal?: AbortSignal;
  /** Called with each chunk of the command's output as it arrives (exact bytes, markers removed). */
  readonly onStdout?: (data: Buffer) => void;
  readonly onStderr?: (data: Buffer) => void;
  /**
   * Bytes or text for the command's stdin, which then sees end-of-file.
   * Needs bash in the sandbox. Default: /dev/null (never the session's own
   * input). Large data is better written to a file first: the shell reads it
   * with its command line.
   */
  readonly stdin?: string | Uint8Array;
}

/** A run as the session executes it. */
export interface RunSpec {
  readonly command: Buffer;
  readonly stdin: Buffer | undefined;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly signal: AbortSignal | undefined;
  readonly onStdout: ((data: Buffer) => void) | undefined;
  readonly onStderr: ((data: Buffer) => void) | undefined;
}

/** A command line is read by the shell byte by byte from a pipe: keep it to a size that parses in well under a second. */
const MAX_COMMAND_BYTES = 4 * 1024 * 1024;
/** stdin travels escaped (up to 4 bytes per byte) inside the command line. */
const MAX_STDIN_BYTES = 1024 * 1024;

const CREATE_KEYS = ['cwd', 'env'];
const RUN_KEYS = ['timeoutMs', 'maxOutputBytes', 'signal', 'onStdout', 'onStderr', 'stdin', 'actor', 'approvalId', 'approvalWaitMs'];

function bytesOf(name: string, v: unknown): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw invalid(`${name} must be a string or a Uint8Array, got ${typeof v}.`);
}

/** Checks the shape of create() options; cwd and env themselves are checked by the sandbox like any spawn's. */
export function checkSessionOptions(opts: unknown): SessionOptions {
  const o = checkKeys('sessions.create() options', opts, CREATE_KEYS) as SessionOptions;
  return Object.freeze({ ...(o.cwd === undefined ? {} : { cwd: o.cwd }), ...(o.env === undefined ? {} : { env: Object.freeze({ ...o.env }) }) });
}

export function checkRun(command: unknown, opts: unknown, defaults: RunDefaults, shell: ShellKind): RunSpec {
  if (typeof command !== 'string' || command.trim() === '') {
    throw invalid(`command must be a non-empty shell command line such as "cd src && ls", got ${JSON.stringify(command) ?? typeof command}.`);
  }
  if (command.includes('\0')) throw invalid('command must not contain NUL bytes: a shell cannot hold them in a command line. Pass binary data through stdin or a file.');
  const bytes = Buffer.from(command, 'utf8');
  if (bytes.length > MAX_COMMAND_BYTES) {
    throw invalid(`command takes ${bytes.length} bytes; a session command can take at most ${MAX_COMMAND_BYTES} (4 MiB). Write a script file and run that instead.`);
  }
  const o = checkKeys('run() options', opts, RUN_KEYS) as SessionRunOptions;
  checkRunOptions(o);
  for (const k of ['onStdout', 'onStderr'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw invalid(`${k} must be a function (data: Buffer) => void, got ${typeof o[k]}.`);
  }
  let stdin: Buffer | undefined;
  if (o.stdin !== undefined) {
    if (shell !== 'bash') throw invalid('stdin needs bash in the sandbox (this session runs sh). Write the data to a file and redirect from it instead.');
    stdin = bytesOf('stdin', o.stdin);
    if (stdin.length > MAX_STDIN_BYTES) throw invalid(`stdin takes ${stdin.length} bytes; a session command takes at most ${MAX_STDIN_BYTES} (1 MiB). Write the data to a file instead.`);
  }
  return Object.freeze({
    command: bytes,
    stdin,
    timeoutMs: o.timeoutMs ?? defaults.timeoutMs,
    maxOutputBytes: o.maxOutputBytes ?? defaults.maxOutputBytes,
    signal: o.signal,
    onStdout: o.onStdout,
    onStderr: o.onStderr,
  });
}
