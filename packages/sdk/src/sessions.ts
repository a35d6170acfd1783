/** `sandbox.sessions`: long-lived shells whose cwd, env and variables persist between commands. */
import type { CommandEvent, SessionResult, SessionView } from '@warden/protocol';
import { approvalFields, collectOutput } from './commands.js';
import type { Http } from './http.js';

export type { SessionResult };

export class Session {
  readonly id: string;
  readonly #http: Http;
  readonly #base: string;

  /** @internal */
  constructor(http: Http, sandboxId: string, id: string) {
    this.#http = http;
    this.id = id;
    this.#base = `/v1/sandboxes/${sandboxId}/sessions/${id}`;
  }

  /**
   * Runs a command line in the session's shell. Calls on one session run one at a time, in order.
   * @example await s.run('cd /tmp && export X=1'); (await s.run('echo $X $PWD')).stdout // "1 /tmp\n"
   */
  async run(
    command: string,
    opts: { timeoutMs?: number; maxOutputBytes?: number; onStdout?: (s: string) => void; onStderr?: (s: string) => void; approvalId?: string; approvalWaitMs?: number } = {},
  ): Promise<SessionResult> {
    const body = { command, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.maxOutputBytes !== undefined ? { maxOutputBytes: opts.maxOutputBytes } : {}), ...approvalFields(opts) };
    if (!opts.onStdout && !opts.onStderr) return this.#http.json<SessionResult>('POST', `${this.#base}/run`, { json: body, unbounded: true });
    const events = this.#http.ndjson<CommandEvent | { type: 'end'; result: SessionResult }>('POST', `${this.#base}/run`, { json: { ...body, stream: true } });
    return collectOutput<SessionResult>(events, { ...opts, lost: 'The session stream ended before the command did (the server went away?).' });
  }

  async close(): Promise<void> {
    await this.#http.request('DELETE', this.#base);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export class Sessions {
  readonly #http: Http;
  readonly #sandboxId: string;

  /** @internal */
  constructor(http: Http, sandboxId: string) {
    this.#http = http;
    this.#sandboxId = sandboxId;
  }

  async create(opts: { cwd?: string; envs?: Record<string, string> } = {}): Promise<Session> {
    const v = await this.#http.json<SessionView>('POST', `/v1/sandboxes/${this.#sandboxId}/sessions`, {
      json: { ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), ...(opts.envs !== undefined ? { env: opts.envs } : {}) },
    });
    return new Session(this.#http, this.#sandboxId, v.id);
  }

  /** A handle on an existing session. */
  get(id: string): Session {
    return new Session(this.#http, this.#sandboxId, id);
  }

  async list(): Promise<SessionView[]> {
    return (await this.#http.json<{ sessions: SessionView[] }>('GET', `/v1/sandboxes/${this.#sandboxId}/sessions`)).sessions;
  }
}
