/**
 * A stateful shell session: commands run one after another in one long-lived
 * shell, so the working directory, exported and shell variables, functions
 * and aliases persist between them.
 */
import { WardenError, hasCode, type SessionExitReason, type SessionResult } from '@warden/protocol';
import { commandLine, newNonce } from './framing.js';
import { checkRun, type RunDefaults, type RunSpec, type SessionOptions, type SessionRunOptions } from './options.js';
import { CommandOutput } from './output.js';
import { Shell, describeEnd, type ShellEnd, type ShellKind, type SpawnShell } from './shell.js';
import type { Gate } from '../guard/gate.js';
import type { SecretMasker } from '../secrets/mask.js';
import { SerialQueue } from '../process/serial-queue.js';

export interface SessionInfo {
  readonly id: string;
  readonly sandboxId: string;
  /** `bash`, or `sh` when the sandbox has no bash. */
  readonly shell: ShellKind;
  readonly state: 'open' | 'closed';
  /** The shell's working directory after the last command (from `$PWD`); undefined if the shell never said. */
  readonly cwd: string | undefined;
  readonly createdAt: string;
  /** A command is running now. */
  readonly busy: boolean;
  /** Commands waiting behind the running one. */
  readonly queued: number;
  /** Commands the shell has been given, including ones that timed out. */
  readonly commandsRun: number;
  /** Times the shell was replaced because a command could not be stopped otherwise. */
  readonly restarts: number;
  /** Why the session ended, once it has. */
  readonly closedReason?: string;
}

/** What the session needs from its sandbox. */
export interface SessionDeps {
  readonly id: string;
  readonly sandboxId: string;
  readonly spawn: SpawnShell;
  readonly options: SessionOptions;
  readonly defaults: RunDefaults;
  /** Settles when the sandbox has ended. */
  readonly sandboxEnded: Promise<unknown>;
  /** Called once when the session ends, for whatever reason. */
  readonly onEnded: (session: Session) => void;
  /** The guard and audit gate each command line passes before it is queued. */
  readonly gate: Gate;
  /** Secret values to mask in command output. Default: none. */
  readonly masker?: SecretMasker;
}

interface SessionEnd {
  readonly reason: 'session-ended' | 'sandbox-closed';
  /** The shell's exit code when it exited by itself. */
  readonly exitCode: number | null;
  readonly why: string;
}

type Interrupt = 'timeout' | 'aborted' | 'output-limit';

interface Job {
  readonly spec: RunSpec;
  /** Set while the job runs: stops it. */
  interrupt?: (why: Interrupt) => void;
}

/** After a timeout, abort or output cap: how long the shell has to report the command's end before it is replaced. */
const RESTART_GRACE_MS = 2000;
/** Interrupts repeat this often during the grace period: a process forked while the agent walked the tree, or a trap the command reset, get another try. */
const INTERRUPT_REPEAT_MS = 200;

export class Session implements AsyncDisposable {
  readonly id: string;
  readonly createdAt = new Date();
  readonly #deps: SessionDeps;
  readonly #kind: ShellKind;
  #shell: Shell | undefined;
  #cwd: string | undefined;
  /** Commands in call order, one at a time (close() waits for the running one). */
  readonly #jobs: SerialQueue<Job, SessionResult> = new SerialQueue({
    execute: (job) => this.#execute(job),
    stopped: () => this.#end !== undefined,
    abortedBeforeStart: () => notRun('aborted'),
    interrupt: (job) => job.interrupt?.('aborted'),
  });
  #commandsRun = 0;
  #restarts = 0;
  #end: SessionEnd | undefined;
  readonly #ended: Promise<SessionEnd>;
  #resolveEnded!: (end: SessionEnd) => void;
  #closing: Promise<void> | undefined;

  /** Sessions are made by `sandbox.sessions.create()`. */
  constructor(deps: SessionDeps, shell: Shell) {
    this.#deps = deps;
    this.id = deps.id;
    this.#kind = shell.kind;
    this.#ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.#adopt(shell);
    void deps.sandboxEnded.then(() => this.#finish({ reason: 'sandbox-closed', exitCode: null, why: 'the sandbox was closed' }));
  }

  info(): SessionInfo {
    return {
      id: this.id,
      sandboxId: this.#deps.sandboxId,
      shell: this.#kind,
      state: this.#end ? 'closed' : 'open',
      cwd: this.#cwd,
      createdAt: this.createdAt.toISOString(),
      busy: this.#jobs.current !== undefined,
      queued: this.#jobs.queued,
      commandsRun: this.#commandsRun,
      restarts: this.#restarts,
      ...(this.#end ? { closedReason: this.#end.why } : {}),
    };
  }

  /**
   * Runs a shell command line in the session, after any commands queued
   * before it. Its exit status, a timeout, an abort or the output cap are
   * fields of the result, never exceptions; so is the session ending under it
   * (`session-ended`, `sandbox-closed`). Throws E_INVALID_ARGUMENT for bad
   * arguments and E_SESSION_CLOSED (E_SANDBOX_CLOSED once the sandbox is gone)
   * when the session has ended.
   * @example
   * await s.run('cd /tmp && export GREETING=hi');
   * const r = await s.run('echo "$GREETING from $PWD"'); // r.stdout === 'hi from /tmp\n'
   */
  async run(command: string, opts: SessionRunOptions = {}): Promise<SessionResult> {
    const spec = checkRun(command, opts, this.#deps.defaults, this.#kind);
    if (this.#end) throw this.#closedError();
    // Admitted at once (no await), a command joins the queue in call order.
    const admitted = this.#deps.gate.admitWaiting('session', { language: 'bash', code: command }, opts);
    const admission = admitted instanceof Promise ? await admitted : admitted;
    if (this.#end) {
      // Ended while the guard waited for an approval: the log has the command's start, so it gets its end.
      const err = this.#closedError();
      this.#deps.gate.failed(admission, err);
      throw err;
    }
    return this.#deps.gate.track(admission, this.#jobs.run({ spec }, spec.signal), (r) => (r.reason === 'exited' ? `exited:${String(r.exitCode)}` : r.reason));
  }

  /**
   * Ends the session: kills the shell and every process it started. The
   * running command and queued ones resolve with reason `session-ended`; later
   * run() calls throw E_SESSION_CLOSED. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const shell = this.#shell;
      this.#finish({ reason: 'session-ended', exitCode: null, why: 'closed by close()' });
      await shell?.destroy();
      await this.#jobs.idle;
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #closedError(): WardenError {
    const end = this.#end;
    const details = { sessionId: this.id, sandboxId: this.#deps.sandboxId };
    if (end?.reason === 'sandbox-closed') {
      return new WardenError('E_SANDBOX_CLOSED', `Sandbox ${this.#deps.sandboxId} is closed, and session ${this.id} with it. Create a new sandbox.`, { details });
    }
    return new WardenError('E_SESSION_CLOSED', `Session ${this.id} has ended (${end?.why ?? 'closed'}) and runs no more commands. Create a new one with sandbox.sessions.create().`, { details });
  }

  /** Watches a shell: if it ends while it is the session's shell, the session ends. */
  #adopt(shell: Shell): void {
    this.#shell = shell;
    this.#cwd = shell.cwd ?? this.#cwd;
    void shell.ended.then((end) => {
      if (this.#shell === shell) this.#finish(sessionEndOf(end));
    });
  }

  /** Ends the session once: settles queued jobs and the running one (through #ended), kills the shell. */
  #finish(end: SessionEnd): void {
    if (this.#end) return;
    this.#end = end;
    this.#resolveEnded(end);
    this.#jobs.drain(() => notRun(end.reason));
    const shell = this.#shell;
    this.#shell = undefined;
    // An exited shell's background jobs are past reach (the agent forgets a process once it exits); a live one goes with its tree.
    void shell?.destroy();
    this.#deps.onEnded(this);
  }

  async #execute(job: Job): Promise<SessionResult> {
    const { spec } = job;
    const shell = this.#shell;
    if (!shell) return notRun(this.#end?.reason ?? 'session-ended');
    const started = Date.now();
    const nonce = newNonce();
    let interrupted: Interrupt | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let repeatTimer: NodeJS.Timeout | undefined;
    let graceOver!: () => void;
    const grace = new Promise<'grace'>((resolve) => (graceOver = () => resolve('grace')));
    const interrupt = (why: Interrupt): void => {
      if (interrupted !== undefined || out.done) return;
      interrupted = why;
      shell.interrupt();
      repeatTimer = setInterval(() => shell.interrupt(), INTERRUPT_REPEAT_MS);
      graceTimer = setTimeout(graceOver, RESTART_GRACE_MS);
    };
    const out = new CommandOutput({ nonce, maxOutputBytes: spec.maxOutputBytes, onStdout: spec.onStdout, onStderr: spec.onStderr, onLimit: () => interrupt('output-limit'), ...(this.#deps.masker ? { masker: this.#deps.masker } : {}) });
    const timer = setTimeout(() => interrupt('timeout'), spec.timeoutMs);
    job.interrupt = interrupt;
    shell.attach(out);
    this.#commandsRun++;
    void shell.send(commandLine({ nonce, command: spec.command, stdin: spec.stdin }));
    let outcome: 'done' | 'grace' | SessionEnd;
    try {
      outcome = await Promise.race([out.complete.then(() => 'done' as const), grace, this.#ended]);
    } finally {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      clearInterval(repeatTimer);
      job.interrupt = undefined;
      shell.detach();
    }
    const result = (reason: SessionExitReason, exitCode: number | null, sessionRestarted: boolean): SessionResult => ({
      reason,
      exitCode,
      ...out.text(),
      truncated: out.truncated,
      durationMs: Date.now() - started,
      sessionRestarted,
    });
    if (outcome === 'done') {
      const exit = out.exit;
      this.#cwd = exit.cwd ?? this.#cwd;
      return result(interrupted ?? 'exited', interrupted === undefined ? exit.exitCode : null, false);
    }
    out.flush();
    if (outcome === 'grace') {
      // The command is the shell itself (a builtin loop such as `while :; do :; done`): only a new shell stops it.
      const restarted = await this.#restart(shell);
      return result(interrupted ?? 'timeout', null, restarted);
    }
    return result(outcome.reason, outcome.exitCode, false);
  }

  /** Replaces a shell that will not stop; the state it held is lost. False when the session ended instead. */
  async #restart(old: Shell): Promise<boolean> {
    this.#shell = undefined; // the old shell's end must not end the session
    await old.destroy();
    if (this.#end) return false;
    try {
      const fresh = await Shell.start(this.#deps.spawn, this.#deps.options);
      if (this.#end) {
        await fresh.destroy();
        return false;
      }
      this.#restarts++;
      this.#cwd = undefined;
      this.#adopt(fresh);
      return true;
    } catch (err) {
      const closed = hasCode(err, 'E_SANDBOX_CLOSED');
      this.#finish({
        reason: closed ? 'sandbox-closed' : 'session-ended',
        exitCode: null,
        why: `a command could not be stopped and a new shell could not be started: ${err instanceof Error ? err.message : String(err)}`,
      });
      return false;
    }
  }
}

function sessionEndOf(end: ShellEnd): SessionEnd {
  if (end.kind === 'sandbox-closed') return { reason: 'sandbox-closed', exitCode: null, why: 'the sandbox was closed' };
  return { reason: 'session-ended', exitCode: end.kind === 'ended' ? end.exitCode : null, why: `the shell ended (${describeEnd(end)})` };
}

/** The result of a command that never ran. */
function notRun(reason: SessionExitReason): SessionResult {
  return { reason, exitCode: null, stdout: '', stderr: '', truncated: false, durationMs: 0, sessionRestarted: false };
}
