/**
 * One job at a time, in call order: the run queue of a session's shell and of
 * a code context's interpreter. An abort before a job starts takes it out of
 * the line (it resolves with the owner's "not run" result); an abort while it
 * runs is the owner's to handle (`interrupt`). Once `stopped()`, nothing more
 * starts; the owner settles what waits with `drain()`.
 */
export interface SerialQueueHooks<J, R> {
  /** Runs a job; its result settles the job. */
  execute(job: J): Promise<R>;
  /** Whether the owner has ended: no job starts any more. */
  stopped(): boolean;
  /** The result of a job aborted before it started. */
  abortedBeforeStart(job: J): R;
  /** Stops the running job whose signal aborted. */
  interrupt(job: J): void;
  /** Called with each result just before its job resolves (callbacks, say). */
  onResult?(job: J, result: R): void;
}

interface Entry<J, R> {
  readonly job: J;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
  onAbort?: () => void;
}

export class SerialQueue<J, R> {
  readonly #hooks: SerialQueueHooks<J, R>;
  readonly #waiting: Array<Entry<J, R>> = [];
  #current: Entry<J, R> | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(hooks: SerialQueueHooks<J, R>) {
    this.#hooks = hooks;
  }

  /** The running job, if any. */
  get current(): J | undefined {
    return this.#current?.job;
  }

  /** Jobs waiting to start. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Settles when the running job has settled. */
  get idle(): Promise<void> {
    return this.#running;
  }

  /** Queues `job`; resolves with its result once it has run (or was aborted). */
  run(job: J, signal: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (signal?.aborted) {
        resolve(this.#hooks.abortedBeforeStart(job));
        return;
      }
      const entry: Entry<J, R> = { job, signal, resolve, reject };
      if (signal) {
        entry.onAbort = () => {
          if (this.#current === entry) this.#hooks.interrupt(job);
          else if (this.#remove(entry)) this.#settle(entry, this.#hooks.abortedBeforeStart(job));
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.#waiting.push(entry);
      this.#pump();
    });
  }

  /** Settles every waiting job with `result(job)` (the owner has ended). */
  drain(result: (job: J) => R): void {
    for (const entry of this.#waiting.splice(0)) this.#settle(entry, result(entry.job));
  }

  #remove(entry: Entry<J, R>): boolean {
    const i = this.#waiting.indexOf(entry);
    if (i < 0) return false;
    this.#waiting.splice(i, 1);
    return true;
  }

  #unlisten(entry: Entry<J, R>): void {
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
  }

  #settle(entry: Entry<J, R>, result: R): void {
    this.#unlisten(entry);
    this.#hooks.onResult?.(entry.job, result);
    entry.resolve(result);
  }

  #pump(): void {
    if (this.#current || this.#hooks.stopped()) return;
    const entry = this.#waiting.shift();
    if (!entry) return;
    this.#current = entry;
    this.#running = this.#hooks.execute(entry.job).then(
      (r) => this.#settle(entry, r),
      (err: unknown) => {
        this.#unlisten(entry);
        entry.reject(err);
      },
    );
    void this.#running.finally(() => {
      this.#current = undefined;
      this.#pump();
    });
  }
}
