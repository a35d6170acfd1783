import { describe, expect, it } from 'vitest';
import { Limits, parseSandboxSpec, type SandboxSpec, type SandboxSpecInput } from '@warden/protocol';
import { HANDOVER_LIMITS, poolKey, profileOf } from './profile.js';

const key = (input: SandboxSpecInput): string | undefined => poolKey(parseSandboxSpec(input));
const base = key({});

describe('poolKey: what a pooled sandbox must match', () => {
  it.each<[string, SandboxSpecInput]>([
    ['env', { env: { TOKEN: 'x' } }],
    ['metadata', { metadata: { user: 'a' } }],
    ['ttlMs', { limits: { ttlMs: 5_000 } }],
    ['timeoutMs', { limits: { timeoutMs: 5 } }],
    ['maxOutputBytes', { limits: { maxOutputBytes: 10 } }],
    ['the defaults spelled out', { runtime: 'bwrap', hostname: 'sandbox', limits: { memoryMb: 512 } }],
  ])('%s is applied at hand-over: same key as the default spec', (_name, input) => {
    expect(key(input)).toBe(base);
  });

  // Every limit the runtime or the cgroup reads, including any added later: a new limit is
  // part of the key until someone lists it in HANDOVER_LIMITS on purpose.
  const startLimits = Object.keys(Limits.properties).filter((k) => !(HANDOVER_LIMITS as readonly string[]).includes(k));
  it.each(startLimits)('limits.%s shapes the started sandbox: a different value is a different key', (name) => {
    const schema = (Limits.properties as Record<string, { minimum: number; default: number }>)[name];
    const other = schema && schema.default === schema.minimum ? schema.default + 1 : schema?.minimum;
    expect(key({ limits: { [name]: other } })).not.toBe(base);
  });

  it('network and secrets are applied at hand-over, not part of the key', () => {
    expect(key({ network: { mode: 'allowlist', allow: ['pypi.org'] }, secrets: [{ name: 'T' }] })).toBe(base);
  });

  it('hostname and runtime are part of the key', () => {
    expect(key({ hostname: 'other' })).not.toBe(base);
    expect(profileOf(parseSandboxSpec({}))).toMatchObject({ runtime: 'bwrap', hostname: 'sandbox' });
  });

  it('a spec field nobody classified is part of the key (fail closed)', () => {
    const spec = { ...parseSandboxSpec({}), futureField: { anything: true } } as unknown as SandboxSpec;
    expect(poolKey(spec)).not.toBe(base);
  });

  it('key order does not matter', () => {
    expect(key({ limits: { memoryMb: 256, pids: 64 } })).toBe(key({ limits: { pids: 64, memoryMb: 256 } }));
  });

  it.each<[string, SandboxSpecInput]>([
    ['a host workspace', { workspace: { hostPath: '/srv/ws' } }],
    ['a codebase', { codebase: { name: 'app' } }],
    ['a codebase with a preset', { codebase: { name: 'app' }, preset: 'agent-safe' }],
    ['a snapshot', { snapshot: 'snap_abcdefghijkl' }],
  ])('%s is never pooled', (_name, input) => {
    expect(key(input)).toBeUndefined();
  });

  it('the profile leaves out what is applied at hand-over', () => {
    const p = profileOf(parseSandboxSpec({ env: { A: '1' }, metadata: { m: '1' }, limits: { ttlMs: 2000, memoryMb: 64 } }));
    expect(p).not.toHaveProperty('env');
    expect(p).not.toHaveProperty('metadata');
    expect(p?.limits).not.toHaveProperty('ttlMs');
    expect(p?.limits.memoryMb).toBe(64);
  });
});
