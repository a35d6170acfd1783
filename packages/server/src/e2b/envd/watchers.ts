/**
 * envd's polled watchers (CreateWatcher, GetWatcherEvents, RemoveWatcher), for
 * clients that cannot hold a stream open: a Warden watch whose events wait in
 * a bounded queue until the next poll. A queue that fills up, or a watch that
 * ends on its own, fails the next poll; everything ends with the sandbox.
 */
import { randomUUID } from 'node:crypto';
import { WardenError } from '@warden/protocol';
import type { Sandbox, WatchHandle } from '@warden/core';
import { ConnectFailure } from '../errors.js';
import { EVENT_TYPES, eventName } from './entry.js';

export interface FsEventJson {
  readonly name: string;
  readonly type: string;
}

interface Watcher {
  readonly handle: WatchHandle;
  readonly events: FsEventJson[];
  failure: Error | undefined;
}

/** Watchers per sandbox, and events one may hold between polls. */
export const MAX_WATCHERS = 32;
export const MAX_QUEUED_EVENTS = 10_000;

export class PolledWatchers {
  readonly #bySandbox = new Map<string, Map<string, Watcher>>();

  async create(sbx: Sandbox, path: string, recursive: boolean, setupTimeoutMs: number): Promise<string> {
    const mine = this.#bySandbox.get(sbx.id) ?? new Map<string, Watcher>();
    if (mine.size >= MAX_WATCHERS) {
      throw new WardenError('E_CAPACITY', `Sandbox ${sbx.id} already has ${MAX_WATCHERS} watchers; remove one (RemoveWatcher) first.`, { details: { sandboxId: sbx.id, limit: MAX_WATCHERS } });
    }
    const id = randomUUID();
    const events: FsEventJson[] = [];
    const w: { watcher?: Watcher; early?: Error } = {};
    const fail = (err: unknown): void => {
      const e = err instanceof Error ? err : new Error('The watch ended.');
      if (w.watcher) w.watcher.failure ??= e;
      else w.early ??= e;
    };
    const handle = await sbx.files.watch(path, {
      recursive,
      timeoutMs: setupTimeoutMs,
      onEvent: (e) => {
        if (e.type === 'overflow' || events.length >= MAX_QUEUED_EVENTS) {
          fail(new ConnectFailure('data_loss', `Watcher ${id} lost events (${e.type === 'overflow' ? "the kernel's queue overflowed" : `more than ${MAX_QUEUED_EVENTS} waited for a poll`}); remove it and watch again.`));
          return;
        }
        events.push({ name: eventName(path, e.path), type: EVENT_TYPES[e.type] });
      },
      onError: fail,
    });
    w.watcher = { handle, events, failure: w.early };
    mine.set(id, w.watcher);
    this.#bySandbox.set(sbx.id, mine);
    return id;
  }

  /** The events since the last poll; throws what ended the watcher once they are all taken. */
  drain(sbx: Sandbox, id: string): FsEventJson[] {
    const w = this.#get(sbx, id);
    const events = w.events.splice(0);
    if (events.length === 0 && w.failure !== undefined) {
      void this.remove(sbx, id);
      throw w.failure;
    }
    return events;
  }

  async remove(sbx: Sandbox, id: string): Promise<void> {
    const w = this.#get(sbx, id);
    this.#bySandbox.get(sbx.id)?.delete(id);
    await w.handle.close();
  }

  /** Forgets a sandbox's watchers (it has ended, and their watches with it). */
  drop(sandboxId: string): void {
    this.#bySandbox.delete(sandboxId);
  }

  #get(sbx: Sandbox, id: string): Watcher {
    const w = this.#bySandbox.get(sbx.id)?.get(id);
    if (!w) throw new ConnectFailure('not_found', `Sandbox ${sbx.id} has no watcher ${JSON.stringify(id)}; it may have been removed.`);
    return w;
  }
}
