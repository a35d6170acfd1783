/**
 * Watching a path: a long-lived helper that reports inotify events as JSON
 * lines. It prints {"ready":true} once its watches are in place, so every
 * change made after `watch()` resolves is reported.
 */
import { WardenError } from '@warden/protocol';
import { decodeFlag, decodeWatchEvent } from './decode.js';
import { FsHelper, type FilesContext } from './helper.js';
import { helperProtocolError, JsonLines } from './lines.js';
import { pathArg } from './paths.js';
import type { WatchHandle, WatchOptions } from './types.js';
import { writeTempFilter } from './write-temps.js';

const CLOSED = Symbol('closed');

export interface WatchRun {
  readonly recursive: boolean;
  readonly onEvent: WatchOptions['onEvent'];
  readonly onError: WatchOptions['onError'];
  readonly signal: AbortSignal | undefined;
  /** Limit on setting the watches up. */
  readonly setupTimeoutMs: number;
}

export async function watchPath(ctx: FilesContext, path: string, run: WatchRun): Promise<WatchHandle> {
  run.signal?.throwIfAborted();
  let ready = false;
  let closing = false;
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (resolveReady = resolve));
  const ownWrites = writeTempFilter();
  const lines = new JsonLines((v) => {
    if (!ready) {
      if (!decodeFlag(v, 'ready')) throw helperProtocolError('a watch that is not ready');
      ready = true;
      resolveReady();
      return;
    }
    const event = decodeWatchEvent(v);
    if (closing) return;
    try {
      for (const e of ownWrites(event)) run.onEvent(e);
    } catch (err) {
      // `helper` is set: lines only come from its output.
      helper.stop({ userError: err });
    }
  });
  const helper = new FsHelper(ctx, {
    op: 'watch',
    path,
    args: ['watch', pathArg(path), ...(run.recursive ? ['recursive'] : [])],
    stdin: false,
    timeoutMs: undefined,
    signal: undefined,
    onStdout: (d) => lines.push(d),
  });
  const setupTimer = setTimeout(() => {
    helper.stop(new WardenError('E_FILE_TIMEOUT', `Setting up the watch of ${JSON.stringify(path)} in sandbox ${ctx.sandboxId} took longer than ${run.setupTimeoutMs} ms. Watch a smaller tree or pass a larger timeoutMs.`));
  }, run.setupTimeoutMs);

  const close = async (): Promise<void> => {
    closing = true;
    helper.stop(CLOSED);
    await helper.settled;
  };
  const onAbort = (): void => {
    if (ready) void close();
    else helper.stop(run.signal?.reason);
  };
  run.signal?.addEventListener('abort', onAbort, { once: true });

  void helper.done
    .catch((err: unknown) => err)
    .then((err) => {
      clearTimeout(setupTimer);
      run.signal?.removeEventListener('abort', onAbort);
      if (!ready || closing || err === CLOSED) return;
      const reported =
        typeof err === 'object' && err !== null && 'userError' in err
          ? err.userError
          : (err ?? new WardenError('E_FILE_OPERATION_FAILED', `The watch of ${JSON.stringify(path)} in sandbox ${ctx.sandboxId} ended: its helper exited. Watch it again.`));
      try {
        run.onError?.(reported);
      } catch {
        // the caller's handler failing must not become an unhandled rejection here
      }
    });

  await Promise.race([readyPromise, helper.done]);
  if (!ready) {
    // done resolved without a ready line: the helper exited 0 before watching anything.
    throw helper.fatal(helperProtocolError('no ready line for a watch'));
  }
  clearTimeout(setupTimer);
  return { close, [Symbol.asyncDispose]: close };
}
