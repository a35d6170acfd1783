/**
 * A sandbox on a Warden server.
 * @example
 * await using sbx = await Sandbox.create({ limits: { memoryMb: 512 } });
 * const r = await sbx.commands.run('python3 -c "print(6*7)"');
 * r.stdout; // "42\n"
 */
import { WardenError, type ChangesVerdicts, type CreateSandboxBody, type DiffView, type NetworkView, type SandboxPage, type SandboxView, type UpdateNetworkBody } from '@warden/protocol';
import { Commands } from './commands.js';
import { Files } from './files.js';
import { Http, type ConnectionOptions } from './http.js';
import { Pty } from './pty.js';
import { Sessions } from './sessions.js';
import { CodeContexts, runCode, type Execution, type RunCodeOptions } from './code.js';

export type SandboxOptions = CreateSandboxBody & ConnectionOptions & {
  /** Lifetime in ms (same as limits.ttlMs). */
  readonly timeoutMs?: number;
};

export interface ListOptions extends ConnectionOptions {
  readonly state?: 'running' | 'closed' | 'all';
  /** Only sandboxes whose metadata has all of these key/values. */
  readonly metadata?: Record<string, string>;
  readonly limit?: number;
  readonly cursor?: string;
}

export class Sandbox implements AsyncDisposable {
  readonly id: string;
  readonly commands: Commands;
  readonly files: Files;
  readonly sessions: Sessions;
  readonly pty: Pty;
  /** Stateful Python and JavaScript contexts for runCode(): create, list, restart, delete. */
  readonly contexts: CodeContexts;
  /**
   * The sandbox's network egress: read it, or replace it while the sandbox
   * runs (connections the new policy does not allow are cut).
   * @example await sbx.network.update({ mode: 'allowlist', allow: ['pypi.org', 'files.pythonhosted.org'] });
   */
  readonly network: {
    get(): Promise<NetworkView>;
    update(policy: UpdateNetworkBody): Promise<NetworkView>;
  };
  readonly #http: Http;

  private constructor(http: Http, id: string) {
    this.#http = http;
    this.id = id;
    this.commands = new Commands(http, id);
    this.files = new Files(http, id);
    this.sessions = new Sessions(http, id);
    this.pty = new Pty(http, id);
    this.contexts = new CodeContexts(http, id);
    this.network = {
      get: () => http.json<NetworkView>('GET', `/v1/sandboxes/${id}/network`),
      update: (policy) => http.json<NetworkView>('PUT', `/v1/sandboxes/${id}/network`, { json: policy }),
    };
  }

  /** Creates a sandbox. Connection from opts.url/apiKey or WARDEN_URL/WARDEN_API_KEY. */
  static async create(opts: SandboxOptions = {}): Promise<Sandbox> {
    const { url, apiKey, requestTimeoutMs, fetch, timeoutMs, ...spec } = opts;
    const http = new Http({ url, apiKey, requestTimeoutMs, fetch });
    const body: CreateSandboxBody = timeoutMs === undefined ? spec : { ...spec, limits: { ...spec.limits, ttlMs: timeoutMs } };
    const v = await http.json<SandboxView>('POST', '/v1/sandboxes', { json: body, unbounded: true });
    return new Sandbox(http, v.id);
  }

  /** A handle on an existing sandbox of yours (checks that it exists and runs). */
  static async connect(id: string, opts: ConnectionOptions = {}): Promise<Sandbox> {
    const http = new Http(opts);
    const v = await http.json<SandboxView>('GET', `/v1/sandboxes/${encodeURIComponent(id)}`);
    if (v.state !== 'running') {
      throw new WardenError('E_SANDBOX_CLOSED', `Sandbox ${id} has ended (${v.closedReason ?? 'killed'}). Create a new sandbox.`, { details: { sandboxId: id } });
    }
    return new Sandbox(http, v.id);
  }

  /** A sandbox's record, running or ended (connect() refuses ended ones). */
  static async info(id: string, opts: ConnectionOptions = {}): Promise<SandboxView> {
    return new Http(opts).json<SandboxView>('GET', `/v1/sandboxes/${encodeURIComponent(id)}`);
  }

  /** Your sandboxes, a page at a time (pass nextCursor back as cursor). */
  static async list(opts: ListOptions = {}): Promise<SandboxPage> {
    const http = new Http(opts);
    return http.json<SandboxPage>('GET', '/v1/sandboxes', {
      query: {
        state: opts.state,
        limit: opts.limit,
        cursor: opts.cursor,
        metadata: opts.metadata ? new URLSearchParams(opts.metadata).toString() : undefined,
      },
    });
  }

  async getInfo(): Promise<SandboxView> {
    return this.#http.json<SandboxView>('GET', `/v1/sandboxes/${this.id}`);
  }

  /** What a codebase sandbox changed: added, modified and deleted paths with sizes. */
  async diff(): Promise<DiffView> {
    return this.#http.json<DiffView>('GET', `/v1/sandboxes/${this.id}/diff`);
  }

  /** Threat verdicts for every file a codebase sandbox added or modified. */
  async scanChanges(): Promise<ChangesVerdicts['files']> {
    return (await this.#http.json<ChangesVerdicts>('GET', `/v1/sandboxes/${this.id}/scan`)).files;
  }

  /** Sets the remaining lifetime to `ms` from now. */
  async setTimeout(ms: number): Promise<SandboxView> {
    return this.#http.json<SandboxView>('POST', `/v1/sandboxes/${this.id}/timeout`, { json: { ttlMs: ms } });
  }

  /**
   * Runs a cell of Python (default) or JavaScript in a stateful context (`context`, or the
   * language's default one). An exception, a timeout or a crash is the result's `error`.
   * @example
   * await sbx.runCode('x = 6');
   * const e = await sbx.runCode('x * 7', { onStdout: (s) => console.log(s) });
   * e.results[0]?.text; // "42"
   */
  async runCode(code: string, opts: RunCodeOptions = {}): Promise<Execution> {
    return runCode(this.#http, this.id, code, opts);
  }

  /** Kills the sandbox and everything in it. Idempotent. */
  async kill(): Promise<void> {
    await this.#http.request('DELETE', `/v1/sandboxes/${this.id}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}
