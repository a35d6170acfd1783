import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { isWardenError } from './errors.js';
import type { SandboxSpecInput } from './spec.js';
import { parseSandboxSpec, parseWith } from './validate.js';

function invalid(input: unknown): { message: string; problems: string[] } {
  let caught: unknown;
  try {
    parseSandboxSpec(input as SandboxSpecInput);
  } catch (err) {
    caught = err;
  }
  expect(isWardenError(caught), `expected a WardenError, got ${String(caught)}`).toBe(true);
  expect(caught).toMatchObject({ code: 'E_INVALID_SPEC', name: 'WardenError' });
  const err = caught as Error & { details: { problems?: string[] } };
  return { message: err.message, problems: err.details.problems ?? [] };
}

const DEFAULT_LIMITS = {
  memoryMb: 512,
  swapMb: 0,
  pids: 256,
  cpus: 1,
  nofile: 1024,
  fileSizeMb: 1024,
  tmpMb: 64,
  tmpInodes: 16_384,
  timeoutMs: 60_000,
  maxOutputBytes: 16_777_216,
  ttlMs: 3_600_000,
  diskMb: 256,
  diskInodes: 65_536,
};

describe('parseSandboxSpec: where /workspace comes from', () => {
  it.each([
    ['workspace and codebase', { workspace: { hostPath: '/srv/x' }, codebase: { name: 'app' } }, /workspace and codebase cannot be combined/],
    ['codebase and snapshot', { codebase: { name: 'app' }, snapshot: 'snap_abcdefghijkl' }, /codebase and snapshot cannot be combined/],
    ['a policy without a codebase', { preset: 'agent-safe' }, /policy and preset apply to a codebase/],
    ['a policy with a snapshot', { snapshot: 'snap_abcdefghijkl', preset: 'agent-safe' }, /a snapshot keeps the policy it was taken with/],
    ['a malformed snapshot id', { snapshot: 'snap-1' }, /snapshot must be a snapshot id like snap_abcdefghijkl/],
    ['an unknown level', { codebase: { name: 'app' }, policy: { rules: [{ pattern: 'a/', level: 'rw' }] } }, /policy\.rules\.0\.level must be one of "none", "view", "read", "write"/],
  ])('refuses %s', (_what, input, message) => {
    expect(invalid(input).message).toMatch(message);
  });

  it('accepts a codebase with a preset', () => {
    expect(parseSandboxSpec({ codebase: { name: 'app', version: 2 }, preset: 'agent-safe' })).toMatchObject({ codebase: { name: 'app', version: 2 }, preset: 'agent-safe' });
  });
});

describe('parseSandboxSpec: invalid input', () => {
  // [what, input, field named, expectation, what was received, hint]
  const cases: Array<[string, unknown, string, string | RegExp, string, string | RegExp]> = [
    ['a fractional memoryMb', { limits: { memoryMb: 0.5 } }, 'limits.memoryMb', 'an integer from 16 to 1048576', '0.5 (number)', 'Pass --memory-mb or set limits.memoryMb.'],
    ['a memoryMb below the minimum', { limits: { memoryMb: 8 } }, 'limits.memoryMb', 'an integer from 16 to 1048576', '8 (number)', '--memory-mb'],
    ['a memoryMb above the maximum', { limits: { memoryMb: 2_000_000 } }, 'limits.memoryMb', 'an integer from 16 to 1048576', '2000000 (number)', '--memory-mb'],
    ['memoryMb as a string', { limits: { memoryMb: '512' } }, 'limits.memoryMb', 'an integer', '"512" (string)', '--memory-mb'],
    ['memoryMb NaN', { limits: { memoryMb: Number.NaN } }, 'limits.memoryMb', 'an integer', 'NaN (number)', '--memory-mb'],
    ['zero cpus', { limits: { cpus: 0 } }, 'limits.cpus', 'a number from 0.01 to 1024', '0 (number)', 'Pass --cpus or set limits.cpus.'],
    ['infinite cpus', { limits: { cpus: Number.POSITIVE_INFINITY } }, 'limits.cpus', 'a number from 0.01 to 1024', 'Infinity (number)', '--cpus'],
    ['too few pids', { limits: { pids: 1 } }, 'limits.pids', 'an integer from 8 to 65536', '1 (number)', 'Pass --pids or set limits.pids.'],
    ['a negative swapMb', { limits: { swapMb: -1 } }, 'limits.swapMb', 'an integer from 0', '-1 (number)', 'Set limits.swapMb.'],
    ['a zero timeoutMs', { limits: { timeoutMs: 0 } }, 'limits.timeoutMs', 'an integer from 1', '0 (number)', '--timeout-ms'],
    ['a short ttlMs', { limits: { ttlMs: 10 } }, 'limits.ttlMs', 'an integer from 1000', '10 (number)', 'Set limits.ttlMs.'],
    ['limits as null', { limits: null }, 'limits', 'an object', 'null', /limits/],
    ['limits as a number', { limits: 5 }, 'limits', 'an object', '5 (number)', /limits/],
    ['limits as an array', { limits: [] }, 'limits', 'an object', 'an array of 0', /limits/],
    ['an unknown runtime', { runtime: 'firecracker' }, 'runtime', 'one of "bwrap", "gvisor", "docker"', '"firecracker" (string)', 'Pass --runtime bwrap, gvisor or docker'],
    ['an image with upper-case letters', { image: 'Python:3' }, 'image', 'a local Docker image reference', '"Python:3" (string)', '--image'],
    ['an upper-case hostname', { hostname: 'Bad_Host' }, 'hostname', 'lower-case letters, digits and inner hyphens', '"Bad_Host" (string)', 'Set hostname'],
    ['an empty hostname', { hostname: '' }, 'hostname', 'a hostname of 1 to 63', '"" (string)', 'Set hostname'],
    ['a hostname ending in a hyphen', { hostname: 'box-' }, 'hostname', 'inner hyphens', '"box-" (string)', 'Set hostname'],
    ['a 64-character hostname', { hostname: 'a'.repeat(64) }, 'hostname', '1 to 63', '(string)', 'Set hostname'],
    ['a numeric hostname', { hostname: 5 }, 'hostname', 'a hostname', '5 (number)', 'Set hostname'],
    ['env as a KEY=VALUE string', { env: 'A=1' }, 'env', 'an object of NAME: value strings', '"A=1" (string)', 'Pass --env KEY=VALUE or set env.'],
    ['env as an array', { env: ['A=1'] }, 'env', 'an object of NAME: value strings', 'an array of 1', '--env'],
    ['an env name starting with a digit', { env: { '1BAD': 'x' } }, 'env', 'letters, digits and _ and not starting with a digit', '"1BAD"', '--env'],
    ['an env name with =', { env: { 'A=B': 'x' } }, 'env', 'letters, digits and _', '"A=B"', '--env'],
    ['an env value with NUL', { env: { A: 'x\0y' } }, 'env.A', 'a string without NUL bytes', '"x\\u0000y" (string)', '--env'],
    ['a numeric env value', { env: { A: 1 } }, 'env.A', 'a string without NUL bytes', '1 (number)', '--env'],
    ['a relative workspace', { workspace: { hostPath: 'rel/dir' } }, 'workspace.hostPath', 'an absolute path other than /', '"rel/dir" (string)', 'Pass --workspace /absolute/dir or omit it.'],
    ['/ as the workspace', { workspace: { hostPath: '/' } }, 'workspace.hostPath', 'an absolute path other than /', '"/" (string)', '--workspace'],
    ['a workspace without hostPath', { workspace: {} }, 'workspace.hostPath', 'an absolute path', 'nothing', '--workspace'],
    ['a workspace given as a string', { workspace: '/tmp/ws' }, 'workspace', 'an object', '"/tmp/ws" (string)', '--workspace'],
    ['a metadata value that is not a string', { metadata: { team: 5 } }, 'metadata.team', 'a string', '5 (number)', /metadata/],
    ['a metadata value over 1024 characters', { metadata: { note: 'x'.repeat(1025) } }, 'metadata.note', 'at most 1024 characters', '(string)', /metadata/],
    ['a metadata key over 128 characters', { metadata: { ['k'.repeat(129)]: 'v' } }, 'metadata', 'keys up to 128', '"kkkk', /metadata/],
    ['metadata as a string', { metadata: 'team=a' }, 'metadata', 'an object of string values', '"team=a" (string)', /metadata/],
  ];

  it.each(cases)('rejects %s with E_INVALID_SPEC naming the field, the expectation, the value and a hint', (_what, input, field, expects, got, hint) => {
    const { message, problems } = invalid(input);
    expect(problems).toHaveLength(1);
    expect(message).toBe(`Invalid sandbox spec: ${problems[0]}`);
    expect(message).toMatch(new RegExp(`^Invalid sandbox spec: ${field.replace(/\./g, '\\.')} (must be|has an invalid key)`));
    if (typeof expects === 'string') expect(message).toContain(expects);
    else expect(message).toMatch(expects);
    expect(message).toContain(got);
    // The hint is the last sentence, after the value.
    const afterValue = message.slice(message.indexOf(got) + got.length);
    if (typeof hint === 'string') expect(afterValue).toContain(hint);
    else expect(afterValue).toMatch(hint);
  });

  it.each([
    ['the spec', { runtim: 'bwrap' }, 'runtim', 'runtime, image, limits, workspace, codebase, policy, preset, snapshot, env, network, secrets, hostname, metadata'],
    ['limits', { limits: { memory: 512 } }, 'memory', 'memoryMb, swapMb, pids, cpus, nofile, fileSizeMb, tmpMb, tmpInodes, timeoutMs, maxOutputBytes, ttlMs, diskMb, diskInodes'],
    ['workspace', { workspace: { hostPath: '/srv/ws', readOnly: true } }, 'readOnly', 'hostPath'],
  ])('names an unknown key in %s and lists the known ones', (where, input, key, known) => {
    const { message } = invalid(input);
    expect(message).toBe(`Invalid sandbox spec: ${where} has an unknown option "${key}"; known options are ${known}.`);
  });

  it.each([
    ['a string', 'abc', '"abc" (string)'],
    ['a number', 5, '5 (number)'],
    ['null', null, 'null'],
    ['an array', [], 'an array of 0'],
  ])('rejects %s in place of the spec', (_what, input, got) => {
    const { message } = invalid(input);
    expect(message).toBe(`Invalid sandbox spec: expected an object, got ${got}. Pass {} for all defaults.`);
  });

  it('lists every problem, one per field, and counts them', () => {
    const { message, problems } = invalid({ limits: { memoryMb: 1, pids: 1 }, hostname: 'X', extra: true });
    expect(problems).toHaveLength(4);
    expect(message).toMatch(/^Invalid sandbox spec \(4 problems\): /);
    for (const field of ['limits.memoryMb', 'limits.pids', 'hostname', '"extra"']) expect(message).toContain(field);
  });

  it('reports sibling fields even when one name is a prefix of the other', () => {
    const { problems } = invalid({ env: { A: 'x\0', AB: 'y\0' }, metadata: { a: 1, ab: 2 } });
    expect(problems.map((p) => p.split(' ')[0])).toEqual(['env.A', 'env.AB', 'metadata.a', 'metadata.ab']);
  });

  it('reports a nested object’s problem once, not once per missing child', () => {
    expect(invalid({ limits: 'big' }).problems).toHaveLength(1);
  });

  it('shortens long received strings', () => {
    const { message } = invalid({ hostname: 'x'.repeat(500) });
    expect(message).toContain(`"${'x'.repeat(60)}…" (string)`);
    expect(message.length).toBeLessThan(300);
  });

  it('rejects values that are not plain data (functions, symbols) with E_INVALID_SPEC', () => {
    invalid({ metadata: { a: () => 1 } });
    invalid({ env: { A: Symbol('x') } });
  });
});

describe('parseSandboxSpec: defaults and result', () => {
  it.each([
    ['undefined', undefined],
    ['{}', {}],
  ])('fills every default for %s', (_what, input) => {
    expect(parseSandboxSpec(input)).toEqual({ runtime: 'bwrap', limits: DEFAULT_LIMITS, env: {}, network: { mode: 'none', allow: [], inject: [] }, secrets: [], hostname: 'sandbox', metadata: {} });
  });

  it('keeps given values and fills the rest', () => {
    const spec = parseSandboxSpec({ limits: { memoryMb: 1024, cpus: 0.5 }, env: { A: '1' }, workspace: { hostPath: '/srv/ws' }, metadata: { team: 'a' } });
    expect(spec.limits).toEqual({ ...DEFAULT_LIMITS, memoryMb: 1024, cpus: 0.5 });
    expect(spec.env).toEqual({ A: '1' });
    expect(spec.workspace).toEqual({ hostPath: '/srv/ws' });
    expect(spec.metadata).toEqual({ team: 'a' });
  });

  it('accepts the edges of every range', () => {
    expect(parseSandboxSpec({ limits: { memoryMb: 16, pids: 8, cpus: 0.01, swapMb: 0 }, hostname: 'a', env: { _x9: '' } }).limits.memoryMb).toBe(16);
    expect(parseSandboxSpec({ limits: { memoryMb: 1_048_576, pids: 65_536, cpus: 1024 }, hostname: `a${'-'.repeat(61)}b` }).limits.cpus).toBe(1024);
  });

  it('returns a deeply frozen value', () => {
    const spec = parseSandboxSpec({ env: { A: '1' }, workspace: { hostPath: '/srv/ws' } });
    for (const v of [spec, spec.limits, spec.env, spec.metadata, spec.workspace]) expect(Object.isFrozen(v)).toBe(true);
    expect(() => {
      (spec.limits as { memoryMb: number }).memoryMb = 1;
    }).toThrow(TypeError);
  });

  it('neither mutates nor freezes the caller’s object', () => {
    const input = { limits: { memoryMb: 1024 }, env: { A: '1' } };
    parseSandboxSpec(input);
    expect(input).toEqual({ limits: { memoryMb: 1024 }, env: { A: '1' } });
    expect(Object.isFrozen(input) || Object.isFrozen(input.limits)).toBe(false);
  });
});

describe('parseWith', () => {
  const Config = Type.Object({ port: Type.Integer({ minimum: 1, maximum: 65_535, default: 8080, hint: 'Pass --port.' }) }, { additionalProperties: false });

  it('validates any schema and names what was being validated', () => {
    expect(parseWith(Config, {}, 'server config')).toEqual({ port: 8080 });
    expect(() => parseWith(Config, { port: 0 }, 'server config')).toThrow('Invalid server config: port must be an integer from 1 to 65535, got 0 (number). Pass --port.');
  });
});
