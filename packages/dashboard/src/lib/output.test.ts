import { describe, expect, it } from 'vitest';
import { appendOutput, EMPTY_OUTPUT, textOf } from './output.js';

describe('terminal output', () => {
  it('merges runs of the same stream and keeps stdout and stderr apart', () => {
    let o = appendOutput(EMPTY_OUTPUT, 'stdout', 'a');
    o = appendOutput(o, 'stdout', 'b');
    o = appendOutput(o, 'stderr', 'E');
    o = appendOutput(o, 'stdout', 'c');
    o = appendOutput(o, 'stdout', '');
    expect(o.chunks).toEqual([
      { stream: 'stdout', text: 'ab' },
      { stream: 'stderr', text: 'E' },
      { stream: 'stdout', text: 'c' },
    ]);
    expect(textOf(o)).toBe('abEc');
    expect(textOf(o, 'stdout')).toBe('abc');
  });

  it('drops the oldest text beyond the cap, and counts what it dropped', () => {
    let o = appendOutput(EMPTY_OUTPUT, 'stdout', '0123456789', 8);
    expect(textOf(o)).toBe('23456789');
    expect(o.dropped).toBe(2);
    o = appendOutput(o, 'stderr', 'abcdef', 8);
    expect(textOf(o)).toBe('89abcdef');
    expect(o.chunks).toEqual([
      { stream: 'stdout', text: '89' },
      { stream: 'stderr', text: 'abcdef' },
    ]);
    expect(o.dropped).toBe(8);
    o = appendOutput(o, 'stdout', 'XYZ', 8);
    expect(textOf(o)).toBe('bcdefXYZ');
    expect(o.dropped).toBe(11);
  });

  it('leaves the input untouched (React state)', () => {
    const a = appendOutput(EMPTY_OUTPUT, 'stdout', 'x');
    appendOutput(a, 'stdout', 'y');
    expect(textOf(a)).toBe('x');
  });
});
