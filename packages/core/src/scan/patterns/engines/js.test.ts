import { expect, it } from 'vitest';
import { compileRules } from '../compile.js';
import type { PatternRule } from '../rule.js';
import { buildAutomaton } from './automaton.js';
import { createJsEngine } from './js.js';

/** Every (atom, end position) the DFA reports, scanning one byte at a time. */
function dfaHits(atoms: string[], text: Buffer): string[] {
  const a = buildAutomaton(atoms);
  const out: string[] = [];
  let s = 0;
  for (let i = 0; i < text.length; i++) {
    s = a.delta[s | text[i]!]!;
    if (s >= a.firstAccept) for (const id of a.outputs[(s - a.firstAccept) >> 8]!) out.push(`${atoms[id]}@${i}`);
  }
  return out.sort();
}

function naiveHits(atoms: string[], text: Buffer): string[] {
  const lower = Buffer.from(text.toString('latin1').toLowerCase(), 'latin1');
  const out: string[] = [];
  for (const atom of atoms) for (let i = lower.indexOf(atom, 0, 'latin1'); i >= 0; i = lower.indexOf(atom, i + 1, 'latin1')) out.push(`${atom}@${i + atom.length - 1}`);
  return out.sort();
}

it('the automaton finds every atom occurrence, overlapping and case-folded', () => {
  const atoms = ['he', 'she', 'his', 'hers', 'nc ', '/dev/tcp/', '\xf3\xa0\x80'];
  const text = Buffer.from('USHERS said: ushers; HIS hers. nc  nc /DEV/TCP/x \xf3\xa0\x80\xf3\xa0\x80', 'latin1');
  expect(dfaHits(atoms, text)).toEqual(naiveHits(atoms, text));
});

it('the four interleaved streams miss nothing at the quarter boundaries', () => {
  const rule: PatternRule = {
    id: 'patterns/needle',
    severity: 'low',
    certainty: 0.5,
    message: 'test',
    strings: { n: 'needle-in-a-haystack' },
    examples: { match: ['needle-in-a-haystack'], notMatch: ['needle'] },
  };
  const engine = createJsEngine(compileRules([rule]));
  for (const size of [64 * 1024, 64 * 1024 + 3]) {
    const quarter = size >> 2;
    // The three quarter boundaries, and the tail past 4 * quarter that the last stream finishes alone.
    for (const boundary of [quarter, 2 * quarter, 3 * quarter, 4 * quarter, size - 20]) {
      for (let start = boundary - 20; start <= Math.min(boundary, size - 20); start++) {
        const window = Buffer.alloc(size, '.');
        window.write('needle-in-a-haystack', start, 'latin1');
        expect(engine.scan(window).map((m) => m.offset), `needle at ${start} of ${size}`).toEqual([start]);
      }
    }
  }
});
