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
      let live = true;
      try {
        void engine.get(id).kill();
      } catch {
        live = false;
      }
      if (!live) app.store.markClosed(id, 'expired');
      log.info('reaper ended an expired sandbox', { sandboxId: id, live });
    }
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
