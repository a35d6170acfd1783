import { describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import type { PoolStats } from '@warden/core';
import { resolvePoolSize } from '../serve.js';
import { poolsView } from './pools.js';

describe('the server pool size', () => {
  it.each<[number | undefined, string | undefined, number]>([
    [undefined, undefined, 2],
    [undefined, '', 2],
    [undefined, '5', 5],
    [0, '5', 0],
    [3, undefined, 3],
  ])('poolSize %s with WARDEN_POOL_SIZE %s → %s', (opt, env, expected) => {
    expect(resolvePoolSize(opt, env)).toBe(expected);
  });

  it.each<[number | undefined, string | undefined, RegExp]>([
    [-1, undefined, /poolSize \(--pool\) must be an integer from 0 to 1000 .*, got -1\./],
    [1.5, undefined, /poolSize \(--pool\) must be an integer/],
    [undefined, 'two', /WARDEN_POOL_SIZE must be an integer from 0 to 1000 .*, got "two"\./],
    [undefined, '1001', /WARDEN_POOL_SIZE must be an integer/],
  ])('poolSize %s with WARDEN_POOL_SIZE %s is refused', (opt, env, message) => {
    let err: unknown;
    try {
      resolvePoolSize(opt, env);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'E_INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });
});

describe('poolsView', () => {
  it('never shows the data dir in an error message', () => {
    const stats = {
      pools: [
        {
          profile: { runtime: 'bwrap', hostname: 'sandbox', limits: {} },
          size: 1,
          idle: 0,
          starting: 0,
          hits: 0,
          misses: 0,
          hitRate: null,
          discarded: 0,
          evicted: 0,
          failures: 1,
          lastError: { code: 'E_SANDBOX_START_FAILED', message: 'bwrap: Can\'t mount /var/lib/warden-x/run/eng_a/ws/sbx_b', at: '2024-01-01T00:00:00.000Z' },
        },
      ],
      hits: 0,
      misses: 0,
      hitRate: null,
      unpooled: 0,
    } as unknown as PoolStats;
    const v = poolsView(stats, '/var/lib/warden-x');
    expect(v.pools[0]?.lastError).toEqual({ code: 'E_SANDBOX_START_FAILED', message: "bwrap: Can't mount <data-dir>/run/eng_a/ws/sbx_b", at: '2024-01-01T00:00:00.000Z' });
  });
});
