/** Where a scan's bytes come from, and waiting on them without outliving a deadline. */
import type { FileHandle } from 'node:fs/promises';

export const ABORTED: unique symbol = Symbol('aborted');

/**
 * `p`, or ABORTED as soon as `signal` aborts. Not Promise.race against one
 * long-lived abort promise: every race would leave a reaction on it holding the
 * chunk it resolved with, so memory would grow with the file. The listener is
 * removed when `p` settles.
 */
export function untilAborted<T>(p: PromiseLike<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) {
    Promise.resolve(p).then(undefined, () => undefined);
    return Promise.resolve(ABORTED);
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(p).then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export function isPromiseLike<T>(v: unknown): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Any source as an async iterator; a Uint8Array is one chunk (the scanner splits it). */
export function iterate(data: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array): AsyncIterator<unknown> | Iterator<unknown> {
  if (data instanceof Uint8Array) return [data][Symbol.iterator]();
  if (Symbol.asyncIterator in data) return data[Symbol.asyncIterator]();
  return data[Symbol.iterator]();
}

/** Stops an iterator we will not finish, without waiting on it (a stalled source may never answer). */
export function abandon(it: AsyncIterator<unknown> | Iterator<unknown>): void {
  try {
    const r = it.return?.();
    if (isPromiseLike(r)) r.then(undefined, () => undefined);
  } catch {
    // A source that throws while being stopped has nothing more to give us.
  }
}

/**
 * Reads a file in chunks, one read ahead so the disk works while detectors do.
 * Each chunk is a fresh buffer, sized from `sizeHint` (the file's size from
 * stat) so a small file does not cost two chunk-sized allocations; a file that
 * grew past it is still read whole, in chunkBytes pieces. Positional reads:
 * nothing else moves the offset.
 */
export async function* readChunks(fh: FileHandle, chunkBytes: number, sizeHint = Infinity): AsyncGenerator<Uint8Array> {
  // Before the expected end: what is left, at most a chunk. At it: a small read that should see EOF. Past it (the file grew): whole chunks.
  const want = (at: number): number => (at < sizeHint ? Math.min(chunkBytes, sizeHint - at) : at === sizeHint ? Math.min(chunkBytes, 4096) : chunkBytes);
  const next = (at: number): Promise<{ bytesRead: number; buffer: Uint8Array }> => {
    const n = want(at);
    return fh.read(new Uint8Array(n), 0, n, at);
  };
  let pos = 0;
  let pending = next(pos);
  try {
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) return;
      pos += bytesRead;
      pending = next(pos);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    // Stopped early: the read ahead may still fail; FileHandle.close() waits for it.
    pending.then(undefined, () => undefined);
  }
}
