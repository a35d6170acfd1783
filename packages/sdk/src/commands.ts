/** `sandbox.commands`: run to completion, stream, run in the background and reattach. */
import { WardenError, type CommandEvent, type CommandView, type ExecResult } from '@warden/protocol';
import { fromBase64, toBase64, toBytes } from './bytes.js';
import { eventError, type Http } from './http.js';

export interface RunOptions {
  /** Called with each chunk of stdout as text, in order. */
  readonly onStdout?: (data: string) => void;
  readonly onStderr?: (data: string) => void;
  /** Answer at once with a handle; the command keeps running. */
  readonly background?: boolean;
  /** Bytes or text written to stdin, which is then closed; `{ pipe: true }` keeps it open for handle.sendStdin (background only). Default: empty. */
  readonly stdin?: string | Uint8Array | { readonly pipe: true };
  /** Wall-clock limit; the whole process tree is killed. Default: the sandbox's limits.timeoutMs. */
  readonly timeoutMs?: number;
  readonly maxOutputBytes?: number;
  /** Working directory. Default: /workspace. */
  readonly cwd?: string;
  /** Extra environment variables. */
  readonly envs?: Record<string, string>;
  /** Run this exact argv instead of `bash -c cmd` (then pass cmd as ''). */
  readonly argv?: readonly string[];
  readonly signal?: AbortSignal;
  /** An approved approval for exactly this command (its id came with an E_APPROVAL_PENDING error). */
  readonly approvalId?: string;
  /** When the guard asks for a person's approval, wait up to this long for the decision instead of failing at once with E_APPROVAL_PENDING. */
  readonly approvalWaitMs?: number;
}

/** A command's result; stdout and stderr are decoded as UTF-8. */
export type CommandResult = ExecResult & { readonly id: string };

/** A command that is running (or has run); follow it, feed it, signal it, wait for it. */
export class CommandHandle {
  readonly id: string;
  readonly #http: Http;
  readonly #base: string;
  readonly #follow: () => Promise<CommandResult>;
  #done: Promise<CommandResult> | undefined;
  #pid: number | null;

  /** @internal */
  constructor(http: Http, sandboxId: string, view: CommandView, opts: Pick<RunOptions, 'onStdout' | 'onStderr' | 'signal'> & { onData?: (b: Uint8Array) => void }, after = -1) {
    this.#http = http;
    this.id = view.id;
    this.#pid = view.pid;
    this.#base = `/v1/sandboxes/${sandboxId}/commands/${view.id}`;
    this.#follow = () => follow(http, `${this.#base}/events`, after, opts);
    // With callbacks, output is followed from now on; without, only once someone waits.
    if (opts.onStdout || opts.onStderr || opts.onData) {
      this.#done = this.#follow();
      this.#done.catch(() => undefined); // a handle nobody waits on must not raise an unhandled rejection
    }
  }

  get pid(): number | null {
    return this.#pid;
  }

  /** Resolves with the result when the command ends (output collected from the stream). */
  wait(): Promise<CommandResult> {
    return (this.#done ??= this.#follow());
  }

  async sendStdin(data: string | Uint8Array): Promise<void> {
    await this.#http.json('POST', `${this.#base}/stdin`, { json: { data: toBase64(toBytes(data)) } });
  }

  async closeStdin(): Promise<void> {
    await this.#http.json('POST', `${this.#base}/stdin`, { json: { eof: true } });
  }

  /** Sends a signal (default SIGKILL) to the command's whole process tree. */
  async kill(signal = 'SIGKILL', scope: 'process' | 'group' | 'tree' | 'descendants' = 'tree'): Promise<void> {
    await this.#http.json('POST', `${this.#base}/signal`, { json: { signal, scope } });
  }

  /** @internal */
  async resize(cols: number, rows: number): Promise<void> {
    await this.#http.json('POST', `${this.#base}/resize`, { json: { cols, rows } });
  }
}

/** Reads a command's NDJSON events, calls the callbacks, and builds the result. */
async function follow(
  http: Http,
  path: string,
  after: number,
  opts: Pick<RunOptions, 'onStdout' | 'onStderr' | 'signal'> & { onData?: (b: Uint8Array) => void },
  events?: AsyncGenerator<CommandEvent>,
): Promise<CommandResult> {
  let id = '';
  const r = await collectOutput<ExecResult>(events ?? http.ndjson<CommandEvent>('GET', path, { query: { after }, ...(opts.signal ? { signal: opts.signal } : {}) }), {
    ...opts,
    onStart: (startId) => (id = startId),
    lost: 'The output stream ended before the command did (the server went away?). Reattach with sandbox.commands.connect(id).',
  });
  return { ...r, id };
}

/**
 * @internal Decodes a stream of output events (stdout/stderr as base64) into text,
 * calling the callbacks in order; resolves with the end event's result plus the text.
 */
export async function collectOutput<R extends { stdout: string; stderr: string }>(
  events: AsyncIterable<CommandEvent | { type: 'end'; result: R }>,
  opts: Pick<RunOptions, 'onStdout' | 'onStderr'> & { onData?: (b: Uint8Array) => void; onStart?: (id: string) => void; lost: string },
): Promise<R> {
  const out = new TextDecoder();
  const err = new TextDecoder();
  let stdout = '';
  let stderr = '';
  for await (const e of events) {
    switch (e.type) {
      case 'start':
        opts.onStart?.(e.id);
        break;
      case 'stdout': {
        const bytes = fromBase64(e.data);
        opts.onData?.(bytes);
        const s = out.decode(bytes, { stream: true });
        stdout += s;
        if (s) opts.onStdout?.(s);
        break;
      }
      case 'stderr': {
        const s = err.decode(fromBase64(e.data), { stream: true });
        stderr += s;
        if (s) opts.onStderr?.(s);
        break;
      }
      case 'error':
        throw eventError(e);
      case 'end':
        return { ...(e.result as R), stdout: stdout + out.decode(), stderr: stderr + err.decode() };
    }
  }
  throw new WardenError('E_CONNECTION', opts.lost);
}

/** The approval fields of a guarded request body. */
export function approvalFields(o: { approvalId?: string; approvalWaitMs?: number }): Record<string, unknown> {
  return { ...(o.approvalId !== undefined ? { approvalId: o.approvalId } : {}), ...(o.approvalWaitMs !== undefined ? { approvalWaitMs: o.approvalWaitMs } : {}) };
}

export class Commands {
  readonly #http: Http;
  readonly #sandboxId: string;

  /** @internal */
  constructor(http: Http, sandboxId: string) {
    this.#http = http;
    this.#sandboxId = sandboxId;
  }

  /**
   * Runs a shell command line (`bash -c`) and waits for its result, or with
   * `background: true` returns a handle at once.
   * @example const r = await sandbox.commands.run('echo hi', { onStdout: (s) => console.log(s) });
   */
  run(cmd: string, opts: RunOptions & { background: true }): Promise<CommandHandle>;
  run(cmd: string, opts?: RunOptions & { background?: false }): Promise<CommandResult>;
  run(cmd: string, opts?: RunOptions): Promise<CommandResult | CommandHandle>;
  async run(cmd: string, opts: RunOptions = {}): Promise<CommandResult | CommandHandle> {
    const body = this.#body(cmd, opts);
    const path = `/v1/sandboxes/${this.#sandboxId}/commands`;
    if (opts.background) {
      const view = await this.#http.json<CommandView>('POST', path, { json: { ...body, background: true } });
      return new CommandHandle(this.#http, this.#sandboxId, view, opts);
    }
    if (opts.onStdout || opts.onStderr) {
      const events = this.#http.ndjson<CommandEvent>('POST', path, { json: { ...body, stream: true }, ...(opts.signal ? { signal: opts.signal } : {}) });
      return follow(this.#http, '', -1, opts, events);
    }
    return this.#http.json<CommandResult>('POST', path, { json: body, unbounded: true, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /** Reattaches to a command by id: replays its output, then follows it live. Aborting `signal` stops following (the command keeps running). */
  async connect(id: string, opts: Pick<RunOptions, 'onStdout' | 'onStderr' | 'signal'> = {}): Promise<CommandHandle> {
    const view = await this.#http.json<CommandView>('GET', `/v1/sandboxes/${this.#sandboxId}/commands/${id}`);
    return new CommandHandle(this.#http, this.#sandboxId, view, opts);
  }

  /** Running and recently finished commands. */
  async list(): Promise<CommandView[]> {
    return (await this.#http.json<{ commands: CommandView[] }>('GET', `/v1/sandboxes/${this.#sandboxId}/commands`)).commands;
  }

  /** @internal the request body for a command. */
  #body(cmd: string, opts: RunOptions): Record<string, unknown> {
    return {
      ...(opts.argv ? { argv: [...opts.argv] } : { cmd }),
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      ...(opts.envs !== undefined ? { env: opts.envs } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.maxOutputBytes !== undefined ? { maxOutputBytes: opts.maxOutputBytes } : {}),
      ...approvalFields(opts),
      ...(opts.stdin === undefined ? {} : typeof opts.stdin === 'string' || opts.stdin instanceof Uint8Array ? { stdin: toBase64(toBytes(opts.stdin)) } : { stdin: true }),
    };
  }
}
