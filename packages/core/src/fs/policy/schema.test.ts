import { isWardenError } from '@warden/protocol';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from './compile.js';
import { MAX_RULES, normalizePolicy } from './schema.js';

function rejection(fn: () => unknown): { code: unknown; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    if (!isWardenError(err)) throw err;
    return { code: err.code, message: err.message, details: { ...err.details } };
  }
  throw new Error('expected a rejection');
}

const rule = (pattern: string, level = 'read'): { pattern: string; level: string } => ({ pattern, level });
const ok = rule('docs/');

describe('policy validation', () => {
  // [case, input, preset argument, field, exact message]
  const table: [string, unknown, string | undefined, string, string][] = [
    ['not an object', 'agent-safe', undefined, 'policy', 'policy must be an object like { "default": "read", "rules": [...] }, got "agent-safe".'],
    ['null', null, undefined, 'policy', 'policy must be an object like { "default": "read", "rules": [...] }, got null.'],
    ['an unknown key', { rulez: [] }, undefined, 'rulez', 'policy has an unknown key "rulez"; the known keys are preset, default, rules. Remove it or fix its spelling.'],
    ['an unknown default', { default: 'rw' }, undefined, 'default', 'default must be one of none, view, read, write, got "rw".'],
    ['rules not an array', { rules: { pattern: 'a' } }, undefined, 'rules', 'rules must be an array of { "pattern", "level" } objects, got an object.'],
    ['a rule that is a string', { rules: [ok, 'docs/'] }, undefined, 'rules[1]', 'rules[1] must be an object like { "pattern": "docs/", "level": "write" }, got "docs/".'],
    ['a rule with an unknown key', { rules: [{ pattern: 'a', level: 'read', mode: 'x' }] }, undefined, 'rules[0].mode', 'rules[0] has an unknown key "mode"; the known keys are pattern, level. Remove it or fix its spelling.'],
    ['a missing pattern', { rules: [{ level: 'read' }] }, undefined, 'rules[0].pattern', 'rules[0].pattern must be a string glob such as "docs/" or "*.pem", got nothing.'],
    ['a numeric pattern', { rules: [rule('a'), { pattern: 7, level: 'read' }] }, undefined, 'rules[1].pattern', 'rules[1].pattern must be a string glob such as "docs/" or "*.pem", got 7 (number).'],
    ['an unknown level', { rules: [rule('a', 'rw')] }, undefined, 'rules[0].level', 'rules[0].level must be one of none, view, read, write, got "rw".'],
    ['a missing level', { rules: [{ pattern: 'a' }] }, undefined, 'rules[0].level', 'rules[0].level must be one of none, view, read, write, got nothing.'],
    ['an unclosed "["', { rules: [ok, ok, rule('src/[a')] }, undefined, 'rules[2].pattern', 'rules[2].pattern "src/[a" has an unclosed "[" at character 5; close the character class with "]", or escape the bracket as "\\[".'],
    ['an empty pattern', { rules: [rule('')] }, undefined, 'rules[0].pattern', 'rules[0].pattern "" is empty; use "**" to match every path, or remove the rule.'],
    ['a ".." segment', { rules: [ok, rule('a/../b')] }, undefined, 'rules[1].pattern', 'rules[1].pattern "a/../b" has a ".." segment; patterns are relative to the codebase root and cannot leave it; remove the "..".'],
    ['a leading ".."', { rules: [rule('../etc/passwd')] }, undefined, 'rules[0].pattern', 'rules[0].pattern "../etc/passwd" has a ".." segment; patterns are relative to the codebase root and cannot leave it; remove the "..".'],
    ['NUL', { rules: [rule('a\0b')] }, undefined, 'rules[0].pattern', 'rules[0].pattern "a\\u0000b" contains a NUL character; remove it; paths cannot contain NUL.'],
    ['only the root', { rules: [rule('/')] }, undefined, 'rules[0].pattern', 'rules[0].pattern "/" names only the codebase root; set the policy default instead, or use "**" to match every path.'],
    ['a reversed range', { rules: [rule('[z-a].txt')] }, undefined, 'rules[0].pattern', 'rules[0].pattern "[z-a].txt" has a reversed range "z-a"; write it low to high, "a-z".'],
    ['too many rules', { rules: Array.from({ length: MAX_RULES + 1 }, () => ok) }, undefined, 'rules', 'rules has 1001 entries; the limit is 1000. Merge rules with wildcards, e.g. "logs/**" instead of one rule per file.'],
    ['too many with a preset', { rules: Array.from({ length: 995 }, () => ok) }, 'agent-safe', 'rules', 'rules has 995 entries (9 from preset "agent-safe"); the limit is 1000. Merge rules with wildcards, e.g. "logs/**" instead of one rule per file.'],
    ['an unknown preset', { preset: 'agnet-safe' }, undefined, 'preset', 'preset "agnet-safe" is unknown; the known presets are agent-safe, read-only, full-write. Pick one of them or list your own rules.'],
    ['an unknown preset argument', undefined, 'strict', 'preset', 'preset "strict" is unknown; the known presets are agent-safe, read-only, full-write. Pick one of them or list your own rules.'],
    ['a preset that is not a string', { preset: ['agent-safe'] }, undefined, 'preset', 'preset must be a preset name such as "agent-safe", got an array of 1.'],
    ['two different presets', { preset: 'read-only' }, 'agent-safe', 'preset', 'preset is given twice with different values, "read-only" in the policy and "agent-safe" separately. Give it once.'],
  ];

  it.each(table)('rejects %s', (_name, input, preset, field, message) => {
    const err = rejection(() => compilePolicy(input as never, preset));
    expect(err.code).toBe('E_INVALID_SPEC');
    expect(err.message).toBe(message);
    expect(err.details['field']).toBe(field);
  });

  it('reports what was received in JSON-safe details', () => {
    const err = rejection(() => compilePolicy({ rules: [{ pattern: 'src/[a', level: 'read' }] }));
    expect(err.details).toEqual({ field: 'rules[0].pattern', received: 'src/[a' });
    expect(JSON.parse(JSON.stringify(err.details))).toEqual(err.details);
  });
});

describe('policy normalisation', () => {
  it('accepts a leading "/" as anchored at the root', () => {
    const policy = compilePolicy({ rules: [{ pattern: '/x', level: 'none' }] });
    expect(policy.levelOf('x', false)).toBe('none');
    expect(policy.levelOf('a/x', false)).toBe('read');
  });

  it(`accepts exactly ${MAX_RULES} rules`, () => {
    expect(normalizePolicy({ rules: Array.from({ length: MAX_RULES }, () => ok) }).rules).toHaveLength(MAX_RULES);
  });

  it('fills in defaults', () => {
    expect(normalizePolicy(undefined)).toMatchObject({ preset: undefined, default: 'read', rules: [] });
    expect(normalizePolicy({ preset: 'full-write' })).toMatchObject({ preset: 'full-write', default: 'write', rules: [] });
    expect(normalizePolicy({ default: undefined, rules: undefined })).toMatchObject({ default: 'read', rules: [] });
  });

  it('puts preset rules first and records where each rule came from', () => {
    const normalized = normalizePolicy({ preset: 'agent-safe', rules: [{ pattern: 'docs/', level: 'write' }] });
    expect(normalized.rules.map((r) => [r.source, r.index, r.glob.source])).toEqual([
      ['preset', 0, '/output/'],
      ['preset', 1, '/tmp/'],
      ['preset', 2, '.env*'],
      ['preset', 3, '*.key'],
      ['preset', 4, '*.pem'],
      ['preset', 5, 'id_*'],
      ['preset', 6, '**/.git/config'],
      ['preset', 7, 'secrets/'],
      ['preset', 8, '.ssh/'],
      ['user', 0, 'docs/'],
    ]);
  });
});
