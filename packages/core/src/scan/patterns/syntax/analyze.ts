/**
 * Static facts about a parsed pattern: how long a match can be (which the
 * scan windows' overlap must cover), which literals every match contains (the
 * JS engine's prefilter atoms) and whether a backtracking engine could take
 * super-linear time on it.
 */
import { emptySet, intersects, lowerByte, members, union, type ByteSet } from './charset.js';
import type { Node } from './parse.js';

export function minLength(n: Node): number {
  switch (n.kind) {
    case 'set':
      return 1;
    case 'boundary':
      return 0;
    case 'seq':
      return n.items.reduce((a, i) => a + minLength(i), 0);
    case 'alt':
      return Math.min(...n.options.map(minLength));
    case 'repeat':
      return n.min * minLength(n.body);
  }
}

export function maxLength(n: Node): number {
  switch (n.kind) {
    case 'set':
      return 1;
    case 'boundary':
      return 0;
    case 'seq':
      return n.items.reduce((a, i) => a + maxLength(i), 0);
    case 'alt':
      return Math.max(...n.options.map(maxLength));
    case 'repeat':
      return n.max * maxLength(n.body);
  }
}

/** Bytes a match of `n` can start with. */
export function firstSet(n: Node): ByteSet {
  switch (n.kind) {
    case 'set':
      return n.set;
    case 'boundary':
      return emptySet();
    case 'seq': {
      let s = emptySet();
      for (const item of n.items) {
        s = union(s, firstSet(item));
        if (minLength(item) > 0) break;
      }
      return s;
    }
    case 'alt':
      return n.options.reduce((s, o) => union(s, firstSet(o)), emptySet());
    case 'repeat':
      return firstSet(n.body);
  }
}

/** Bytes a match of `n` can end with. */
export function lastSet(n: Node): ByteSet {
  switch (n.kind) {
    case 'seq': {
      let s = emptySet();
      for (let i = n.items.length - 1; i >= 0; i--) {
        s = union(s, lastSet(n.items[i]!));
        if (minLength(n.items[i]!) > 0) break;
      }
      return s;
    }
    case 'alt':
      return n.options.reduce((s, o) => union(s, lastSet(o)), emptySet());
    case 'repeat':
      return lastSet(n.body);
    case 'set':
    case 'boundary':
      return firstSet(n);
  }
}

/**
 * Span above which two adjacent variable-length parts that can trade bytes
 * (`\s{0,9}\s{0,9}`) are refused: a backtracker tries every split between
 * them, so the product of their spans multiplies the work per position.
 */
export const MAX_AMBIGUOUS_SPAN_PRODUCT = 64;
/** A pattern may not open with a gap wider than this (`[^\n]{0,200}foo` re-walks the gap at every position). */
export const MAX_LEADING_SPAN = 8;

/**
 * Reasons a backtracking engine (V8's Irregexp) could go super-linear on this
 * pattern; empty when it is safe. The rules: a part repeated more than once
 * has a fixed width and no ambiguous alternatives (no `(a|a){1,20}`, no
 * nested variable repetition); adjacent variable parts that can match the
 * same bytes have a small span product; no wide leading gap.
 */
export function slowPatternReasons(root: Node): string[] {
  const reasons: string[] = [];
  const walk = (n: Node): void => {
    switch (n.kind) {
      case 'set':
      case 'boundary':
        return;
      case 'alt':
        n.options.forEach(walk);
        return;
      case 'repeat':
        if (n.max > 1) {
          if (minLength(n.body) !== maxLength(n.body) || maxLength(n.body) === 0) reasons.push('a part repeated more than once must have a fixed width (no nested variable repetition)');
          if (hasAmbiguousAlternation(n.body)) reasons.push('alternatives inside a repetition must start with different bytes');
        }
        walk(n.body);
        return;
      case 'seq':
        checkAdjacent(n.items, reasons);
        n.items.forEach(walk);
        return;
    }
  };
  walk(root);
  if (hasLeadingGap(root)) reasons.push(`the pattern opens with a gap wider than ${MAX_LEADING_SPAN} bytes; start it with a literal`);
  return [...new Set(reasons)];
}

function hasAmbiguousAlternation(n: Node): boolean {
  switch (n.kind) {
    case 'set':
    case 'boundary':
      return false;
    case 'seq':
      return n.items.some(hasAmbiguousAlternation);
    case 'repeat':
      return hasAmbiguousAlternation(n.body);
    case 'alt':
      for (let i = 0; i < n.options.length; i++) {
        for (let j = i + 1; j < n.options.length; j++) {
          if (intersects(firstSet(n.options[i]!), firstSet(n.options[j]!))) return true;
        }
      }
      return n.options.some(hasAmbiguousAlternation);
  }
}

/**
 * How many bytes of slack a repetition gives at the end (or start) of `n`:
 * the choices a backtracker has there. An alternation of literals has none.
 */
function edgeSpan(n: Node, edge: 'first' | 'last'): number {
  switch (n.kind) {
    case 'set':
    case 'boundary':
      return 0;
    case 'repeat':
      return (n.max - n.min) * maxLength(n.body) + edgeSpan(n.body, edge);
    case 'alt':
      return Math.max(...n.options.map((o) => edgeSpan(o, edge)));
    case 'seq': {
      let span = 0;
      const items = edge === 'first' ? n.items : [...n.items].reverse();
      for (const item of items) {
        span += edgeSpan(item, edge);
        if (minLength(item) > 0) break;
      }
      return span;
    }
  }
}

function checkAdjacent(items: readonly Node[], reasons: string[]): void {
  for (let i = 0; i < items.length; i++) {
    const a = items[i]!;
    const spanA = edgeSpan(a, 'last');
    if (spanA === 0) continue;
    for (let j = i + 1; j < items.length; j++) {
      const b = items[j]!;
      const spanB = edgeSpan(b, 'first');
      if (spanB > 0 && spanA * spanB > MAX_AMBIGUOUS_SPAN_PRODUCT && intersects(lastSet(a), firstSet(b))) {
        reasons.push(`two adjacent variable-length parts can match the same bytes (spans ${spanA} and ${spanB}); separate them with a literal neither can match`);
      }
      if (minLength(b) > 0) break;
    }
  }
}

/** Whether a match can open with a variable repetition wider than MAX_LEADING_SPAN bytes. */
function hasLeadingGap(n: Node): boolean {
  switch (n.kind) {
    case 'set':
    case 'boundary':
      return false;
    case 'alt':
      return n.options.some(hasLeadingGap);
    case 'repeat':
      return (n.max - n.min) * maxLength(n.body) > MAX_LEADING_SPAN || hasLeadingGap(n.body);
    case 'seq': {
      for (const item of n.items) {
        if (hasLeadingGap(item)) return true;
        if (minLength(item) > 0) return false;
      }
      return false;
    }
  }
}

/** A literal (lowercased bytes, as a latin1 string) that a match contains, and where. */
export interface Atom {
  readonly text: string;
  /** Offset of the atom from the start of the match when it is fixed, else null. */
  readonly offset: number | null;
}

const MAX_EXACT = 64;
const MAX_SET_EXPANSION = 8;

/**
 * Every string `n` can match, lowercased, when that language is small; else
 * null. Zero-width nodes match the empty string.
 */
function exact(n: Node): string[] | null {
  switch (n.kind) {
    case 'set': {
      const lower = [...new Set(members(n.set).map(lowerByte))];
      return lower.length <= MAX_SET_EXPANSION ? lower.map((b) => String.fromCharCode(b)) : null;
    }
    case 'boundary':
      return [''];
    case 'seq': {
      let acc: string[] = [''];
      for (const item of n.items) {
        const e = exact(item);
        if (!e) return null;
        acc = cross(acc, e);
        if (acc.length > MAX_EXACT) return null;
      }
      return acc;
    }
    case 'alt': {
      const out = new Set<string>();
      for (const o of n.options) {
        const e = exact(o);
        if (!e) return null;
        e.forEach((s) => out.add(s));
        if (out.size > MAX_EXACT) return null;
      }
      return [...out];
    }
    case 'repeat': {
      const body = exact(n.body);
      if (!body || n.max > 4) return null;
      const out = new Set<string>();
      let power = [''];
      for (let k = 0; k <= n.max; k++) {
        if (k >= n.min) power.forEach((s) => out.add(s));
        if (k < n.max) power = cross(power, body);
        if (power.length > MAX_EXACT || out.size > MAX_EXACT) return null;
      }
      return [...out];
    }
  }
}

function cross(a: readonly string[], b: readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return [...out];
}

/** Quality of an atom set: its shortest member, then fewer members. */
function better(a: Atom[] | null, b: Atom[] | null): Atom[] | null {
  if (!a || a.length === 0) return b;
  if (!b || b.length === 0) return a;
  const la = Math.min(...a.map((x) => x.text.length));
  const lb = Math.min(...b.map((x) => x.text.length));
  if (la !== lb) return la > lb ? a : b;
  if (a.length !== b.length) return a.length < b.length ? a : b;
  return a.every((x) => x.offset !== null) ? a : b;
}

function shift(atoms: Atom[] | null, by: number | null): Atom[] | null {
  return atoms && atoms.map((a) => ({ text: a.text, offset: a.offset === null || by === null ? null : a.offset + by }));
}

/**
 * A set of literals such that every match of `n` contains at least one of
 * them (case-folded): the JS engine looks for these first and runs the
 * RegExp only around them. Null when no such set exists.
 */
export function requiredAtoms(n: Node): Atom[] | null {
  switch (n.kind) {
    case 'set':
    case 'boundary': {
      const e = exact(n);
      return e && e.every((s) => s.length > 0) ? e.map((text) => ({ text, offset: 0 })) : null;
    }
    case 'repeat':
      return n.min >= 1 ? requiredAtoms(n.body) : null;
    case 'alt': {
      const out: Atom[] = [];
      for (const o of n.options) {
        const sub = requiredAtoms(o);
        if (!sub) return null;
        out.push(...sub);
      }
      return out.length <= MAX_EXACT ? dedupe(out) : null;
    }
    case 'seq': {
      let best: Atom[] | null = null;
      let run: string[] = [''];
      let runOffset: number | null = 0;
      let pos: number | null = 0; // fixed offset of the current item from the match start, while known
      const closeRun = (): void => {
        if (run.every((s) => s.length > 0)) best = better(best, run.map((text) => ({ text, offset: runOffset })));
      };
      for (const item of n.items) {
        const e = exact(item);
        if (e && cross(run, e).length <= MAX_EXACT) {
          run = cross(run, e);
        } else {
          closeRun();
          best = better(best, shift(requiredAtoms(item), pos));
          run = e ?? [''];
          runOffset = e ? pos : null;
        }
        if (pos !== null) pos = minLength(item) === maxLength(item) ? pos + minLength(item) : null;
        if (!e) runOffset = pos;
      }
      closeRun();
      return best;
    }
  }
}

function dedupe(atoms: Atom[]): Atom[] {
  const seen = new Map<string, Atom>();
  for (const a of atoms) {
    const prev = seen.get(a.text);
    seen.set(a.text, prev && prev.offset !== a.offset ? { text: a.text, offset: null } : a);
  }
  return [...seen.values()];
}
