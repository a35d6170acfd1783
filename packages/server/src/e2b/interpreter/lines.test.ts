import { describe, expect, it } from 'vitest';
import { errorLine, normaliseLanguage, outputLine, resultLine } from './lines.js';

describe('code interpreter lines', () => {
  it('puts representations and extra MIME types at the top level, unquoting string text as E2B does', () => {
    expect(resultLine({ isMainResult: true, text: "'done'", json: { a: 1 }, extra: { 'application/vnd.x+json': { b: 2 }, text: 'shadowed' } })).toEqual({
      type: 'result',
      is_main_result: true,
      text: 'done',
      json: { a: 1 },
      'application/vnd.x+json': { b: 2 },
    });
    expect(resultLine({ isMainResult: false, png: 'iVBOR' })).toEqual({ type: 'result', is_main_result: false, png: 'iVBOR' });
    expect(resultLine({ isMainResult: true, text: "'" })).toMatchObject({ text: "'" });
  });

  it('writes output and errors in the server’s shape', () => {
    expect(outputLine('stdout', 'hi\n', new Date(0))).toEqual({ type: 'stdout', text: 'hi\n', timestamp: '1970-01-01T00:00:00.000Z' });
    expect(errorLine({ name: 'KeyError', value: "'x'", traceback: 'tb' })).toEqual({ type: 'error', name: 'KeyError', value: "'x'", traceback: 'tb' });
  });

  it.each([
    [undefined, 'python'],
    ['Python', 'python'],
    ['js', 'javascript'],
    [' JavaScript ', 'javascript'],
    ['r', undefined],
    ['typescript', undefined],
    ['bash', undefined],
  ] as const)('normalises language %j to %j', (given, want) => {
    expect(normaliseLanguage(given)).toBe(want);
  });
});
