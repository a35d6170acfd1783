/**
 * A code context: cells of one language run one after another in one
 * long-lived interpreter, so variables, functions and imports persist
 * between them. The interpreter starts with the first cell; when it dies
 * (a crash, `os._exit`, `process.exit()`, a cell that would not stop), the
 * cell says so and the next cell starts a fresh one.
 */
import { WardenError, type CodeError, type CodeLanguage, type Execution } from '@warden/protocol';
import type { Gate } from '../guard/gate.js';
import { CellOutput } from './cell.js';
import { Interpreter, describeEnd, type InterpreterEnd, type SpawnInterpreter } from './interpreter.js';
import { checkCell, type CellDefaults, type CellSpec, type ContextSpec, type RunCodeOptions } from './options.js';
import type { SecretMasker } from '../secrets/mask.js';
import { SerialQueue } from '../process/serial-queue.js';

export interface CodeContextInfo {
  readonly id: string;
  readonly sandboxId: string;
  readonly language: CodeLanguage;
  /** The directory the interpreter starts in. */
  readonly cwd: string;
  /** The context runCode() uses for its language when no context is named. */
  readonly isDefault: boolean;
  readonly state: 'open' | 'closed';
  readonly createdAt: string;
  /** Its interpreter runs now. */
  readonly started: boolean;
  /** The interpreter's version (`3.11.2`, `20.20.2`), once one has started. */
  readonly version: string | undefined;
  /** A cell is running now. */
  readonly busy: boolean;
  /** Cells waiting behind the running one. */
  readonly queued: number;
  /** Cells the current interpreter has been given (0 before it starts). */
  readonly executionCount: number;
  /** Interpreters started after the first: restarts, and starts after one died. */
  readonly restarts: number;
  /** Why the context closed, once it has. */
  readonly closedReason?: string;
}

/** JavaScript cells with top-level await are rewritten before they are sent (js-async.ts). */
export type PrepareCode = (language: CodeLanguage, code: string) => { readonly code: string; readonly async: boolean } | Promise<{ readonly code: string; readonly async: boolean }>;

/** What the context needs from its sandbox. */
export interface CodeContextDeps {
  readonly id: string;
  readonly sandboxId: string;
  readonly spec: ContextSpec;
  /** The directory the interpreter starts in when spec.cwd is not set. */
  readonly defaultCwd: string;
  readonly isDefault: boolean;
  readonly spawn: SpawnInterpreter;
  readonly defaults: CellDefaults;
  /**
   * Registers what the context does when the sandbox ends. The manager keeps
   * it only while the context is open: a hook on the sandbox's own promise
   * would keep every deleted context in memory for the sandbox's life.
   */
  readonly onSandboxEnd: (end: () => void) => void;
  /** The guard and audit gate every cell passes before it is queued. */
  readonly gate: Gate;
  /** Secret values to mask in cell output. Default: none. */
  readonly masker?: SecretMasker | undefined;
  readonly prepare: PrepareCode;
  /** Called once when the context closes, for whatever reason. */
  readonly onClosed: (context: CodeContext) => void;
}

type Interrupt = 'timeout' | 'aborted' | 'output-limit';
/** Who ended the interpreter under a running cell. */
type Stop = 'restart' | 'close' | 'sandbox';

interface Job {
  readonly spec: CellSpec;
  /** Set while the job runs: interrupts the cell. */
  interrupt?: (why: Interrupt) => void;
  stoppedBy?: Stop;
}

/** After an interrupt: how long the cell has to end before its interpreter is killed. */
const INTERRUPT_GRACE_MS = 2000;

const LOST = "the context's state (variables, imports) is lost and the next cell starts a fresh interpreter";

export class CodeContext implements AsyncDisposable {
  readonly id: string;
  readonly language: CodeLanguage;
  readonly cwd: string;
  readonly isDefault: boolean;
  readonly createdAt = new Date();
  readonly #deps: CodeContextDeps;
  #interp: Interpreter | undefined;
  #starting: Promise<Interpreter> | undefined;
  #version: string | undefined;
  /** Cells in call order, one at a time. */
  readonly #jobs: SerialQueue<Job, Execution> = new SerialQueue({
    execute: (job) => this.#execute(job),
    stopped: () => this.#closed !== undefined,
    abortedBeforeStart: () => this.#notRun('AbortError', 'The cell was aborted before it started.'),
    interrupt: (job) => job.interrupt?.('aborted'),
    onResult: (job, e) => {
      if (!e.error) return;
      try {
        job.spec.onError?.(e.error);
      } catch {
        // Documented: exceptions thrown by callbacks are ignored.
      }
    },
  });
  #starts = 0;
  #cells = 0;
  #requestId = 0;
  #closed: { readonly stop: Stop; readonly why: string } | undefined;
  #closing: Promise<void> | undefined;

  /** Contexts are made by `sandbox.code.create()` (or by runCode, for the default ones). */
  constructor(deps: CodeContextDeps) {
    this.#deps = deps;
    this.id = deps.id;
    this.language = deps.spec.language;
    this.cwd = deps.spec.cwd ?? deps.defaultCwd;
    this.isDefault = deps.isDefault;
    deps.onSandboxEnd(() => void this.#close('sandbox', 'the sandbox was closed'));
  }

  info(): CodeContextInfo {
    return {
      id: this.id,
      sandboxId: this.#deps.sandboxId,
      language: this.language,
      cwd: this.cwd,
      isDefault: this.isDefault,
      state: this.#closed ? 'closed' : 'open',
      createdAt: this.createdAt.toISOString(),
      started: this.#interp !== undefined,
      version: this.#version,
      busy: this.#jobs.current !== undefined,
      queued: this.#jobs.queued,
      executionCount: this.#interp ? this.#cells : 0,
      restarts: Math.max(0, this.#starts - 1),
      ...(this.#closed ? { closedReason: this.#closed.why } : {}),
    };
  }

  /**
   * Runs a cell after the cells queued before it. What the code does (an
   * exception, a timeout, the output cap, a crash of the interpreter) is in
   * the Execution's `error`, never thrown. Throws E_INVALID_ARGUMENT for bad
   * arguments, E_GUARD_DENIED / E_APPROVAL_PENDING from the guard,
   * E_EXEC_FAILED when the interpreter cannot start, E_CONTEXT_CLOSED after
   * delete() (E_SANDBOX_CLOSED once the sandbox is gone).
   * @example
   * await ctx.run('import math; r = 2');
   * (await ctx.run('math.pi * r ** 2')).results[0]?.text; // '12.566370614359172'
   */
  async run(code: string, opts: Omit<RunCodeOptions, 'language' | 'context'> = {}): Promise<Execution> {
    const spec = checkCell(code, opts, this.#deps.defaults);
    if (this.#closed) throw this.#closedError();
    // Admitted at once (no await), a cell joins the queue in call order.
    const admitted = this.#deps.gate.admitWaiting('code', { language: this.language, code }, opts);
    const admission = admitted instanceof Promise ? await admitted : admitted;
    if (this.#closed) {
      // Closed while the guard waited for an approval: the audit log has the cell's start, so it gets its end.
      const err = this.#closedError();
      this.#deps.gate.failed(admission, err);
      throw err;
    }
    return this.#deps.gate.track(admission, this.#jobs.run({ spec }, spec.signal), (e) => (e.error ? `error:${e.error.name}` : 'ok'));
  }

  /**
   * Replaces the interpreter with a fresh one (all state is lost) and waits
   * until it is ready. A running cell ends with error `ContextRestarted`;
   * queued cells run in the new interpreter. Throws E_EXEC_FAILED when the
   * new interpreter cannot start, E_CONTEXT_CLOSED after delete().
   */
  async restart(): Promise<void> {
    if (this.#closed) throw this.#closedError();
    const running = this.#jobs.current;
    if (running) running.stoppedBy = 'restart';
    const old = this.#interp ?? (await this.#starting?.catch(() => undefined));
    this.#interp = undefined;
    await old?.destroy();
    if (this.#closed) throw this.#closedError();
    await this.#interpreter();
  }

  /**
   * Ends the context: kills the interpreter and everything it started. The
   * running cell and queued ones resolve with error `ContextClosed`; later
   * run() calls throw E_CONTEXT_CLOSED. Idempotent.
   */
  close(): Promise<void> {
    return this.#close('close', 'deleted');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #close(stop: Stop, why: string): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = { stop, why };
      this.#jobs.drain(() => this.#stoppedBeforeStart(stop));
      const running = this.#jobs.current;
      if (running) running.stoppedBy = stop;
      const interp = this.#interp ?? (await this.#starting?.catch(() => undefined));
      this.#interp = undefined;
      this.#deps.onClosed(this);
      await interp?.destroy();
      await this.#jobs.idle;
    })();
    return this.#closing;
  }

  #closedError(): WardenError {
    const details = { contextId: this.id, sandboxId: this.#deps.sandboxId };
    if (this.#closed?.stop === 'sandbox') {
      return new WardenError('E_SANDBOX_CLOSED', `Sandbox ${this.#deps.sandboxId} is closed, and code context ${this.id} with it. Create a new sandbox.`, { details });
    }
    return new WardenError('E_CONTEXT_CLOSED', `Code context ${this.id} was ${this.#closed?.why ?? 'closed'} and runs no more cells. Create a new one with sandbox.code.create(), or run without a context.`, { details });
  }

  /** The running interpreter, started (once, however many callers ask) when there is none. */
  async #interpreter(): Promise<Interpreter> {
    if (this.#interp) return this.#interp;
    this.#starting ??= (async () => {
      try {
        const interp = await Interpreter.start(this.#deps.spawn, this.language, { cwd: this.#deps.spec.cwd, env: this.#deps.spec.env });
        if (this.#closed) {
          await interp.destroy();
          throw this.#closedError();
        }
        this.#starts++;
        this.#cells = 0;
        this.#version = interp.version;
        this.#interp = interp;
        // One that dies between cells is replaced by the next cell.
        void interp.ended.then(() => {
          if (this.#interp === interp) this.#interp = undefined;
        });
        return interp;
      } finally {
        this.#starting = undefined;
      }
    })();
    return this.#starting;
  }

  #stoppedBeforeStart(stop: Stop): Execution {
    if (stop === 'sandbox') return this.#notRun('SandboxClosed', 'The sandbox was closed before this cell started.');
    if (stop === 'close') return this.#notRun('ContextClosed', 'The context was deleted before this cell started.');
    return this.#notRun('ContextRestarted', 'The context was restarted before this cell started; run it again.');
  }

  #notRun(name: string, value: string): Execution {
    return { contextId: this.id, results: [], logs: { stdout: [], stderr: [] }, error: { name, value, traceback: '' }, executionCount: 0, durationMs: 0, truncated: false, stateLost: false };
  }

  async #execute(job: Job): Promise<Execution> {
    const { spec } = job;
    const started = performance.now();
    try {
      spec.onStart?.();
    } catch {
      // Documented: exceptions thrown by callbacks are ignored.
    }
    let interp: Interpreter;
    try {
      interp = await this.#interpreter();
    } catch (err) {
      // Deleted, restarted or gone with the sandbox while its interpreter started: that is the cell's outcome.
      if (job.stoppedBy) return this.#stoppedBeforeStart(job.stoppedBy);
      throw err;
    }
    const prepared = await this.#deps.prepare(this.language, spec.code);
    if (spec.signal?.aborted) return this.#notRun('AbortError', 'The cell was aborted before it started.');
    if (job.stoppedBy) return this.#stoppedBeforeStart(job.stoppedBy);
    let interrupted: Interrupt | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let graceOver!: () => void;
    const grace = new Promise<'grace'>((resolve) => (graceOver = () => resolve('grace')));
    const interrupt = (why: Interrupt): void => {
      if (interrupted !== undefined) return;
      interrupted = why;
      interp.interrupt();
      graceTimer = setTimeout(graceOver, INTERRUPT_GRACE_MS);
    };
    const out = new CellOutput({ maxOutputBytes: spec.maxOutputBytes, onStdout: spec.onStdout, onStderr: spec.onStderr, onResult: spec.onResult, onLimit: () => interrupt('output-limit'), masker: this.#deps.masker });
    const id = ++this.#requestId;
    let finished!: () => void;
    const done = new Promise<'done'>((resolve) => (finished = () => resolve('done')));
    interp.attach({
      event: (e) => {
        switch (e.type) {
          case 'stdout':
          case 'stderr':
            out.text(e.type, e.text);
            break;
          case 'result':
            out.result(e.result);
            break;
          case 'error':
            out.error = out.masked({ name: e.name, value: e.value, traceback: e.traceback });
            break;
          case 'done':
            if (e.id === id) finished();
            break;
        }
      },
      stderr: (text) => out.text('stderr', text),
    });
    const timer = setTimeout(() => interrupt('timeout'), spec.timeoutMs);
    job.interrupt = interrupt;
    const executionCount = ++this.#cells;
    interp.send({ id, code: prepared.code, async: prepared.async });
    let outcome: 'done' | 'grace' | InterpreterEnd;
    try {
      outcome = await Promise.race([done, grace, interp.ended]);
    } finally {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      job.interrupt = undefined;
      interp.detach();
      out.finish();
    }
    const execution = (error: CodeError | undefined, stateLost: boolean): Execution => ({
      contextId: this.id,
      results: out.results,
      logs: { stdout: out.stdout, stderr: out.stderr },
      ...(error ? { error } : {}),
      executionCount,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      truncated: out.truncated,
      stateLost,
    });
    const traceback = out.error?.traceback ?? '';
    if (outcome === 'done') {
      return execution(interrupted ? { name: INTERRUPT_NAMES[interrupted], value: `${this.#interruptWhy(interrupted, spec)}; the context keeps its state.`, traceback } : out.error, false);
    }
    // The interpreter is gone or going: the next cell starts a fresh one.
    if (this.#interp === interp) this.#interp = undefined;
    if (outcome === 'grace') {
      await interp.destroy();
      const why = this.#interruptWhy(interrupted ?? 'timeout', spec);
      return execution({ name: INTERRUPT_NAMES[interrupted ?? 'timeout'], value: `${why}, and did not stop within ${INTERRUPT_GRACE_MS / 1000} s, so its interpreter was killed: ${LOST}.`, traceback }, true);
    }
    return execution(this.#endError(job, outcome, interrupted, spec, traceback), true);
  }

  #interruptWhy(why: Interrupt, spec: CellSpec): string {
    switch (why) {
      case 'timeout':
        return `The cell ran longer than timeoutMs (${spec.timeoutMs} ms) and was interrupted`;
      case 'aborted':
        return 'The cell was aborted and interrupted';
      case 'output-limit':
        return `The cell's output passed maxOutputBytes (${spec.maxOutputBytes} bytes): the rest was dropped and the cell interrupted`;
    }
  }

  /** The error of a cell whose interpreter ended under it. */
  #endError(job: Job, end: InterpreterEnd, interrupted: Interrupt | undefined, spec: CellSpec, traceback: string): CodeError {
    const stop = job.stoppedBy ?? (end.kind === 'sandbox-closed' ? 'sandbox' : undefined);
    if (stop === 'restart') return { name: 'ContextRestarted', value: "The context was restarted while this cell ran; the state (variables, imports) it had is lost.", traceback };
    if (stop === 'close') return { name: 'ContextClosed', value: 'The context was deleted while this cell ran.', traceback };
    if (stop === 'sandbox') return { name: 'SandboxClosed', value: 'The sandbox was closed while this cell ran.', traceback };
    if (end.kind === 'protocol') {
      return { name: 'ProtocolError', value: `The ${this.language} interpreter broke the code protocol (${end.message}), so it was killed: ${LOST}.`, traceback };
    }
    if (interrupted) return { name: INTERRUPT_NAMES[interrupted], value: `${this.#interruptWhy(interrupted, spec)}, and its interpreter ended (${describeEnd(end)}): ${LOST}.`, traceback };
    return { name: 'InterpreterExited', value: `The ${this.language} interpreter ended while running this cell (${describeEnd(end)}): ${LOST}.`, traceback };
  }
}

const INTERRUPT_NAMES: Readonly<Record<Interrupt, string>> = { timeout: 'TimeoutError', aborted: 'AbortError', 'output-limit': 'OutputLimitExceeded' };
