import { describe, expect, it } from 'vitest';
import type { Level } from '../types.js';
import { compilePolicy } from './compile.js';
import { PRESET_NAMES, getPreset } from './presets.js';

const F = false;
const D = true;

describe('agent-safe on a realistic tree', () => {
  const policy = compilePolicy(undefined, 'agent-safe');
  // [path, isDir, level]
  const tree: [string, boolean, Level][] = [
    ['src', D, 'read'],
    ['src/main.ts', F, 'read'],
    ['README.md', F, 'read'],
    ['.env', F, 'none'],
    ['.env.local', F, 'none'],
    ['.envrc', F, 'none'],
    ['config', D, 'read'],
    ['config/.env.prod', F, 'none'],
    ['keys', D, 'read'],
    ['keys/server.key', F, 'none'],
    ['a/b/cert.pem', F, 'none'],
    ['home/.ssh', D, 'none'],
    ['home/.ssh/id_rsa', F, 'none'],
    ['home/.ssh/known_hosts', F, 'none'],
    ['.ssh/config', F, 'none'],
    ['deploy/id_ed25519.pub', F, 'none'],
    ['.git', D, 'read'],
    ['.git/config', F, 'none'],
    ['.git/HEAD', F, 'read'],
    ['.git/objects/ab/cdef', F, 'read'],
    ['vendor/lib/.git/config', F, 'none'], // nested checkouts carry remotes with tokens too
    // The AgentFense bug: top-level secrets/ must be hidden, with everything in it.
    ['secrets', D, 'none'],
    ['secrets/db.txt', F, 'none'],
    ['secrets/deep/er/x', F, 'none'],
    // gitignore semantics: `secrets/` has no inner "/", so it matches at any depth.
    ['x/secrets', D, 'none'],
    ['x/secrets/y', F, 'none'],
    // …but only directories: a file named "secrets" is an ordinary file.
    ['docs/secrets', F, 'read'],
    ['secrets.md', F, 'read'],
    ['output', D, 'write'],
    ['output/report.md', F, 'write'],
    ['output/deep/x.json', F, 'write'],
    ['tmp/scratch.txt', F, 'write'],
    // `/output/` and `/tmp/` are anchored at the root.
    ['src/output/x', F, 'read'],
    ['a/tmp/x', F, 'read'],
    // The hiding guard: a directory grant does not un-hide names inside it.
    ['output/.env', F, 'none'],
    ['tmp/id_rsa', F, 'none'],
  ];

  it.each(tree)('%s (isDir %s) → %s', (path, isDir, level) => {
    expect(policy.levelOf(path, isDir)).toBe(level);
  });
});

describe('hiding guard', () => {
  it('a rule aimed inside a hidden directory still shows that entry', () => {
    const p = compilePolicy({ rules: [{ pattern: 'secrets/', level: 'none' }, { pattern: 'secrets/public.txt', level: 'read' }] });
    expect(p.levelOf('secrets/public.txt', F)).toBe('read');
    expect(p.levelOf('secrets/private.txt', F)).toBe('none');
  });

  it('a broad name grant does not reach into a hidden directory', () => {
    const p = compilePolicy({ rules: [{ pattern: 'secrets/', level: 'none' }, { pattern: '*.txt', level: 'write' }] });
    expect(p.levelOf('secrets/x.txt', F)).toBe('none');
    expect(p.levelOf('docs/x.txt', F)).toBe('write');
  });

  it('explain names the hiding rule that decided', () => {
    const p = compilePolicy({ rules: [{ pattern: 'src/', level: 'write' }] }, 'agent-safe');
    expect(p.explain('src/.env', F)).toMatchObject({ level: 'none', rule: { level: 'none' } });
  });
});

describe('other presets', () => {
  const table: [string, string, boolean, Level][] = [
    ['read-only', 'src/main.ts', F, 'read'],
    ['read-only', '.env', F, 'read'],
    ['read-only', 'output/x', F, 'read'],
    ['full-write', 'src/main.ts', F, 'write'],
    ['full-write', 'secrets/db.txt', F, 'write'],
  ];
  it.each(table)('%s: %s → %s', (preset, path, isDir, level) => {
    expect(compilePolicy(undefined, preset).levelOf(path, isDir)).toBe(level);
  });
});

describe('presets combined with user rules', () => {
  it('user rules extend a preset', () => {
    const policy = compilePolicy({ preset: 'agent-safe', rules: [{ pattern: 'docs/', level: 'write' }] });
    expect(policy.levelOf('docs/a.md', F)).toBe('write');
    expect(policy.levelOf('docs/cert.pem', F)).toBe('none'); // a directory grant does not un-hide names in it
    expect(policy.levelOf('src/a.ts', F)).toBe('read');
    expect(policy.levelOf('.env', F)).toBe('none');
  });

  it('a user rule as specific as a preset rule wins by being later', () => {
    const policy = compilePolicy({ preset: 'agent-safe', rules: [{ pattern: '*.pem', level: 'read' }] });
    expect(policy.levelOf('a/ca.pem', F)).toBe('read');
    expect(policy.levelOf('a/server.key', F)).toBe('none');
  });

  it('a directory grant keeps name-hidden files in it hidden (hiding guard)', () => {
    const grant = { pattern: 'src/', level: 'write' as const };
    expect(compilePolicy({ rules: [grant] }, 'agent-safe').levelOf('src/.env', F)).toBe('none');
    expect(compilePolicy({ rules: [grant] }, 'agent-safe').levelOf('src/secrets/x', F)).toBe('none');
    expect(compilePolicy({ rules: [grant] }, 'agent-safe').levelOf('src/main.ts', F)).toBe('write');
    const fixed = compilePolicy({ rules: [grant, { pattern: 'src/**/.env*', level: 'none' }] }, 'agent-safe');
    expect(fixed.levelOf('src/.env', F)).toBe('none');
    expect(fixed.levelOf('src/a/.env.local', F)).toBe('none');
    expect(fixed.levelOf('src/main.ts', F)).toBe('write');
  });

  it('the user default overrides the preset default', () => {
    const policy = compilePolicy({ preset: 'agent-safe', default: 'view' });
    expect(policy.levelOf('src/a.ts', F)).toBe('view');
    expect(policy.levelOf('output/a', F)).toBe('write');
    expect(policy.levelOf('.env', F)).toBe('none');
  });

  it('full-write with a hidden directory', () => {
    const policy = compilePolicy({ rules: [{ pattern: 'secrets/', level: 'none' }] }, 'full-write');
    expect(policy.levelOf('secrets/a', F)).toBe('none');
    expect(policy.levelOf('src/a', F)).toBe('write');
  });
});

describe('preset registry', () => {
  it('lists the known presets', () => {
    expect(PRESET_NAMES).toEqual(['agent-safe', 'read-only', 'full-write']);
  });

  it('finds only its own names, not Object.prototype properties', () => {
    expect(getPreset('agent-safe')?.default).toBe('read');
    expect(getPreset('toString')).toBeUndefined();
    expect(getPreset('__proto__')).toBeUndefined();
    expect(getPreset('nope')).toBeUndefined();
  });

  it('is immutable', () => {
    const preset = getPreset('agent-safe')!;
    expect(Object.isFrozen(preset)).toBe(true);
    expect(Object.isFrozen(preset.rules)).toBe(true);
    expect(Object.isFrozen(preset.rules[0])).toBe(true);
  });

  it('every preset compiles', () => {
    for (const name of PRESET_NAMES) expect(compilePolicy(undefined, name).id).toMatch(/^[0-9a-f]{64}$/);
  });
});
