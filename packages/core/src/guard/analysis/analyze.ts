import { WardenError } from '@warden/protocol';
import type { Node, Tree } from 'web-tree-sitter';
import { type Analysis, GUARD_LANGUAGES, type GuardLanguage, type Normalisation, type Span } from '../types.js';
import { walkBash } from './bash.js';
import { bashParseText } from './bash-gaps.js';
import { Lru } from './cache.js';
import { BudgetExceeded, type Facts, type Frame, type Run, problem, reportParseErrors, toTop } from './context.js';
import { walkJavaScript } from './javascript.js';
import { normalise, truncateUtf8 } from './normalise.js';
import { type Grammar, Parsers } from './parsers.js';
import { walkPython } from './python.js';

/** Turns a command line or code cell into facts for the policy. */
export interface Analyzer {
  /** Synchronous and total: any failure inside becomes an `analyzer-error` problem, never an exception. */
  analyze(input: { language: GuardLanguage; code: string }): Analysis;
  /** Frees the parsers, compiled queries and parse trees. Idempotent. */
  close(): void;
  /** Same as close(), for `using analyzer = await createAnalyzer()`. */
  [Symbol.dispose](): void;
}

export interface AnalyzerOptions {
  /** Largest input analysed, in UTF-8 bytes of the normalised text; the rest is cut and reported `too-large`. Default 256 KiB. */
  readonly maxBytes?: number;
  /** Nesting levels of code inside code (`sh -c`, `os.system`, decoded base64) analysed; deeper is `too-deep`. Default 4. */
  readonly maxDepth?: number;
  /** Completed analyses kept for identical repeated actions (0 disables). Default 512. */
  readonly cacheEntries?: number;
  /**
   * Wall-clock budget for one analysis (parsing and walking all nested code)
   * and for one `query`. Crafted inputs can make tree-sitter's error recovery
   * quadratic; past the budget the rest is reported `too-large` (a query
   * throws E_INTERNAL) instead of stalling the guard. Default 1000.
   */
  readonly timeoutMs?: number;
}

const DEFAULT_MAX_BYTES = 256 * 1024;
const DEFAULT_MAX_DEPTH = 4;
const DEFAULT_CACHE_ENTRIES = 512;
const DEFAULT_TIMEOUT_MS = 1000;
/** Bigger texts are not cached: parsing dominates their cost and repeats are rare. */
const MAX_CACHED_CHARS = 32 * 1024;

type Walk = (run: Run, frame: Frame, root: Node, grammar: Grammar) => void;

/** What tree-sitter parses for a frame: bash with grammar gaps patched (same length; see bash-gaps.ts). */
function parseText(frame: Frame): string {
  return frame.language === 'bash' ? bashParseText(frame.code) : frame.code;
}
const WALKERS: Record<GuardLanguage, Walk> = { bash: walkBash, python: walkPython, javascript: walkJavaScript, typescript: walkJavaScript };

/** Everything one analysis produced; shared by the Analysis objects handed out for it (first and cached). */
interface Result {
  readonly language: GuardLanguage;
  readonly text: string;
  readonly normalisation: Normalisation;
  readonly facts: Facts;
  /** Every piece of code that was parsed, for `query` (which re-parses it when its trees are gone). */
  readonly frames: readonly Frame[];
}

class AnalysisView implements Analysis {
  readonly language: GuardLanguage;
  readonly text: string;
  readonly normalisation: Normalisation;
  readonly invocations: Analysis['invocations'];
  readonly calls: Analysis['calls'];
  readonly imports: Analysis['imports'];
  readonly redirects: Analysis['redirects'];
  readonly strings: Analysis['strings'];
  readonly problems: Analysis['problems'];
  readonly cached: boolean;
  readonly #result: Result;
  readonly #engine: Engine;

  constructor(result: Result, engine: Engine, cached: boolean) {
    this.language = result.language;
    this.text = result.text;
    this.normalisation = result.normalisation;
    this.invocations = result.facts.invocations;
    this.calls = result.facts.calls;
    this.imports = result.facts.imports;
    this.redirects = result.facts.redirects;
    this.strings = result.facts.strings;
    this.problems = result.facts.problems;
    this.cached = cached;
    this.#result = result;
    this.#engine = engine;
  }

  query(language: GuardLanguage, source: string): Span[] {
    return this.#engine.query(this.#result, language, source);
  }
}

/** Results are shared through the cache, so no caller may change one under another. */
function freezeFacts(f: Facts): void {
  for (const list of [f.invocations, f.calls, f.imports, f.redirects, f.strings, f.problems] as object[][]) {
    for (const x of list) Object.freeze(x);
    Object.freeze(list);
  }
}

const emptyFacts = (): Facts => ({ invocations: [], calls: [], imports: [], redirects: [], strings: [], problems: [] });

/*
 * Tree lifetime: parse trees live in wasm memory and are never collected by
 * the JS GC. An analysis keeps the trees it parsed alive only until the next
 * analysis is parsed (policies query right after analysing, so that usually
 * costs nothing); a query on any other analysis frees them and re-parses
 * that analysis' sources. At most one analysis' trees exist at a time, and
 * close() frees them.
 */
class Engine implements Analyzer {
  readonly #parsers: Parsers;
  readonly #maxBytes: number;
  readonly #maxDepth: number;
  readonly #cache: Lru<string, Result>;
  readonly #timeoutMs: number;
  #live: { result: Result; trees: (Tree | undefined)[] } | null = null;

  constructor(parsers: Parsers, options: Required<AnalyzerOptions>) {
    this.#parsers = parsers;
    this.#maxBytes = options.maxBytes;
    this.#maxDepth = options.maxDepth;
    this.#cache = new Lru(options.cacheEntries);
    this.#timeoutMs = options.timeoutMs;
  }

  analyze(input: { language: GuardLanguage; code: string }): Analysis {
    let language = 'bash' as GuardLanguage;
    let text = '';
    let normalisation: Normalisation = { removedInvisible: 0, removedBidi: 0, nfkcChanged: false, truncated: false };
    try {
      language = input.language;
      if (!GUARD_LANGUAGES.includes(language)) throw new Error(`unknown language ${JSON.stringify(language)}; expected one of ${GUARD_LANGUAGES.join(', ')}`);
      if (typeof input.code !== 'string') throw new Error(`code must be a string, got ${typeof input.code}`);
      if (this.#parsers.closed) throw new Error('the analyzer is closed');
      // The result depends only on the input: an exact repeat is found without normalising it again.
      const raw = input.code.length <= MAX_CACHED_CHARS ? `${language}\0${input.code}` : undefined;
      const early = raw === undefined ? undefined : this.#cache.get(raw);
      if (early) return new AnalysisView(early, this, true);
      const n = normalise(input.code, this.#maxBytes);
      text = truncateUtf8(n.text, this.#maxBytes);
      normalisation = text === n.text ? n.normalisation : { ...n.normalisation, truncated: true };
      const key = `${language}\0${text}`;
      const hit = key === raw ? undefined : this.#cache.get(key);
      if (hit) return new AnalysisView(hit, this, true);
      const { result, timedOut } = this.#analyse(language, text, normalisation);
      // A timeout depends on load, not on the text: do not pin it for every later repeat.
      if (text.length <= MAX_CACHED_CHARS && !timedOut) {
        this.#cache.set(key, result);
        if (raw !== undefined && raw !== key) this.#cache.set(raw, result);
      }
      return new AnalysisView(result, this, false);
    } catch (cause) {
      const facts = emptyFacts();
      problem(facts, 'analyzer-error', `analysis failed: ${cause instanceof Error ? cause.message : String(cause)}`);
      freezeFacts(facts);
      return new AnalysisView({ language, text, normalisation, facts, frames: [] }, this, false);
    }
  }

  #analyse(language: GuardLanguage, text: string, normalisation: Normalisation): { result: Result; timedOut: boolean } {
    this.#free();
    const facts = emptyFacts();
    const frames: Frame[] = [];
    const trees: (Tree | undefined)[] = [];
    const result: Result = { language, text, normalisation, facts, frames };
    this.#live = { result, trees };
    if (normalisation.truncated) {
      problem(facts, 'too-large', `input exceeds maxBytes (${this.#maxBytes}); only the first ${text.length} characters were analysed`, {
        start: text.length,
        end: text.length,
      });
    }
    const maxDepth = this.#maxDepth;
    const maxNested = this.#maxBytes * 4;
    const deadline = performance.now() + this.#timeoutMs;
    const expired = (): boolean => performance.now() >= deadline;
    let nested = 0;
    let pipelines = 0;
    let overflow = false;
    let outOfTime = false;
    const analyseFrame = (frame: Frame): void => {
      if (outOfTime) return;
      const index = frames.push(frame) - 1;
      const where = frame.base >= 0 ? toTop(frame, 0, frame.code.length) : frame.container;
      try {
        const tree = this.#parsers.parse(frame.language, parseText(frame), expired);
        if (!tree) throw new BudgetExceeded();
        trees[index] = tree;
        const root = tree.rootNode;
        reportParseErrors(facts, frame, root);
        WALKERS[frame.language](run, frame, root, this.#parsers.grammar(frame.language));
      } catch (cause) {
        // Keep what other frames found; this one is unknown, which the guard treats as `ask` at least.
        if (cause instanceof BudgetExceeded || expired()) {
          if (!outOfTime) problem(facts, 'too-large', `analysis took longer than timeoutMs (${this.#timeoutMs} ms); the rest was not analysed`, where);
          outOfTime = true;
          return;
        }
        const why = cause instanceof RangeError ? 'code nested too deeply to walk' : cause instanceof Error ? cause.message : String(cause);
        problem(facts, 'analyzer-error', `${frame.language} analysis failed: ${why}`, where);
      }
    };
    const run: Run = {
      facts,
      maxBytes: this.#maxBytes,
      check: () => {
        if (expired()) throw new BudgetExceeded();
      },
      nextPipelineId: () => pipelines++,
      nest: (parent, lang, code, at, via) => {
        const container = toTop(parent, at.start, at.end);
        const depth = parent.depth + 1;
        if (depth > maxDepth) {
          problem(facts, 'too-deep', `${lang} code nested ${depth} levels deep (${via.join(' → ')}); maxDepth is ${maxDepth}`, container);
          return;
        }
        nested += code.length;
        if (nested > maxNested) {
          if (!overflow) problem(facts, 'too-large', `nested code exceeds ${maxNested} characters in total; the rest was not analysed`, container);
          overflow = true;
          return;
        }
        let body = code;
        let base = -1;
        if (at.raw >= 0 && parent.base >= 0) {
          // Spans map 1:1 only when the code really is a slice of its parent.
          if (!parent.code.startsWith(body, at.raw) && body.endsWith('\n')) body = body.slice(0, -1);
          if (parent.code.startsWith(body, at.raw)) base = parent.base + at.raw;
          else body = code;
        }
        analyseFrame({ language: lang, code: body, base, container, depth, via });
      },
    };
    analyseFrame({ language, code: text, base: 0, container: { start: 0, end: text.length }, depth: 0, via: [] });
    freezeFacts(facts);
    return { result, timedOut: outOfTime };
  }

  /** Spans of the captures of `source` over every tree of `language` in the analysis. */
  query(result: Result, language: GuardLanguage, source: string): Span[] {
    if (this.#parsers.closed) throw new WardenError('E_ENGINE_CLOSED', 'The guard analyzer is closed, so it cannot run queries; create a new analyzer.');
    if (!GUARD_LANGUAGES.includes(language)) {
      throw new WardenError('E_POLICY_INVALID', `A query's language must be one of ${GUARD_LANGUAGES.join(', ')}, got ${JSON.stringify(language)}.`);
    }
    const q = this.#parsers.query(language, source);
    if (this.#live?.result !== result) {
      this.#free();
      this.#live = { result, trees: [] };
    }
    const live = this.#live;
    const deadline = performance.now() + this.#timeoutMs;
    const expired = (): boolean => performance.now() >= deadline;
    const spans: Span[] = [];
    result.frames.forEach((frame, i) => {
      if (frame.language !== language) return;
      let tree = live.trees[i];
      if (!tree) {
        tree = this.#parsers.parse(frame.language, parseText(frame), expired) ?? undefined;
        live.trees[i] = tree;
      }
      const timeoutMicros = Math.max(1, Math.ceil((deadline - performance.now()) * 1000));
      const captures = tree ? q.captures(tree.rootNode, { timeoutMicros }) : [];
      // Partial results would let a deny rule miss: fail loudly instead.
      if (expired()) throw new WardenError('E_INTERNAL', `A guard query over ${language} code took longer than timeoutMs (${this.#timeoutMs} ms); treat the action as unanalysed.`);
      for (const c of captures) spans.push(toTop(frame, c.node.startIndex, c.node.endIndex));
    });
    return spans.sort((x, y) => x.start - y.start || x.end - y.end);
  }

  #free(): void {
    if (!this.#live) return;
    for (const t of this.#live.trees) t?.delete();
    this.#live = null;
  }

  close(): void {
    this.#free();
    this.#cache.clear();
    this.#parsers.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Loads the grammars (once per process) and returns an analyzer with its own
 * parsers, query cache and result cache.
 *
 * @example
 * const analyzer = await createAnalyzer();
 * const a = analyzer.analyze({ language: 'bash', code: 'sudo rm -rf /' });
 * a.invocations.map((i) => i.program); // ['sudo', 'rm']
 */
export async function createAnalyzer(options: AnalyzerOptions = {}): Promise<Analyzer> {
  const valid = Object.freeze({
    maxBytes: integer(options, 'maxBytes', DEFAULT_MAX_BYTES, 1),
    maxDepth: integer(options, 'maxDepth', DEFAULT_MAX_DEPTH, 0),
    cacheEntries: integer(options, 'cacheEntries', DEFAULT_CACHE_ENTRIES, 0),
    timeoutMs: integer(options, 'timeoutMs', DEFAULT_TIMEOUT_MS, 1),
  });
  return new Engine(await Parsers.create(), valid);
}

function integer(options: AnalyzerOptions, name: keyof AnalyzerOptions, fallback: number, min: number): number {
  const value: unknown = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new WardenError('E_INVALID_ARGUMENT', `Analyzer option ${name} must be an integer of at least ${min}, got ${typeof value === 'number' ? String(value) : typeof value === 'string' ? JSON.stringify(value) : 'a value'} (${typeof value}); leave it out for the default ${fallback}.`);
  }
  return value;
}
