/**
 * Aho-Corasick over bytes, compiled to a dense DFA: one table lookup per input
 * byte finds every occurrence of every atom at once, ASCII case-insensitively.
 * This is the JS engine's prefilter; the RegExps only run where it fires.
 */

export interface Automaton {
  /**
   * `delta[state | byte]` is the next state. States are premultiplied by 256
   * (state id << 8) so a step is one load and one OR.
   */
  readonly delta: Int32Array;
  /** States at or above this (premultiplied) value end at least one atom. */
  readonly firstAccept: number;
  /** For accepting state `s`, `outputs[(s >> 8) - (firstAccept >> 8)]` lists the atoms ending there. */
  readonly outputs: readonly (readonly number[])[];
  /** Length of the longest atom. */
  readonly maxAtomLength: number;
}

/** Builds the DFA for `atoms` (latin1 strings, already lowercase ASCII). */
export function buildAutomaton(atoms: readonly string[]): Automaton {
  // Byte classes: each byte used by an atom gets its own class (uppercase ASCII
  // shares its lowercase class), every other byte is class 0.
  const classOf = new Uint8Array(256);
  let classes = 1;
  for (const atom of atoms) {
    for (let i = 0; i < atom.length; i++) {
      const b = atom.charCodeAt(i);
      if (classOf[b] === 0) {
        if (classes > 255) throw new Error('too many distinct atom bytes');
        classOf[b] = classes++;
      }
    }
  }
  for (let b = 0x41; b <= 0x5a; b++) classOf[b] = classOf[b + 32]!;
  let shift = 0;
  while (1 << shift < classes) shift++;
  const stride = 1 << shift;

  // Trie.
  const next: number[][] = [new Array<number>(stride).fill(-1)];
  const out: number[][] = [[]];
  atoms.forEach((atom, id) => {
    let s = 0;
    for (let i = 0; i < atom.length; i++) {
      const c = classOf[atom.charCodeAt(i)]!;
      if (next[s]![c] === -1) {
        next[s]![c] = next.length;
        next.push(new Array<number>(stride).fill(-1));
        out.push([]);
      }
      s = next[s]![c]!;
    }
    out[s]!.push(id);
  });

  // Failure links, breadth first, turning the trie into a complete DFA.
  const fail = new Array<number>(next.length).fill(0);
  const queue: number[] = [];
  for (let c = 0; c < stride; c++) {
    const t = next[0]![c]!;
    if (t === -1) next[0]![c] = 0;
    else queue.push(t);
  }
  while (queue.length > 0) {
    const s = queue.shift()!;
    out[s]!.push(...out[fail[s]!]!);
    for (let c = 0; c < stride; c++) {
      const t = next[s]![c]!;
      if (t === -1) {
        next[s]![c] = next[fail[s]!]![c]!;
      } else {
        fail[t] = next[fail[s]!]![c]!;
        queue.push(t);
      }
    }
  }

  // Renumber so accepting states come last: the hot loop then tests one compare.
  const states = next.length;
  const ids = new Array<number>(states);
  let id = 0;
  for (let s = 0; s < states; s++) if (out[s]!.length === 0) ids[s] = id++;
  const firstAccept = id;
  const outputs: number[][] = [];
  for (let s = 0; s < states; s++) {
    if (out[s]!.length > 0) {
      ids[s] = id++;
      outputs.push([...new Set(out[s])]);
    }
  }
  if (states > 1 << 22) throw new Error('too many automaton states');
  // A full 256-column table: one lookup per byte instead of two (class, then state).
  const delta = new Int32Array(states * 256);
  for (let s = 0; s < states; s++) {
    for (let b = 0; b < 256; b++) delta[(ids[s]! << 8) | b] = ids[next[s]![classOf[b]!]!]! << 8;
  }
  return { delta, firstAccept: firstAccept << 8, outputs, maxAtomLength: Math.max(0, ...atoms.map((a) => a.length)) };
}
