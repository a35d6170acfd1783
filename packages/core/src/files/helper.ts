/**
 * One run of the in-sandbox file helper (`/.warden/agent fs ...`, see
 * packages/agent/FSOPS.md). It starts through the agent like any command, but
 * not as a SandboxProcess: that collects output and caps it, while file
 * content must stream through in bounded pieces for as long as it takes.
 */
import { hasCode, WardenError } from '@warden/protocol';
import type { AgentClient, ProcessHandlers } from '../agent-protocol/client.js';
import { AgentErrorCode, SignalScope, type ExitInfo } from '../agent-protocol/codec.js';
import { signalName } from '../process/signals.js';
import { SANDBOX_AGENT_PATH } from '../runtimes/driver.js';
import { fileError, parseFailure, type FileOp } from './errors.js';

/** What `sandbox.files` needs from its sandbox. */
export interface FilesContext {
  readonly agent: AgentClient;
  readonly sandboxId: string;
  /** Default timeoutMs of an operation (the sandbox's limits.timeoutMs). */
  readonly defaultTimeoutMs: number;
  /** Throws E_SANDBOX_CLOSED once the sandbox no longer runs. */
  assertRunning(): void;
  /** Ends the sandbox: the agent did not confirm a kill, or a helper's output was malformed. */
  killSandbox(reason: string): void;
  /** Called after every change (write, mkdir, move, remove), successful or not: the audit record. */
  onChange?(event: FileChangeEvent): void;
}

export interface FileChangeEvent {
  readonly action: 'file.write' | 'file.mkdir' | 'file.move' | 'file.remove';
  readonly actor?: string;
  readonly preview: string;
  readonly outcome: string;
  readonly durationMs: number;
  readonly details?: Record<string, unknown>;
}

export interface HelperRun {
  readonly op: FileOp;
  /** The path the call named, for messages. */
  readonly path: string;
  readonly dest?: string;
  /** Arguments after `fs`. */
  readonly args: readonly string[];
  readonly stdin: boolean;
  /** undefined: no limit. */
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  /** Each stdout chunk, in order. Throwing stops the helper with that error. */
  readonly onStdout: (chunk: Buffer) => void;
}

const STDERR_CAP_BYTES = 64 * 1024;
/** How long to wait for the agent to confirm a kill before ending the sandbox. */
const KILL_CONFIRM_MS = 5000;

export class FsHelper {
  readonly #ctx: FilesContext;
  readonly #run: HelperRun;
  readonly #id: number;
  readonly #stderr: Buffer[] = [];
  #stderrBytes = 0;
  #started = false;
  #settled = false;
  /** Why we stopped it, once we did. */
  #stopReason: { readonly error: unknown } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #onAbort: (() => void) | undefined;
  #resolve!: () => void;
  #reject!: (err: unknown) => void;
  /** Resolves when the helper exited 0; rejects with the operation's error. */
  readonly done: Promise<void>;
  /** Settles with `done`, never rejects. */
  readonly settled: Promise<void>;

  constructor(ctx: FilesContext, run: HelperRun) {
    this.#ctx = ctx;
    this.#run = run;
    ctx.assertRunning();
    run.signal?.throwIfAborted();
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done.catch(() => undefined);
    this.settled = this.done.then(
      () => undefined,
      () => undefined,
    );
    const handlers: ProcessHandlers = {
      onStarted: () => {
        this.#started = true;
      },
      onStdout: (d) => {
        if (this.#stopReason) return;
        try {
          run.onStdout(d);
        } catch (err) {
          // Never let it reach the agent client: it would end the whole sandbox for any error.
          this.#violationOr(err);
        }
      },
      onStderr: (d) => {
        if (this.#stderrBytes >= STDERR_CAP_BYTES) return;
        const piece = d.subarray(0, STDERR_CAP_BYTES - this.#stderrBytes);
        this.#stderr.push(Buffer.from(piece));
        this.#stderrBytes += piece.length;
      },
      onExit: (info) => this.#exited(info),
      onAgentError: (code, message) => {
        const refused = code === AgentErrorCode.START_FAILED || code === AgentErrorCode.MALFORMED || code === AgentErrorCode.DUPLICATE_ID;
        if (refused && !this.#started) {
          this.#settle(new WardenError('E_FILE_OPERATION_FAILED', `Could not start the file helper in sandbox ${ctx.sandboxId}: ${message}. The sandbox's agent binary may be missing or too old; create a new sandbox.`));
        } else if (code === AgentErrorCode.STDIN_OVERFLOW) {
          // Our pacing keeps the agent's stdin queue far below its limit: something is off.
          this.stop(new WardenError('E_AGENT_PROTOCOL', `The sandbox agent dropped the file helper's input (${message}); the operation was stopped.`));
        }
      },
      onClosed: () => this.#settle(this.#stopReason?.error ?? closedError(ctx.sandboxId)),
    };
    this.#id = ctx.agent.start({ argv: [SANDBOX_AGENT_PATH, 'fs', ...run.args], env: [], cwd: '/', stdin: run.stdin }, handlers);
    if (run.timeoutMs !== undefined) {
      const ms = run.timeoutMs;
      this.#timer = setTimeout(
        () =>
          this.stop(
            new WardenError('E_FILE_TIMEOUT', `The ${run.op} of ${JSON.stringify(run.path)} in sandbox ${ctx.sandboxId} did not finish within ${ms} ms and was stopped. Pass a larger timeoutMs.`, {
              details: { sandboxId: ctx.sandboxId, op: run.op, path: run.path, timeoutMs: ms },
            }),
          ),
        ms,
      );
    }
    const signal = run.signal;
    if (signal) {
      this.#onAbort = () => this.stop(signal.reason);
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** Writes to the helper's stdin; resolves when the agent's pipe takes more. Never rejects: a helper that is gone is reported by `done`. */
  async write(data: Uint8Array): Promise<void> {
    // An empty STDIN frame would close stdin.
    if (data.length === 0 || this.#settled || this.#stopReason) return;
    await this.#ctx.agent.writeStdin(this.#id, data).catch(() => undefined);
  }

  /** Closes the helper's stdin (end of input). */
  async end(): Promise<void> {
    if (this.#settled || this.#stopReason) return;
    await this.#ctx.agent.writeStdin(this.#id, new Uint8Array()).catch(() => undefined);
  }

  /** Kills the helper; `done` then rejects with `error` (unless it already settled). Idempotent. */
  stop(error: unknown): void {
    if (this.#settled || this.#stopReason) return;
    this.#stopReason = { error };
    // The helper has no children: the process is the whole tree.
    this.#ctx.agent.signal(this.#id, 9, SignalScope.PROCESS);
    this.#killTimer = setTimeout(() => this.#ctx.killSandbox('agent did not confirm a kill'), KILL_CONFIRM_MS);
    this.#killTimer.unref();
  }

  /** For checks after the helper exited: a protocol error ends the sandbox (fail closed). Returns `err` to throw. */
  fatal(err: unknown): unknown {
    if (hasCode(err, 'E_AGENT_PROTOCOL')) this.#ctx.killSandbox('malformed output from the file helper');
    return err;
  }

  #violationOr(err: unknown): void {
    this.stop(err);
    this.fatal(err);
  }

  #exited(info: ExitInfo): void {
    if (this.#stopReason) return this.#settle(this.#stopReason.error);
    if (info.kind === 'exited' && info.value === 0) return this.#settle(undefined);
    const stderr = Buffer.concat(this.#stderr).toString('utf8');
    const { sandboxId } = this.#ctx;
    const { op, path, dest } = this.#run;
    const where = { sandboxId, op, path, ...(dest === undefined ? {} : { dest }) };
    if (info.kind === 'signaled') {
      return this.#settle(
        new WardenError('E_FILE_OPERATION_FAILED', `The ${op} of ${JSON.stringify(path)} in sandbox ${sandboxId} was stopped: its helper was killed by ${signalName(info.value)} (by a process in the sandbox, or the sandbox's memory limit). Retry; check the sandbox's limits if it recurs.`, {
          details: { ...where, signal: signalName(info.value) },
        }),
      );
    }
    const failure = parseFailure(stderr);
    this.#settle(
      failure
        ? fileError(where, failure)
        : new WardenError('E_FILE_OPERATION_FAILED', `The ${op} of ${JSON.stringify(path)} in sandbox ${sandboxId} failed: its helper exited with status ${info.value} without saying why.`, {
            details: { ...where, exitCode: info.value },
          }),
    );
  }

  #settle(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#killTimer);
    if (this.#onAbort) this.#run.signal?.removeEventListener('abort', this.#onAbort);
    if (error === undefined) this.#resolve();
    else this.#reject(error);
  }
}

function closedError(sandboxId: string): WardenError {
  return new WardenError('E_SANDBOX_CLOSED', `Sandbox ${sandboxId} closed during the file operation. Create a new sandbox.`, { details: { sandboxId } });
}
