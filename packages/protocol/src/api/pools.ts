/** Warm pools over HTTP: sizes, idle counts, hits and misses (GET /v1/pools, admin). */
import { Type, type Static } from '@sinclair/typebox';
import { Limits, RuntimeName } from '../spec.js';

/**
 * What a create must match to be served from a pool. Env, metadata and the
 * limits ttlMs, timeoutMs and maxOutputBytes are the caller's, applied at hand-over.
 */
export const PoolProfileView = Type.Object({
  runtime: RuntimeName,
  hostname: Type.String(),
  limits: Type.Omit(Limits, ['ttlMs', 'timeoutMs', 'maxOutputBytes']),
});
export type PoolProfileView = Static<typeof PoolProfileView>;

const HitRate = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'hits / (hits + misses); null before the first create.' });

export const PoolView = Type.Object({
  profile: PoolProfileView,
  size: Type.Integer({ description: 'Idle sandboxes the pool keeps started.' }),
  idle: Type.Integer({ description: 'Started, ready, waiting for a create.' }),
  starting: Type.Integer({ description: 'Being started now.' }),
  hits: Type.Integer({ description: 'Creates of this profile served by a hand-over.' }),
  misses: Type.Integer({ description: 'Creates of this profile that found no idle sandbox and started one cold.' }),
  hitRate: HitRate,
  discarded: Type.Integer({ description: 'Idle sandboxes dropped because their agent died.' }),
  evicted: Type.Integer({ description: 'Idle sandboxes killed to make room under the server’s sandbox limit for another profile.' }),
  failures: Type.Integer({ description: 'Starts that failed (each followed by a backoff).' }),
  lastError: Type.Union([Type.Object({ code: Type.String(), message: Type.String(), at: Type.String({ format: 'date-time' }) }), Type.Null()], {
    description: 'The last failure, until a start succeeds again.',
  }),
});
export type PoolView = Static<typeof PoolView>;

export const PoolsView = Type.Object({
  pools: Type.Array(PoolView),
  hits: Type.Integer({ description: 'Over every pool.' }),
  misses: Type.Integer(),
  hitRate: HitRate,
  unpooled: Type.Integer({ description: 'Creates no pool serves: codebase sandboxes, or a profile without a pool.' }),
});
export type PoolsView = Static<typeof PoolsView>;
