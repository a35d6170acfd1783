/**
 * One process running inside a sandbox: its output, stdin, signals, limits
 * (timeout, output cap, abort) and the result that says why it ended.
 */
import { WardenError, type ExecResult, type ExitReason } from '@warden/protocol';
import type { AgentClient, ProcessHandlers } from '../agent-protocol/client.js';
import { AgentErrorCode, SignalScope, type ExitInfo } from '../agent-protocol/codec.js';
import { signalName, signalNumber } from './signals.js';

export interface ProcessOptions {
  /** Working directory inside the sandbox. Default: /workspace. */
  readonly cwd?: string;
  /** Extra environment on top of the sandbox's. Default: none. */
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes or text written to stdin, which is then closed. With `spawn`, `'pipe'` keeps stdin open for `write`. Default: empty stdin. */
  readonly stdin?: Uint8Array | string; // the literal 'pipe' keeps stdin open (spawn only)
  /** Wall-clock limit; the whole process tree is SIGKILLed. Default: the sandbox's limits.timeoutMs. */
  readonly timeoutMs?: number;
  /** Cap on stdout+stderr bytes; the process tree is killed when reached. Default: limits.maxOutputBytes. */
  readonly maxOutputBytes?: number;
  /** Aborting kills the process tree; the result's reason is `aborted`. */
  readonly signal?: AbortSignal;
  /** Called with each chunk of output as it arrives, in order. */
  readonly onStdout?: (data: Buffer) => void;
  readonly onStderr?: (data: Buffer) => void;
}

export interface ProcessHooks {
  /** The sandbox's OOM-kill count as last read (cheap, may lag). */
  oomSnapshot(): number;
  /** Reads the OOM-kill count afresh (and refreshes the snapshot). */
  oomKills(): Promise<number>;
  /** Called when the agent does not confirm a kill in time: end the sandbox. */
  killSandbox(): void;
}

interface Limits {
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
}

/** How long to wait for the agent to confirm a kill before ending the sandbox. */
const KILL_CONFIRM_MS = 5000;

export class SandboxProcess {
  readonly #agent: AgentClient;
  readonly #hooks: ProcessHooks;
  readonly #opts: ProcessOptions;
  readonly #limits: Limits;
  readonly #started = Date.now();
  readonly #out: Buffer[] = [];
  readonly #err: Buffer[] = [];
  #outputBytes = 0;
  #truncated = false;
  #reason: ExitReason | undefined;
  #id = 0;
  #pid: number | undefined;
  readonly #oomBefore: number;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #onAbort: (() => void) | undefined;
  readonly #result: Promise<ExecResult>;
  #resolve!: (r: ExecResult) => void;
  #reject!: (e: Error) => void;
  readonly #startedPromise: Promise<number>;
  #resolveStarted!: (pid: number) => void;

  constructor(agent: AgentClient, hooks: ProcessHooks, argv: readonly string[], env: readonly string[], cwd: string, opts: ProcessOptions, limits: Limits) {
    this.#agent = agent;
    this.#hooks = hooks;
    this.#opts = opts;
    this.#limits = limits;
    this.#result = new Promise<ExecResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#startedPromise = new Promise<number>((resolve) => {
      this.#resolveStarted = resolve;
    });
    this.#startedPromise.catch(() => undefined);
    this.#oomBefore = hooks.oomSnapshot();
    const stdin = opts.stdin;
    const handlers: ProcessHandlers = {
      onStarted: (pid) => {
        this.#pid = pid;
        this.#resolveStarted(pid);
      },
      onStdout: (d) => this.#output(d, this.#out, opts.onStdout),
      onStderr: (d) => this.#output(d, this.#err, opts.onStderr),
      onExit: (info) => void this.#exit(info),
      onAgentError: (code, message) => {
        if (code === AgentErrorCode.START_FAILED) {
          this.#finishWithError(new WardenError('E_EXEC_FAILED', `Could not start ${JSON.stringify(argv[0])} in the sandbox: ${message}. Check the command name and cwd.`, { details: { argv: [...argv], cwd } }));
        } else if (code === AgentErrorCode.MALFORMED || code === AgentErrorCode.DUPLICATE_ID) {
          // The START itself was refused: nothing runs.
          this.#finishWithError(new WardenError('E_AGENT_PROTOCOL', `The sandbox agent refused the command: ${message}`));
        }
        // Anything else concerns a running process and does not end it: STDIN_OVERFLOW
        // (the agent closed its stdin), UNKNOWN_ID (a signal that raced its exit).
      },
      onClosed: () => void this.#closed(),
    };
    this.#id = agent.start({ argv, env, cwd, stdin: stdin !== undefined }, handlers);
    if (stdin !== undefined && stdin !== 'pipe') {
      const bytes = typeof stdin === 'string' ? Buffer.from(stdin) : stdin;
      void this.#agent.writeStdin(this.#id, bytes).then(() => this.#agent.writeStdin(this.#id, new Uint8Array()));
    }
    this.#timer = setTimeout(() => this.#terminate('timeout'), limits.timeoutMs);
    if (opts.signal) {
      if (opts.signal.aborted) queueMicrotask(() => this.#terminate('aborted'));
      else {
        this.#onAbort = () => this.#terminate('aborted');
        opts.signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    }
  }

  /** Host-visible pid inside the sandbox's pid namespace, once started. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /** Resolves with the in-sandbox pid once the process runs. */
  started(): Promise<number> {
    return this.#startedPromise;
  }

  /** Writes to stdin (needs `stdin: 'pipe'`). Resolves when the agent pipe accepted it. */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.#opts.stdin !== 'pipe') throw new WardenError('E_INVALID_ARGUMENT', 'This process was started without stdin: "pipe"; pass it to spawn() to write to stdin.');
    if (this.#done) return;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length > 0) await this.#agent.writeStdin(this.#id, bytes);
  }

  /** Closes stdin (EOF). */
  async end(): Promise<void> {
    if (this.#opts.stdin === 'pipe' && !this.#done) await this.#agent.writeStdin(this.#id, new Uint8Array());
  }

  /**
   * Sends a signal. Default SIGKILL to the whole tree (every process the
   * command started, including background children).
   */
  kill(signal: string | number = 'SIGKILL', scope: 'process' | 'group' | 'tree' = 'tree'): void {
    const signo = signalNumber(signal);
    if (this.#done) return;
    this.#agent.signal(this.#id, signo, scope === 'process' ? SignalScope.PROCESS : scope === 'group' ? SignalScope.GROUP : SignalScope.TREE);
  }

  /** The outcome; never rejects for a non-zero exit, a signal or a limit. */
  wait(): Promise<ExecResult> {
    return this.#result;
  }

  #output(d: Buffer, sink: Buffer[], cb: ((d: Buffer) => void) | undefined): void {
    if (this.#truncated) return;
    const room = this.#limits.maxOutputBytes - this.#outputBytes;
    const piece = d.length > room ? d.subarray(0, room) : d;
    this.#outputBytes += piece.length;
    if (piece.length > 0) {
      sink.push(piece);
      cb?.(piece);
    }
    if (d.length > room) {
      this.#truncated = true;
      this.#terminate('output-limit');
    }
  }

  #terminate(reason: ExitReason): void {
    if (this.#done || this.#reason !== undefined) return;
    this.#reason = reason;
    this.#agent.signal(this.#id, 9, SignalScope.TREE);
    // If the agent cannot confirm (wedged or compromised), the sandbox goes.
    this.#killTimer = setTimeout(() => this.#hooks.killSandbox(), KILL_CONFIRM_MS);
    this.#killTimer.unref();
  }

  #cleanup(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#killTimer);
    if (this.#onAbort) this.#opts.signal?.removeEventListener('abort', this.#onAbort);
  }

  async #exit(info: ExitInfo): Promise<void> {
    if (this.#done) return;
    this.#cleanup();
    let reason: ExitReason = this.#reason ?? (info.kind === 'exited' ? 'exited' : 'signaled');
    if (this.#reason === undefined && info.kind === 'signaled' && info.value === 9) {
      if ((await this.#hooks.oomKills()) > this.#oomBefore) reason = 'oom';
    }
    this.#resolve(this.#build(reason, info));
  }

  async #closed(): Promise<void> {
    if (this.#done) return;
    this.#cleanup();
    const oom = (await this.#hooks.oomKills()) > this.#oomBefore;
    const reason: ExitReason = this.#reason ?? (oom ? 'oom' : 'sandbox-closed');
    this.#resolve(this.#build(reason, undefined));
  }

  #finishWithError(err: WardenError): void {
    if (this.#done) return;
    this.#cleanup();
    this.#reject(err);
  }

  #build(reason: ExitReason, info: ExitInfo | undefined): ExecResult {
    return {
      reason,
      exitCode: info?.kind === 'exited' ? info.value : null,
      signal: info?.kind === 'signaled' ? signalName(info.value) : reason === 'sandbox-closed' || reason === 'oom' ? 'SIGKILL' : null,
      stdout: Buffer.concat(this.#out).toString('utf8'),
      stderr: Buffer.concat(this.#err).toString('utf8'),
      truncated: this.#truncated,
      durationMs: Date.now() - this.#started,
      cpuUserMs: (info?.userUs ?? 0) / 1000,
      cpuSystemMs: (info?.sysUs ?? 0) / 1000,
      maxRssKb: info?.maxRssKb ?? 0,
    };
  }
}
