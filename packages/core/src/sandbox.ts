/**
 * A running sandbox: the agent connection plus everything the engine set up
 * for it (uid lease, workspace, cgroup, runtime). Disposing it tears all of
 * that down, in reverse order, exactly once.
 */
import { WardenError, type ExecResult, type Execution, type NetworkPolicy, type NetworkPolicyInput, type SandboxSpec } from '@warden/protocol';
import type { AgentClient } from './agent-protocol/client.js';
import { SANDBOX_WORKSPACE } from './runtimes/driver.js';
import { SandboxProcess, type Limits as ProcessLimits, type ProcessOptions } from './process/process.js';
import { checkPtyOption } from './process/terminal.js';
import type { Diff } from './fs/delta/diff.js';
import type { SnapshotMeta } from './fs/delta/snapshot.js';
import type { Manifest } from './fs/types.js';
import type { CodebaseWorkspace } from './fs/workspace.js';
import { SessionManager } from './session/manager.js';
import { SandboxFiles } from './files/files.js';
import { rm } from 'node:fs/promises';
import { createScanner, type Scanner } from './scan/scanner.js';
import { enforce, scanDiff, type PathVerdict } from './scan/changes.js';
import type { Level as ScanLevel } from './scan/types.js';
import { checkGateOptions, type Admission, type Gate, type GateInput, type GateOptions } from './guard/gate.js';
import { CodeContexts } from './code/manager.js';
import type { RunCodeOptions } from './code/options.js';
import type { SandboxNetwork } from './net/network.js';
import type { SecretMasker } from './secrets/mask.js';
import type { SecretValues } from './secrets/use.js';

/** Scan what leaves the sandbox and refuse it at `blockAt` or worse. */
export interface ScanGate {
  readonly blockAt: ScanLevel;
  /** Default: a scanner with the default detectors. */
  readonly scanner?: Scanner;
}

export type SandboxState = 'running' | 'closed';

export interface SandboxInfo {
  readonly id: string;
  readonly runtime: SandboxSpec['runtime'];
  readonly state: SandboxState;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly hostUid: number;
  readonly runningProcesses: number;
  readonly metadata: Readonly<Record<string, string>>;
  /** The codebase version the sandbox runs on, when it has one. */
  readonly codebase?: { readonly name: string; readonly version: number };
  /** Why the sandbox closed, when it has. */
  readonly closedReason?: string;
}

export interface SandboxParts {
  readonly id: string;
  readonly spec: Readonly<SandboxSpec>;
  readonly uid: number;
  readonly agent: AgentClient;
  /** Set for sandboxes started from a codebase or snapshot. */
  readonly codebase: CodebaseWorkspace | undefined;
  readonly oomKills: () => Promise<number>;
  /** Settles when the runtime process ends on its own (crash, OOM of the agent). */
  readonly runtimeExited: Promise<unknown>;
  /** Tears down runtime, cgroup, workspace and uid; idempotent. */
  readonly teardown: () => Promise<void>;
  /** The guard and audit gate every command of this sandbox passes. */
  readonly gate: Gate;
  /** Egress policy and proxy. */
  readonly network: SandboxNetwork;
  /** The secret values this sandbox was given, masked in its output. */
  readonly masker: SecretMasker;
  /** Environment variables holding secrets (spec.secrets). */
  readonly secretEnv: Readonly<Record<string, string>>;
}

/** A sandbox's egress policy, as its owner sees and changes it. */
export interface SandboxNetworkControl {
  /** The policy in force (secrets by name). */
  readonly policy: Readonly<NetworkPolicy>;
  /**
   * Replaces the policy: connections it no longer allows are cut at once, and
   * processes started from now on get its proxy environment (a session's shell
   * or a code context keeps the environment it started with). `secrets`: the
   * values of secrets that `inject` names. Throws E_INVALID_SPEC,
   * E_SECRET_NOT_FOUND, or E_RUNTIME_UNSUPPORTED on a runtime without egress.
   * @example await sbx.network.update({ mode: 'allowlist', allow: ['pypi.org', 'files.pythonhosted.org'] });
   */
  update(policy: NetworkPolicyInput, options?: { secrets?: SecretValues; actor?: string }): Promise<Readonly<NetworkPolicy>>;
}

/** Options of spawn: the process's, plus who asks and the approval it may carry. */
export type SpawnOptions = ProcessOptions & GateOptions;
/** Options of exec: stdin is given whole. */
export type ExecOptions = Omit<ProcessOptions, 'stdin'> & { stdin?: string | Uint8Array } & GateOptions & { signal?: AbortSignal };

/** What the guard checks for a process: its argv, the environment it adds and the stdin it gets up front. */
function gateInput(argv: readonly string[], opts: ProcessOptions): GateInput {
  return { argv, ...(opts.env && Object.keys(opts.env).length > 0 ? { env: opts.env } : {}), ...(opts.stdin !== undefined && opts.stdin !== 'pipe' ? { stdin: opts.stdin } : {}) };
}

/** How a finished process is written in the audit log. */
function outcomeOf(r: ExecResult): string {
  return r.reason === 'exited' ? `exited:${String(r.exitCode)}` : r.reason === 'signaled' ? `signaled:${String(r.signal)}` : r.reason;
}

/** Why a sandbox closed when its runtime died after an OOM kill (`perProcessOom: false` runtimes end whole). */
export const OUT_OF_MEMORY = 'out of memory: the sandbox reached limits.memoryMb and the kernel killed it';

const BASE_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: SANDBOX_WORKSPACE,
  USER: 'sandbox',
  LOGNAME: 'sandbox',
  SHELL: '/bin/sh',
  LANG: 'C.UTF-8',
  TMPDIR: '/tmp',
});

function checkArgv(argv: unknown): readonly string[] {
  if (!Array.isArray(argv) || argv.length === 0) {
    throw new WardenError('E_INVALID_ARGUMENT', `argv must be a non-empty array of strings such as ["ls", "-la"], got ${Array.isArray(argv) ? 'an empty array' : JSON.stringify(argv) ?? typeof argv}. To run a shell line, pass ["sh", "-c", line].`);
  }
  argv.forEach((a, i) => {
    if (typeof a !== 'string' || a.includes('\0') || (i === 0 && a === '')) {
      throw new WardenError('E_INVALID_ARGUMENT', `argv[${i}] must be a${i === 0 ? ' non-empty' : ''} string without NUL bytes, got ${JSON.stringify(a) ?? typeof a}.`);
    }
  });
  return argv as readonly string[];
}

function checkOptions(opts: ProcessOptions & GateOptions): void {
  checkGateOptions(opts);
  const intIn = (name: string, v: unknown, min: number, max: number): void => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) {
      throw new WardenError('E_INVALID_ARGUMENT', `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}.`);
    }
  };
  intIn('timeoutMs', opts.timeoutMs, 1, 86_400_000);
  intIn('maxOutputBytes', opts.maxOutputBytes, 1, 1_073_741_824);
  checkPtyOption(opts.pty);
  if (opts.cwd !== undefined && (typeof opts.cwd !== 'string' || !opts.cwd.startsWith('/') || opts.cwd.includes('\0'))) {
    throw new WardenError('E_INVALID_ARGUMENT', `cwd must be an absolute path inside the sandbox such as "/workspace", got ${JSON.stringify(opts.cwd)}.`);
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== 'string' || v.includes('\0')) {
      throw new WardenError('E_INVALID_ARGUMENT', `env.${k} is invalid: names are letters, digits and _ (not starting with a digit) and values are strings without NUL bytes.`);
    }
  }
}

export class Sandbox {
  readonly id: string;
  readonly spec: Readonly<SandboxSpec>;
  readonly createdAt = new Date();
  readonly #parts: SandboxParts;
  #expiresAt: Date;
  readonly #ended: Promise<string>;
  #resolveEnded!: (reason: string) => void;
  readonly #baseEnv: Readonly<Record<string, string>>;
  #closing: Promise<void> | undefined;
  #closedReason: string | undefined;
  #ttl: NodeJS.Timeout;
  #oomSeen = 0;
  /**
   * Stateful shell sessions: commands that share cwd, variables, functions
   * and aliases. They end when the sandbox does.
   * @example
   * await using s = await sbx.sessions.create();
   * await s.run('cd /tmp && X=1'); (await s.run('echo $X $PWD')).stdout; // '1 /tmp\n'
   */
  readonly sessions: SessionManager;
  /**
   * File operations, run inside the sandbox as its own user: the kernel
   * enforces permissions and codebase levels, and symlinks resolve inside.
   * Relative paths start at /workspace.
   * @example
   * await sbx.files.write('in.txt', 'hello');
   * (await sbx.files.readText('in.txt')); // 'hello'
   */
  readonly files: SandboxFiles;
  /**
   * Stateful Python and JavaScript contexts: cells share variables, functions
   * and imports. Create, list, get, restart and delete them; runCode() without
   * a context uses a default one per language. They end when the sandbox does.
   * @example
   * await using ctx = await sbx.code.create({ language: 'python' });
   * await ctx.run('x = 6');
   * (await ctx.run('x * 7')).results[0]?.text; // '42'
   */
  readonly code: CodeContexts;
  /**
   * Network egress: `none` (only the sandbox's own loopback) or `allowlist`
   * (named domains through Warden's egress proxy). The owner may change it
   * while the sandbox runs.
   * @example await sbx.network.update({ mode: 'allowlist', allow: ['*.github.com'] });
   */
  readonly network: SandboxNetworkControl;

  constructor(parts: SandboxParts) {
    this.#parts = parts;
    this.id = parts.id;
    this.spec = parts.spec;
    this.#baseEnv = { ...BASE_ENV, ...parts.spec.env, ...parts.secretEnv };
    const net = parts.network;
    this.network = {
      get policy() {
        return net.policy;
      },
      update: async (policy, options = {}) => {
        this.#assertRunning();
        // Known before the proxy can use them: nothing that carries them can be printed unmasked.
        parts.masker.add(Object.values(options.secrets ?? {}).map((v) => (typeof v === 'string' ? v : v.value)));
        return net.update(policy, options);
      },
    };
    this.#ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.#expiresAt = new Date(this.createdAt.getTime() + parts.spec.limits.ttlMs);
    this.#ttl = this.#armTtl(parts.spec.limits.ttlMs);
    // Where one host process holds the whole sandbox's memory (gVisor's sentry), an OOM kill ends
    // the sandbox rather than one process: say so, read before teardown removes the counter.
    void parts.runtimeExited.then(async () => this.#close((await parts.oomKills().catch(() => 0)) > 0 ? OUT_OF_MEMORY : 'the sandbox agent exited'));
    // Infrastructure, not an action: a session's shell or a context's interpreter lives as long as
    // the sandbox and its output goes to the command or cell running in it, not into a buffer. The
    // gate checks each command line and cell instead.
    const infraSpawn = (argv: readonly string[], opts: ProcessOptions): SandboxProcess => {
      checkOptions(opts);
      return this.#start(argv, opts, { timeoutMs: Infinity, maxOutputBytes: Number.MAX_SAFE_INTEGER, retainOutput: false });
    };
    this.sessions = new SessionManager({
      sandboxId: this.id,
      spawn: infraSpawn,
      defaults: { timeoutMs: parts.spec.limits.timeoutMs, maxOutputBytes: parts.spec.limits.maxOutputBytes },
      sandboxEnded: this.#ended,
      gate: parts.gate,
      masker: parts.masker,
    });
    this.code = new CodeContexts({
      sandboxId: this.id,
      spawn: infraSpawn,
      defaults: { timeoutMs: parts.spec.limits.timeoutMs, maxOutputBytes: parts.spec.limits.maxOutputBytes },
      defaultCwd: SANDBOX_WORKSPACE,
      sandboxEnded: this.#ended,
      assertRunning: () => this.#assertRunning(),
      gate: parts.gate,
      masker: parts.masker,
    });
    this.files = new SandboxFiles({
      agent: parts.agent,
      sandboxId: this.id,
      defaultTimeoutMs: parts.spec.limits.timeoutMs,
      assertRunning: () => this.#assertRunning(),
      onChange: (event) => parts.gate.record(event),
      killSandbox: (reason) => void this.#close(reason),
    });
  }

  /** When the sandbox will be killed unless its lifetime is extended. */
  get expiresAt(): Date {
    return this.#expiresAt;
  }

  /** Settles with the reason (killed, ttl expired, …) once the sandbox has ended and been torn down. */
  get ended(): Promise<string> {
    return this.#ended;
  }

  /**
   * Sets the sandbox's remaining lifetime to `ttlMs` from now (longer or shorter).
   * @example sbx.setTtl(10 * 60_000); // ten more minutes
   */
  setTtl(ttlMs: number): void {
    if (!Number.isInteger(ttlMs) || ttlMs < 1000 || ttlMs > 604_800_000) {
      throw new WardenError('E_INVALID_ARGUMENT', `ttlMs must be an integer from 1000 to 604800000, got ${String(ttlMs)}.`);
    }
    if (this.#closing) throw new WardenError('E_SANDBOX_CLOSED', `Sandbox ${this.id} is closed; its lifetime cannot be extended. Create a new sandbox.`, { details: { sandboxId: this.id } });
    clearTimeout(this.#ttl);
    this.#expiresAt = new Date(Date.now() + ttlMs);
    this.#ttl = this.#armTtl(ttlMs);
  }

  #armTtl(ms: number): NodeJS.Timeout {
    const t = setTimeout(() => void this.#close('ttl expired'), ms);
    t.unref();
    return t;
  }

  get state(): SandboxState {
    return this.#closing || this.#parts.agent.closed ? 'closed' : 'running';
  }

  info(): SandboxInfo {
    const reason = this.#closedReason ?? (this.#parts.agent.closed ? 'agent exited' : undefined);
    return {
      id: this.id,
      runtime: this.spec.runtime,
      state: this.state,
      createdAt: this.createdAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      hostUid: this.#parts.uid,
      runningProcesses: this.#parts.agent.activeProcesses,
      metadata: this.spec.metadata,
      ...(this.#parts.codebase ? { codebase: this.#parts.codebase.codebase } : {}),
      ...(reason === undefined ? {} : { closedReason: reason }),
    };
  }

  /**
   * Starts a process and returns a handle for streaming, stdin and signals.
   * The guard decides first: E_GUARD_DENIED, or E_APPROVAL_PENDING when a
   * person must approve (use `start` or `exec` with `approvalWaitMs` to wait).
   * @example
   * const p = sbx.spawn(['sh', '-c', 'cat'], { stdin: 'pipe', onStdout: (b) => process.stdout.write(b) });
   * await p.write('hello'); await p.end(); const r = await p.wait();
   */
  spawn(argv: readonly string[], opts: SpawnOptions = {}): SandboxProcess {
    const args = checkArgv(argv);
    checkOptions(opts);
    this.#assertRunning();
    return this.#launch(args, opts, this.#parts.gate.admit('command', gateInput(args, opts), opts));
  }

  /**
   * spawn, but when the guard asks and `approvalWaitMs` is set, waits for a
   * person's decision before starting.
   */
  start(argv: readonly string[], opts: SpawnOptions = {}): Promise<SandboxProcess> {
    try {
      const args = checkArgv(argv);
      checkOptions(opts);
      this.#assertRunning();
      // Admitted at once, the process starts within this call (callers keep their order).
      const admitted = this.#parts.gate.admitWaiting('command', gateInput(args, opts), opts);
      return admitted instanceof Promise ? admitted.then((a) => this.#launch(args, opts, a)) : Promise.resolve(this.#launch(args, opts, admitted));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #launch(args: readonly string[], opts: ProcessOptions, admission: Admission): SandboxProcess {
    let p: SandboxProcess;
    try {
      p = this.#start(args, opts, {
        timeoutMs: opts.timeoutMs ?? this.spec.limits.timeoutMs,
        maxOutputBytes: opts.maxOutputBytes ?? this.spec.limits.maxOutputBytes,
        mask: this.#parts.masker,
      });
    } catch (err) {
      // Admitted (perhaps after waiting for an approval) but the sandbox closed meanwhile.
      this.#parts.gate.failed(admission, err);
      throw err;
    }
    void this.#parts.gate.track(admission, p.wait(), outcomeOf);
    return p;
  }

  #assertRunning(): void {
    if (this.state !== 'running') {
      throw new WardenError('E_SANDBOX_CLOSED', `Sandbox ${this.id} is closed (${this.info().closedReason ?? 'killed'}). Create a new sandbox.`, { details: { sandboxId: this.id } });
    }
  }

  #start(args: readonly string[], opts: ProcessOptions, limits: ProcessLimits): SandboxProcess {
    this.#assertRunning();
    const env = Object.entries({ ...this.#baseEnv, ...this.#parts.network.env(), ...opts.env }).map(([k, v]) => `${k}=${v}`);
    return new SandboxProcess(
      this.#parts.agent,
      {
        oomSnapshot: () => this.#oomSeen,
        oomKills: async () => (this.#oomSeen = Math.max(this.#oomSeen, await this.#parts.oomKills())),
        killSandbox: () => void this.#close('agent did not confirm a kill'),
      },
      args,
      env,
      opts.cwd ?? SANDBOX_WORKSPACE,
      opts,
      limits,
    );
  }

  /**
   * Runs a command to completion and collects its output. A non-zero exit, a
   * signal, a timeout or a limit is a result (`reason`), not an exception.
   * @example const r = await sbx.exec(['python3', '-c', 'print(6*7)']); // r.stdout === '42\n'
   */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return (await this.start(argv, opts)).wait();
  }

  /**
   * Runs a cell of Python (default) or JavaScript in a stateful context:
   * `context`, or the language's default context. The guard checks every
   * cell first (E_GUARD_DENIED, E_APPROVAL_PENDING). What the code does is
   * the result: stdout and stderr (also streamed to onStdout/onStderr), the
   * last expression's value and rich results such as matplotlib figures as
   * PNG and pandas tables as HTML (onResult), and the exception, timeout,
   * output cap or crash in `error`.
   * @example
   * const e = await sbx.runCode('import math\nmath.sqrt(2)');
   * e.results[0]?.text; // '1.4142135623730951'
   * (await sbx.runCode('[1, 2].map((x) => x * 2)', { language: 'javascript' })).results[0]?.json; // [2, 4]
   */
  runCode(code: string, opts: RunCodeOptions = {}): Promise<Execution> {
    return this.code.run(code, opts);
  }

  #codebase(): CodebaseWorkspace {
    if (!this.#parts.codebase) {
      throw new WardenError('E_NO_CODEBASE', `Sandbox ${this.id} has a plain workspace, not a codebase: diff, export, commit and snapshot need one. Create it with codebase set.`);
    }
    if (this.state !== 'running') throw new WardenError('E_SANDBOX_CLOSED', `Sandbox ${this.id} is closed; its changes went with it. Snapshot or commit before killing it.`);
    return this.#parts.codebase;
  }

  /** What the sandbox changed in its codebase: added, modified and deleted paths with sizes. */
  async diff(): Promise<Diff> {
    return this.#codebase().diff();
  }

  /**
   * A threat verdict for every file the sandbox added or modified in its codebase.
   * Files are read inside the sandbox, as its user.
   */
  async scanChanges(options: { scanner?: Scanner; signal?: AbortSignal } = {}): Promise<PathVerdict[]> {
    const diff = await this.diff();
    return scanDiff(diff, (p) => this.files.read(p), options.scanner ?? createScanner(), options.signal);
  }

  /**
   * Writes the changes as a tarball (deleted paths listed in `.warden-deleted`), or returns them as a unified patch.
   * With `scan.blockAt`, what was exported is scanned first and E_SCAN_BLOCKED is thrown (and the tarball removed)
   * when any of it is at that level or worse.
   */
  exportChanges(options: { format: 'tar'; file: string; scan?: ScanGate }): Promise<Diff>;
  exportChanges(options: { format: 'patch'; scan?: ScanGate }): Promise<string>;
  async exportChanges(options: { format: 'tar'; file: string; scan?: ScanGate } | { format: 'patch'; scan?: ScanGate }): Promise<Diff | string> {
    const gate = options.scan;
    if (options.format === 'patch') {
      const patch = await this.#codebase().exportPatch();
      if (gate) enforce([{ path: 'changes.patch', verdict: await (gate.scanner ?? createScanner()).scanBytes(Buffer.from(patch), 'changes.patch') }], gate.blockAt, 'export the changes');
      return patch;
    }
    const diff = await this.#codebase().exportTar(options.file);
    if (gate) {
      // The tarball itself is scanned (members included): exactly what leaves, with no window for the sandbox to change it.
      const verdict = await (gate.scanner ?? createScanner()).scanFile(options.file);
      try {
        enforce([{ path: options.file.split('/').at(-1) ?? 'changes.tar', verdict }], gate.blockAt, 'export the changes');
      } catch (err) {
        await rm(options.file, { force: true });
        throw err;
      }
    }
    return diff;
  }

  /**
   * Makes the changes the next version of the codebase; the sandbox keeps running on its old version.
   * With `scan.blockAt`, the changed files are scanned first and E_SCAN_BLOCKED is thrown when any is
   * at that level or worse. (The sandbox keeps running meanwhile: code inside that rewrites a file
   * between the scan and the commit is not caught; kill its processes first if that matters.)
   */
  async commit(options: { scan?: ScanGate } = {}): Promise<Manifest> {
    if (options.scan) enforce(await this.scanChanges({ ...(options.scan.scanner ? { scanner: options.scan.scanner } : {}) }), options.scan.blockAt, 'commit the changes');
    return this.#codebase().commit();
  }

  /** Freezes the current changes; start new sandboxes from them with `{ snapshot: id }`. */
  async snapshot(): Promise<SnapshotMeta> {
    return this.#codebase().snapshot();
  }

  /** Checks the agent answers. */
  ping(timeoutMs?: number): Promise<void> {
    return this.#parts.agent.ping(timeoutMs);
  }

  /** Kills every process and frees everything the sandbox held. Idempotent. */
  kill(): Promise<void> {
    return this.#close('killed');
  }

  #close(reason: string): Promise<void> {
    this.#closing ??= (async () => {
      this.#closedReason = reason;
      clearTimeout(this.#ttl);
      try {
        await this.#parts.teardown();
      } finally {
        this.#resolveEnded(reason);
      }
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}
