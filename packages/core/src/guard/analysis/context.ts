import type { Node } from 'web-tree-sitter';
import type { AnalysisProblem, Call, GuardLanguage, Import, Invocation, Redirect, Span } from '../types.js';

/**
 * Where a piece of code sits in the top-level normalised text. Nested code
 * (`sh -c '…'`, `os.system('…')`, decoded base64) is analysed in its own
 * frame; `base` is the top-level offset of `code[0]` when the code is a
 * verbatim slice of its parent, otherwise -1 and every span maps to
 * `container`, the span of the literal that held it.
 */
export interface Frame {
  readonly language: GuardLanguage;
  readonly code: string;
  readonly base: number;
  readonly container: Span;
  readonly depth: number;
  /** Wrappers peeled to reach this code, outermost first. */
  readonly via: readonly string[];
}

/** A word of a command (or an element of an argv list in code), after quote removal. */
export interface Word {
  readonly value: string;
  readonly dynamic: boolean;
  /** Span in the frame's code. */
  readonly start: number;
  readonly end: number;
  /** Frame offset where `value` appears verbatim, or -1 (escapes, quotes joined, decoded). */
  readonly raw: number;
  /** Decoding layers the value came through (`base64`, …). */
  readonly decoders: readonly string[];
  /**
   * For a dynamic word: how many trailing characters of `value` are known
   * (literal text, or a variable's value the analysis resolved). Absent
   * means none: `$X/rm` knows `/rm`, `$(curl …)` knows nothing.
   */
  readonly known?: number;
}

/** Trailing characters of `w.value` that are known: all of a literal word. */
export function knownOf(w: Word): number {
  return w.dynamic ? Math.min(w.known ?? 0, w.value.length) : w.value.length;
}

export interface Facts {
  readonly invocations: Invocation[];
  readonly calls: Call[];
  readonly imports: Import[];
  readonly redirects: Redirect[];
  readonly strings: { readonly value: string; readonly span: Span }[];
  readonly problems: AnalysisProblem[];
}

/** Thrown when an analysis runs past its time budget; the analyzer reports it as a problem. */
export class BudgetExceeded extends Error {
  override readonly name = 'BudgetExceeded';
}

/** What a language walker may ask of the analysis run it is part of. */
export interface Run {
  readonly facts: Facts;
  readonly maxBytes: number;
  /** Throws BudgetExceeded when the time budget is spent. */
  check(): void;
  /** Analyses `code` as `language` in a child frame (bounded by maxDepth). */
  nest(parent: Frame, language: GuardLanguage, code: string, at: { start: number; end: number; raw: number }, via: readonly string[]): void;
  nextPipelineId(): number;
}

export function toTop(frame: Frame, start: number, end: number): Span {
  if (frame.base < 0) return frame.container;
  // A node may end past the code by the newline the parser was given (bash-gaps.ts).
  const n = frame.code.length;
  return { start: frame.base + Math.min(start, n), end: frame.base + Math.min(end, n) };
}

/** Offset where `value` sits verbatim at or just after `start` (past quotes or a prefix), or -1. */
export function verbatimAt(code: string, value: string, start: number, end: number): number {
  const last = Math.min(start + 5, end - value.length);
  for (let p = start; p <= last; p++) if (code.startsWith(value, p)) return p;
  return -1;
}

/** `/usr/bin/rm` → `rm`. */
export function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 && i < path.length - 1 ? path.slice(i + 1) : path;
}

export function textOf(code: string, node: Node): string {
  return code.slice(node.startIndex, node.endIndex);
}

export function pushString(facts: Facts, frame: Frame, value: string, start: number, end: number): void {
  facts.strings.push({ value, span: toTop(frame, start, end) });
}

export function problem(facts: Facts, kind: AnalysisProblem['kind'], message: string, span?: Span): void {
  facts.problems.push(span ? { kind, message, span } : { kind, message });
}

/** Records parse errors of a tree: descends only into subtrees that contain one. */
export function reportParseErrors(facts: Facts, frame: Frame, root: Node, max = 8): void {
  if (!root.hasError) return;
  let found = 0;
  const stack: Node[] = [root];
  while (stack.length > 0 && found < max) {
    const n = stack.pop();
    if (!n) break;
    if (n.isMissing) {
      found++;
      const at = n.startIndex;
      problem(facts, 'parse-error', `${frame.language}: missing ${n.type} at offset ${at}`, toTop(frame, at, at));
      continue;
    }
    if (n.isError) {
      found++;
      problem(facts, 'parse-error', `${frame.language}: syntax error`, toTop(frame, n.startIndex, n.endIndex));
    }
    const kids = n.children;
    for (let i = kids.length - 1; i >= 0; i--) {
      const k = kids[i];
      if (k?.hasError) stack.push(k);
    }
  }
  if (found === 0) problem(facts, 'parse-error', `${frame.language}: syntax error`, toTop(frame, 0, frame.code.length));
}

/*
 * First and last child. `node.children` is fetched in one wasm call and cached
 * on the Node object; `firstChild`/`lastChild` cost one or two calls each time.
 */
export function firstOf(n: Node): Node | null {
  return n.children[0] ?? null;
}

export function lastOf(n: Node): Node | null {
  const kids = n.children;
  return kids[kids.length - 1] ?? null;
}
