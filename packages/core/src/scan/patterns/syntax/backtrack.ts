/**
 * A deliberately naive backtracking matcher for the pattern language that
 * counts its steps. It explores alternatives in the same order as V8's
 * Irregexp (left to right, greedy repetition first), so its step count is an
 * upper bound on the work a backtracking engine does, up to a constant. The
 * tests use it to prove every rule runs in linear time on adversarial input
 * by counting work instead of timing it.
 */
import { WORD } from './charset.js';
import type { Node } from './parse.js';

export interface CountedSearch {
  /** Non-overlapping leftmost matches, as a global RegExp finds them. */
  readonly matches: readonly { readonly offset: number; readonly length: number }[];
  readonly steps: number;
}

/**
 * Searches `input` like `RegExp.prototype.exec` with the `g` flag would,
 * counting one step per byte test, assertion and start position.
 * `maxSteps` stops a runaway search (the result then has `steps > maxSteps`).
 */
export function countedSearch(root: Node, input: Uint8Array, maxSteps = Number.MAX_SAFE_INTEGER): CountedSearch {
  let steps = 0;
  const n = input.length;
  const isWord = (i: number): boolean => i >= 0 && i < n && WORD[input[i]!] === 1;

  class Abort extends Error {}

  const m = (node: Node, pos: number, k: (p: number) => boolean): boolean => {
    if (++steps > maxSteps) throw new Abort();
    switch (node.kind) {
      case 'set':
        return pos < n && node.set[input[pos]!] === 1 && k(pos + 1);
      case 'boundary':
        return (isWord(pos - 1) !== isWord(pos)) !== node.negated && k(pos);
      case 'alt':
        return node.options.some((o) => m(o, pos, k));
      case 'seq': {
        const step = (i: number, p: number): boolean => (i === node.items.length ? k(p) : m(node.items[i]!, p, (q) => step(i + 1, q)));
        return step(0, pos);
      }
      case 'repeat': {
        const rep = (count: number, p: number): boolean => {
          // Greedy: one more repetition first (an empty iteration ends the loop, as in ECMAScript), then stop.
          if (count < node.max && m(node.body, p, (q) => q !== p && rep(count + 1, q))) return true;
          return count >= node.min && k(p);
        };
        return rep(0, pos);
      }
    }
  };

  const matches: { offset: number; length: number }[] = [];
  try {
    for (let start = 0; start <= n; ) {
      steps++;
      let end = -1;
      if (m(root, start, (p) => ((end = p), true))) {
        matches.push({ offset: start, length: end - start });
        start = end > start ? end : start + 1;
      } else {
        start++;
      }
    }
  } catch (err) {
    if (!(err instanceof Abort)) throw err;
  }
  return { matches, steps };
}
