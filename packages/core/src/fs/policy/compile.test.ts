import { describe, expect, it } from 'vitest';
import type { Level } from '../types.js';
import { compilePolicy } from './compile.js';
import { getPreset } from './presets.js';
import type { PolicyInput } from './schema.js';

const F = false;
const D = true;
const rules = (...pairs: [string, Level][]): PolicyInput['rules'] => pairs.map(([pattern, level]) => ({ pattern, level }));

describe('precedence', () => {
  // [case, policy, path, isDir, level]
  const table: [string, PolicyInput | undefined, string, boolean, Level][] = [
    ['no policy: everything is readable', undefined, 'a/b', F, 'read'],
    ['unmatched paths get the default', { default: 'none', rules: rules(['docs/', 'write']) }, 'src/a.ts', F, 'none'],
    ['the default does not override a match', { default: 'none', rules: rules(['docs/', 'write']) }, 'docs/a.md', F, 'write'],

    // A rule on a directory applies to everything below it.
    ['directory rule: the directory', { rules: rules(['docs/', 'write']) }, 'docs', D, 'write'],
    ['directory rule: a deep descendant', { rules: rules(['docs/', 'write']) }, 'docs/a/b/c.md', F, 'write'],
    ['directory rule: a sibling with the same prefix', { rules: rules(['docs/', 'write']) }, 'docs2/a', F, 'read'],
    ['directory rule: not a file of that name', { rules: rules(['docs/', 'write']) }, 'docs', F, 'read'],
    ['name rule on a directory covers its contents', { rules: rules(['*.pem', 'none']) }, 'certs.pem/a', F, 'none'],

    // 1. An exact literal match beats any wildcard match, wherever it is in the list.
    ['exact beats a later wildcard with as many literal segments', { rules: rules(['a/b/c', 'none'], ['a/b/c/**', 'write']) }, 'a/b/c', F, 'none'],
    ['exact beats an earlier wildcard', { rules: rules(['a/b/c/**', 'write'], ['a/b/c', 'none']) }, 'a/b/c', F, 'none'],
    ['the wildcard still wins below the exact path', { rules: rules(['a/b/c', 'none'], ['a/b/c/**', 'write']) }, 'a/b/c/d', F, 'write'],
    ['a name rule is exact at the top level', { rules: rules(['config', 'none'], ['/config*', 'write']) }, 'config', F, 'none'],
    ['a name rule is not exact deeper down', { rules: rules(['config', 'none'], ['x/config*', 'write']) }, 'x/config', F, 'write'],
    ['an exact directory rule needs a directory', { rules: rules(['/secrets/', 'none'], ['secrets*', 'write']) }, 'secrets', F, 'write'],
    ['exact ties: the later one', { rules: rules(['/a/b', 'none'], ['**/a/b', 'view']) }, 'a/b', F, 'view'],

    // 2. More literal segments win, whatever the order.
    ['none parent, more specific read child', { rules: rules(['secrets/', 'none'], ['secrets/public/', 'read']) }, 'secrets/public/a.txt', F, 'read'],
    ['…in either order', { rules: rules(['secrets/public/', 'read'], ['secrets/', 'none']) }, 'secrets/public/a.txt', F, 'read'],
    ['…and the rest of the parent stays hidden', { rules: rules(['secrets/', 'none'], ['secrets/public/', 'read']) }, 'secrets/b.txt', F, 'none'],
    ['…and the parent itself', { rules: rules(['secrets/', 'none'], ['secrets/public/', 'read']) }, 'secrets', D, 'none'],
    ['a file under a none directory', { default: 'read', rules: rules(['/vendor/', 'none'], ['/vendor/lib/README.md', 'read']) }, 'vendor/lib/README.md', F, 'read'],
    ['…its sibling', { default: 'read', rules: rules(['/vendor/', 'none'], ['/vendor/lib/README.md', 'read']) }, 'vendor/lib/x.c', F, 'none'],
    ['a directory grant beats an earlier name rule', { rules: rules(['*.md', 'view'], ['docs/', 'write']) }, 'docs/a.md', F, 'write'],
    ['…and a later one', { rules: rules(['docs/', 'write'], ['*.md', 'view']) }, 'docs/a.md', F, 'write'],
    ['a wildcard segment is not a literal one', { rules: rules(['src/generated/', 'none'], ['src/*/', 'write']) }, 'src/generated/a', F, 'none'],

    // 3. Then more literal characters.
    ['more literal characters', { rules: rules(['secrets/*.md', 'read'], ['secrets/', 'none']) }, 'secrets/a.md', F, 'read'],
    ['…not matched: the parent', { rules: rules(['secrets/*.md', 'read'], ['secrets/', 'none']) }, 'secrets/a.txt', F, 'none'],
    ['equal literal characters (.env*, *.txt): the later', { rules: rules(['.env*', 'none'], ['*.txt', 'read']) }, '.env.txt', F, 'read'],
    ['*.test.ts beats *.ts', { rules: rules(['*.test.ts', 'view'], ['*.ts', 'write']) }, 'a/b.test.ts', F, 'view'],

    // 4. Equally specific: the later rule wins (like gitignore).
    ['tie: the later rule', { rules: rules(['*.md', 'read'], ['*.md', 'write']) }, 'a.md', F, 'write'],
    ['tie, reversed', { rules: rules(['*.md', 'write'], ['*.md', 'read']) }, 'a.md', F, 'read'],
    ['tie between different patterns', { rules: rules(['a*', 'none'], ['*a', 'write']) }, 'aa', F, 'write'],
    ['tie between different patterns, reversed', { rules: rules(['*a', 'write'], ['a*', 'none']) }, 'aa', F, 'none'],
    ['src/** and src/ tie', { rules: rules(['src/**', 'none'], ['/src/', 'write']) }, 'src/a', F, 'write'],
    ['rules that do not match do not take part', { rules: rules(['*.md', 'write'], ['*.txt', 'none']) }, 'a.md', F, 'write'],
    ['view level', { default: 'none', rules: rules(['metadata/', 'view']) }, 'metadata/big.bin', F, 'view'],
  ];

  it.each(table)('%s', (_name, input, path, isDir, level) => {
    expect(compilePolicy(input).levelOf(path, isDir)).toBe(level);
  });

  it('the root takes the default', () => {
    expect(compilePolicy({ default: 'view', rules: rules(['**', 'write']) }).levelOf('', true)).toBe('view');
  });
});

describe('explain', () => {
  it('names the deciding rule and where it came from', () => {
    const policy = compilePolicy({ rules: rules(['docs/', 'write'], ['*.pem', 'read']) }, 'agent-safe');
    const pem = policy.explain('a/b.pem', false);
    expect(pem.level).toBe('read');
    expect(pem.rule).toMatchObject({ source: 'user', index: 1, level: 'read' });
    expect(pem.rule?.glob.source).toBe('*.pem');
    expect(policy.explain('.env', false).rule).toMatchObject({ source: 'preset', index: 2 });
    expect(policy.explain('src/a.ts', false)).toEqual({ level: 'read', rule: undefined });
  });
});

describe('policy id', () => {
  const idOf = (input: PolicyInput | undefined, preset?: string): string => compilePolicy(input, preset).id;

  it('is a sha256 hex digest', () => {
    expect(idOf(undefined)).toMatch(/^[0-9a-f]{64}$/);
  });

  // Policies that are equal however they are spelled share an id (and so a view).
  const same: [string, PolicyInput | undefined, PolicyInput | undefined, string?][] = [
    ['key order', { default: 'none', rules: [{ pattern: 'a/', level: 'read' }] }, { rules: [{ level: 'read', pattern: 'a/' }], default: 'none' }],
    ['omitted vs explicit defaults', undefined, { default: 'read', rules: [] }],
    ['empty object', {}, undefined],
    ['implicit vs explicit any-depth', { rules: rules(['.env*', 'none']) }, { rules: rules(['**/.env*', 'none']) }],
    ['leading slash on an already anchored pattern', { rules: rules(['/a/b', 'none']) }, { rules: rules(['a/b', 'none']) }],
    ['repeated **', { rules: rules(['a/**/**/b', 'none']) }, { rules: rules(['a/**/b', 'none']) }],
    ['a preset and its rules written out', { preset: 'agent-safe' }, { default: 'read', rules: [...getPreset('agent-safe')!.rules] }],
    ['the preset argument and key', { preset: 'agent-safe' }, undefined, 'agent-safe'],
    ['the read-only preset and no policy', { preset: 'read-only' }, undefined],
  ];
  it.each(same)('equal across %s', (_name, a, b, presetForB) => {
    expect(idOf(a)).toBe(idOf(b, presetForB));
  });

  const base: PolicyInput = { default: 'read', rules: rules(['docs/', 'write'], ['*.pem', 'none']) };
  const different: [string, PolicyInput][] = [
    ['a level', { default: 'read', rules: rules(['docs/', 'read'], ['*.pem', 'none']) }],
    ['a pattern', { default: 'read', rules: rules(['doc/', 'write'], ['*.pem', 'none']) }],
    ['anchoring', { default: 'read', rules: rules(['/docs/', 'write'], ['*.pem', 'none']) }],
    ['directory-only', { default: 'read', rules: rules(['docs', 'write'], ['*.pem', 'none']) }],
    ['the order (it breaks ties)', { default: 'read', rules: rules(['*.pem', 'none'], ['docs/', 'write']) }],
    ['the default', { default: 'view', rules: rules(['docs/', 'write'], ['*.pem', 'none']) }],
    ['an extra rule', { default: 'read', rules: rules(['docs/', 'write'], ['*.pem', 'none'], ['x', 'none']) }],
    ['an escaped wildcard', { default: 'read', rules: rules(['docs/', 'write'], ['\\*.pem', 'none']) }],
  ];
  it.each(different)('differs when %s changes', (_name, changed) => {
    expect(idOf(changed)).not.toBe(idOf(base));
  });

  it('the preset argument and the preset key agree', () => {
    expect(idOf({ rules: rules(['x/', 'write']) }, 'agent-safe')).toBe(idOf({ preset: 'agent-safe', rules: rules(['x/', 'write']) }));
  });

  it('a user rule after the preset differs from the preset alone', () => {
    expect(idOf({ preset: 'agent-safe', rules: rules(['x/', 'write']) })).not.toBe(idOf({ preset: 'agent-safe' }));
  });
});

describe('compiled policy', () => {
  it('is frozen', () => {
    const policy = compilePolicy({ rules: rules(['a', 'none']) });
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.normalized)).toBe(true);
    expect(Object.isFrozen(policy.normalized.rules)).toBe(true);
    expect(Object.isFrozen(policy.normalized.rules[0])).toBe(true);
  });

  it('decides 1000 rules × 10k paths quickly enough for a view build', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ pattern: `dir${i}/**/*.tmp`, level: 'none' as const }));
    const policy = compilePolicy({ rules: many });
    let hidden = 0;
    for (let i = 0; i < 10_000; i++) if (policy.levelOf(`dir${i % 2000}/sub/file${i}.tmp`, false) === 'none') hidden++;
    expect(hidden).toBe(5000);
  });
});

describe('levelOf agrees with the precedence rules applied by brute force', () => {
  // Deterministic PRNG (mulberry32) so failures reproduce.
  let seed = 7;
  const random = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

  const PATTERNS = ['a', 'b', 'a/', '/a', '/a/', 'a/b', '/a/b/', 'a/*', '*', '*b', 'a*', '**/b', 'a/**', 'a/**/b', 'b/a/', '?', '[ab]/b', 'a/b/a'];
  const NAMES = ['a', 'b', 'ab'];
  const LEVELS: Level[] = ['none', 'view', 'read', 'write'];
  /** Lexicographic comparison of specificity keys [exact, literal segments, literal chars, position]. */
  const greater = (x: readonly number[], y: readonly number[]): boolean => {
    const n = x.findIndex((v, k) => v !== y[k]);
    return n >= 0 && x[n]! > y[n]!;
  };

  it('on 500 random policies × 10 paths', () => {
    const disagreements: unknown[] = [];
    for (let i = 0; i < 500; i++) {
      const input = { default: pick(LEVELS), rules: Array.from({ length: 1 + Math.floor(random() * 8) }, () => ({ pattern: pick(PATTERNS), level: pick(LEVELS) })) };
      const policy = compilePolicy(input);
      for (let j = 0; j < 10; j++) {
        const path = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(NAMES)).join('/');
        const isDir = random() < 0.5;
        let best: { key: number[]; level: Level; rule: (typeof policy.normalized.rules)[number] } | undefined;
        policy.normalized.rules.forEach((r, index) => {
          if (!r.glob.covers(path, isDir)) return;
          const exact = r.glob.literal === path && (isDir || !r.glob.dirOnly) ? 1 : 0;
          const key = [exact, r.glob.literalSegments, r.glob.literalChars, index];
          if (best === undefined || greater(key, best.key)) best = { key, level: r.level, rule: r };
        });
        // Hiding guard: depths of the nodes each rule names, checked node by node.
        const parts = path.split('/');
        const named = (r: (typeof policy.normalized.rules)[number]): number[] =>
          parts.map((_, k) => k + 1).filter((d) => r.glob.matches(parts.slice(0, d).join('/'), d < parts.length || isDir));
        let want = best?.level ?? input.default;
        if (best && best.level !== 'none') {
          const grant = Math.max(0, ...named(best.rule));
          const hidden = policy.normalized.rules.some((r) => r.level === 'none' && r.glob.covers(path, isDir) && grant < Math.min(...named(r)));
          if (hidden) want = 'none';
        }
        const got = policy.levelOf(path, isDir);
        if (got !== want) disagreements.push({ input, path, isDir, got, want });
      }
    }
    expect(disagreements).toEqual([]);
  });
});
