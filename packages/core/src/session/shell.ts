/**
 * One shell process of a session: started and greeted, fed command lines, its
 * output routed to the command running now, and killed as a whole tree.
 */
import { WardenError, hasCode, type ExitReason } from '@warden/protocol';
import { killTree } from '../process/kill-tree.js';
import type { ProcessOptions, SandboxProcess } from '../process/process.js';
import { INTERRUPT_SIGNAL, INTERRUPT_TRAP, commandLine, newNonce } from './framing.js';
import { CommandOutput } from './output.js';

/** Starts the shell's process; the sandbox validates cwd and env. */
export type SpawnShell = (argv: readonly string[], opts: ProcessOptions) => SandboxProcess;

export interface ShellOptions {
  readonly cwd?: string | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
}

export type ShellKind = 'bash' | 'sh';

/** How a shell ended: the sandbox went, the shell ended (exit, signal, OOM), or it never ran. */
export type ShellEnd =
  | { readonly kind: 'sandbox-closed' }
  | { readonly kind: 'ended'; readonly reason: ExitReason; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly kind: 'failed'; readonly error: unknown };

/**
 * bash when the sandbox has it, else sh. `exec` keeps the pid the agent
 * started, so the agent's tree and descendant signals aim at the shell.
 * Neither reads a profile or rc file: the session starts from the sandbox's
 * environment plus `env`, nothing else.
 */
const LAUNCH = ['sh', '-c', 'command -v bash >/dev/null 2>&1 && exec bash --noprofile --norc; exec sh'];

/**
 * The first command of every shell: installs the interrupt trap, turns on
 * aliases (non-interactive bash does not expand them unless told to; sh
 * does), and says which shell it is.
 */
const HANDSHAKE = Buffer.from(`${INTERRUPT_TRAP}; [ -z "\${BASH_VERSION-}" ] || shopt -s expand_aliases; command printf %s "\${BASH_VERSION:+bash}"`);

/** A shell that does not answer its handshake within this is given up. */
const START_TIMEOUT_MS = 10_000;

export class Shell {
  readonly #proc: SandboxProcess;
  #kind: ShellKind = 'sh';
  #cwd: string | undefined;
  #attached: CommandOutput | undefined;
  #destroying: Promise<void> | undefined;
  /** Settles when the shell's process has ended, for whatever reason. Never rejects. */
  readonly ended: Promise<ShellEnd>;

  private constructor(spawn: SpawnShell, opts: ShellOptions) {
    this.#proc = spawn(LAUNCH, {
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      ...(opts.env === undefined ? {} : { env: opts.env }),
      stdin: 'pipe',
      onStdout: (d) => this.#attached?.stdout(d),
      onStderr: (d) => this.#attached?.stderr(d),
    });
    this.ended = this.#proc.wait().then(
      (r): ShellEnd => (r.reason === 'sandbox-closed' ? { kind: 'sandbox-closed' } : { kind: 'ended', reason: r.reason, exitCode: r.exitCode, signal: r.signal }),
      (error: unknown): ShellEnd => ({ kind: 'failed', error }),
    );
  }

  /**
   * Starts a shell and waits until it answers. Throws E_EXEC_FAILED when it
   * cannot start (a missing cwd) or does not answer, E_SANDBOX_CLOSED when the
   * sandbox is gone.
   */
  static async start(spawn: SpawnShell, opts: ShellOptions): Promise<Shell> {
    const shell = new Shell(spawn, opts);
    const nonce = newNonce();
    const out = new CommandOutput({ nonce, maxOutputBytes: 64 * 1024 });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS)));
    shell.attach(out);
    void shell.send(commandLine({ nonce, command: HANDSHAKE }));
    const outcome = await Promise.race([out.complete.then(() => 'ready' as const), shell.ended, timeout]);
    clearTimeout(timer);
    shell.detach();
    if (outcome === 'ready') {
      shell.#kind = out.text().stdout === 'bash' ? 'bash' : 'sh';
      shell.#cwd = out.exit.cwd;
      return shell;
    }
    await shell.destroy();
    const where = opts.cwd === undefined ? 'the default cwd' : `cwd ${JSON.stringify(opts.cwd)}`;
    if (outcome === 'timeout') {
      throw new WardenError('E_EXEC_FAILED', `The session shell started in ${where} did not answer within ${START_TIMEOUT_MS / 1000} s; the sandbox may be overloaded (see limits.cpus and limits.pids). Try again or create a new sandbox.`);
    }
    if (outcome.kind === 'sandbox-closed') throw new WardenError('E_SANDBOX_CLOSED', 'The sandbox closed while a session shell was starting. Create a new sandbox.');
    if (outcome.kind === 'failed') {
      if (hasCode(outcome.error, 'E_EXEC_FAILED')) {
        throw new WardenError('E_EXEC_FAILED', `Could not start a session shell in ${where}: ${outcome.error.message}`, { details: outcome.error.details, cause: outcome.error });
      }
      throw outcome.error;
    }
    throw new WardenError('E_EXEC_FAILED', `The session shell started in ${where} ended before it answered (${describeEnd(outcome)}). Check that sh works in the sandbox.`);
  }

  get kind(): ShellKind {
    return this.#kind;
  }

  /** The working directory the shell reported when it started. */
  get cwd(): string | undefined {
    return this.#cwd;
  }

  /** Routes the shell's output to `out` until detach(); output while detached is dropped. */
  attach(out: CommandOutput): void {
    this.#attached = out;
  }

  detach(): void {
    this.#attached = undefined;
  }

  /** Writes a line to the shell. A failed write surfaces as `ended`, so this never rejects. */
  async send(line: string): Promise<void> {
    await this.#proc.write(line).catch(() => undefined);
  }

  /**
   * Stops the running command and keeps the shell: SIGKILLs every process the
   * shell started (the command's, and background jobs) and has the shell
   * leave the command (the interrupt trap). The signal goes first, so the
   * shell cannot start the command's next step before it has it.
   */
  interrupt(): void {
    this.#proc.kill(INTERRUPT_SIGNAL, 'process');
    this.#proc.kill('SIGKILL', 'descendants');
  }

  /** SIGKILLs the shell and everything it started, and waits (bounded) until the agent reports it gone. Idempotent. */
  destroy(): Promise<void> {
    this.#destroying ??= killTree(this.#proc, this.ended);
    return this.#destroying;
  }
}

/** "exit code 3", "killed by SIGKILL", … for messages. */
export function describeEnd(end: ShellEnd): string {
  switch (end.kind) {
    case 'sandbox-closed':
      return 'the sandbox closed';
    case 'failed':
      return end.error instanceof Error ? end.error.message : String(end.error);
    case 'ended':
      if (end.reason === 'oom') return 'killed by the out-of-memory killer';
      if (end.exitCode !== null) return `exit code ${end.exitCode}`;
      return `killed by ${end.signal ?? 'a signal'}`;
  }
}
