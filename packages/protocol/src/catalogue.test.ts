// Tests run in Node; only shipped protocol code must stay free of Node built-ins.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_CODES, type ErrorCode } from './catalogue.js';
import { WardenError, hasCode, isWardenError } from './errors.js';

const DOC = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** `## E_CODE` sections of docs/errors.md, by code. */
const sections = new Map(
  DOC.split(/^## /m)
    .slice(1)
    .map((s) => [s.slice(0, s.indexOf('\n')).trim(), s] as const),
);

const entries = Object.entries(ERROR_CATALOGUE) as Array<[ErrorCode, (typeof ERROR_CATALOGUE)[ErrorCode]]>;

describe('ERROR_CATALOGUE', () => {
  it('lists codes shaped E_SOMETHING, each with an HTTP error status and a description', () => {
    for (const [code, entry] of entries) {
      expect(code).toMatch(/^E_[A-Z][A-Z_]*[A-Z]$/);
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
      expect(entry.description, code).toMatch(/^[A-Z].{20,}\.$/);
    }
  });

  it('ERROR_CODES is exactly the catalogue’s codes, frozen', () => {
    expect([...ERROR_CODES]).toEqual(Object.keys(ERROR_CATALOGUE));
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
  });
});

describe('docs/errors.md', () => {
  it.each(entries)('documents %s with its HTTP status, exposure, meaning and what to do', (code, entry) => {
    const section = sections.get(code);
    expect(section, `docs/errors.md has no "## ${code}" section`).toBeDefined();
    expect(section).toContain(`**HTTP ${entry.status}**`);
    expect(section).toContain(entry.expose ? '· exposed:' : '· not exposed:');
    expect(section).toMatch(/\*\*What it means:\*\* \S/);
    expect(section).toMatch(/\*\*What to do:\*\* \S/);
  });

  it('documents no code the catalogue does not have', () => {
    expect([...sections.keys()].filter((c) => !(c in ERROR_CATALOGUE))).toEqual([]);
  });
});

describe('WardenError', () => {
  it('carries code, message, details, cause and the catalogue status', () => {
    const cause = new Error('EACCES');
    const err = new WardenError('E_SANDBOX_NOT_FOUND', 'No sandbox sbx_1.', { details: { id: 'sbx_1' }, cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'WardenError', code: 'E_SANDBOX_NOT_FOUND', message: 'No sandbox sbx_1.', details: { id: 'sbx_1' }, status: 404 });
    expect(err.cause).toBe(cause);
    expect(new WardenError('E_CAPACITY', 'full').details).toEqual({});
  });

  it('toJSON sends code, message and details of exposed codes, and never a stack or cause', () => {
    const err = new WardenError('E_INVALID_SPEC', 'Invalid sandbox spec: …', { details: { problems: ['x'] }, cause: new Error('secret') });
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: 'E_INVALID_SPEC', message: 'Invalid sandbox spec: …', details: { problems: ['x'] } });
  });

  it.each(entries.filter(([, e]) => !e.expose))('toJSON hides the message and details of %s behind its description', (code, entry) => {
    const err = new WardenError(code, 'Could not remove cgroup /sys/fs/cgroup/memory/warden/x: EBUSY', { details: { path: '/host/secret' }, cause: new Error('x') });
    const wire = JSON.parse(JSON.stringify(err)) as Record<string, unknown>;
    expect(wire).toEqual({ code, message: entry.description, details: {} });
    expect(JSON.stringify(wire)).not.toContain('/sys/fs/cgroup');
    expect(JSON.stringify(wire)).not.toContain('/host/secret');
  });

  it('has at least one code that is not exposed (E_INTERNAL)', () => {
    expect(ERROR_CATALOGUE.E_INTERNAL.expose).toBe(false);
  });
});

describe('isWardenError / hasCode', () => {
  it('recognises a WardenError', () => {
    const err = new WardenError('E_CAPACITY', 'full');
    expect(isWardenError(err)).toBe(true);
    expect(hasCode(err, 'E_CAPACITY')).toBe(true);
    expect(hasCode(err, 'E_INTERNAL')).toBe(false);
  });

  it('recognises a plain object carrying the brand, as a copy from another package would be', () => {
    const foreign = { [Symbol.for('warden.error')]: true, code: 'E_SANDBOX_CLOSED', message: 'gone', details: {} };
    expect(isWardenError(foreign)).toBe(true);
    expect(hasCode(foreign, 'E_SANDBOX_CLOSED')).toBe(true);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a code string', 'E_INTERNAL'],
    ['a plain Error', new Error('x')],
    ['an object that only looks like one', { name: 'WardenError', code: 'E_INTERNAL', message: 'x' }],
    ['a brand that is not exactly true', { [Symbol.for('warden.error')]: 'true', code: 'E_INTERNAL' }],
    ['a look-alike symbol', { [Symbol('warden.error')]: true, code: 'E_INTERNAL' }],
  ])('rejects %s', (_what, value) => {
    expect(isWardenError(value)).toBe(false);
    expect(hasCode(value, 'E_INTERNAL')).toBe(false);
  });
});
