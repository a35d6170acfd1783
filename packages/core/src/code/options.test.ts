/** Options of code contexts and cells: checked once, defaulted, frozen; every refusal names the option. */
import { describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { CellOutput } from './cell.js';
import { MAX_CODE_BYTES, checkCell, checkContextOptions, checkTarget } from './options.js';

const DEFAULTS = { timeoutMs: 60_000, maxOutputBytes: 1000 };

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(hasCode(err, 'E_INVALID_ARGUMENT')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected E_INVALID_ARGUMENT');
}

describe('checkContextOptions', () => {
  it('defaults to python in the sandbox default cwd, and freezes', () => {
    const spec = checkContextOptions({});
    expect(spec).toEqual({ language: 'python', cwd: undefined, env: undefined });
    expect(Object.isFrozen(spec)).toBe(true);
    const env = { A: '1' };
    const js = checkContextOptions({ language: 'javascript', cwd: '/tmp', env });
    env.A = '2';
    expect(js).toEqual({ language: 'javascript', cwd: '/tmp', env: { A: '1' } });
  });

  it.each([
    [{ language: 'ruby' }, /language must be "python" or "javascript", got "ruby"/],
    [{ cwd: 'tmp' }, /cwd must be an absolute path/],
    [{ cwd: '/tmp\0x' }, /cwd must be an absolute path/],
    [{ env: { '1A': 'x' } }, /env\.1A is invalid/],
    [{ env: { A: 1 } }, /env\.A is invalid/],
    [{ env: 'A=1' }, /env must be an object/],
    [{ lang: 'python' }, /unknown option "lang"; known options are language, cwd, env/],
    [null, /must be an object/],
  ])('refuses %j', (opts, message) => {
    expect(refusal(() => checkContextOptions(opts))).toMatch(message);
  });
});

describe('checkCell', () => {
  it('fills the sandbox defaults', () => {
    expect(checkCell('1 + 1', {}, DEFAULTS)).toMatchObject({ code: '1 + 1', timeoutMs: 60_000, maxOutputBytes: 1000 });
    expect(checkCell('', { timeoutMs: 5, maxOutputBytes: 7 }, DEFAULTS)).toMatchObject({ timeoutMs: 5, maxOutputBytes: 7 });
  });

  it.each([
    ['code that is not a string', 42, {}, /code must be a string/],
    ['code over 4 MiB', 'x'.repeat(MAX_CODE_BYTES + 1), {}, /at most 4194304/],
    ['a fractional timeout', '1', { timeoutMs: 1.5 }, /timeoutMs must be an integer from 1 to 86400000, got 1.5/],
    ['a zero cap', '1', { maxOutputBytes: 0 }, /maxOutputBytes must be an integer/],
    ['a callback that is not a function', '1', { onStdout: 'print' }, /onStdout must be a function/],
    ['a signal that is not an AbortSignal', '1', { signal: {} }, /signal must be an AbortSignal/],
    ['a bad approval id', '1', { approvalId: 'x' }, /approvalId must be/],
    ['an unknown option', '1', { timeout: 5 }, /unknown option "timeout"/],
  ])('refuses %s', (_what, code, opts, message) => {
    expect(refusal(() => checkCell(code, opts, DEFAULTS))).toMatch(message);
  });
});

describe('checkTarget', () => {
  it('takes a context or its id, and a language', () => {
    expect(checkTarget({})).toEqual({ language: undefined, contextId: undefined });
    expect(checkTarget({ language: 'javascript' })).toEqual({ language: 'javascript', contextId: undefined });
    expect(checkTarget({ context: 'ctx_a' })).toEqual({ language: undefined, contextId: 'ctx_a' });
    expect(checkTarget({ context: { id: 'ctx_b' }, language: 'python' })).toEqual({ language: 'python', contextId: 'ctx_b' });
  });

  it.each([
    [{ context: 5 }, /context must be a code context or its id/],
    [{ context: {} }, /context must be a code context or its id/],
    [{ language: 'Python' }, /language must be "python" or "javascript"/],
  ])('refuses %j', (opts, message) => {
    expect(refusal(() => checkTarget(opts))).toMatch(message);
  });
});

describe('CellOutput', () => {
  it('keeps output up to the cap, cuts the chunk that passes it, drops the rest and says so once', () => {
    const seen: string[] = [];
    let limits = 0;
    const out = new CellOutput({ maxOutputBytes: 10, onStdout: (s) => seen.push(s), onLimit: () => limits++ });
    out.text('stdout', 'abcdef');
    out.text('stdout', 'ghijkl');
    out.text('stderr', 'more');
    out.result({ isMainResult: true, text: 'x' });
    expect(out.stdout).toEqual(['abcdef', 'ghij']);
    expect(seen).toEqual(['abcdef', 'ghij']);
    expect(out.stderr).toEqual([]);
    expect(out.results).toEqual([]);
    expect(out.truncated).toBe(true);
    expect(limits).toBe(1);
  });

  it('drops a result that does not fit whole', () => {
    const out = new CellOutput({ maxOutputBytes: 10 });
    out.result({ isMainResult: false, png: 'x'.repeat(11) });
    expect(out.results).toEqual([]);
    expect(out.truncated).toBe(true);
  });

  it('ignores what a callback throws and keeps collecting', () => {
    const out = new CellOutput({
      maxOutputBytes: 100,
      onStdout: () => {
        throw new Error('callback bug');
      },
    });
    out.text('stdout', 'a');
    out.text('stdout', 'b');
    expect(out.stdout).toEqual(['a', 'b']);
  });
});
