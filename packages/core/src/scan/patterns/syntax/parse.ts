/**
 * Parser for the pattern language shared by both engines: a small, bounded
 * subset of regular expressions that means the same thing to YARA-X and to a
 * JS RegExp over latin1 text (one char per byte).
 *
 *   literals, `\xHH`, `\n \r \t \v \f`, escaped punctuation (`\.`, `\/`, …)
 *   classes `[a-z_]`, `[^\n]`, and `\s \S \d \D \w \W` (ASCII meanings)
 *   `.` (any byte but `\n`), `\b`, `\B`, groups `( … )`, alternation `|`
 *   `?`, `{n}`, `{m,n}`; and `(?i)` at the very start for ASCII case-insensitivity
 *
 * Not allowed, because they make the match length or the matching time
 * unbounded: `*`, `+`, `{m,}`, lazy quantifiers, backreferences, lookaround,
 * `^` and `$` (a window boundary is not a line boundary).
 */
import { complement, DIGIT, emptySet, foldCase, NEWLINE, SPACE, setOf, union, WORD, type ByteSet } from './charset.js';

export type Node =
  | { readonly kind: 'set'; readonly set: ByteSet }
  | { readonly kind: 'boundary'; readonly negated: boolean }
  | { readonly kind: 'seq'; readonly items: readonly Node[] }
  | { readonly kind: 'alt'; readonly options: readonly Node[] }
  | { readonly kind: 'repeat'; readonly body: Node; readonly min: number; readonly max: number };

export interface Pattern {
  readonly source: string;
  /** ASCII case-insensitive (`(?i)` prefix). Sets in `root` are already folded. */
  readonly nocase: boolean;
  readonly root: Node;
}

/** Largest `{m,n}` bound accepted; a bigger one is almost certainly a mistake. */
export const MAX_REPEAT = 1024;

export class PatternSyntaxError extends Error {
  override readonly name = 'PatternSyntaxError';
  constructor(
    readonly source: string,
    readonly position: number,
    reason: string,
  ) {
    super(`${reason} at position ${position} of /${source}/`);
  }
}

const SHORTHAND: Record<string, ByteSet> = {
  s: SPACE,
  S: complement(SPACE),
  d: DIGIT,
  D: complement(DIGIT),
  w: WORD,
  W: complement(WORD),
};
const CONTROL: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b, f: 0x0c, '0': 0x00 };

export function parsePattern(source: string): Pattern {
  const nocase = source.startsWith('(?i)');
  const p = new Parser(source, nocase ? 4 : 0, nocase);
  const root = p.alternation();
  if (p.pos < source.length) p.fail(source[p.pos] === ')' ? 'unbalanced )' : `unexpected ${JSON.stringify(source[p.pos])}`);
  return { source, nocase, root };
}

class Parser {
  constructor(
    readonly src: string,
    public pos: number,
    readonly nocase: boolean,
  ) {}

  fail(reason: string, at = this.pos): never {
    throw new PatternSyntaxError(this.src, at, reason);
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  alternation(): Node {
    const options = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      const atomAt = this.pos;
      const atom = this.atom();
      items.push(this.quantified(atom, atomAt));
    }
    return items.length === 1 ? items[0]! : { kind: 'seq', items };
  }

  private quantified(atom: Node, atomAt: number): Node {
    const c = this.peek();
    if (c === '*' || c === '+') this.fail(`unbounded repetition ${c}: write {m,n} with an upper bound`);
    let min: number;
    let max: number;
    if (c === '?') {
      this.pos++;
      min = 0;
      max = 1;
    } else if (c === '{') {
      const m = /^\{(\d{1,4})(?:(,)(\d{1,4})?)?\}/.exec(this.src.slice(this.pos));
      if (!m) this.fail('malformed {m,n}');
      min = Number(m[1]);
      if (m[2] && m[3] === undefined) this.fail('unbounded repetition {m,}: give an upper bound');
      max = m[3] === undefined ? min : Number(m[3]);
      if (max < min || max === 0 || max > MAX_REPEAT) this.fail(`repetition bounds must satisfy 0 <= m <= n, 1 <= n <= ${MAX_REPEAT}`);
      this.pos += m[0].length;
    } else {
      return atom;
    }
    if (atom.kind === 'boundary') this.fail('a quantifier needs something to repeat', atomAt);
    const next = this.peek();
    if (next === '?' || next === '*' || next === '+' || next === '{') this.fail('lazy or stacked quantifiers are not supported');
    return min === 1 && max === 1 ? atom : { kind: 'repeat', body: atom, min, max };
  }

  private atom(): Node {
    const c = this.src[this.pos++]!;
    switch (c) {
      case '(': {
        if (this.src.startsWith('?:', this.pos)) this.pos += 2;
        else if (this.peek() === '?') this.fail('lookaround and inline flags (other than a leading (?i)) are not supported');
        const inner = this.alternation();
        if (this.peek() !== ')') this.fail('missing )');
        this.pos++;
        return inner;
      }
      case '[':
        return this.set(this.charClass());
      case '\\':
        return this.escape();
      case '.':
        return this.set(complement(NEWLINE));
      case ')':
      case '*':
      case '+':
      case '?':
      case '{':
      case '}':
      case ']':
        return this.fail(`unexpected ${c}`, this.pos - 1);
      case '^':
      case '$':
        return this.fail(`anchors (${c}) are not supported: a scan window does not start or end on a line boundary`, this.pos - 1);
      default:
        return this.set(setOf(this.literalByte(c)));
    }
  }

  private literalByte(c: string): number {
    const code = c.charCodeAt(0);
    if (code > 0x7e || code < 0x20) this.fail(`write byte 0x${code.toString(16)} as \\x${code.toString(16).padStart(2, '0')}`, this.pos - 1);
    return code;
  }

  private set(s: ByteSet): Node {
    return { kind: 'set', set: this.nocase ? foldCase(s) : s };
  }

  private escape(): Node {
    const c = this.src[this.pos++];
    if (c === undefined) this.fail('trailing \\');
    if (c === 'b' || c === 'B') return { kind: 'boundary', negated: c === 'B' };
    const s = this.escapedSet(c);
    return this.set(s);
  }

  /** An escape after `\`, inside or outside a class. */
  private escapedSet(c: string): ByteSet {
    const short = SHORTHAND[c];
    if (short) return short;
    const control = CONTROL[c];
    if (control !== undefined) return setOf(control);
    if (c === 'x') {
      const hex = this.src.slice(this.pos, this.pos + 2);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail('\\x needs two hex digits');
      this.pos += 2;
      return setOf(parseInt(hex, 16));
    }
    if (/^[A-Za-z0-9]$/.test(c)) this.fail(`unknown escape \\${c}`, this.pos - 2);
    return setOf(this.literalByte(c));
  }

  private charClass(): ByteSet {
    const start = this.pos - 1;
    const negated = this.peek() === '^';
    if (negated) this.pos++;
    let s = emptySet();
    if (this.peek() === ']') this.fail('empty class (write \\] for a literal ])');
    while (this.peek() !== ']') {
      if (this.peek() === undefined) this.fail('missing ]', start);
      const lo = this.classAtom();
      if (this.peek() === '-' && this.src[this.pos + 1] !== ']') {
        this.pos++;
        const hi = this.classAtom();
        const a = single(lo);
        const b = single(hi);
        if (a === undefined || b === undefined || b < a) this.fail('bad range in class');
        for (let x = a; x <= b; x++) s[x] = 1;
      } else {
        s = union(s, lo);
      }
    }
    this.pos++;
    // Under (?i) the class is folded before it is negated: [^a] excludes both a and A, as in JS and YARA-X.
    if (this.nocase) s = foldCase(s);
    return negated ? complement(s) : s;
  }

  private classAtom(): ByteSet {
    const c = this.src[this.pos++]!;
    if (c === '\\') {
      const e = this.src[this.pos++];
      if (e === undefined) this.fail('trailing \\');
      if (e === 'b') return setOf(0x08);
      return this.escapedSet(e);
    }
    if (c === '[') this.fail('nested [ in a class (write \\[)', this.pos - 1);
    return setOf(this.literalByte(c));
  }
}

function single(s: ByteSet): number | undefined {
  let found: number | undefined;
  for (let i = 0; i < 256; i++) {
    if (s[i]) {
      if (found !== undefined) return undefined;
      found = i;
    }
  }
  return found;
}
