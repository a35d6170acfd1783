/** The `pool` engine option: schema (validated with the rest of the engine config) and the checks across entries. */
import { Type, type Static } from '@sinclair/typebox';
import { Limits, SandboxSpec, WardenError, parseSandboxSpec, type RuntimeName } from '@warden/protocol';
import { HANDOVER_LIMITS, poolKey } from './profile.js';

const ProfileSchema = Type.Object(
  {
    runtime: SandboxSpec.properties.runtime,
    hostname: SandboxSpec.properties.hostname,
    // ttlMs, timeoutMs and maxOutputBytes are the caller's, set at hand-over: a profile cannot fix them.
    limits: Type.Omit(Limits, [...HANDOVER_LIMITS], { additionalProperties: false, default: {}, hint: 'Set limits that shape the sandbox (memoryMb, pids, cpus, …); ttlMs, timeoutMs and maxOutputBytes come from each create.' }),
  },
  { additionalProperties: false, default: {}, hint: 'A profile has runtime, hostname and limits; env and metadata are given at each create.' },
);

export const PoolEntrySchema = Type.Object(
  {
    size: Type.Integer({ minimum: 0, maximum: 10_000, description: 'Idle sandboxes kept started. 0 keeps none but still counts hits and misses.', hint: 'Set pool[].size, e.g. 2.' }),
    profile: ProfileSchema,
  },
  { additionalProperties: false },
);

export const PoolConfigSchema = Type.Array(PoolEntrySchema, {
  maxItems: 64,
  default: [],
  description: 'Warm pools: per profile, sandboxes started ahead so that a matching create is a hand-over. Default: none.',
  hint: 'Pass pool: [{ size: 2 }] for two default sandboxes.',
});

export type PoolEntry = Static<typeof PoolEntrySchema>;

/** A pool entry as callers pass it. */
export interface PoolOptions {
  /** Idle sandboxes kept started for this profile; 0 keeps none (hits and misses are still counted). */
  readonly size: number;
  /**
   * What a create must match to be served from this pool: runtime, hostname
   * and limits (omitted fields: their defaults). Env, metadata, ttlMs,
   * timeoutMs and maxOutputBytes may differ: they are applied at hand-over.
   * Default: the default spec.
   */
  readonly profile?: { runtime?: RuntimeName; hostname?: string; limits?: Partial<Omit<Limits, (typeof HANDOVER_LIMITS)[number]>> };
}

/** Checks across entries, after the schema: distinct profiles, and sizes that fit in maxSandboxes. */
export function checkPoolConfig(pool: readonly PoolEntry[], maxSandboxes: number): void {
  const seen = new Map<string, number>();
  pool.forEach((entry, i) => {
    const key = poolKey(parseSandboxSpec(entry.profile)) ?? '';
    const first = seen.get(key);
    if (first !== undefined) {
      throw new WardenError('E_INVALID_SPEC', `Invalid engine config: pool[${i}] has the same profile as pool[${first}]. Give each profile one entry and add up their sizes.`);
    }
    seen.set(key, i);
  });
  const total = pool.reduce((n, e) => n + e.size, 0);
  if (total > maxSandboxes) {
    throw new WardenError('E_INVALID_SPEC', `Invalid engine config: the pool sizes add up to ${total}, more than maxSandboxes (${maxSandboxes}); idle pooled sandboxes count toward maxSandboxes. Lower pool[].size or raise maxSandboxes.`);
  }
}
