/**
 * Small concurrency tools for the store: a bounded parallel loop and an
 * in-process read/write lock (adds share it; gc and delete take it alone, so
 * gc never removes a blob an add has written but not yet published).
 */

/**
 * Runs `fn` over `items` with at most `limit` calls in flight. On the first
 * failure (or abort) it starts no new calls, waits for the running ones and
 * rethrows that first error, so nothing keeps writing after it returns.
 */
export async function forEachLimit<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const it = items[Symbol.iterator]();
  let failed = false;
  let error: unknown;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (failed) return;
      if (signal?.aborted) {
        failed = true;
        error = signal.reason;
        return;
      }
      const next = it.next();
      if (next.done === true) return;
      try {
        await fn(next.value);
      } catch (err) {
        if (!failed) error = err;
        failed = true;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failed) throw error;
}

/** Read/write lock with writer preference: a waiting writer blocks new readers. */
export class RwLock {
  #readers = 0;
  #writer = false;
  #queue: Array<{ write: boolean; wake: () => void }> = [];

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire(false);
    try {
      return await fn();
    } finally {
      this.#readers--;
      this.#drain();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire(true);
    try {
      return await fn();
    } finally {
      this.#writer = false;
      this.#drain();
    }
  }

  #acquire(write: boolean): Promise<void> {
    if (this.#queue.length === 0 && !this.#writer && (write ? this.#readers === 0 : true)) {
      if (write) this.#writer = true;
      else this.#readers++;
      return Promise.resolve();
    }
    return new Promise((wake) => this.#queue.push({ write, wake }));
  }

  #drain(): void {
    while (this.#queue.length > 0 && !this.#writer) {
      const head = this.#queue[0]!;
      if (head.write) {
        if (this.#readers > 0) return;
        this.#queue.shift();
        this.#writer = true;
        head.wake();
        return;
      }
      this.#queue.shift();
      this.#readers++;
      head.wake();
    }
  }
}

/**
 * Splits long synchronous work into slices of about `budgetMs`, yielding to
 * the event loop between them: `if (slicer.due()) await slicer.yield(signal)`.
 */
export class TimeSlicer {
  readonly #budgetMs: number;
  #start = performance.now();

  constructor(budgetMs = 10) {
    this.#budgetMs = budgetMs;
  }

  due(): boolean {
    return performance.now() - this.#start >= this.#budgetMs;
  }

  async yield(signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#start = performance.now();
    signal?.throwIfAborted();
  }
}
