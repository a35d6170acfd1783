/**
 * Warm pools: what the server keeps started and how often creates find one.
 * Admin only: the pools are shared by every tenant, so their counts describe
 * everyone's activity, and only an operator can change them (`--pool`).
 */
import type { FastifyInstance } from 'fastify';
import { PoolsView } from '@warden/protocol';
import type { Engine, PoolStats } from '@warden/core';

/** The engine's numbers as the API shows them: host paths in an error message become `<data-dir>`. */
export function poolsView(stats: PoolStats, dataDir: string): PoolsView {
  const redact = (s: string): string => (dataDir.length > 1 ? s.split(dataDir).join('<data-dir>') : s);
  return {
    pools: stats.pools.map((p) => ({
      profile: { runtime: p.profile.runtime, hostname: p.profile.hostname, limits: { ...p.profile.limits } },
      size: p.size,
      idle: p.idle,
      starting: p.starting,
      hits: p.hits,
      misses: p.misses,
      hitRate: p.hitRate,
      discarded: p.discarded,
      evicted: p.evicted,
      failures: p.failures,
      lastError: p.lastError ? { code: p.lastError.code, message: redact(p.lastError.message), at: p.lastError.at } : null,
    })),
    hits: stats.hits,
    misses: stats.misses,
    hitRate: stats.hitRate,
    unpooled: stats.unpooled,
  };
}

export function poolRoutes(app: FastifyInstance, engine: Engine): void {
  app.get(
    '/v1/pools',
    { config: { scope: 'admin' }, schema: { tags: ['pools'], summary: 'Warm pools: size, idle and starting sandboxes, hits, misses and hit rate per profile (admin)', response: { 200: PoolsView } } },
    async () => poolsView(engine.poolStats(), engine.config.dataDir),
  );
}
