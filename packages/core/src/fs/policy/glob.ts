/**
 * Glob patterns for permission rules, compiled to backtracking-safe RegExps.
 *
 * Paths are relative POSIX paths without a leading slash ("src/main.ts").
 * Matching is case-sensitive and works on Unicode code points; names are not
 * Unicode-normalised (NFC and NFD spellings are different names, as on Linux).
 *
 * Syntax (gitignore-flavoured):
 * - `*` any run of characters except `/`, including none and leading dots
 *   (`*` matches `.env`; there is no special dotfile rule).
 * - `?` exactly one character except `/`.
 * - `[abc]`, `[a-z]`, `[!x]` / `[^x]` one character from (not from) the set,
 *   never `/`. A `]` right after `[` or `[!` is literal. `/` and POSIX classes
 *   (`[[:alpha:]]`) inside a class are rejected.
 * - `\x` the character x literally (`\*`, `\[`, `\\`).
 * - `**` as a whole segment: any number of segments, INCLUDING zero.
 *   `**\/*.pem` matches `a.pem` and `x/y/a.pem`; `secrets/**` matches `secrets`
 *   itself and everything under it. `**` elsewhere (`a**b`) is a plain `*`.
 * - A leading `/` anchors the pattern at the codebase root and is stripped.
 * - A trailing `/` makes it a directory pattern: it matches directories only
 *   (`isDir`), and so everything below them. A file named `secrets` is not
 *   matched by `secrets/`.
 * - A pattern with no `/` other than a trailing one matches at ANY depth by
 *   name, like gitignore: `.env*` matches `.env` and `a/b/.env.local`;
 *   `secrets/` matches `secrets/` and `x/secrets/`. Any other `/` anchors the
 *   pattern at the root: `src/*.ts` matches `src/a.ts`, not `lib/src/a.ts`.
 * - Empty segments (`a//b`), `.` and `..` segments and NUL are rejected.
 *
 * `covers()` — what policies use — is true when the glob matches the path or
 * one of its ancestor directories: a rule on a directory applies below it.
 *
 * Why not a naive translation: `*a*a*a*b` → `[^/]*a[^/]*a[^/]*a[^/]*b` takes
 * polynomial (n^k) time on a long run of `a`s. Each variable-length gap here is
 * followed by an atomic, leftmost search — `(?=(?<g>[^/]*?X))\k<g>`: a JS
 * lookahead never gives back what it matched, so the engine cannot retry
 * other splits. Leftmost placement is enough because what follows a `*` or
 * `**` gap can always absorb whatever an earlier placement leaves over (the
 * greedy algorithm of fnmatch, applied per segment and then per run of
 * segments between `**`). Matching is O(path × pattern); user text only ever
 * reaches the RegExp as `\u{…}` escapes.
 */
import { WardenError } from '@warden/protocol';

/** Longest accepted pattern, in characters (PATH_MAX). Bounds compile and match cost. */
export const MAX_PATTERN_LENGTH = 4096;

type Token =
  | { readonly kind: 'lit'; readonly ch: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'star' }
  | { readonly kind: 'class'; readonly negated: boolean; readonly ranges: readonly (readonly [string, string])[] };

/** A path segment pattern, or `null` for a `**` segment. */
type Segment = readonly Token[] | null;

/** A compiled glob. Immutable. */
export interface Glob {
  /** The pattern as written. */
  readonly source: string;
  /**
   * Canonical spelling, always anchored at the root: `.env*` → `**\/.env*`,
   * `/output/` → `output/`. Globs with equal `canonical` match the same paths.
   */
  readonly canonical: string;
  /** Written with a trailing `/`: matches directories (and what is below them) only. */
  readonly dirOnly: boolean;
  /**
   * The one path this glob names when it has no wildcard apart from an
   * any-depth prefix: `.git/config` → ".git/config", `secrets/` → "secrets".
   * Undefined otherwise. Precedence uses it for exact matches.
   */
  readonly literal: string | undefined;
  /** The first segment when it is a literal name (`docs` for `docs/*.md`; not for `*.md`, `**\/x`): a path must start with it. */
  readonly anchor: string | undefined;
  /** Segments with no wildcard at all (`src/*.ts` → 1, `**\/a/b` → 2). */
  readonly literalSegments: number;
  /** Literal characters, slashes excluded (`src/*.ts` → 6). */
  readonly literalChars: number;
  /** True when the glob matches `path` itself. */
  matches(path: string, isDir: boolean): boolean;
  /** True when the glob matches `path` or one of its ancestors (which are directories). */
  covers(path: string, isDir: boolean): boolean;
}

/** A syntax problem: what is wrong (completing `pattern "…" …`) and how to fix it. */
export interface GlobProblem {
  readonly problem: string;
  readonly fix: string;
}

export type ParseResult = { readonly ok: true; readonly glob: Glob } | { readonly ok: false; readonly error: GlobProblem };

const fail = (problem: string, fix: string): { ok: false; error: GlobProblem } => ({ ok: false, error: { problem, fix } });

/**
 * Parses a pattern without throwing; the policy schema turns a problem into
 * an error that names the rule.
 */
export function parseGlob(source: string): ParseResult {
  if (source.length === 0) return fail('is empty', 'use "**" to match every path, or remove the rule');
  if (source.length > MAX_PATTERN_LENGTH) {
    return fail(`is ${source.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`, 'shorten it, e.g. with wildcards');
  }
  if (source.includes('\0')) return fail('contains a NUL character', 'remove it; paths cannot contain NUL');

  const chars = Array.from(source);
  const segments: { tokens: Token[]; raw: string }[] = [{ tokens: [], raw: '' }];
  const col = (i: number): number => chars.slice(0, i).join('').length + 1;

  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const seg = segments[segments.length - 1]!;
    if (c === '/') {
      segments.push({ tokens: [], raw: '' });
      continue;
    }
    seg.raw += c;
    if (c === '\\') {
      const next = chars[i + 1];
      if (next === undefined) return fail('ends with a lone "\\"', 'escape it as "\\\\" or remove it');
      if (next === '/') return fail(`escapes a "/" at character ${col(i)}`, 'a name cannot contain "/"; remove the "\\"');
      seg.raw += next;
      seg.tokens.push({ kind: 'lit', ch: next });
      i++;
    } else if (c === '*') {
      if (seg.tokens.at(-1)?.kind !== 'star') seg.tokens.push({ kind: 'star' });
    } else if (c === '?') {
      seg.tokens.push({ kind: 'any' });
    } else if (c === '[') {
      const parsed = parseClass(chars, i, col);
      if (!parsed.ok) return parsed;
      seg.raw += chars.slice(i + 1, parsed.end + 1).join('');
      seg.tokens.push(parsed.token);
      i = parsed.end;
    } else {
      seg.tokens.push({ kind: 'lit', ch: c });
    }
  }

  const anchoredByLeadingSlash = segments.length > 1 && segments[0]!.raw === '';
  if (anchoredByLeadingSlash) segments.shift();
  const dirOnly = segments.length > 1 && segments[segments.length - 1]!.raw === '';
  if (dirOnly) segments.pop();
  if (segments.length === 1 && segments[0]!.raw === '') {
    return fail('names only the codebase root', 'set the policy default instead, or use "**" to match every path');
  }

  const parts: Segment[] = [];
  for (const { tokens, raw } of segments) {
    if (raw === '') return fail('has an empty segment ("//")', 'write a single "/" between names');
    const text = tokens.every((t) => t.kind === 'lit') ? tokens.map((t) => t.ch).join('') : undefined;
    if (text === '..') return fail('has a ".." segment', 'patterns are relative to the codebase root and cannot leave it; remove the ".."');
    if (text === '.') return fail('has a "." segment', 'remove the "./"; a leading "/" anchors a pattern at the root');
    const globstar = raw === '**';
    // Consecutive `**` segments mean the same as one.
    if (globstar && parts.length > 0 && parts[parts.length - 1] === null) continue;
    parts.push(globstar ? null : tokens);
  }
  // A pattern without an inner "/" matches by name at any depth (gitignore).
  if (!anchoredByLeadingSlash && segments.length === 1 && parts[0] !== null) parts.unshift(null);

  return { ok: true, glob: buildGlob(source, parts, dirOnly) };
}

/**
 * Compiles a pattern or throws `E_INVALID_SPEC`.
 * @example compileGlob('**\/*.pem').covers('x/y/a.pem', false) // true
 */
export function compileGlob(source: string): Glob {
  const result = parseGlob(source);
  if (result.ok) return result.glob;
  throw new WardenError('E_INVALID_SPEC', `pattern ${JSON.stringify(source)} ${result.error.problem}; ${result.error.fix}.`, {
    details: { field: 'pattern', received: source },
  });
}

type ClassResult = { ok: true; token: Token; end: number } | { ok: false; error: GlobProblem };

/** Parses `[...]` starting at `chars[start] === '['`; `end` is the index of the closing `]`. */
function parseClass(chars: readonly string[], start: number, col: (i: number) => number): ClassResult {
  let i = start + 1;
  const negated = chars[i] === '!' || chars[i] === '^';
  if (negated) i++;
  const ranges: [string, string][] = [];
  let first = true;
  for (; i < chars.length; i++) {
    let c = chars[i]!;
    if (c === ']' && !first) return { ok: true, token: { kind: 'class', negated, ranges }, end: i };
    first = false;
    if (c === '[' && chars[i + 1] === ':') {
      return fail(`uses a POSIX class at character ${col(i)}`, 'POSIX classes like [:alpha:] are not supported; list the characters, e.g. [a-zA-Z]');
    }
    if (c === '\\') {
      const next = chars[i + 1];
      if (next === undefined) break;
      c = next;
      i++;
    }
    if (c === '/') return fail(`has a "/" inside the "[" at character ${col(start)}`, 'a character class matches one character of a name, never "/"');
    let hi = c;
    if (chars[i + 1] === '-' && chars[i + 2] !== undefined && chars[i + 2] !== ']') {
      hi = chars[i + 2]!;
      if (hi === '\\' && chars[i + 3] !== undefined) {
        hi = chars[i + 3]!;
        i++;
      }
      i += 2;
      if (hi === '/') return fail(`has a "/" inside the "[" at character ${col(start)}`, 'a character class never matches "/"');
      if (hi.codePointAt(0)! < c.codePointAt(0)!) {
        return fail(`has a reversed range "${c}-${hi}"`, `write it low to high, "${hi}-${c}"`);
      }
    }
    ranges.push([c, hi]);
  }
  return fail(`has an unclosed "[" at character ${col(start)}`, 'close the character class with "]", or escape the bracket as "\\["');
}

const SPECIAL = new Set(['*', '?', '[', ']', '\\', '/']);

function escapeGlobChar(ch: string): string {
  return SPECIAL.has(ch) ? `\\${ch}` : ch;
}

/** Inside `[...]` also `-`, `!` and `^` change meaning; escaping keeps `canonical` one-to-one with meaning. */
const CLASS_SPECIAL = new Set(['\\', ']', '[', '-', '!', '^']);

function escapeClassChar(ch: string): string {
  return CLASS_SPECIAL.has(ch) ? `\\${ch}` : ch;
}

function tokenToGlob(t: Token): string {
  switch (t.kind) {
    case 'lit':
      return escapeGlobChar(t.ch);
    case 'any':
      return '?';
    case 'star':
      return '*';
    case 'class': {
      const body = t.ranges.map(([lo, hi]) => (lo === hi ? escapeClassChar(lo) : `${escapeClassChar(lo)}-${escapeClassChar(hi)}`));
      return `[${t.negated ? '!' : ''}${body.join('')}]`;
    }
  }
}

/** One code point as a RegExp atom for the `u` flag: word characters as-is, everything else as `\u{…}`. */
function reChar(ch: string): string {
  return /^\w$/.test(ch) ? ch : `\\u{${ch.codePointAt(0)!.toString(16)}}`;
}

function tokenToRe(t: Exclude<Token, { kind: 'star' }>): string {
  switch (t.kind) {
    case 'lit':
      return reChar(t.ch);
    case 'any':
      return '[^/]';
    case 'class': {
      const body = t.ranges.map(([lo, hi]) => (lo === hi ? reChar(lo) : `${reChar(lo)}-${reChar(hi)}`)).join('');
      // A range such as "!-0" spans "/"; the lookahead keeps a class inside one segment.
      return t.negated ? `[^/${body}]` : `(?!/)[${body}]`;
    }
  }
}

/** Builds RegExp source with fresh names for atomic groups. */
class ReBuilder {
  private next = 0;

  /** `(?=(?<gN>inner))\k<gN>`: matches like `inner` but never backtracks into it. */
  atomic(inner: string): string {
    const name = `g${this.next++}`;
    return `(?=(?<${name}>${inner}))\\k<${name}>`;
  }

  /** One segment pattern; the match ends at a segment boundary. */
  segment(tokens: readonly Token[]): string {
    const chunks: string[][] = [[]];
    for (const t of tokens) {
      if (t.kind === 'star') chunks.push([]);
      else chunks[chunks.length - 1]!.push(tokenToRe(t));
    }
    const end = '(?=/|$)';
    if (chunks.length === 1) return chunks[0]!.join('') + end;
    let re = chunks[0]!.join('');
    for (const mid of chunks.slice(1, -1)) re += this.atomic(`[^/]*?${mid.join('')}`);
    re += `[^/]*${chunks[chunks.length - 1]!.join('')}${end}`;
    return this.atomic(re);
  }

  /**
   * Whole-path RegExp. `end`: '$' to match the path itself, '(?=/|$)' to
   * match the path or an ancestor, '(?=/)' to match a proper ancestor only.
   */
  path(parts: readonly Segment[], end: '$' | '(?=/|$)' | '(?=/)'): string {
    const runs: (readonly Token[])[][] = [];
    let leadingStar = false;
    let trailingStar = false;
    parts.forEach((p, i) => {
      if (p === null) {
        if (i === 0) leadingStar = true;
        if (i === parts.length - 1) trailingStar = true;
        if (i < parts.length - 1 && runs.length > 0) runs.push([]);
      } else {
        if (runs.length === 0) runs.push([]);
        runs[runs.length - 1]!.push(p);
      }
    });
    if (runs.length === 0) return end === '(?=/)' ? '^.*?(?=/)' : '^.+$';

    let re = '^';
    runs.forEach((run, i) => {
      const body = run.map((s) => this.segment(s)).join('/');
      const gapBefore = i > 0 || leadingStar;
      const sep = i > 0 ? '/' : '';
      const last = i === runs.length - 1;
      if (!gapBefore) {
        re += body;
      } else if (last && end === '$' && !trailingStar) {
        // Anchored at the end: try each boundary; only this gap can backtrack.
        re += `${sep}(?:.*/)?${body}`;
      } else {
        // Leftmost placement of the run after whole skipped segments, committed.
        re += this.atomic(`${sep}(?:.*?/)??${body}`);
      }
    });
    if (trailingStar && end === '$') return `${re}(?:/.*)?$`;
    return re + end;
  }
}

function buildGlob(source: string, parts: readonly Segment[], dirOnly: boolean): Glob {
  const named = parts.filter((p): p is readonly Token[] => p !== null);
  const isLiteral = (p: readonly Token[]): boolean => p.every((t) => t.kind === 'lit');
  const literalSegments = named.filter(isLiteral).length;
  const literalChars = named.reduce((n, p) => n + p.filter((t) => t.kind === 'lit').length, 0);
  const rest = parts[0] === null ? parts.slice(1) : parts;
  const literal =
    rest.length > 0 && rest.every((p) => p !== null && isLiteral(p))
      ? (rest as (readonly Token[])[]).map((p) => p.map((t) => (t.kind === 'lit' ? t.ch : '')).join('')).join('/')
      : undefined;
  const first = parts[0];
  const anchor = first !== null && first !== undefined && isLiteral(first) ? first.map((t) => (t.kind === 'lit' ? t.ch : '')).join('') : undefined;
  const canonical = parts.map((p) => (p === null ? '**' : p.map(tokenToGlob).join(''))).join('/') + (dirOnly ? '/' : '');

  const b = new ReBuilder();
  const self = new RegExp(b.path(parts, '$'), 'su');
  const selfOrAncestor = new RegExp(b.path(parts, '(?=/|$)'), 'su');
  const ancestor = new RegExp(b.path(parts, '(?=/)'), 'su');

  return Object.freeze({
    source,
    canonical,
    dirOnly,
    literal,
    anchor,
    literalSegments,
    literalChars,
    matches: (path: string, isDir: boolean): boolean => (isDir || !dirOnly) && self.test(path),
    // A directory pattern reaches a non-directory only through one of its ancestors.
    covers: (path: string, isDir: boolean): boolean => (isDir || !dirOnly ? selfOrAncestor : ancestor).test(path),
  });
}
