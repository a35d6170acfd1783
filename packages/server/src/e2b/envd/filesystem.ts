/**
 * envd's `filesystem.Filesystem` service over `sandbox.files`: every operation
 * runs inside the sandbox as its user (the kernel, codebase levels and the
 * audit log apply as on Warden's API). Where envd's behaviour differs from
 * Warden's default, envd's is kept: Move replaces its destination and makes
 * its parent, Remove of a missing path succeeds, MakeDir of an existing
 * directory is already_exists (the SDK's makeDir() → false).
 */
import { posix } from 'node:path';
import { WardenError, hasCode } from '@warden/protocol';
import type { FileOpOptions, WatchEvent } from '@warden/core';
import type { RpcContext, RpcRouter } from '../connect/rpc.js';
import { ConnectFailure } from '../errors.js';
import { sandboxPath } from '../paths.js';
import { EVENT_TYPES, entryInfo, eventName } from './entry.js';
import { ListDirRequest, MoveRequest, PathRequest, WatcherRequest, WatchRequest } from './schemas.js';
import type { PolledWatchers } from './watchers.js';

export interface FilesystemDeps {
  readonly watchers: PolledWatchers;
}

/** Setting a watch up is bounded on its own; the watch then lasts as long as its stream. */
const WATCH_SETUP_MS = 15_000;
const MAX_OP_MS = 86_400_000;
const MAX_WATCH_BUFFER_BYTES = 4 * 1024 * 1024;

function opts(ctx: RpcContext): FileOpOptions {
  return { actor: ctx.target.actor, signal: ctx.signal, ...(ctx.timeoutMs !== undefined ? { timeoutMs: Math.min(ctx.timeoutMs, MAX_OP_MS) } : {}) };
}

function refuseEntries(input: { includeEntry?: boolean | undefined; include_entry?: boolean | undefined }): void {
  if (input.includeEntry === true || input.include_entry === true) {
    throw new WardenError('E_UNSUPPORTED', 'Watch events with entry info (includeEntry) are not supported; stat the path with files.getInfo() when an event arrives.', { details: { feature: 'includeEntry' } });
  }
}

export function filesystemService(rpc: RpcRouter, deps: FilesystemDeps): void {
  rpc.unary('Stat', PathRequest, async (input, ctx) => ({ entry: entryInfo(await ctx.target.sandbox.files.stat(sandboxPath(input.path), opts(ctx))) }));

  rpc.unary('MakeDir', PathRequest, async (input, ctx) => {
    const files = ctx.target.sandbox.files;
    const path = sandboxPath(input.path);
    if (!(await files.mkdir(path, opts(ctx)))) {
      throw new WardenError('E_FILE_EXISTS', `${path} already exists as a directory.`, { details: { path } });
    }
    return { entry: entryInfo(await files.stat(path, opts(ctx))) };
  });

  rpc.unary('Move', MoveRequest, async (input, ctx) => {
    const files = ctx.target.sandbox.files;
    const [src, dst] = [sandboxPath(input.source), sandboxPath(input.destination)];
    await files.mkdir(posix.dirname(dst), opts(ctx));
    return { entry: entryInfo(await files.move(src, dst, { ...opts(ctx), overwrite: true })) };
  });

  rpc.unary('ListDir', ListDirRequest, async (input, ctx) => {
    const entries = await ctx.target.sandbox.files.list(sandboxPath(input.path), { ...opts(ctx), depth: input.depth || 1 });
    return { entries: entries.map(entryInfo) };
  });

  rpc.unary('Remove', PathRequest, async (input, ctx) => {
    try {
      await ctx.target.sandbox.files.remove(sandboxPath(input.path), opts(ctx));
    } catch (err) {
      if (!hasCode(err, 'E_FILE_NOT_FOUND')) throw err;
    }
    return {};
  });

  rpc.stream('WatchDir', WatchRequest, { keepalive: { keepalive: {} }, maxBufferedBytes: MAX_WATCH_BUFFER_BYTES }, async (input, ctx, out) => {
    refuseEntries(input);
    const files = ctx.target.sandbox.files;
    const path = sandboxPath(input.path);
    if ((await files.stat(path, opts(ctx))).type !== 'dir') {
      throw new WardenError('E_NOT_A_DIRECTORY', `${path} is not a directory; watchDir watches directories.`, { details: { path } });
    }
    // Events that arrive before the start message wait for it.
    const early: WatchEvent[] = [];
    let started = false;
    const emit = (e: WatchEvent): void => {
      if (!started) return void early.push(e);
      if (e.type === 'overflow') return out.end(new ConnectFailure('data_loss', `Events under ${path} were lost (the kernel's event queue overflowed). Watch again.`));
      out.send({ filesystem: { name: eventName(path, e.path), type: EVENT_TYPES[e.type] } });
    };
    // The stream's signal closes the watch when the stream ends, whoever ends it.
    await files.watch(path, { recursive: input.recursive === true, signal: ctx.signal, timeoutMs: WATCH_SETUP_MS, onEvent: emit, onError: (err) => out.end(err) });
    out.send({ start: {} });
    started = true;
    for (const e of early.splice(0)) emit(e);
  });

  rpc.unary('CreateWatcher', WatchRequest, async (input, ctx) => {
    refuseEntries(input);
    return { watcherId: await deps.watchers.create(ctx.target.sandbox, sandboxPath(input.path), input.recursive === true, WATCH_SETUP_MS) };
  });

  rpc.unary('GetWatcherEvents', WatcherRequest, async (input, ctx) => ({ events: deps.watchers.drain(ctx.target.sandbox, input.watcherId ?? input.watcher_id ?? '') }));

  rpc.unary('RemoveWatcher', WatcherRequest, async (input, ctx) => {
    await deps.watchers.remove(ctx.target.sandbox, input.watcherId ?? input.watcher_id ?? '');
    return {};
  });
}
