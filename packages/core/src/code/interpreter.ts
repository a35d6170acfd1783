/**
 * One interpreter server process of a code context: started and greeted,
 * fed cells, its events routed to the cell running now, interrupted with
 * SIGINT and killed as a whole tree.
 */
import { StringDecoder } from 'node:string_decoder';
import { WardenError, hasCode, type CodeLanguage, type ExitReason } from '@warden/protocol';
import { killTree } from '../process/kill-tree.js';
import type { ProcessOptions, SandboxProcess } from '../process/process.js';
import { EventReader, ProtocolViolation, encodeRun, type RunRequest, type ServerEvent } from './framing.js';
import { launchPlan } from './launch.js';

/** Starts the interpreter's process; the sandbox validates cwd and env. */
export type SpawnInterpreter = (argv: readonly string[], opts: ProcessOptions) => SandboxProcess;

export interface InterpreterOptions {
  readonly cwd?: string | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
}

/** How an interpreter ended: the sandbox went, the process ended, it never ran, or it broke the protocol (and was killed). */
export type InterpreterEnd =
  | { readonly kind: 'sandbox-closed' }
  | { readonly kind: 'ended'; readonly reason: ExitReason; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'protocol'; readonly message: string };

/** Receives the events of the cell running now. */
export interface CellListener {
  event(e: Exclude<ServerEvent, { type: 'ready' }>): void;
  /** Text the process wrote to its stderr (fd 2): the cell's, or that of programs it started. */
  stderr(text: string): void;
}

/** An interpreter that does not answer within this is given up (Python with a cold page cache and a busy host). */
const START_TIMEOUT_MS = 30_000;
/** Stderr kept for messages about an interpreter that would not start or died. */
const STDERR_TAIL_CHARS = 2000;
/**
 * Output between cells (background threads, timers) is dropped; an interpreter that writes more
 * than this while no cell runs is killed, so a flood cannot keep the host busy decoding it.
 */
export const MAX_IDLE_OUTPUT_BYTES = 64 * 1024 * 1024;

export class Interpreter {
  readonly language: CodeLanguage;
  readonly #proc: SandboxProcess;
  readonly #events = new EventReader();
  readonly #stderrDecoder = new StringDecoder('utf8');
  #stderrTail = '';
  #listener: CellListener | undefined;
  #onReady: ((e: Extract<ServerEvent, { type: 'ready' }>) => void) | undefined;
  #version = '';
  #idleBytes = 0;
  #destroying: Promise<void> | undefined;
  #violation: ((message: string) => void) | undefined;
  /** Settles when the process has ended, for whatever reason. Never rejects. */
  readonly ended: Promise<InterpreterEnd>;

  private constructor(spawn: SpawnInterpreter, language: CodeLanguage, opts: InterpreterOptions) {
    this.language = language;
    const plan = launchPlan(language);
    const violated = new Promise<InterpreterEnd>((resolve) => (this.#violation = (message) => resolve({ kind: 'protocol', message })));
    this.#proc = spawn(plan.argv, {
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      ...(opts.env === undefined ? {} : { env: opts.env }),
      stdin: 'pipe',
      onStdout: (d) => this.#data(d),
      onStderr: (d) => this.#stderr(this.#stderrDecoder.write(d)),
    });
    const exited = this.#proc.wait().then(
      (r): InterpreterEnd => (r.reason === 'sandbox-closed' ? { kind: 'sandbox-closed' } : { kind: 'ended', reason: r.reason, exitCode: r.exitCode, signal: r.signal }),
      (error: unknown): InterpreterEnd => ({ kind: 'failed', error }),
    );
    this.ended = Promise.race([exited, violated]);
    void this.#proc.write(plan.bootstrap).catch(() => undefined);
  }

  /**
   * Starts an interpreter and waits until its server answers. Throws
   * E_EXEC_FAILED when it cannot start (no python3 or node in the sandbox, a
   * missing cwd) or does not answer, E_SANDBOX_CLOSED when the sandbox is gone.
   */
  static async start(spawn: SpawnInterpreter, language: CodeLanguage, opts: InterpreterOptions): Promise<Interpreter> {
    const interp = new Interpreter(spawn, language, opts);
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<'ready'>((resolve) => {
      interp.#onReady = (e) => {
        interp.#version = e.version;
        resolve('ready');
      };
    });
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS)));
    const outcome = await Promise.race([ready, interp.ended, timeout]);
    clearTimeout(timer);
    interp.#onReady = undefined;
    if (outcome === 'ready') return interp;
    await interp.destroy();
    const program = launchPlan(language).program;
    const where = opts.cwd === undefined ? 'the default cwd' : `cwd ${JSON.stringify(opts.cwd)}`;
    const said = interp.#stderrTail.trim() ? ` It wrote: ${JSON.stringify(interp.#stderrTail.trim().slice(-500))}` : '';
    if (outcome === 'timeout') {
      throw new WardenError('E_EXEC_FAILED', `The ${language} interpreter started in ${where} did not answer within ${START_TIMEOUT_MS / 1000} s; the sandbox may be overloaded (see limits.cpus and limits.memoryMb).${said} Try again or create a new sandbox.`);
    }
    if (outcome.kind === 'sandbox-closed') throw new WardenError('E_SANDBOX_CLOSED', 'The sandbox closed while a code interpreter was starting. Create a new sandbox.');
    if (outcome.kind === 'failed') {
      if (hasCode(outcome.error, 'E_EXEC_FAILED')) {
        throw new WardenError('E_EXEC_FAILED', `Could not start the ${language} interpreter (${program}) in ${where}: ${outcome.error.message}`, { details: outcome.error.details, cause: outcome.error });
      }
      throw outcome.error;
    }
    throw new WardenError('E_EXEC_FAILED', `The ${language} interpreter (${program}) started in ${where} ended before it answered (${describeEnd(outcome)}).${said} Check that ${program} is installed in the sandbox.`);
  }

  /** The interpreter's version, as its server reported it (`3.11.2`, `20.20.2`). */
  get version(): string {
    return this.#version;
  }

  /** Routes the events to `listener` until detach(); events while detached are dropped. */
  attach(listener: CellListener): void {
    this.#listener = listener;
    this.#idleBytes = 0;
  }

  detach(): void {
    this.#listener = undefined;
  }

  /** Sends a cell. A failed write surfaces as `ended`, so this never throws. */
  send(req: RunRequest): void {
    void this.#proc.write(encodeRun(req)).catch(() => undefined);
  }

  /**
   * Interrupts the running cell: SIGINT to the interpreter's process group,
   * which also reaches the programs the cell started in the foreground (like
   * Ctrl-C in a terminal).
   */
  interrupt(): void {
    this.#proc.kill('SIGINT', 'group');
  }

  /** SIGKILLs the interpreter and everything it started, and waits (bounded) until the agent reports it gone. Idempotent. */
  destroy(): Promise<void> {
    this.#destroying ??= killTree(this.#proc, this.ended);
    return this.#destroying;
  }

  #data(chunk: Buffer): void {
    if (this.#violation === undefined || this.#idle(chunk.length)) return;
    try {
      for (const e of this.#events.push(chunk)) this.#dispatch(e);
    } catch (err) {
      if (!(err instanceof ProtocolViolation)) throw err;
      this.#violated(err.message);
    }
  }

  #dispatch(e: ServerEvent): void {
    if (e.type === 'ready') {
      if (e.language !== this.language) throw new ProtocolViolation(`a ${this.language} interpreter said it is ${e.language}`);
      this.#onReady?.(e);
      return;
    }
    this.#listener?.event(e);
  }

  #stderr(text: string): void {
    if (text.length === 0 || this.#idle(text.length)) return;
    this.#stderrTail = (this.#stderrTail + text).slice(-STDERR_TAIL_CHARS);
    this.#listener?.stderr(text);
  }

  /** Counts output while no cell runs; true (and the interpreter killed) past the limit. */
  #idle(bytes: number): boolean {
    if (this.#listener || this.#onReady) return false;
    this.#idleBytes += bytes;
    if (this.#idleBytes <= MAX_IDLE_OUTPUT_BYTES) return false;
    this.#violated(`it wrote more than ${MAX_IDLE_OUTPUT_BYTES} bytes while no cell ran`);
    return true;
  }

  /** The server broke the framing: nothing it says can be trusted any more. */
  #violated(message: string): void {
    const resolve = this.#violation;
    this.#violation = undefined;
    resolve?.(message);
    void this.destroy();
  }
}

/** "exit code 3", "killed by SIGKILL", … for messages. */
export function describeEnd(end: InterpreterEnd): string {
  switch (end.kind) {
    case 'sandbox-closed':
      return 'the sandbox closed';
    case 'failed':
      return end.error instanceof Error ? end.error.message : String(end.error);
    case 'protocol':
      return `it broke the code protocol: ${end.message}`;
    case 'ended':
      if (end.reason === 'oom') return 'killed by the out-of-memory killer (see limits.memoryMb)';
      if (end.exitCode !== null) return `exit code ${end.exitCode}`;
      return `killed by ${end.signal ?? 'a signal'}`;
  }
}
