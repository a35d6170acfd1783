/** `sandbox.pty`: interactive terminals. Output is raw terminal bytes. */
import type { CommandView } from '@warden/protocol';
import { CommandHandle, type CommandResult } from './commands.js';
import type { Http } from './http.js';

export interface PtyOptions {
  readonly cols: number;
  readonly rows: number;
  /** Called with each chunk of terminal output (bytes, escape sequences included). */
  readonly onData: (data: Uint8Array) => void;
  /** What to run. Default: an interactive bash (`bash -i -l`). */
  readonly cmd?: readonly string[];
  readonly cwd?: string;
  readonly envs?: Record<string, string>;
  /** Default: the sandbox's limits.timeoutMs. */
  readonly timeoutMs?: number;
}

export class PtyHandle {
  readonly #cmd: CommandHandle;

  /** @internal */
  constructor(cmd: CommandHandle) {
    this.#cmd = cmd;
  }

  get id(): string {
    return this.#cmd.id;
  }

  get pid(): number | null {
    return this.#cmd.pid;
  }

  /** Types into the terminal ("\x03" is Ctrl-C). */
  sendInput(data: string | Uint8Array): Promise<void> {
    return this.#cmd.sendStdin(data);
  }

  resize(size: { cols: number; rows: number }): Promise<void> {
    return this.#cmd.resize(size.cols, size.rows);
  }

  kill(): Promise<void> {
    return this.#cmd.kill('SIGKILL', 'tree');
  }

  wait(): Promise<CommandResult> {
    return this.#cmd.wait();
  }
}

export class Pty {
  readonly #http: Http;
  readonly #sandboxId: string;

  /** @internal */
  constructor(http: Http, sandboxId: string) {
    this.#http = http;
    this.#sandboxId = sandboxId;
  }

  async create(opts: PtyOptions): Promise<PtyHandle> {
    const view = await this.#http.json<CommandView>('POST', `/v1/sandboxes/${this.#sandboxId}/commands`, {
      json: {
        argv: [...(opts.cmd ?? ['/bin/bash', '-i', '-l'])],
        pty: { cols: opts.cols, rows: opts.rows },
        stdin: true,
        background: true,
        env: { TERM: 'xterm-256color', ...opts.envs },
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      },
    });
    return new PtyHandle(new CommandHandle(this.#http, this.#sandboxId, view, { onData: opts.onData }));
  }

  /** Reattaches to a terminal by id, replaying its output. */
  async connect(id: string, onData: (data: Uint8Array) => void): Promise<PtyHandle> {
    const view = await this.#http.json<CommandView>('GET', `/v1/sandboxes/${this.#sandboxId}/commands/${id}`);
    return new PtyHandle(new CommandHandle(this.#http, this.#sandboxId, view, { onData }));
  }
}
