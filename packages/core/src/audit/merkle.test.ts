import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, MerkleFrontier, leafHash, merkleRoot, nodeHash } from './merkle.js';

const h = (i: number): string => createHash('sha256').update(`event ${i}`).digest('hex');
const sha = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

describe('RFC 6962 Merkle tree hash', () => {
  it('hashes leaves with 0x00 and nodes with 0x01, over the raw event hash bytes', () => {
    const d0 = Buffer.from(h(0), 'hex');
    const d1 = Buffer.from(h(1), 'hex');
    const d2 = Buffer.from(h(2), 'hex');
    const l0 = sha(Buffer.from([0]), d0);
    const l1 = sha(Buffer.from([0]), d1);
    const l2 = sha(Buffer.from([0]), d2);
    expect(leafHash(h(0))).toEqual(l0);
    expect(nodeHash(l0, l1)).toEqual(sha(Buffer.from([1]), l0, l1));
    expect(merkleRoot([])).toBe(createHash('sha256').digest('hex'));
    expect(merkleRoot([h(0)])).toBe(l0.toString('hex'));
    expect(merkleRoot([h(0), h(1)])).toBe(sha(Buffer.from([1]), l0, l1).toString('hex'));
    // Three leaves split at 2 (the largest power of two below 3): ((l0 l1) l2), not (l0 (l1 l2)).
    expect(merkleRoot([h(0), h(1), h(2)])).toBe(sha(Buffer.from([1]), sha(Buffer.from([1]), l0, l1), l2).toString('hex'));
  });

  it('the incremental frontier gives the reference root after every append, 0 to 300 leaves', () => {
    const f = MerkleFrontier.empty();
    const hashes: string[] = [];
    expect(f.root()).toBe(EMPTY_ROOT);
    for (let i = 0; i < 300; i++) {
      hashes.push(h(i));
      f.push(h(i));
      expect(f.size).toBe(i + 1);
      expect(f.root(), `after ${i + 1} leaves`).toBe(merkleRoot(hashes));
      expect(f.hashes().length).toBe((i + 1).toString(2).replaceAll('0', '').length); // one subtree per set bit
    }
  });

  it('a saved frontier restores to the same root and keeps growing like the original', () => {
    const f = MerkleFrontier.empty();
    for (let i = 0; i < 77; i++) f.push(h(i));
    const g = MerkleFrontier.restore(77, f.hashes())!;
    expect(g.root()).toBe(f.root());
    const clone = f.clone();
    for (let i = 77; i < 130; i++) {
      f.push(h(i));
      g.push(h(i));
    }
    expect(g.root()).toBe(f.root());
    expect(clone.size).toBe(77); // a clone does not see later pushes
    expect(clone.root()).toBe(merkleRoot(Array.from({ length: 77 }, (_, i) => h(i))));
  });

  it.each([
    ['too few hashes', 77, 3],
    ['too many hashes', 64, 2],
    ['a negative size', -1, 0],
  ])('refuses to restore a frontier with %s', (_what, size, count) => {
    expect(MerkleFrontier.restore(size, Array.from({ length: count }, (_, i) => h(i)))).toBeUndefined();
  });

  it('refuses to restore a frontier whose hashes are not hex', () => {
    expect(MerkleFrontier.restore(1, ['not a hash'])).toBeUndefined();
  });
});
