import { describe, expect, it } from 'vitest';
import { MASK, SecretMasker } from './mask.js';

/** Feeds `text` to a stream masker in pieces cut at `cuts` and returns everything it released. */
function streamed(m: SecretMasker, text: string, cuts: number[]): string {
  const s = m.stream();
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(s.push(bytes.subarray(at, c)));
    at = c;
  }
  out.push(s.flush());
  return Buffer.concat(out).toString();
}

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

describe('SecretMasker', () => {
  const secret = 'tok-4f9a8b7c6d5e';
  const m = new SecretMasker([secret, 'xy']); // 'xy' is too short to mask

  it('masks a value and its URL-encoded and base64 forms in text and nested values', () => {
    const b64 = Buffer.from(secret).toString('base64');
    expect(m.text(`a ${secret} b ${encodeURIComponent(secret)} c ${b64} xy`)).toBe(`a ${MASK} b ${MASK} c ${MASK} xy`);
    expect(m.deep({ a: [secret, 1, { b: `x${secret}x` }] })).toEqual({ a: [MASK, 1, { b: `x${MASK}x` }] });
  });

  it('masks a secret split across chunks at every possible cut, and releases everything else unchanged', () => {
    const text = `before ${secret} middle ${secret}${secret} after`;
    const want = `before ${MASK} middle ${MASK}${MASK} after`;
    for (let i = 0; i <= text.length; i++) for (const j of [i, i + 1, i + 5]) expect(streamed(m, text, [i, Math.min(j, text.length)].sort((a, b) => a - b)), `cuts ${i},${j}`).toBe(want);
  });

  it('masks under random chunking of random text, one byte at a time included', () => {
    const rand = prng(42);
    const alphabet = 'tok-4f9a8b7c6d5e \n';
    for (let round = 0; round < 300; round++) {
      let text = '';
      const n = Math.floor(rand() * 200);
      for (let i = 0; i < n; i++) text += rand() < 0.05 ? secret : alphabet[Math.floor(rand() * alphabet.length)]!;
      const cuts: number[] = [];
      const len = Buffer.byteLength(text);
      for (let c = 0; c < len; c += 1 + Math.floor(rand() * (round % 3 === 0 ? 1 : 20))) cuts.push(c);
      const out = streamed(m, text, cuts);
      expect(out, `round ${round}`).not.toContain(secret);
      expect(out).toBe(m.text(text));
    }
  });

  it('holds back only a possible beginning of a secret, and nothing for ordinary output', () => {
    const s = m.stream();
    expect(s.push(Buffer.from('hello world\n')).toString()).toBe('hello world\n');
    expect(s.push(Buffer.from('value: tok-4f')).toString()).toBe('value: ');
    expect(s.push(Buffer.from('ZZ')).toString()).toBe('tok-4fZZ');
    expect(s.flush().length).toBe(0);
  });

  it('passes output through untouched when there is nothing to mask', () => {
    const empty = new SecretMasker();
    const chunk = Buffer.from('tok-4f9a8b7c6d5e');
    expect(empty.empty).toBe(true);
    expect(empty.stream().push(chunk)).toBe(chunk);
    expect(empty.text('abc')).toBe('abc');
  });

  it('masks values added later (a secret given at run time)', () => {
    const later = new SecretMasker();
    later.add(['late-secret-value']);
    expect(streamed(later, 'x late-secret-value y', [5])).toBe(`x ${MASK} y`);
  });

  it('masks split multi-byte text streams without breaking characters', () => {
    const u = new SecretMasker(['pässwörd-ü']);
    const s = u.textStream();
    const out = s.push('a pä') + s.push('sswörd-ü b é') + s.flush();
    expect(out).toBe(`a ${MASK} b é`);
  });
});
