/**
 * Reading tree-sitter nodes of one tree: type names and namedness by type id
 * (asked of the WASM side once per node — the walkers look at a node several
 * times, and every property read is a call into WebAssembly) and source text.
 */
import type { Node } from 'web-tree-sitter';
import { type Word, verbatimAt } from './context.js';
import type { Grammar } from './parsers.js';

export class NodeReader {
  /** The text the tree was parsed from. */
  readonly code: string;
  readonly #g: Grammar;
  /** Type ids by node id (unique within the one tree a reader reads). */
  readonly #ids = new Map<number, number>();

  constructor(code: string, grammar: Grammar) {
    this.code = code;
    this.#g = grammar;
  }

  type(n: Node): string {
    return this.#g.types[this.#id(n)] ?? 'ERROR';
  }

  named(n: Node): boolean {
    return this.#g.anonymous[this.#id(n)] !== true;
  }

  src(n: Node): string {
    return this.code.slice(n.startIndex, n.endIndex);
  }

  #id(n: Node): number {
    let id = this.#ids.get(n.id);
    if (id === undefined) {
      id = n.typeId;
      this.#ids.set(n.id, id);
    }
    return id;
  }
}

/** A value computed from literals only. `bytes` is set when it is binary (b'…', decoded data); `decoders` are those it went through. */
export interface Lit {
  readonly text: string;
  readonly bytes: Buffer | null;
  readonly decoders: readonly string[];
}

/** A language's value resolution (Python, JS/TS): literals and list elements, and what follows from them. */
export abstract class LiteralScope extends NodeReader {
  /** The literal value of an expression, or null when it is not known before run time. */
  abstract lit(n: Node): Lit | null;
  /** The elements of a list/array expression, or null when it is not one. */
  abstract elements(n: Node): Node[] | null;

  /** An argument as a shell-like word: its literal value, or its source text marked dynamic. */
  word(n: Node): Word {
    const l = this.lit(n);
    const start = n.startIndex;
    const end = n.endIndex;
    if (!l) return { value: this.src(n), dynamic: true, start, end, raw: start, decoders: [] };
    return { value: l.text, dynamic: false, start, end, raw: l.decoders.length > 0 ? -1 : verbatimAt(this.code, l.text, start, end), decoders: l.decoders };
  }

  /** A literal argument's value; a list of literals joined with NUL; else null. */
  literal(a: Node): string | null {
    const els = this.elements(a);
    if (!els) return this.lit(a)?.text ?? null;
    const texts: string[] = [];
    for (const e of els) {
      const l = this.lit(e);
      if (!l) return null;
      texts.push(l.text);
    }
    return texts.join('\0');
  }
}
