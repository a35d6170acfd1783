/** The option checks sessions and code contexts share: one refusal per bad option, naming it. */
import { describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { checkKeys, checkRunOptions, intIn } from './check.js';

/** The message of the E_INVALID_ARGUMENT that `fn` throws. */
const refusal = (fn: () => unknown): string => {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(hasCode(caught, 'E_INVALID_ARGUMENT')).toBe(true);
  return (caught as Error).message;
};

describe('checkKeys', () => {
  it('passes a plain object with known keys through', () => {
    const o = { a: 1 };
    expect(checkKeys('x options', o, ['a', 'b'])).toBe(o);
  });

  it.each([
    [null, 'x options must be an object such as { a: … }, got null.'],
    [[1], 'x options must be an object such as { a: … }, got [1].'],
    ['s', 'x options must be an object such as { a: … }, got "s".'],
    [{ c: 1 }, 'x options has unknown option "c"; known options are a, b.'],
    [{ c: 1, d: 2 }, 'x options has unknown options "c", "d"; known options are a, b.'],
  ])('refuses %j', (opts, message) => {
    expect(refusal(() => checkKeys('x options', opts, ['a', 'b']))).toBe(message);
  });
});

describe('intIn', () => {
  it.each([undefined, 1, 10])('accepts %j', (v) => expect(() => intIn('n', v, 1, 10)).not.toThrow());
  it.each([0, 11, 1.5, '3', null])('refuses %j', (v) => expect(refusal(() => intIn('n', v, 1, 10))).toMatch(/^n must be an integer from 1 to 10, got /));
});

describe('checkRunOptions', () => {
  it('accepts what a queued run may carry', () => {
    expect(() => checkRunOptions({ timeoutMs: 1, maxOutputBytes: 1_073_741_824, signal: new AbortController().signal, actor: 'key:a' })).not.toThrow();
  });

  it.each([
    [{ timeoutMs: 0 }, /^timeoutMs must be an integer from 1 to 86400000/],
    [{ maxOutputBytes: 1_073_741_825 }, /^maxOutputBytes must be an integer from 1 to 1073741824/],
    [{ signal: {} }, /^signal must be an AbortSignal, got object\.$/],
    // The order is part of the contract: the first bad option is the one named.
    [{ timeoutMs: 0, signal: {} }, /^timeoutMs /],
  ])('refuses %j', (opts, message) => {
    expect(refusal(() => checkRunOptions(opts))).toMatch(message);
  });
});
