/**
 * The pure-JS engine: an Aho-Corasick DFA finds every prefilter atom in one
 * pass, then V8 RegExps confirm matches only around those atoms: at the one
 * start position an atom at a fixed offset implies (sticky), or over the
 * short region a match containing the atom must lie in.
 */
import type { CompiledRules } from '../compile.js';
import { MAX_MATCHES_PER_STRING, type PatternEngine, type RawMatch } from '../engine.js';
import { buildAutomaton } from './automaton.js';

interface AtomUse {
  readonly string: number;
  readonly length: number;
  /** Fixed offset of the atom from the match start, or -1 when it varies. */
  readonly offset: number;
}

export function createJsEngine(compiled: CompiledRules): PatternEngine {
  const texts: string[] = [];
  const uses: AtomUse[][] = [];
  const byText = new Map<string, number>();
  compiled.strings.forEach((s, string) => {
    for (const atom of s.atoms) {
      let id = byText.get(atom.text);
      if (id === undefined) {
        id = texts.length;
        byText.set(atom.text, id);
        texts.push(atom.text);
        uses.push([]);
      }
      uses[id]!.push({ string, length: atom.text.length, offset: atom.offset ?? -1 });
    }
  });
  const automaton = buildAutomaton(texts);
  const outputs = automaton.outputs.map((atomIds) => atomIds.flatMap((id) => uses[id]!));
  const sticky = compiled.strings.map((s) => new RegExp(s.js.source, `${s.js.flags}y`));
  const global = compiled.strings.map((s) => new RegExp(s.js.source, `${s.js.flags}g`));
  const maxLen = compiled.strings.map((s) => s.maxLength);

  // Scratch space, reused by every scan (scan is synchronous, so never shared mid-call).
  const starts: number[][] = compiled.strings.map(() => []);
  const regions: number[][] = compiled.strings.map(() => []);
  const hits: number[][] = [[], [], [], []]; // per stream: position, state, position, state, …

  /** Records the candidates an accepting state at `i` (last byte of the atoms) implies. */
  function candidates(state: number, i: number, n: number): void {
    for (const use of outputs[(state - automaton.firstAccept) >> 8]!) {
      const atomStart = i + 1 - use.length;
      if (use.offset >= 0) {
        const start = atomStart - use.offset;
        const list = starts[use.string]!;
        if (start >= 0 && list[list.length - 1] !== start) list.push(start);
      } else {
        const lo = Math.max(0, i + 1 - maxLen[use.string]!);
        const hi = Math.min(n, atomStart + maxLen[use.string]!);
        const list = regions[use.string]!;
        if (list.length > 0 && lo <= list[list.length - 1]!) list[list.length - 1] = Math.max(hi, list[list.length - 1]!);
        else list.push(lo, hi);
      }
    }
  }

  /**
   * Runs the DFA over the window as four interleaved streams, one per quarter:
   * each step depends on the previous state, so a single stream is bound by
   * load latency; four independent ones let the CPU overlap their loads
   * (about 2x faster here). Each stream after the first starts
   * maxAtomLength - 1 bytes early so an atom across a quarter boundary is found.
   */
  function prefilter(window: Uint8Array): void {
    const { delta, firstAccept: fa, maxAtomLength } = automaton;
    const n = window.length;
    const [h0, h1, h2, h3] = hits as [number[], number[], number[], number[]];
    const q = n >= 4096 ? n >> 2 : 0;
    const warm = maxAtomLength - 1;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    if (q > 0) {
      for (let i = q - warm; i < q; i++) s1 = delta[s1 | window[i]!]!;
      for (let i = 2 * q - warm; i < 2 * q; i++) s2 = delta[s2 | window[i]!]!;
      for (let i = 3 * q - warm; i < 3 * q; i++) s3 = delta[s3 | window[i]!]!;
      for (let i = 0, j = q, k = 2 * q, l = 3 * q; i < q; i++, j++, k++, l++) {
        s0 = delta[s0 | window[i]!]!;
        s1 = delta[s1 | window[j]!]!;
        s2 = delta[s2 | window[k]!]!;
        s3 = delta[s3 | window[l]!]!;
        if (s0 >= fa) h0.push(i, s0);
        if (s1 >= fa) h1.push(j, s1);
        if (s2 >= fa) h2.push(k, s2);
        if (s3 >= fa) h3.push(l, s3);
      }
    }
    for (let i = 4 * q; i < n; i++) {
      s3 = delta[s3 | window[i]!]!;
      if (s3 >= fa) h3.push(i, s3);
    }
  }

  function scan(window: Uint8Array): RawMatch[] {
    const n = window.length;
    prefilter(window);
    let any = false;
    for (const h of hits) {
      // Streams in order, so candidate positions arrive in increasing order.
      for (let x = 0; x < h.length; x += 2) candidates(h[x + 1]!, h[x]!, n);
      any ||= h.length > 0;
      h.length = 0;
    }
    const found: RawMatch[] = [];
    if (!any) return found;
    const text = Buffer.from(window.buffer, window.byteOffset, window.byteLength).toString('latin1');
    for (let s = 0; s < starts.length; s++) {
      let count = 0;
      const st = starts[s]!;
      if (st.length > 0) {
        const re = sticky[s]!;
        for (const start of st) {
          re.lastIndex = start;
          const m = re.exec(text);
          if (m && (found.push({ string: s, offset: start, length: m[0].length }), ++count >= MAX_MATCHES_PER_STRING)) break;
        }
        st.length = 0;
      }
      const rg = regions[s]!;
      if (rg.length > 0) {
        const re = global[s]!;
        for (let r = 0; r < rg.length && count < MAX_MATCHES_PER_STRING; r += 2) {
          // One byte of real context on each side, so \b at the region's edges sees the true neighbours.
          const a = Math.max(0, rg[r]! - 1);
          const b = Math.min(n, rg[r + 1]! + 1);
          const sub = text.slice(a, b);
          re.lastIndex = 0;
          for (let m = re.exec(sub); m !== null; m = re.exec(sub)) {
            const end = m.index + m[0].length;
            // A match touching a cut edge contains no atom of this region: it is an artefact of the cut.
            if ((m.index === 0 && a > 0) || (end === sub.length && b < n)) continue;
            found.push({ string: s, offset: a + m.index, length: m[0].length });
            if (++count >= MAX_MATCHES_PER_STRING) break;
          }
        }
        rg.length = 0;
      }
    }
    return found;
  }

  return { name: 'js', scan };
}
