import { describe, expect, it } from 'vitest';
import { strictOpenApi30 } from './openapi.js';

describe('strictOpenApi30', () => {
  it('renames Warden keywords to x- extensions, but not properties that happen to share their names', () => {
    const doc = { components: { schemas: { A: { type: 'object', hint: 'Pass a.', properties: { hint: { type: 'string', expects: 'text' } } } } } };
    expect(strictOpenApi30(doc)).toEqual({
      components: { schemas: { A: { type: 'object', 'x-hint': 'Pass a.', properties: { hint: { type: 'string', 'x-expects': 'text' } } } } },
    });
  });

  it('drops an object default its own schema rejects, keeps valid ones, and leaves the input alone', () => {
    const bad = { type: 'object', required: ['memoryMb'], default: {}, properties: { memoryMb: { type: 'integer' } } };
    const good = { type: 'object', required: ['a'], default: { a: 1 } };
    const doc = { bad, good, open: { type: 'object', default: {} } };
    const out = strictOpenApi30(doc);
    expect(out.bad).not.toHaveProperty('default');
    expect(out.good.default).toEqual({ a: 1 });
    expect(out.open.default).toEqual({});
    expect(doc.bad.default).toEqual({}); // pure
  });
});
