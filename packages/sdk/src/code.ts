/**
 * `sandbox.runCode()` and `sandbox.contexts`: stateful Python and JavaScript
 * contexts whose variables, functions and imports persist between cells.
 */
import { WardenError, type CodeContextView, type CodeError, type CodeEvent, type CodeLanguage, type CodeResult, type Execution } from '@warden/protocol';
import { approvalFields } from './commands.js';
import { eventError, type Http } from './http.js';

export type { CodeContextView, CodeError, CodeResult, Execution };

export interface RunCodeOptions {
  /** Language of the default context to run in when `context` is not given. Default `python`. */
  readonly language?: CodeLanguage;
  /** The context (or its id) to run in. Default: the language's default context. */
  readonly context?: CodeContextView | string;
  /** Called with stdout text as it arrives. */
  readonly onStdout?: (text: string) => void;
  readonly onStderr?: (text: string) => void;
  /** Called with each result as it arrives (figures and display() calls during the cell, the last expression's value at its end). */
  readonly onResult?: (result: CodeResult) => void;
  /** Called with the cell's error, if it has one, before runCode resolves. */
  readonly onError?: (error: CodeError) => void;
  /** Interrupt the cell after this long (default: the sandbox's limits.timeoutMs); the result's error is then TimeoutError. */
  readonly timeoutMs?: number;
  /** Cap on the cell's output and results (default: the sandbox's limits.maxOutputBytes, at most 64 MiB). */
  readonly maxOutputBytes?: number;
  /** An approved approval for exactly this cell. */
  readonly approvalId?: string;
  /** When the guard asks for an approval, wait this long for a person to decide. */
  readonly approvalWaitMs?: number;
  /** Aborting interrupts the cell (the request is cancelled). */
  readonly signal?: AbortSignal;
}

const idOf = (c: CodeContextView | string): string => (typeof c === 'string' ? c : c.id);

/** @internal Runs a cell over POST /v1/sandboxes/{id}/code, streaming when a callback wants the output as it comes. */
export async function runCode(http: Http, sandboxId: string, code: string, opts: RunCodeOptions = {}): Promise<Execution> {
  const path = `/v1/sandboxes/${sandboxId}/code`;
  const body = {
    code,
    ...(opts.language !== undefined ? { language: opts.language } : {}),
    ...(opts.context !== undefined ? { contextId: idOf(opts.context) } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.maxOutputBytes !== undefined ? { maxOutputBytes: opts.maxOutputBytes } : {}),
    ...approvalFields(opts),
  };
  const signal = opts.signal ? { signal: opts.signal } : {};
  if (!opts.onStdout && !opts.onStderr && !opts.onResult) {
    const e = await http.json<Execution>('POST', path, { json: body, unbounded: true, ...signal });
    if (e.error) opts.onError?.(e.error);
    return e;
  }
  const results: CodeResult[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  for await (const e of http.ndjson<CodeEvent>('POST', path, { json: { ...body, stream: true }, ...signal })) {
    switch (e.type) {
      case 'stdout':
        stdout.push(e.text);
        opts.onStdout?.(e.text);
        break;
      case 'stderr':
        stderr.push(e.text);
        opts.onStderr?.(e.text);
        break;
      case 'result':
        results.push(e.result);
        opts.onResult?.(e.result);
        break;
      case 'error':
        throw eventError(e);
      case 'end': {
        const execution: Execution = { ...e.execution, results, logs: { stdout, stderr } };
        if (execution.error) opts.onError?.(execution.error);
        return execution;
      }
    }
  }
  throw new WardenError('E_CONNECTION', 'The code stream ended before the cell did (the server went away?). The context may still run it; check sandbox.contexts.list().');
}

/** `sandbox.contexts`: create, list, restart and delete code contexts. */
export class CodeContexts {
  readonly #http: Http;
  readonly #base: string;

  /** @internal */
  constructor(http: Http, sandboxId: string) {
    this.#http = http;
    this.#base = `/v1/sandboxes/${sandboxId}/code/contexts`;
  }

  /**
   * Creates a context; its interpreter starts with the first cell.
   * @example
   * const ctx = await sbx.contexts.create({ language: 'javascript' });
   * await sbx.runCode('let n = 1', { context: ctx });
   */
  async create(opts: { language?: CodeLanguage; cwd?: string; envs?: Record<string, string> } = {}): Promise<CodeContextView> {
    return this.#http.json<CodeContextView>('POST', this.#base, {
      json: { ...(opts.language !== undefined ? { language: opts.language } : {}), ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), ...(opts.envs !== undefined ? { env: opts.envs } : {}) },
    });
  }

  async list(): Promise<CodeContextView[]> {
    return (await this.#http.json<{ contexts: CodeContextView[] }>('GET', this.#base)).contexts;
  }

  async get(context: CodeContextView | string): Promise<CodeContextView> {
    return this.#http.json<CodeContextView>('GET', `${this.#base}/${encodeURIComponent(idOf(context))}`);
  }

  /** A fresh interpreter: every variable and import of the context is gone. */
  async restart(context: CodeContextView | string): Promise<CodeContextView> {
    return this.#http.json<CodeContextView>('POST', `${this.#base}/${encodeURIComponent(idOf(context))}/restart`, { unbounded: true });
  }

  async delete(context: CodeContextView | string): Promise<void> {
    await this.#http.request('DELETE', `${this.#base}/${encodeURIComponent(idOf(context))}`);
  }
}
