import { describe, expect, it } from 'vitest';
import { isWardenError } from '@warden/protocol';
import { sizeDetector } from './size.js';
import type { Finding } from './types.js';

function finish(opts: { hugeBytes?: number; declared?: number; bytes: number; contentType?: string; truncated?: boolean }): Finding[] {
  const r = sizeDetector(opts.hugeBytes === undefined ? {} : { hugeBytes: opts.hugeBytes }).start({
    name: 'x',
    depth: 0,
    ...(opts.declared === undefined ? {} : { size: opts.declared }),
    scanMember: () => Promise.reject(new Error('unused')),
  });
  const out = r.finish({ contentType: opts.contentType ?? 'binary', bytes: opts.bytes, truncated: opts.truncated ?? false }) as { ran: boolean; findings: Finding[] };
  expect(out.ran).toBe(true);
  return out.findings;
}

const rules = (fs: Finding[]): string[] => fs.map((f) => `${f.ruleId}:${f.severity}`);

describe('size detector', () => {
  it.each([
    ['an empty file', { bytes: 0, declared: 0 }, ['size/empty:info']],
    ['an ordinary file', { bytes: 1000, declared: 1000 }, []],
    ['a huge file', { bytes: 2000, hugeBytes: 1000 }, ['size/huge:low']],
    ['a huge executable (padding evasion)', { bytes: 2000, hugeBytes: 1000, contentType: 'elf' }, ['size/huge:medium']],
    ['a file that shrank while it was read', { bytes: 10, declared: 20 }, ['size/declared-mismatch:low']],
    ['a stream that delivered more than it declared', { bytes: 30, declared: 20 }, ['size/declared-mismatch:low']],
    ['a truncated scan (a limit, not a lie)', { bytes: 10, declared: 20, truncated: true }, []],
    ['an empty prefix of a truncated scan', { bytes: 0, declared: 20, truncated: true }, []],
    ['an archive header claiming 2^53 bytes', { bytes: 10, declared: Number.MAX_SAFE_INTEGER }, ['size/huge:low', 'size/declared-mismatch:low']],
  ])('%s', (_label, o, expected) => {
    expect(rules(finish(o))).toEqual(expected);
  });

  it('puts the gap in the evidence', () => {
    expect(finish({ bytes: 10, declared: 25 })[0]!.evidence).toEqual([{ offset: 10, length: 15 }]);
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity])('rejects hugeBytes %s', (hugeBytes) => {
    let caught: unknown;
    try {
      sizeDetector({ hugeBytes });
    } catch (err) {
      caught = err;
    }
    expect(isWardenError(caught) && caught.code).toBe('E_INVALID_ARGUMENT');
  });
});
