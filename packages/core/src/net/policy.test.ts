import { describe, expect, it } from 'vitest';
import { parseWith, NetworkPolicy, type NetworkPolicyInput } from '@warden/protocol';
import { compilePolicy, injectionDomains, injectionFor } from './policy.js';
import { secretValuesFor } from '../secrets/use.js';

const policy = (p: NetworkPolicyInput) => parseWith(NetworkPolicy, p, 'network policy');
const failure = (fn: () => unknown): { code?: string; message: string } => {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('did not throw');
};

describe('compilePolicy', () => {
  it('builds each injection from the template and finds it by host', () => {
    const c = compilePolicy(policy({ mode: 'allowlist', allow: ['*.api.test'], inject: [{ domain: 'v1.api.test', secret: 'TOKEN' }, { domain: '*.api.test', secret: 'OTHER', header: 'X-Key', template: 'k={secret}' }] }), { TOKEN: 'abc-123', OTHER: 'zzz-999' });
    expect(injectionFor(c, 'v1.api.test')).toMatchObject({ header: 'authorization', value: 'Bearer abc-123', secret: 'TOKEN' });
    expect(injectionFor(c, 'v2.api.test')).toMatchObject({ header: 'x-key', value: 'k=zzz-999' });
    expect(injectionFor(c, 'api.test')).toBeUndefined();
    expect(injectionDomains(c)).toEqual(['v1.api.test', 'api.test']);
  });

  it.each([
    ['an injection outside the allowlist', { mode: 'allowlist' as const, allow: ['a.test'], inject: [{ domain: 'b.test', secret: 'T' }] }, 'E_INVALID_SPEC'],
    ['a wildcard injection wider than the allowlist', { mode: 'allowlist' as const, allow: ['x.a.test'], inject: [{ domain: '*.a.test', secret: 'T' }] }, 'E_INVALID_SPEC'],
    ['a framing header', { mode: 'allowlist' as const, allow: ['a.test'], inject: [{ domain: 'a.test', secret: 'T', header: 'Host' }] }, 'E_INVALID_SPEC'],
    ['an unknown secret', { mode: 'allowlist' as const, allow: ['a.test'], inject: [{ domain: 'a.test', secret: 'NOPE' }] }, 'E_SECRET_NOT_FOUND'],
    ['lists in mode none', { allow: ['a.test'] }, 'E_INVALID_SPEC'],
  ])('refuses %s', (_what, p, code) => {
    expect(failure(() => compilePolicy(policy(p), { T: 'value-1234' }))).toMatchObject({ code });
  });

  it("enforces a secret's domains, and never names its value", () => {
    const p = policy({ mode: 'allowlist', allow: ['*.a.test', 'evil.test'], inject: [{ domain: 'evil.test', secret: 'T' }] });
    const e = failure(() => compilePolicy(p, { T: { value: 'v-secret-v', domains: ['*.a.test'] } }));
    expect(e.code).toBe('E_SECRET_FORBIDDEN');
    expect(e.message).not.toContain('v-secret-v');
    expect(failure(() => compilePolicy(p, { T: { value: 'v-secret-v', domains: [] } })).code).toBe('E_SECRET_FORBIDDEN');
    const ok = policy({ mode: 'allowlist', allow: ['*.a.test'], inject: [{ domain: 'api.a.test', secret: 'T' }] });
    expect(compilePolicy(ok, { T: { value: 'v-secret-v', domains: ['*.a.test'] } }).inject).toHaveLength(1);
  });

  it('refuses a value with a line break (header splitting) without showing it', () => {
    const e = failure(() => compilePolicy(policy({ mode: 'allowlist', allow: ['a.test'], inject: [{ domain: 'a.test', secret: 'T' }] }), { T: 'x\r\nEvil: 1' }));
    expect(e.code).toBe('E_INVALID_SPEC');
    expect(e.message).not.toContain('Evil');
  });
});

describe('secretValuesFor', () => {
  const base = { env: {}, network: policy({}) };
  it('gives env secrets under their name or env, files only as files, and collects every value', () => {
    const u = secretValuesFor({ ...base, secrets: [{ name: 'A' }, { name: 'B', env: 'B_VAR' }, { name: 'C', file: '/tmp/c' }] }, { A: 'aaaa', B: 'bbbb', C: 'cccc' });
    expect(u.env).toEqual({ A: 'aaaa', B_VAR: 'bbbb' });
    expect(u.all).toEqual({ A: 'aaaa', B: 'bbbb', C: 'cccc' });
  });

  it('refuses an inject-only secret as env or file, a missing one, and clashing variables', () => {
    expect(failure(() => secretValuesFor({ ...base, secrets: [{ name: 'A' }] }, { A: { value: 'aaaa', injectOnly: true } })).code).toBe('E_SECRET_FORBIDDEN');
    expect(failure(() => secretValuesFor({ ...base, secrets: [{ name: 'A', file: '/tmp/a' }] }, { A: { value: 'aaaa', injectOnly: true } })).code).toBe('E_SECRET_FORBIDDEN');
    expect(failure(() => secretValuesFor({ ...base, secrets: [{ name: 'A' }] }, {})).code).toBe('E_SECRET_NOT_FOUND');
    expect(failure(() => secretValuesFor({ ...base, env: { A: '1' }, secrets: [{ name: 'A' }] }, { A: 'aaaa' })).code).toBe('E_INVALID_SPEC');
  });
});
