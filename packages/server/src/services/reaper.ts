/**
 * A safety net under the engine's own TTL timers: every few seconds, ends
 * sandboxes whose recorded lifetime has passed (and records ones that ended
 * without the server hearing about it).
 */
import type { Engine, Logger } from '@warden/core';
import type { App } from '../app.js';

export function startReaper(app: App, engine: Engine, log: Logger, everyMs = 5000): { stop(): void } {
  const timer = setInterval(() => {
    for (const { id } of app.store.expired()) {
      // Recorded first: the first reason wins, so the teardown's own "killed" does not replace it.
      app.store.markClosed(id, 'expired');
      let live = true;
      try {
        // A failed teardown must not become an unhandled rejection (it would end the server).
        engine
          .get(id)
          .kill()
          .catch((err: unknown) => log.error('reaper could not end an expired sandbox', { sandboxId: id, error: String(err) }));
      } catch {
        live = false;
      }
      log.info('reaper ended an expired sandbox', { sandboxId: id, live });
    }
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
