/**
 * What the engine knows now, read at scrape time: sandboxes by state and
 * runtime, warm pools, pending approvals. Reading them costs one pass over
 * live sandboxes, pools and approvals per scrape and nothing per request.
 */
import type { Engine } from '@warden/core';
import type { Metrics } from './metrics.js';

const RUNTIMES = ['bwrap', 'gvisor', 'docker'] as const;
const STATES = ['running', 'idle', 'starting'] as const;

/** Sets the scrape-time gauges (and the pool counters, which the engine keeps) from `engine`. */
export function observeEngine(m: Metrics, engine: Pick<Engine, 'list' | 'poolStats' | 'approvals'>): void {
  // Every state and runtime has a series, so a dashboard sees 0 rather than a gap.
  m.sandboxes.reset();
  for (const runtime of RUNTIMES) for (const state of STATES) m.sandboxes.set({ state, runtime }, 0);
  for (const s of engine.list()) m.sandboxes.inc({ state: s.state, runtime: s.runtime });

  const stats = engine.poolStats();
  for (const g of [m.poolSize, m.poolIdle, m.poolStarting]) g.reset();
  for (const c of [m.poolHits, m.poolMisses, m.poolFailures, m.poolUnpooled]) c.reset();
  stats.pools.forEach((p, i) => {
    const labels = { pool: String(i), runtime: p.profile.runtime };
    m.sandboxes.inc({ state: 'idle', runtime: p.profile.runtime }, p.idle);
    m.sandboxes.inc({ state: 'starting', runtime: p.profile.runtime }, p.starting);
    m.poolSize.set(labels, p.size);
    m.poolIdle.set(labels, p.idle);
    m.poolStarting.set(labels, p.starting);
    // Counters the engine keeps: exposed as they are (they only grow while the engine lives).
    m.poolHits.inc(labels, p.hits);
    m.poolMisses.inc(labels, p.misses);
    m.poolFailures.inc(labels, p.failures);
  });
  m.poolUnpooled.inc(stats.unpooled);

  m.approvalsPending.set(engine.approvals.list({ state: 'pending' }).length);
}
