import { describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { parseEngineConfig, type EngineOptions } from '../config.js';

const parse = (o: Partial<EngineOptions>) => parseEngineConfig({ dataDir: '/tmp/x', ...o });

describe('the pool engine option', () => {
  it('defaults to no pool and two starts at a time', () => {
    expect(parse({})).toMatchObject({ pool: [], poolFillConcurrency: 2 });
  });

  it('fills every default of a profile', () => {
    const c = parse({ pool: [{ size: 2 }, { size: 1, profile: { limits: { memoryMb: 64 } } }] });
    expect(c.pool[0]).toMatchObject({ size: 2, profile: { runtime: 'bwrap', hostname: 'sandbox', limits: { memoryMb: 512, pids: 256 } } });
    expect(c.pool[1]?.profile.limits.memoryMb).toBe(64);
    expect(Object.isFrozen(c.pool[0]?.profile)).toBe(true);
  });

  const invalid: Array<[string, unknown, RegExp]> = [
    ['a negative size', [{ size: -1 }], /pool\.0\.size must be an integer from 0 to 10000/],
    ['a fractional size', [{ size: 1.5 }], /pool\.0\.size must be an integer/],
    ['no size', [{}], /pool\.0\.size must be an integer/],
    ['env in a profile', [{ size: 1, profile: { env: { A: '1' } } }], /unknown option "env"/],
    ['a ttl in a profile', [{ size: 1, profile: { limits: { ttlMs: 5000 } } }], /unknown option "ttlMs"/],
    ['a codebase in a profile', [{ size: 1, profile: { codebase: { name: 'a' } } }], /unknown option "codebase"/],
    ['a bad limit', [{ size: 1, profile: { limits: { memoryMb: 1 } } }], /pool\.0\.profile\.limits\.memoryMb must be an integer from 16/],
    ['the same profile twice', [{ size: 1 }, { size: 1, profile: { limits: { memoryMb: 512 } } }], /pool\[1\] has the same profile as pool\[0\]/],
    ['more than maxSandboxes', [{ size: 3 }, { size: 3, profile: { hostname: 'b' } }], /pool sizes add up to 6, more than maxSandboxes \(5\)/],
    ['not an array', { size: 1 }, /pool must be an array/],
  ];

  it.each(invalid)('%s → E_INVALID_SPEC naming the field', (_name, pool, message) => {
    const err = (() => {
      try {
        parse({ pool: pool as EngineOptions['pool'], maxSandboxes: 5 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(hasCode(err, 'E_INVALID_SPEC')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it.each([0, 65, 1.5])('poolFillConcurrency %s is refused', (n) => {
    expect(() => parse({ poolFillConcurrency: n })).toThrow(/poolFillConcurrency must be an integer from 1 to 64/);
  });
});
