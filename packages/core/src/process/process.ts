/**
 * One process running inside a sandbox: its output, stdin, signals, limits
 * (timeout, output cap, abort) and the result that says why it ended.
 */
import { WardenError, type ExecResult, type ExitReason } from '@warden/protocol';
import type { AgentClient, ProcessHandlers } from '../agent-protocol/client.js';
import { AgentErrorCode, SignalScope, type ExitInfo } from '../agent-protocol/codec.js';
import { signalName, signalNumber } from './signals.js';
import { checkResize } from './terminal.js';
import type { SecretMasker, StreamMasker } from '../secrets/mask.js';

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
  /**
   * Runs the command on a new pseudo-terminal of this size (integers 1 to
   * 1000): it is the command's controlling terminal and its stdin, stdout and
   * stderr, and `TERM` defaults to `xterm-256color`. Everything the command
   * writes, and the terminal's echo of input, arrives as stdout (`stderr` stays
   * empty) with the terminal's line endings (`\r\n`). Input written with
   * `write` goes through the terminal's line discipline: `\x03` interrupts the
   * foreground job. Nothing closes a terminal's input: `end()` types the
   * end-of-file character (^D), and `stdin` bytes are typed followed by ^D
   * (`stdin: ''` types just ^D). Without `stdin`, a command that reads its
   * terminal waits for `write`, under `exec` too. Default: no terminal (pipes).
   * @example
   * const sh = sbx.spawn(['sh'], { pty: { cols: 80, rows: 24 }, onStdout: (b) => term.write(b) });
   * await sh.write('ls\n'); sh.resize(120, 40);
   */
  readonly pty?: { readonly cols: number; readonly rows: number };
}

export interface ProcessHooks {
  /** The sandbox's OOM-kill count as last read (cheap, may lag). */
  oomSnapshot(): number;
  /** Reads the OOM-kill count afresh (and refreshes the snapshot). */
  oomKills(): Promise<number>;
  /** Called when the agent does not confirm a kill in time: end the sandbox. */
  killSandbox(): void;
}

export interface Limits {
  /** Infinity: no timer (a session's shell lives as long as its sandbox). */
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  /** false: output only goes to the callbacks and the result's stdout/stderr stay empty, so a long-lived shell does not hoard it. Default true. */
  readonly retainOutput?: boolean;
  /** Secret values to mask in the output (callbacks and result), even when split across chunks. Default: none. */
  readonly mask?: SecretMasker;
}

/** How long to wait for the agent to confirm a kill before ending the sandbox. */
const KILL_CONFIRM_MS = 5000;

const SCOPES = { process: SignalScope.PROCESS, group: SignalScope.GROUP, tree: SignalScope.TREE, descendants: SignalScope.DESCENDANTS } as const;

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
  readonly #outMask: StreamMasker | undefined;
  readonly #errMask: StreamMasker | undefined;

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
    if (limits.mask && !limits.mask.empty) {
      this.#outMask = limits.mask.stream();
      this.#errMask = limits.mask.stream();
    }
    const stdin = opts.stdin;
    const pty = opts.pty;
    const handlers: ProcessHandlers = {
      onStarted: (pid) => {
        this.#pid = pid;
        this.#resolveStarted(pid);
      },
      onStdout: (d) => this.#output(this.#outMask ? this.#outMask.push(d) : d, this.#out, opts.onStdout),
      onStderr: (d) => this.#output(this.#errMask ? this.#errMask.push(d) : d, this.#err, opts.onStderr),
      onExit: (info) => void this.#exit(info),
      onAgentError: (code, message) => {
        if (code === AgentErrorCode.START_FAILED) {
          this.#finishWithError(new WardenError('E_EXEC_FAILED', `Could not start ${JSON.stringify(argv[0])} in the sandbox: ${message}. Check the command name and cwd.`, { details: { argv: [...argv], cwd } }));
        } else if ((code === AgentErrorCode.MALFORMED || code === AgentErrorCode.DUPLICATE_ID) && this.#pid === undefined) {
          // The START itself was refused: nothing runs.
          this.#finishWithError(new WardenError('E_AGENT_PROTOCOL', `The sandbox agent refused the command: ${message}`));
        }
        // Anything else concerns a running process and does not end it: STDIN_OVERFLOW
        // (the agent closed its stdin), UNKNOWN_ID (a signal that raced its exit),
        // NOT_A_TTY (cannot happen: resize checks first).
      },
      onClosed: () => void this.#closed(),
    };
    this.#id = agent.start({ argv, env, cwd, stdin: stdin !== undefined, ...(pty ? { pty: { cols: pty.cols, rows: pty.rows } } : {}) }, handlers);
    if (stdin !== undefined && stdin !== 'pipe') {
      const bytes = typeof stdin === 'string' ? Buffer.from(stdin) : stdin;
      // An empty write would itself end the input: on a pty that would type ^D twice.
      const data = bytes.length > 0 ? this.#agent.writeStdin(this.#id, bytes) : Promise.resolve();
      void data.then(() => this.#agent.writeStdin(this.#id, new Uint8Array()));
    }
    if (Number.isFinite(limits.timeoutMs)) this.#timer = setTimeout(() => this.#terminate('timeout'), limits.timeoutMs);
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

  /** Writes to stdin (needs `stdin: 'pipe'` or `pty`). Resolves when the agent pipe accepted it. */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.#opts.stdin !== 'pipe' && !this.#opts.pty) {
      throw new WardenError('E_INVALID_ARGUMENT', 'This process was started without stdin: "pipe" or a pty; pass one of them to spawn() to write to its input.');
    }
    if (this.#done) return;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length > 0) await this.#agent.writeStdin(this.#id, bytes);
  }

  /** Closes stdin (EOF); on a pty, types the end-of-file character (^D) instead. */
  async end(): Promise<void> {
    if ((this.#opts.stdin === 'pipe' || this.#opts.pty) && !this.#done) await this.#agent.writeStdin(this.#id, new Uint8Array());
  }

  /**
   * Resizes the process's terminal (integers 1 to 1000); the kernel sends
   * SIGWINCH to its foreground job. Throws E_INVALID_ARGUMENT if the process
   * was started without `pty`. Does nothing once the process has ended.
   * @example p.resize(120, 40);
   */
  resize(cols: number, rows: number): void {
    const size = checkResize(cols, rows);
    if (!this.#opts.pty) {
      throw new WardenError('E_INVALID_ARGUMENT', 'This process has no terminal to resize: it was started without pty. Pass pty: { cols, rows } to spawn() to run it on a terminal.');
    }
    if (this.#done) return;
    this.#agent.resize(this.#id, size);
  }

  /**
   * Sends a signal. Default SIGKILL to the whole tree (every process the
   * command started, including background children). `'descendants'` is that
   * tree without the process itself: it stops what a long-lived shell is
   * running and leaves the shell alive.
   */
  kill(signal: string | number = 'SIGKILL', scope: 'process' | 'group' | 'tree' | 'descendants' = 'tree'): void {
    const signo = signalNumber(signal);
    if (!Object.hasOwn(SCOPES, scope)) {
      throw new WardenError('E_INVALID_ARGUMENT', `kill(signal, scope): scope must be one of ${Object.keys(SCOPES).map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(scope) ?? typeof scope}.`);
    }
    if (this.#done) return;
    this.#agent.signal(this.#id, signo, SCOPES[scope]);
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
      if (this.#limits.retainOutput !== false) sink.push(piece);
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

  /** Releases what the maskers held back (the output has ended). */
  #flushMasks(): void {
    if (this.#outMask) this.#output(this.#outMask.flush(), this.#out, this.#opts.onStdout);
    if (this.#errMask) this.#output(this.#errMask.flush(), this.#err, this.#opts.onStderr);
  }

  async #exit(info: ExitInfo): Promise<void> {
    if (this.#done) return;
    this.#flushMasks();
    this.#cleanup();
    let reason: ExitReason = this.#reason ?? (info.kind === 'exited' ? 'exited' : 'signaled');
    if (this.#reason === undefined && info.kind === 'signaled' && info.value === 9) {
      if ((await this.#hooks.oomKills()) > this.#oomBefore) reason = 'oom';
    }
    this.#resolve(this.#build(reason, info));
  }

  async #closed(): Promise<void> {
    if (this.#done) return;
    this.#flushMasks();
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
