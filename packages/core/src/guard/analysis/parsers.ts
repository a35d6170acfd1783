import { createRequire } from 'node:module';
import { WardenError } from '@warden/protocol';
import { Language, Parser, Query, type Tree } from 'web-tree-sitter';
import type { GuardLanguage } from '../types.js';

const WASM: Record<GuardLanguage, string> = {
  bash: 'tree-sitter-bash/tree-sitter-bash.wasm',
  python: 'tree-sitter-python/tree-sitter-python.wasm',
  javascript: 'tree-sitter-javascript/tree-sitter-javascript.wasm',
  typescript: 'tree-sitter-typescript/tree-sitter-typescript.wasm',
};

type Languages = Readonly<Record<GuardLanguage, Language>>;

/*
 * web-tree-sitter keeps ONE wasm module per process: a second `Parser.init()`
 * swaps it out from under every parser and tree made before. So init and the
 * (immutable) grammars are loaded once per process; everything mutable
 * (parsers, queries, trees) belongs to a `Parsers` instance.
 */
let loading: Promise<Languages> | undefined;

function loadLanguages(): Promise<Languages> {
  loading ??= (async () => {
    await Parser.init();
    const require = createRequire(import.meta.url);
    const load = (l: GuardLanguage): Promise<Language> => Language.load(require.resolve(WASM[l]));
    const [bash, python, javascript, typescript] = await Promise.all([load('bash'), load('python'), load('javascript'), load('typescript')]);
    return { bash, python, javascript, typescript };
  })();
  // A failed load (missing wasm) must not poison later attempts.
  loading.catch(() => (loading = undefined));
  return loading;
}

/** Per grammar: type names by id, and which ids are anonymous tokens (always leaves). */
export interface Grammar {
  readonly types: readonly string[];
  readonly anonymous: readonly boolean[];
}

const QUERY_CACHE_MAX = 256;

/** One parser per language plus compiled queries, all owned by one analyzer. */
export class Parsers {
  readonly #languages: Languages;
  readonly #parsers = new Map<GuardLanguage, Parser>();
  readonly #grammars = new Map<GuardLanguage, Grammar>();
  readonly #queries = new Map<string, Query>();
  #closed = false;

  private constructor(languages: Languages) {
    this.#languages = languages;
  }

  static async create(): Promise<Parsers> {
    return new Parsers(await loadLanguages());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Parses synchronously; the caller owns (and must delete) the tree.
   * Returns null when `cancel` said stop (pathological inputs can make
   * tree-sitter's error recovery quadratic).
   */
  parse(language: GuardLanguage, code: string, cancel?: () => boolean): Tree | null {
    let parser = this.#parsers.get(language);
    if (!parser) {
      parser = new Parser();
      parser.setLanguage(this.#languages[language]);
      this.#parsers.set(language, parser);
    }
    const tree = parser.parse(code, null, cancel ? { progressCallback: cancel } : undefined);
    if (!tree) parser.reset(); // otherwise the next parse resumes this one
    return tree;
  }

  grammar(language: GuardLanguage): Grammar {
    let g = this.#grammars.get(language);
    if (!g) {
      const lang = this.#languages[language];
      const types = lang.types;
      g = { types, anonymous: types.map((_, id) => !lang.nodeTypeIsNamed(id)) };
      this.#grammars.set(language, g);
    }
    return g;
  }

  /** Compiles (or reuses) a query; a bad query is the policy author's error. */
  query(language: GuardLanguage, source: string): Query {
    const key = `${language}\0${source}`;
    const hit = this.#queries.get(key);
    if (hit) {
      this.#queries.delete(key);
      this.#queries.set(key, hit);
      return hit;
    }
    let q: Query;
    try {
      q = new Query(this.#languages[language], source);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new WardenError('E_POLICY_INVALID', `Tree-sitter query for ${language} does not compile: ${reason}. Fix the query's node names, fields and parentheses.`, {
        details: { language },
        cause,
      });
    }
    this.#queries.set(key, q);
    if (this.#queries.size > QUERY_CACHE_MAX) {
      const oldest = this.#queries.keys().next().value as string;
      this.#queries.get(oldest)?.delete();
      this.#queries.delete(oldest);
    }
    return q;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const q of this.#queries.values()) q.delete();
    for (const p of this.#parsers.values()) p.delete();
    this.#queries.clear();
    this.#parsers.clear();
  }
}
