/**
 * Globs for program names, callee names, wrappers and paths, matched by a
 * position-set (NFA) simulation: time is linear in the input times the glob's
 * length whatever the glob, so a tenant's policy cannot make the guard slow.
 *
 *   `*`   any run of characters except the separator (`/` for paths; none for names)
 *   `**`  any run of characters, separators included
 *   `?`   one character except the separator
 *   `[a-z]`, `[!abc]` (or `[^abc]`)   one character from (not from) a set
 *   `{a,b}`   alternatives (expanded at compile time, at most 64)
 *   `\x`  the character x itself
 *
 * Path globs also treat a trailing `/**` as matching the directory itself
 * (`/etc/**` matches `/etc`), a leading `**` + `/` as matching nothing (`**` + `/.ssh/id_*`
 * matches `.ssh/id_rsa`) and `/**` + `/` as matching a single `/`.
 */

export class GlobError extends Error {
  override readonly name = 'GlobError';
}

/** Inputs longer than this never match (PATH_MAX is 4096; no program, callee or path is longer). */
export const MAX_GLOB_INPUT = 4096;
const MAX_EXPANSIONS = 64;

type Token =
  | { readonly kind: 'lit'; readonly ch: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'star'; readonly crossSep: boolean }
  | { readonly kind: 'class'; readonly negated: boolean; readonly ranges: readonly (readonly [string, string])[] };

export interface GlobOptions {
  /** The path separator `*` and `?` stop at; `undefined` for names. */
  readonly sep?: '/';
}

export type Matcher = (input: string) => boolean;

/** A name matcher; `only` is set when its globs are all literal names, and then it accepts exactly those. */
export interface NameMatcher extends Matcher {
  readonly only?: ReadonlySet<string>;
}

/** Compiles a list of globs into one matcher (true when any glob matches). Throws GlobError. */
export function compileGlobs(globs: readonly string[], opts: GlobOptions = {}): Matcher {
  return compileSet(globs, opts).test;
}

function compileSet(globs: readonly string[], opts: GlobOptions): { test: Matcher; exact: ReadonlySet<string>; wild: boolean } {
  const exact = new Set<string>();
  // Globs that start with a literal character are only tried on inputs that start with it.
  const byFirst = new Map<string, Matcher[]>();
  const anyFirst: Matcher[] = [];
  for (const g of globs.flatMap((glob) => expandBraces(glob).flatMap((alt) => (opts.sep ? pathVariants(alt) : [alt])))) {
    const tokens = tokenize(g, opts);
    if (tokens.every((t) => t.kind === 'lit')) {
      exact.add(tokens.map((t) => (t as { ch: string }).ch).join(''));
      continue;
    }
    const m = compileOne(tokens, opts.sep);
    const first = tokens[0];
    if (first?.kind !== 'lit') anyFirst.push(m);
    else {
      const list = byFirst.get(first.ch);
      if (list) list.push(m);
      else byFirst.set(first.ch, [m]);
    }
  }
  const test = (input: string): boolean => {
    if (input.length > MAX_GLOB_INPUT) return false;
    if (exact.has(input)) return true;
    let first: Matcher[] | undefined;
    if (byFirst.size > 0 && input.length > 0) {
      // A glob's first literal is a whole code point; so must the key be.
      const c = input.charCodeAt(0);
      first = byFirst.get(c >= 0xd800 && c <= 0xdbff ? input.slice(0, 2) : input[0]!);
    }
    return (first !== undefined && first.some((m) => m(input))) || anyFirst.some((m) => m(input));
  };
  return { test, exact, wild: byFirst.size > 0 || anyFirst.length > 0 };
}

/** Answers remembered per matcher; past this the memo starts over. */
const MEMO_ENTRIES = 256;
const MEMO_MAX_CHARS = 256;

/** `m` remembering its recent answers: names and paths repeat from one action to the next. */
function remembering(m: Matcher): Matcher {
  const memo = new Map<string, boolean>();
  return (input) => {
    let hit = memo.get(input);
    if (hit === undefined) {
      hit = m(input);
      if (input.length <= MEMO_MAX_CHARS) {
        if (memo.size >= MEMO_ENTRIES) memo.clear();
        memo.set(input, hit);
      }
    }
    return hit;
  };
}

/**
 * compileGlobs for names (programs, callees, wrappers): the matcher
 * remembers its recent answers, so a policy checks `git` against a rule's
 * `program:` globs once, not on every action; and it says when it accepts
 * a fixed set of names, so candidates can be looked up instead of tested.
 */
export function compileNameGlobs(globs: readonly string[]): NameMatcher {
  const { test, exact, wild } = compileSet(globs, {});
  return wild ? remembering(test) : Object.assign(remembering(test), { only: exact });
}

/** compileGlobs for paths (`sep: '/'`), remembering recent answers like compileNameGlobs. */
export function compilePathGlobs(globs: readonly string[]): Matcher {
  return remembering(compileGlobs(globs, { sep: '/' }));
}

/**
 * Cheap literal checks first (the prefix, the suffix, the longest literal
 * run anywhere), so the position-set simulation runs only on plausible input.
 */
function compileOne(tokens: readonly Token[], sep: string | undefined): Matcher {
  const lits = (from: number, step: 1 | -1): string => {
    let out = '';
    for (let i = from; i >= 0 && i < tokens.length; i += step) {
      const t = tokens[i]!;
      if (t.kind !== 'lit') break;
      out = step === 1 ? out + t.ch : t.ch + out;
    }
    return out;
  };
  const prefix = lits(0, 1);
  const suffix = lits(tokens.length - 1, -1);
  let longest = '';
  for (let i = 0; i < tokens.length; i++) {
    const run = lits(i, 1);
    if (run.length > longest.length) longest = run;
  }
  const n = tokens.length;
  // Scratch position sets, reused: a matcher runs synchronously, one input at a time.
  let cur = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  const close = (set: Uint8Array): void => {
    // A star may match nothing: whoever reaches it also reaches what follows it.
    for (let k = 0; k < n; k++) if (set[k] && tokens[k]!.kind === 'star') set[k + 1] = 1;
  };
  const simulate = (s: string): boolean => {
    cur.fill(0);
    cur[0] = 1;
    close(cur);
    for (const ch of s) {
      next.fill(0);
      let any = false;
      for (let k = 0; k < n; k++) {
        if (!cur[k]) continue;
        const t = tokens[k]!;
        switch (t.kind) {
          case 'lit':
            if (t.ch === ch) next[k + 1] = 1;
            break;
          case 'one':
            if (ch !== sep) next[k + 1] = 1;
            break;
          case 'class':
            if (ch !== sep && inClass(t, ch)) next[k + 1] = 1;
            break;
          case 'star':
            if (t.crossSep || ch !== sep) next[k] = 1;
            break;
        }
        any ||= next[k] === 1 || next[k + 1] === 1;
      }
      if (!any) return false;
      close(next);
      [cur, next] = [next, cur];
    }
    return cur[n] === 1;
  };
  return (s) => s.startsWith(prefix) && s.endsWith(suffix) && s.includes(longest) && simulate(s);
}

function inClass(t: Extract<Token, { kind: 'class' }>, ch: string): boolean {
  const hit = t.ranges.some(([lo, hi]) => ch >= lo && ch <= hi);
  return hit !== t.negated;
}

function tokenize(glob: string, opts: GlobOptions): Token[] {
  const chars = [...glob];
  const out: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) throw new GlobError(`glob ${JSON.stringify(glob)} ends with a lone \\`);
      out.push({ kind: 'lit', ch: next });
    } else if (c === '*') {
      const double = chars[i + 1] === '*';
      if (double) i++;
      while (chars[i + 1] === '*') i++;
      // Consecutive stars are one star; `**` in a name glob is the same as `*`.
      const prev = out[out.length - 1];
      const crossSep = double || opts.sep === undefined;
      if (prev?.kind === 'star') out[out.length - 1] = { kind: 'star', crossSep: prev.crossSep || crossSep };
      else out.push({ kind: 'star', crossSep });
    } else if (c === '?') {
      out.push({ kind: 'one' });
    } else if (c === '[') {
      const end = classEnd(chars, i);
      if (end < 0) throw new GlobError(`glob ${JSON.stringify(glob)} has a [ without a closing ]`);
      out.push(parseClass(chars.slice(i + 1, end), glob));
      i = end;
    } else {
      out.push({ kind: 'lit', ch: c });
    }
  }
  return out;
}

function classEnd(chars: readonly string[], open: number): number {
  let i = open + 1;
  if (chars[i] === '!' || chars[i] === '^') i++;
  if (chars[i] === ']') i++; // a ] right after [ or [! is a member
  for (; i < chars.length; i++) {
    if (chars[i] === '\\') i++;
    else if (chars[i] === ']') return i;
  }
  return -1;
}

function parseClass(body: readonly string[], glob: string): Token {
  let i = 0;
  const negated = body[0] === '!' || body[0] === '^';
  if (negated) i++;
  const ranges: [string, string][] = [];
  for (; i < body.length; i++) {
    let lo = body[i]!;
    if (lo === '\\') lo = body[++i] ?? '\\';
    if (body[i + 1] === '-' && i + 2 < body.length) {
      let hi = body[i + 2]!;
      i += 2;
      if (hi === '\\') hi = body[++i] ?? '\\';
      if (hi < lo) throw new GlobError(`glob ${JSON.stringify(glob)} has a backwards range ${lo}-${hi}`);
      ranges.push([lo, hi]);
    } else {
      ranges.push([lo, lo]);
    }
  }
  if (ranges.length === 0) throw new GlobError(`glob ${JSON.stringify(glob)} has an empty [] set`);
  return { kind: 'class', negated, ranges };
}

/** `a{b,c{d,e}}` → [ab, acd, ace]; throws past MAX_EXPANSIONS or on unbalanced braces. */
export function expandBraces(glob: string): string[] {
  let open = -1;
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') i++;
    else if (c === '[') {
      const end = classEnd([...glob.slice(i)], 0);
      if (end >= 0) i += [...glob.slice(i)].slice(0, end).join('').length;
    } else if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}') {
      if (depth === 0) throw new GlobError(`glob ${JSON.stringify(glob)} has a } without a {`);
      if (--depth === 0) {
        const parts = splitTop(glob.slice(open + 1, i));
        const head = glob.slice(0, open);
        const tails = expandBraces(glob.slice(i + 1));
        const out: string[] = [];
        for (const part of parts) for (const mid of expandBraces(part)) for (const tail of tails) out.push(head + mid + tail);
        if (out.length > MAX_EXPANSIONS) throw new GlobError(`glob ${JSON.stringify(glob)} expands to more than ${MAX_EXPANSIONS} alternatives`);
        return out;
      }
    }
  }
  if (depth > 0) throw new GlobError(`glob ${JSON.stringify(glob)} has a { without a }`);
  return [glob];
}

function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** The zero-directory readings of `**` in a path glob. */
function pathVariants(glob: string): string[] {
  const out = new Set<string>();
  const work = [glob];
  for (let g = work.pop(); g !== undefined; g = work.pop()) {
    if (out.has(g)) continue;
    out.add(g);
    if (out.size > MAX_EXPANSIONS) throw new GlobError(`glob ${JSON.stringify(glob)} has too many ** parts`);
    if (g.endsWith('/**') && g.length > 3) work.push(g.slice(0, -3));
    if (g.startsWith('**/')) work.push(g.slice(3));
    for (let at = g.indexOf('/**/'); at >= 0; at = g.indexOf('/**/', at + 1)) work.push(g.slice(0, at) + g.slice(at + 3));
  }
  return [...out];
}
