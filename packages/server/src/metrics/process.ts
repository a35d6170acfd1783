/**
 * Process metrics (CPU, resident memory, heap, event-loop lag, GC, open
 * files): prom-client's defaults. They describe the process, not an app, and
 * collecting them starts process-wide monitors that are never stopped, so
 * there is one registry per process, made on first use and shared by every
 * app's /metrics.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
