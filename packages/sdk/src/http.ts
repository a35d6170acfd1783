/**
 * The one place the SDK talks HTTP: base URL, API key, JSON, NDJSON streams,
 * and errors rebuilt from the server's `{ code, message, details, requestId }`.
 */
import { WardenError, type ErrorCode } from '@warden/protocol';

/** A request body, typed so it works with both the DOM and Node's fetch typings. */
export type Body = NonNullable<RequestInit['body']>;

export interface ConnectionOptions {
  /** Server URL. Default: the WARDEN_URL environment variable, else http://127.0.0.1:8765. */
  readonly url?: string;
  /** API key. Default: the WARDEN_API_KEY environment variable. */
  readonly apiKey?: string;
  /** Per-request time limit for calls that are not streams, in ms. Default 60000. */
  readonly requestTimeoutMs?: number;
  /** A fetch implementation. Default: the global fetch. */
  readonly fetch?: typeof fetch;
}

function env(name: string): string | undefined {
  // Read the environment where there is one (Node, Deno, Bun) without importing Node built-ins.
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name];
}

type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  readonly query?: Query;
  readonly json?: unknown;
  readonly body?: Body;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
  /** No time limit (streams, long commands). */
  readonly unbounded?: boolean;
}

export class Http {
  readonly url: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(opts: ConnectionOptions = {}) {
    this.url = (opts.url ?? env('WARDEN_URL') ?? 'http://127.0.0.1:8765').replace(/\/+$/, '');
    this.#apiKey = opts.apiKey ?? env('WARDEN_API_KEY');
    this.#timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Sends a request; throws a WardenError for any non-2xx answer. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...o.headers };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    let body = o.body;
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    }
    const signals = [o.signal, o.unbounded ? undefined : AbortSignal.timeout(this.#timeoutMs)].filter((s): s is AbortSignal => s !== undefined);
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method,
        headers,
        // The API never redirects; following would also make fetch clone streamed bodies.
        redirect: 'error',
        ...(body === undefined ? {} : { body }),
        ...(signals.length > 0 ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) } : {}),
        // Streamed request bodies need half-duplex in fetch implementations that support them.
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError') throw err;
      throw new WardenError('E_CONNECTION', `Cannot reach the Warden server at ${this.url}: ${(err as Error).message}. Check WARDEN_URL and that \`warden serve\` is running.`, { cause: err });
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }

  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, o);
    return (await res.json()) as T;
  }

  /** Yields each JSON line of an NDJSON response. */
  async *ndjson<T>(method: string, path: string, o: RequestOptions = {}): AsyncGenerator<T> {
    const res = await this.request(method, path, { ...o, unbounded: true });
    yield* readNdjson<T>(res);
  }
}

export async function* readNdjson<T>(res: Response): AsyncGenerator<T> {
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line) as T;
      }
    }
    if (buf.trim()) yield JSON.parse(buf) as T;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

async function errorFrom(res: Response): Promise<WardenError> {
  const text = await res.text().catch(() => '');
  try {
    const b = JSON.parse(text) as { code?: string; message?: string; details?: Record<string, unknown>; requestId?: string };
    if (typeof b.code === 'string' && typeof b.message === 'string') {
      return new WardenError(b.code as ErrorCode, b.message, { details: { ...(b.details ?? {}), ...(b.requestId ? { requestId: b.requestId } : {}), status: res.status } });
    }
  } catch {
    // not a Warden error body: fall through
  }
  return new WardenError('E_INTERNAL', `The server answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}.`, { details: { status: res.status } });
}

/** The WardenError an in-band `{ type: 'error' }` line of an NDJSON stream stands for, details included. */
export function eventError(e: { code: string; message: string; details?: Record<string, unknown> }): WardenError {
  return new WardenError(e.code as ErrorCode, e.message, { details: e.details ?? {} });
}
