/**
 * Commands the API started, kept so that a client can stream their output,
 * detach, reattach from any point (`after=seq`), send stdin and signals.
 * Each command's events are held until it has been finished for a while;
 * the core's output cap bounds how many bytes that can be.
 */
import { newId, type Sandbox, type SandboxProcess } from '@warden/core';
import { WardenError, type CommandEvent, type CommandView, type ExecResult, type RunCommandBody } from '@warden/protocol';
import { wireError } from '../errors.js';

/** Finished commands stay reattachable this long, and at most this many per sandbox. */
const KEEP_FINISHED_MS = 10 * 60_000;
const KEEP_FINISHED_MAX = 100;
/** Output of finished commands kept per sandbox for reattaching; beyond it the oldest commands are forgotten first. */
const KEEP_FINISHED_BYTES = 64 * 1024 * 1024;

type Listener = (e: CommandEvent) => void;

export class Command {
  readonly id = newId('cmd');
  readonly sandboxId: string;
  readonly argv: readonly string[];
  readonly pty: boolean;
  readonly startedAt = new Date();
  #process: SandboxProcess | undefined;
  readonly #events: CommandEvent[] = [];
  readonly #listeners = new Set<Listener>();
  #result: ExecResult | null = null;
  #outputBytes = 0;
  #pid: number | null = null;
  finishedAt: number | undefined;

  private constructor(sandboxId: string, argv: readonly string[], body: RunCommandBody) {
    this.sandboxId = sandboxId;
    this.argv = argv;
    this.pty = body.pty !== undefined;
  }

  /**
   * Starts the command once the guard admits it (waiting up to
   * approvalWaitMs for a person when it asks); rejects with E_GUARD_DENIED or
   * E_APPROVAL_PENDING without starting anything.
   */
  static async start(sbx: Sandbox, argv: readonly string[], body: RunCommandBody, actor: string, signal: AbortSignal | undefined): Promise<Command> {
    const cmd = new Command(sbx.id, argv, body);
    const stdin = body.stdin === true ? 'pipe' : typeof body.stdin === 'string' ? Buffer.from(body.stdin, 'base64') : undefined;
    const p = await sbx.start(argv, {
      ...(body.cwd !== undefined ? { cwd: body.cwd } : {}),
      ...(body.env !== undefined ? { env: body.env } : {}),
      ...(body.timeoutMs !== undefined ? { timeoutMs: body.timeoutMs } : {}),
      ...(body.maxOutputBytes !== undefined ? { maxOutputBytes: body.maxOutputBytes } : {}),
      ...(stdin !== undefined ? { stdin } : {}),
      ...(body.pty !== undefined ? { pty: body.pty } : {}),
      actor,
      ...(signal ? { signal } : {}),
      ...(body.approvalId !== undefined ? { approvalId: body.approvalId } : {}),
      ...(body.approvalWaitMs !== undefined ? { approvalWaitMs: body.approvalWaitMs } : {}),
      onStdout: (d) => cmd.#emit({ type: 'stdout', seq: 0, data: d.toString('base64') }),
      onStderr: (d) => cmd.#emit({ type: 'stderr', seq: 0, data: d.toString('base64') }),
    });
    cmd.#process = p;
    cmd.#emit({ type: 'start', seq: 0, id: cmd.id, pid: null });
    void p.started().then(
      (pid) => (cmd.#pid = pid),
      () => undefined,
    );
    void p.wait().then(
      (r) => cmd.#finish(r),
      (err: unknown) => {
        cmd.#emit({ type: 'error', seq: 0, ...wireError(err) });
        cmd.finishedAt = Date.now();
        cmd.#listeners.clear();
      },
    );
    return cmd;
  }

  get process(): SandboxProcess {
    if (!this.#process) throw new Error('command not started');
    return this.#process;
  }

  get running(): boolean {
    return this.finishedAt === undefined;
  }

  /**
   * Settles once the command runs (with its pid) or has already ended; rejects
   * when it could not start (E_EXEC_FAILED). `process.started()` alone never
   * settles for a command that fails to start.
   */
  async started(): Promise<void> {
    await Promise.race([this.process.started(), this.process.wait()]);
  }

  /** The full result (with output) once finished. */
  async result(): Promise<ExecResult> {
    return this.process.wait();
  }

  view(): CommandView {
    return { id: this.id, sandboxId: this.sandboxId, argv: [...this.argv], pid: this.#pid, pty: this.pty, startedAt: this.startedAt.toISOString(), running: this.running, result: this.#result };
  }

  /**
   * Replays events with seq > `after`, then calls `listener` with new ones.
   * Returns an unsubscribe function; the listener is dropped after the last event.
   */
  subscribe(after: number, listener: Listener): () => void {
    for (const e of this.#events) if (e.seq > after) listener(e);
    if (!this.running) return () => undefined;
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Bytes of output held in this command's events. */
  get outputBytes(): number {
    return this.#outputBytes;
  }

  #emit(e: CommandEvent): void {
    const event: CommandEvent = { ...e, seq: this.#events.length };
    if (event.type === 'stdout' || event.type === 'stderr') this.#outputBytes += event.data.length;
    this.#events.push(event);
    for (const l of this.#listeners) l(event);
  }

  #finish(r: ExecResult): void {
    // The output went out as events; the end event carries the rest of the result.
    this.#result = { ...r, stdout: '', stderr: '' };
    this.#emit({ type: 'end', seq: 0, result: this.#result });
    this.finishedAt = Date.now();
    this.#listeners.clear();
  }
}

/** Commands per sandbox. */
export class CommandRegistry {
  readonly #bySandbox = new Map<string, Map<string, Command>>();

  async start(sbx: Sandbox, body: RunCommandBody, actor: string, signal?: AbortSignal): Promise<Command> {
    const argv = body.argv ?? (body.cmd !== undefined ? ['/bin/bash', '-c', body.cmd] : undefined);
    if (!argv || (body.argv && body.cmd !== undefined)) {
      throw new WardenError('E_INVALID_REQUEST', 'Pass exactly one of cmd (a shell command line) or argv (an exact argument vector).');
    }
    if (body.stdin === true && !body.background) {
      // A foreground caller learns the command id only when it ends, so it could never feed this stdin.
      throw new WardenError('E_INVALID_REQUEST', 'stdin: true (feed stdin later) needs background: true. For a foreground command pass the input itself as base64 in stdin.');
    }
    const cmd = await Command.start(sbx, argv, body, actor, signal);
    const map = this.#bySandbox.get(sbx.id) ?? new Map<string, Command>();
    this.#bySandbox.set(sbx.id, map);
    this.#prune(map);
    map.set(cmd.id, cmd);
    return cmd;
  }

  get(sandboxId: string, id: string): Command {
    const cmd = this.#bySandbox.get(sandboxId)?.get(id);
    if (!cmd) {
      throw new WardenError('E_COMMAND_NOT_FOUND', `Sandbox ${sandboxId} has no command ${id}. List its commands with GET /v1/sandboxes/${sandboxId}/commands.`, {
        details: { sandboxId, commandId: id },
      });
    }
    return cmd;
  }

  list(sandboxId: string): Command[] {
    const map = this.#bySandbox.get(sandboxId);
    if (!map) return [];
    this.#prune(map);
    return [...map.values()];
  }

  /** Forgets a sandbox's commands (it has ended). */
  drop(sandboxId: string): void {
    this.#bySandbox.delete(sandboxId);
  }

  #prune(map: Map<string, Command>): void {
    const now = Date.now();
    const finished = [...map.values()].filter((c) => c.finishedAt !== undefined);
    // Newest first: keep while within count and bytes; the rest (the oldest) go.
    let bytes = 0;
    finished.reverse().forEach((c, i) => {
      bytes += c.outputBytes;
      if ((c.finishedAt ?? now) < now - KEEP_FINISHED_MS || i >= KEEP_FINISHED_MAX || (i > 0 && bytes > KEEP_FINISHED_BYTES)) map.delete(c.id);
    });
  }
}
